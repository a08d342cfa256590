#!/bin/sh
# SPDX-License-Identifier: ISC
# SIGKILL at every step of apply and rollback (real kernel, sandbox), then rollback or apply again:
# the namespace must end all-old or all-new, never mixed. Needs --enable-test-hooks.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_need_sandbox
W="$T/w"

# Shared by every run: a fresh namespace, the same starting values.
COMMON='
set -u
F=/etc/sysctl.d/90-tcptune.conf
tt() { "$TCPTUNE" --profile-dir "$PROFILES" "$@"; }
snap() {
	for k in net/core/somaxconn net/ipv4/ip_local_port_range net/ipv4/tcp_fin_timeout \
		net/ipv4/tcp_keepalive_intvl net/ipv4/tcp_keepalive_probes net/ipv4/tcp_keepalive_time \
		net/ipv4/tcp_max_tw_buckets net/ipv4/tcp_slow_start_after_idle net/ipv4/tcp_tw_reuse \
		net/ipv4/tcp_syncookies net/ipv4/tcp_timestamps; do
		printf "%s=%s\n" "$k" "$(tr -s " \t\n" "   " <"/proc/sys/$k" | sed "s/ *\$//")"
	done
	if [ -e "$F" ]; then echo "fragment=$(cksum <"$F")"; else echo "fragment=absent"; fi
}
state() {
	snap >"$W/now"
	s=mixed
	cmp -s "$W/ref.old" "$W/now" && s=old
	cmp -s "$W/ref.new" "$W/now" && s=new
	echo "STATE=$s"
	[ "$s" = mixed ] && diff "$W/ref.old" "$W/now" >&2
	return 0
}
echo 8192 >/proc/sys/net/ipv4/tcp_max_tw_buckets || exit 99
'

# References: the state before and after a clean apply.
tt_sandbox "$COMMON"'
snap >"$W/ref.old"
tt apply crawler >/dev/null 2>&1 || exit 1
snap >"$W/ref.new"
export TCPTUNE_TEST_CRASH_AT=rollback-journal
tt rollback >/dev/null 2>&1
echo "hook=$?"
unset TCPTUNE_TEST_CRASH_AT
' || { cat "$T/err" >&2; fail "reference run failed"; }
grep -qx 'hook=137' "$T/out" || skip "tcptune built without --enable-test-hooks"
cmp -s "$W/ref.old" "$W/ref.new" && fail "crawler changes nothing here: the matrix would prove nothing"

runs=0
mixed=0
# run STEP THEN [PRE]: PRE (optional) sets the stage, then the crash, then THEN; prints STATE lines.
run() {
	tt_sandbox "$COMMON
$3
export TCPTUNE_TEST_CRASH_AT=$1
$2 >/dev/null 2>&1
echo \"crash=\$?\"
unset TCPTUNE_TEST_CRASH_AT
$4
state
" || { cat "$T/out" "$T/err" >&2; fail "sandbox failed at $1"; }
	runs=$((runs + 1))
	if ! grep -qx "$5" "$T/out"; then
		mixed=$((mixed + 1))
		echo "MIXED or wrong end: step $1, then '$4': $(grep STATE "$T/out")" >&2
		cat "$T/err" >&2
	fi
	grep -q '^crash=137$' "$T/out"
}

# apply killed at every step; N counts keys until the crash point is not reached
for step in lock journal fragment key complete done; do
	n=0
	while :; do
		if [ "$step" = key ]; then n=$((n + 1)); s="key:$n"; else s=$step; fi
		for then in rollback apply; do
			if [ "$then" = rollback ]; then
				# before the journal there is nothing to roll back: exit 2, all old
				run "$s" "tt apply crawler" "" "tt rollback >/dev/null 2>&1; echo rb=\$?" "STATE=old"
			else
				# apply again ends all-new; its rollback still reaches the old state
				run "$s" "tt apply crawler" "" \
					"tt apply crawler >/dev/null 2>&1 || echo APPLY-FAILED; state; tt rollback >/dev/null 2>&1" \
					"STATE=old"
				grep -q 'APPLY-FAILED' "$T/out" && fail "apply after a crash at $s failed"
				[ "$(grep -c '^STATE=' "$T/out")" -eq 2 ] && [ "$(grep '^STATE=' "$T/out" | head -1)" = STATE=new ] ||
					{ mixed=$((mixed + 1)); echo "apply after crash at $s did not end all-new" >&2; }
			fi
		done
		[ "$step" = key ] || break
		# the last key:N is the first not reached: that apply simply completed
		grep -q '^crash=137$' "$T/out" || break
		[ "$n" -lt 30 ] || fail "key steps never end"
	done
	[ "$step" = key ] && keys=$((n - 1))
done
[ "$keys" -ge 5 ] || fail "only $keys keys were written: not a multi-key matrix"

# rollback killed at every step, then rollback again (all old) or apply again (all new)
for s in rollback-journal rollback-fragment $(i=1; while [ $i -le $keys ]; do echo rollback-key:$i; i=$((i + 1)); done) rollback-done; do
	run "$s" "tt rollback" "tt apply crawler >/dev/null 2>&1" "tt rollback >/dev/null 2>&1" "STATE=old" ||
		fail "rollback crash point $s not reached"
	run "$s" "tt rollback" "tt apply crawler >/dev/null 2>&1" "tt apply crawler >/dev/null 2>&1" "STATE=new" ||
		fail "rollback crash point $s not reached"
done

echo "crash matrix: $runs runs ($keys keys), $mixed mixed"
[ "$mixed" -eq 0 ] || fail "$mixed mixed end states"
exit 0
