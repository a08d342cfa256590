#!/bin/sh
# A journal the disk cannot read (EIO, injected by strace) is no bad input:
# every command that needs it exits 3 and names it, none exits 2 ("fix your
# input") or 0 (a verdict without the keys earlier applies set); and
# `rollback --forget`, which never reads it, still gets out.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH
tt_want strace strace "reading a journal on a failing disk" || skip "no strace"
R=$(tt_root apply-root)
J=$R/var/lib/tcptune/last-apply
tt() { "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" "$@"; }
# LeakSanitizer cannot run under ptrace
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS
eio() { strace -f -qq -o /dev/null -P "$J" -e trace=read -e inject=read:error=EIO:when=1+ "$@"; }

expect_exit 0 tt apply crawler
cp "$J" "$T/journal"
for args in "rollback" "rollback -n" "audit" "audit crawler" "plan crawler" "apply crawler" \
	"-o json audit crawler"; do
	# shellcheck disable=SC2086
	eio "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" $args >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 3 ] || { cat "$T/out" "$T/err" >&2; fail "'$args' with the journal unreadable exited $rc, wanted 3"; }
	grep -q 'last-apply: Input/output error' "$T/err" || { cat "$T/err" >&2; fail "'$args': the unreadable journal is not named"; }
	cmp -s "$J" "$T/journal" || fail "'$args' changed the journal it could not read"
done
grep -q '"exit": 3' "$T/out" || fail "audit -o json: no JSON document with exit 3"
eio "$TCPTUNE" --root "$R" rollback --forget >"$T/out" 2>"$T/err" || { cat "$T/err" >&2; fail "rollback --forget failed on an unreadable journal"; }
[ -e "$J" ] && fail "rollback --forget left the unreadable journal"
cmp -s "$J.forgotten" "$T/journal" || fail "rollback --forget did not keep the journal's bytes"

# --forget that renamed the journal but failed after (the chmod of a 0644
# journal, the directory's fsync) did its job: exit 0, and a warning says
# what may not last. Exit 3 ("failed, restored") would be untrue, and a
# second --forget finds nothing to forget.
for f in fchmodat fsync; do
	# (never read: any bytes will do)
	echo '{ "a journal": 0 }' >"$J" && chmod 644 "$J" || fail "cannot make a journal"
	strace -f -qq -o /dev/null -e trace=$f -e inject=$f:error=EIO "$TCPTUNE" --root "$R" rollback --forget \
		>"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 0 ] || { cat "$T/err" >&2; fail "--forget with $f failing after the rename exited $rc, wanted 0"; }
	[ ! -e "$J" ] && [ -e "$J.forgotten" ] || fail "--forget with $f failing: the journal was not set aside"
	grep -q 'last-apply.forgotten: set aside, but then Input/output error' "$T/err" ||
		{ cat "$T/err" >&2; fail "--forget with $f failing: no warning of what may not last"; }
done

# The same on the running system, in the sandbox: audit --all-netns reads the
# journal for each namespace's stale keys, and doctor for its settings part.
tt_need_sandbox
cat >"$T/profiles/eio.conf" <<'EOP'
description = "journal EIO";
sysctl = { net = { ipv4 = { tcp_fin_timeout = 30; tcp_tw_reuse = 1; }; }; };
EOP
chmod 644 "$T/profiles/eio.conf"
tt_sandbox '
J=/var/lib/tcptune/last-apply
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0; export ASAN_OPTIONS
run() { n=$1; shift; "$@" >$W/$n.out 2>$W/$n.err; echo $? >$W/$n.rc; }
eio() { strace -f -qq -o /dev/null -P "$J" -e trace=read -e inject=read:error=EIO:when=1+ "$@"; }
"$TCPTUNE" --profile-dir "$PROFILES" apply eio >/dev/null 2>&1 || exit 99
run all "$TCPTUNE" --profile-dir "$PROFILES" audit --all-netns eio
run alleio eio "$TCPTUNE" --profile-dir "$PROFILES" audit --all-netns eio
run alljson eio "$TCPTUNE" --profile-dir "$PROFILES" -o json audit --all-netns eio
run doctor eio "$TCPTUNE" --profile-dir "$PROFILES" doctor eio
' || { cat "$T/err" >&2; fail "the sandbox did not run"; }
[ "$(cat "$T/w/all.rc")" = 0 ] || { cat "$T/w/all.out" "$T/w/all.err" >&2; fail "audit --all-netns without the fault exited $(cat "$T/w/all.rc"), wanted 0"; }
for n in alleio alljson; do
	[ "$(cat "$T/w/$n.rc")" = 3 ] || { cat "$T/w/$n.out" "$T/w/$n.err" >&2; fail "$n: audit --all-netns with the journal unreadable exited $(cat "$T/w/$n.rc"), wanted 3"; }
	grep -q 'last-apply: Input/output error' "$T/w/$n.err" || { cat "$T/w/$n.err" >&2; fail "$n: the unreadable journal is not named"; }
done
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["compliant"] is False, d' "$T/w/alljson.out" ||
	fail "audit --all-netns -o json with the journal unreadable: not one document saying not compliant"
grep -q 'last-apply: Input/output error: the keys earlier applies set are not checked' "$T/w/doctor.err" ||
	{ cat "$T/w/doctor.err" >&2; fail "doctor does not say that the keys earlier applies set are not checked"; }
exit 0
