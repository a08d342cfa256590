#!/bin/sh
# As root in a child user namespace, a profile owned by the overflow uid is
# trusted only after /proc/self/uid_map says the namespace is not the initial
# one. When that read fails (EIO injected by strace at exactly that read()),
# validate says the read failed, with the errno text, and exits 3 (I/O), not
# 2 with a false "owned by uid 65534".
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_want strace strace "the uid_map fault" || skip "no strace"
tt_need_sandbox
[ "$(id -u)" -eq 0 ] || skip "run as root: only then are the profiles owned by the overflow uid in the sandbox"
tt_sandbox '
set -u
# LeakSanitizer cannot run under ptrace
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS
P=$PROFILES/crawler.conf
"$TCPTUNE" validate "$P" >"$W/plain.out" 2>&1
echo "plain=$?"
strace -qq -y -e trace=read -o "$W/count" "$TCPTUNE" validate "$P" >/dev/null 2>&1
n=$(awk "/uid_map>/ { print NR; exit }" "$W/count")
echo "n=$n"
[ -n "$n" ] || exit 0
strace -qq -o /dev/null -e trace=read -e inject=read:error=EIO:when=$n "$TCPTUNE" validate "$P" \
	>"$W/eio.out" 2>"$W/eio.err"
echo "eio=$?"
' || { cat "$T/out" "$T/err" >&2; fail "sandbox script failed"; }
cat "$T/out"
grep -qx 'plain=0' "$T/out" || { cat "$T/w/plain.out" >&2; fail "validate of a shipped profile failed in the sandbox"; }
grep -q '^n=[0-9]' "$T/out" || fail "validate never read /proc/self/uid_map: the profile's owner is not the overflow uid"
grep -qx 'eio=3' "$T/out" || { cat "$T/w/eio.err" >&2; fail "an EIO reading uid_map did not exit 3"; }
grep -q 'uid_map.*Input/output error' "$T/w/eio.err" || { cat "$T/w/eio.err" >&2; fail "the message does not say the read failed"; }
grep -q 'owned by uid' "$T/w/eio.err" && { cat "$T/w/eio.err" >&2; fail "the message blames the owner"; }
cat "$T/w/eio.err"
exit 0
