#!/bin/sh
# SPDX-License-Identifier: ISC
# Two, then eight, applies of different profiles at once (real kernel, sandbox): one waits or fails cleanly,
# and the end state is one whole profile, live and in the fragment.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_need_sandbox
W="$T/w"

cat >"$W/a.conf" <<'EOF'
sysctl = { net = { ipv4 = { tcp_keepalive_time = 300; tcp_keepalive_intvl = 30; tcp_keepalive_probes = 5;
  tcp_fin_timeout = 20; ip_local_port_range = [ 20000, 50000 ]; }; }; };
EOF
cat >"$W/b.conf" <<'EOF'
sysctl = { net = { ipv4 = { tcp_keepalive_time = 400; tcp_keepalive_intvl = 40; tcp_keepalive_probes = 6;
  tcp_fin_timeout = 25; ip_local_port_range = [ 30000, 60000 ]; }; }; };
EOF
chmod 644 "$W/a.conf" "$W/b.conf"
# TCPTUNE_TEST_DELAY_MS (holding the lock long enough) needs --enable-test-hooks
R=$(tt_root apply-root)
TCPTUNE_TEST_CRASH_AT=lock "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" apply crawler >/dev/null 2>&1
[ $? -eq 137 ] && echo 1 >"$W/hooks" || echo 0 >"$W/hooks"

tt_sandbox '
set -u
F=/etc/sysctl.d/90-tcptune.conf
tt() { "$TCPTUNE" "$@"; }
snap() {
	for k in tcp_keepalive_time tcp_keepalive_intvl tcp_keepalive_probes tcp_fin_timeout ip_local_port_range; do
		printf "%s " "$(tr -s " \t\n" "   " <"/proc/sys/net/ipv4/$k" | sed "s/ *\$//")"
	done
	echo
}
whole() {
	now=$(snap)
	if [ "$now" = "$A" ] && cmp -s "$F" "$W/a.frag"; then echo a
	elif [ "$now" = "$B" ] && cmp -s "$F" "$W/b.frag"; then echo b
	else echo "mixed: $now"; fi
}
tt render "$W/a.conf" >"$W/a.frag" && tt render "$W/b.conf" >"$W/b.frag" || exit 99
A="300 30 5 20 20000 50000 "
B="400 40 6 25 30000 60000 "

# both wait for the lock: both succeed one after the other; the end is one whole profile
i=0
while [ $i -lt 5 ]; do
	i=$((i + 1))
	env TCPTUNE_TEST_DELAY_MS=40 "$TCPTUNE" apply "$W/a.conf" >"$W/a.out" 2>&1 & pa=$!
	env TCPTUNE_TEST_DELAY_MS=40 "$TCPTUNE" apply "$W/b.conf" >"$W/b.out" 2>&1 & pb=$!
	wait $pa; ra=$?
	wait $pb; rb=$?
	echo "wait$i=$ra,$rb,$(whole)"
done

# eight at once, alternating profiles, each waiting at most 1 s: every run
# succeeds or gives up with the lock error; the end is one whole profile
r=0
while [ $r -lt 3 ]; do
	r=$((r + 1))
	pids=""
	j=0
	while [ $j -lt 8 ]; do
		p=a; [ $((j % 2)) -eq 1 ] && p=b
		env TCPTUNE_TEST_DELAY_MS=60 "$TCPTUNE" apply --wait 1 "$W/$p.conf" >"$W/c$j.out" 2>&1 &
		pids="$pids $!"
		j=$((j + 1))
	done
	codes=""
	j=0
	for pid in $pids; do
		wait $pid; c=$?
		if [ $c -eq 3 ] && ! grep -q "another tcptune (pid" "$W/c$j.out"; then c="3-not-lock"; fi
		codes="$codes$c "
		j=$((j + 1))
	done
	echo "eight$r=${codes% },$(whole)"
done

# one holds the lock for long; the other gives up at once, names the holder, touches nothing
[ "$(cat "$W/hooks")" = 1 ] || exit 0
"$TCPTUNE" apply "$W/b.conf" >/dev/null 2>&1 || echo "setup-failed"
env TCPTUNE_TEST_DELAY_MS=300 "$TCPTUNE" apply "$W/a.conf" >"$W/a.out" 2>&1 & pa=$!
# until it holds the lock (its PID is in the file), at most 5 s
n=0
while [ "$(cat /run/lock/tcptune.lock 2>/dev/null)" != "$pa" ] && [ $n -lt 100 ]; do
	sleep 0.05
	n=$((n + 1))
done
tt apply --wait 0 "$W/b.conf" >"$W/b.out" 2>&1; rb=$?
echo "nowait=$rb"
grep -q "another tcptune (pid $pa)" "$W/b.out" && echo "names-holder"
wait $pa; ra=$?
echo "holder=$ra,$(whole)"
'
rc=$?
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" >&2; fail "sandbox script failed ($rc)"; }
cat "$T/out"
i=1
while [ $i -le 5 ]; do
	grep -Eq "^wait$i=0,0,(a|b)$" "$T/out" || fail "run $i: $(grep "^wait$i=" "$T/out")"
	i=$((i + 1))
done
i=1
while [ $i -le 3 ]; do
	grep -Eq "^eight$i=([03] ){7}[03],(a|b)$" "$T/out" || fail "eight at once, round $i: $(grep "^eight$i=" "$T/out")"
	i=$((i + 1))
done
[ "$(cat "$W/hooks")" = 1 ] || skip "built without --enable-test-hooks: only the waiting half ran"
grep -qx 'nowait=3' "$T/out" || fail "the second apply did not fail with 3 while the lock was held"
grep -qx 'names-holder' "$T/out" || fail "the lock error does not name the holder's pid"
grep -qx 'holder=0,a' "$T/out" || fail "the holder did not end with profile a whole"
exit 0
