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
exit 0
