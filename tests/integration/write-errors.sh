#!/bin/sh
# A result that cannot be written is a failure: stdout on a full device
# exits 3 and says so, for every format; --output FILE keeps its old content.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH
R=$(tt_root root-basic)
tt() { "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" "$@"; }
[ -w /dev/full ] || fail "/dev/full is not writable here"

for args in "-o json show crawler" "show crawler" "-o json render crawler" "render crawler" \
	"-o json audit crawler" "audit crawler" "-o prometheus audit crawler" "-o json plan crawler" \
	"explain net.ipv4.tcp_rmem" "-o json profiles" "-o json validate $PROFILES/crawler.conf"; do
	# shellcheck disable=SC2086
	tt $args >/dev/full 2>"$T/err"
	rc=$?
	[ "$rc" = 3 ] || { cat "$T/err" >&2; fail "'$args' >/dev/full exited $rc, wanted 3"; }
	grep -q 'writing stdout: No space left on device' "$T/err" || { cat "$T/err" >&2; fail "'$args': the failed write is not named"; }
done
# the socket views and doctor, on a recorded host
S=$(tt_root sockets-ports)
for args in "sockets" "-o json sockets" "-o prometheus sockets" "sockets --by remote" \
	"-o json sockets --by owner,remote" "doctor" "-o json doctor"; do
	# shellcheck disable=SC2086
	"$TCPTUNE" --root "$S" --profile-dir "$PROFILES" $args >/dev/full 2>"$T/err"
	rc=$?
	[ "$rc" = 3 ] || { cat "$T/err" >&2; fail "'$args' >/dev/full exited $rc, wanted 3"; }
	grep -q 'writing stdout: No space left on device' "$T/err" || { cat "$T/err" >&2; fail "'$args': the failed write is not named"; }
done
# --watch stops at the first sample it cannot write: a full disk, or a reader
# gone while SIGPIPE is ignored (as under some service managers)
for fmt in "" "-o json"; do
	# shellcheck disable=SC2086
	timeout 20 "$TCPTUNE" --root "$S" $fmt sockets --watch 1 >/dev/full 2>"$T/err"
	rc=$?
	[ "$rc" = 3 ] || { cat "$T/err" >&2; fail "'$fmt sockets --watch' >/dev/full exited $rc, wanted 3"; }
	# shellcheck disable=SC2016
	rc=$(sh -c 'trap "" PIPE; { timeout 20 "$@" 2>/dev/null; echo $? >&3; } | head -c 1 >/dev/null' sh \
		"$TCPTUNE" --root "$S" $fmt sockets --watch 1 3>&1)
	[ "$rc" = 3 ] || fail "'$fmt sockets --watch' with SIGPIPE ignored and its reader gone exited $rc, wanted 3"
done
# help and the version are output asked for: the same
for args in "--help" "-h" "--version" "help" "help apply" "apply --help" "sockets -h"; do
	# shellcheck disable=SC2086
	tt $args >/dev/full 2>"$T/err"
	rc=$?
	[ "$rc" = 3 ] || { cat "$T/err" >&2; fail "'$args' >/dev/full exited $rc, wanted 3"; }
	grep -q 'writing stdout: No space left on device' "$T/err" || { cat "$T/err" >&2; fail "'$args': the failed write is not named"; }
done
exit 0
