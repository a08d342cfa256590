#!/bin/sh
# SPDX-License-Identifier: ISC
# Every command that any output suggests (`tcptune ...` in a message, doctor's
# fix) runs as printed, from another directory: exit 0 or 1, never 2. Hints
# name the binary as it was run (here by its absolute path). Fixture
# roots only: a hint without the run's --root would touch the host and fails
# the test unrun.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
NO_COLOR=1
export NO_COLOR

mkdir -p "$T/cwd/profiles" "$T/elsewhere" || exit 99
cp "$PROFILES"/*.conf "$T/cwd/profiles/" || exit 99
BIN=$(realpath "$TCPTUNE")
R=$(tt_root apply-root cwd/root)
cp -R "$SRCDIR/tests/data/sockets-proc/proc/net" "$R/proc/" || exit 99
cp -R "$SRCDIR/tests/data/sockets-proc/proc/4242" "$R/proc/" || exit 99
sh "$SRCDIR/tests/data/sockets-proc/mkfds.sh" "$R" || exit 99
: >"$T/hints"

# scenario NAME ARGS...: run tcptune from $T/cwd with relative --root and
# --profile-dir (as a newcomer in a checkout would) and keep every hint.
scenario() {
	name=$1
	shift
	(cd "$T/cwd" && "$TCPTUNE" "$@") >"$T/s.out" 2>"$T/s.err"
	echo "scenario $name: exit $?" >&2
	cat "$T/s.out" "$T/s.err" | grep -oE '`[^` ]*tcptune [^`]*`' | tr -d '`' >>"$T/hints"
}

scenario audit --root root --profile-dir profiles audit crawler
scenario plan --root root --profile-dir profiles plan crawler
scenario dry-run --root root --profile-dir profiles apply -n crawler
scenario doctor --root root --profile-dir profiles doctor --source proc crawler
scenario doctor-json --root root --profile-dir profiles -o json doctor --source proc crawler
scenario plan-fragment --root root --profile-dir profiles --fragment /etc/sysctl.d/50-alt.conf plan crawler baseline
(cd "$T/cwd" && "$TCPTUNE" --root root --profile-dir profiles apply crawler) >/dev/null 2>&1 ||
	fail "apply on the fixture failed"
scenario rollback-n --root root rollback -n
# an apply killed half-way: audit's advice names rollback and apply (needs --enable-test-hooks)
R2=$(tt_root apply-root cwd/root2)
(cd "$T/cwd" && TCPTUNE_TEST_CRASH_AT=key:1 "$TCPTUNE" --root root2 --profile-dir profiles \
	apply crawler) >/dev/null 2>&1
if [ $? -eq 137 ]; then
	scenario interrupted --root root2 --profile-dir profiles audit
	grep -q "root2 rollback\$" "$T/hints" || fail "no rollback advice after an interrupted apply"
	grep -q "root2 --profile-dir $T/cwd/profiles apply crawler\$" "$T/hints" ||
		fail "no complete apply advice after an interrupted apply"
else
	echo "built without test hooks: no interrupted-apply scenario" >&2
fi

# doctor's own fixes: TIME_WAIT near tcp_max_tw_buckets names sockets --by remote
R3=$(tt_root sockets-proc cwd/root3)
echo 5 >"$R3/proc/sys/net/ipv4/tcp_max_tw_buckets" || exit 99
scenario doctor-tw --root root3 doctor --source proc
grep -q "root3 sockets --by remote\$" "$T/hints" || fail "doctor's tw-buckets fix is not a complete command"

# a rollback that cannot restore a key (exit 4): its retry hint, in the JSON
# too; once the key is back, the hint finishes the rollback
R4=$(tt_root apply-root cwd/root4)
(cd "$T/cwd" && "$TCPTUNE" --root root4 --profile-dir profiles apply crawler) >/dev/null 2>&1 ||
	fail "apply on root4 failed"
K=$R4/proc/sys/net/ipv4/tcp_keepalive_time
rm "$K" && mkdir "$K" || exit 99
(cd "$T/cwd" && "$TCPTUNE" --root root4 -o json rollback) >"$T/s.out" 2>/dev/null
[ $? -eq 4 ] || fail "rollback with a key turned into a directory did not exit 4"
grep -o '"[^"]*`[^`]*tcptune [^`]*`' "$T/s.out" | grep -q "root4 rollback" ||
	fail "the JSON errors lack a complete rollback hint"
cat "$T/s.out" | grep -oE '`[^` ]*tcptune [^`]*`' | tr -d '`' >>"$T/hints"
rmdir "$K" && echo 7200 >"$K" || exit 99

grep -q ' plan crawler$' "$T/hints" || fail "audit does not suggest plan with the profile"
grep -q ' apply crawler$' "$T/hints" || fail "plan does not suggest apply with the profile"
grep -q 'fragment /etc/sysctl.d/50-alt.conf .*apply crawler baseline$' "$T/hints" ||
	fail "plan --fragment does not suggest apply with --fragment and both profiles"

# Run every hint, and the hints their output gives, once each.
: >"$T/done"
runs=0
while :; do
	h=$(grep -vxFf "$T/done" "$T/hints" | head -n 1)
	[ -n "$h" ] || break
	printf '%s\n' "$h" >>"$T/done"
	case "$h" in
	"$BIN --root $R "* | "$BIN --root ${R2:-$R} "* | "$BIN --root $R3 "* | "$BIN --root $R4 "*) ;;
	*) fail "hint does not name the root this run looked at: $h" ;;
	esac
	runs=$((runs + 1))
	[ $runs -le 40 ] || fail "more than 40 hints: a loop?"
	(cd "$T/elsewhere" && eval "$h") >"$T/h.out" 2>"$T/h.err"
	rc=$?
	echo "hint: $h -> exit $rc" >&2
	if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
		cat "$T/h.out" "$T/h.err" >&2
		fail "hint exited $rc: $h"
	fi
	cat "$T/h.out" "$T/h.err" | grep -oE '`[^` ]*tcptune [^`]*`' | tr -d '`' >>"$T/hints"
done
[ $runs -ge 4 ] || fail "only $runs hints found"
echo "hints: $runs run, all exit 0 or 1"
exit 0
