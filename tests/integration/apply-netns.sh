#!/bin/sh
# SPDX-License-Identifier: ISC
# apply on a real kernel in a private user+net+mount namespace: crawler, again, rollback; kernel refusals.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_need_sandbox
W="$T/w"

# The fragment is the fixture's golden one: min/max rules pin bounds or
# nothing, never a value computed by this kernel (fs.file-max).
cp "$SRCDIR/tests/data/apply-golden/crawler-fixture.conf" "$W/golden"

cat >"$W/cc.conf" <<'EOF'
# a congestion control this kernel lacks: plan refuses it before anything is touched (exit 2)
sysctl = { net = { core = { somaxconn = 8192; };
  ipv4 = { ip_local_port_range = [20000, 40000]; tcp_congestion_control = "nosuchcc"; tcp_keepalive_time = 300; }; }; };
EOF
cat >"$W/ping.conf" <<'EOF'
# gid 0..100 are not mapped in this user namespace: EINVAL
sysctl = { net = { core = { somaxconn = 8192; }; ipv4 = { ping_group_range = [0, 100]; tcp_keepalive_time = 300; }; }; };
EOF
cat >"$W/ehash.conf" <<'EOF'
# mode 0444: EACCES on open, even for root
sysctl = { net = { core = { somaxconn = 8192; }; ipv4 = { tcp_ehash_entries = 1024; }; }; };
EOF
cat >"$W/hostro.conf" <<'EOF'
sysctl = { net = { core = { somaxconn = 8192; rmem_max = 8388608; }; }; };
EOF
cat >"$W/wmem.conf" <<'EOF'
sysctl = { net = { ipv4 = { tcp_wmem = [8192, 32768, 0]; }; }; };
EOF
chmod 644 "$W"/*

tt_sandbox '
set -u
F=/etc/sysctl.d/90-tcptune.conf
J=/var/lib/tcptune/last-apply
tt() { "$TCPTUNE" --profile-dir "$PROFILES" "$@"; }
tok() { tr -s " \t\n" "   " <"/proc/sys/$1" | sed "s/ *\$//"; }
snap() {
	for k in net/core/somaxconn net/core/rmem_max fs/file-max net/ipv4/ip_local_port_range \
		net/ipv4/tcp_fin_timeout net/ipv4/tcp_keepalive_intvl net/ipv4/tcp_keepalive_probes \
		net/ipv4/tcp_keepalive_time net/ipv4/tcp_max_tw_buckets net/ipv4/tcp_slow_start_after_idle \
		net/ipv4/tcp_tw_reuse net/ipv4/tcp_syncookies net/ipv4/tcp_timestamps net/ipv4/tcp_sack \
		net/ipv4/tcp_window_scaling net/ipv4/tcp_congestion_control net/ipv4/ping_group_range \
		net/ipv4/tcp_wmem; do
		printf "%s=%s\n" "$k" "$(tok $k)"
	done
}
# a value below the rule, so that the fragment does not depend on this host
echo 8192 >/proc/sys/net/ipv4/tcp_max_tw_buckets || exit 99
snap >"$W/before"

tt -o json apply crawler >"$W/apply1.json" 2>"$W/apply1.err"; echo "apply1=$?"
cp "$F" "$W/frag"
snap >"$W/applied"
stat -c %y "$F" >"$W/m1"
sleep 1
tt -o json apply crawler >"$W/apply2.json" 2>&1; echo "apply2=$?"
stat -c %y "$F" >"$W/m2"
tt rollback >"$W/rollback.out" 2>&1; echo "rollback=$?"
snap >"$W/rolled"
[ -e "$F" ] && echo "fragment-left"
cp "$J" "$W/journal0"

for p in cc ping ehash; do
	tt apply "$W/$p.conf" >"$W/$p.out" 2>&1; echo "$p=$?"
	snap >"$W/$p.snap"
	[ -e "$F" ] && echo "$p-fragment-left"
	cmp -s "$J" "$W/journal0" || echo "$p-journal-changed"
done
tt apply "$W/wmem.conf" >"$W/wmem.out" 2>&1; echo "wmem=$?"
snap >"$W/wmem.snap"
# the kernel itself: a bad third number fails, yet the first two are stored
echo "8192 32768 0" >/proc/sys/net/ipv4/tcp_wmem 2>/dev/null && echo "kernel-took-0"
echo "kernel-wmem=$(tok net/ipv4/tcp_wmem)"
tt -o json apply "$W/hostro.conf" >"$W/hostro.json" 2>"$W/hostro.err"; echo "hostro=$?"
echo "hostro-somaxconn=$(tok net/core/somaxconn)"

# --netns: a child namespace of this one gets the values; our own values and
# the fragment (which configures the host at boot) stay as they are
command -v nsenter >/dev/null || { echo "no-nsenter"; exit 0; }
unshare -n sleep 60 & cpid=$!
sleep 0.5
fb=$(cksum <"$F")
tt --netns "$cpid" apply crawler >"$W/netns.out" 2>&1; echo "netns-apply=$?"
[ "$(cksum <"$F")" = "$fb" ] || echo "netns-fragment-changed"
echo "netns-child=$(nsenter -t "$cpid" -n cat /proc/sys/net/ipv4/tcp_keepalive_time)"
echo "netns-parent=$(tok net/ipv4/tcp_keepalive_time)"
tt rollback >/dev/null 2>&1; echo "netns-rollback-without=$?"
tt --netns "$cpid" rollback >/dev/null 2>&1; echo "netns-rollback=$?"
echo "netns-child-after=$(nsenter -t "$cpid" -n cat /proc/sys/net/ipv4/tcp_keepalive_time)"
kill "$cpid"
'
rc=$?
cat "$T/out" >"$T/result"
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" >&2; fail "sandbox script failed ($rc)"; }
want() { grep -qx "$1" "$T/result" || { cat "$T/result" "$T/err" >&2; fail "expected '$1'"; }; }
want apply1=0
want apply2=0
want rollback=0
want cc=2
want ping=3
want ehash=3
want wmem=2
want hostro=0
want hostro-somaxconn=8192
want "kernel-wmem=8192 32768 4194304"
if ! grep -qx no-nsenter "$T/result"; then
	want netns-apply=0
	want netns-child=200
	want netns-parent=7200
	want netns-rollback-without=2
	want netns-rollback=0
	want netns-child-after=7200
	grep -q 'is left alone: it configures the host at boot' "$W/netns.out" || fail "no --netns fragment note"
fi
grep -q -- '-left$\|-changed$' "$T/result" && fail "$(grep -- '-left$\|-changed$' "$T/result")"

# apply: golden fragment, targets live, a note for host-wide fs.file-max
diff -u "$W/golden" "$W/frag" || fail "fragment differs from the golden file"
grep -q 'fs.file-max: skipped: host-wide' "$W/apply1.err" || fail "no note for the skipped host-wide key"
for kv in net/ipv4/tcp_keepalive_time=200 net/ipv4/tcp_keepalive_intvl=15 net/ipv4/tcp_keepalive_probes=3 \
	net/ipv4/tcp_tw_reuse=1 "net/ipv4/ip_local_port_range=10240 65535" net/ipv4/tcp_fin_timeout=30 \
	net/ipv4/tcp_slow_start_after_idle=0 net/ipv4/tcp_max_tw_buckets=65536; do
	grep -qx "$kv" "$W/applied" || fail "after apply, not $kv: $(grep "^${kv%%=*}=" "$W/applied")"
done
grep -q '"changed": true' "$W/apply1.json" || fail "first apply not changed"
# again: changed=false and the same mtime
grep -q '"changed": false' "$W/apply2.json" || fail "second apply changed something"
cmp -s "$W/m1" "$W/m2" || fail "second apply rewrote the fragment"
# rollback and every refusal: everything as before
diff -u "$W/before" "$W/rolled" || fail "rollback did not restore"
for p in cc ping ehash wmem; do
	diff -u "$W/before" "$W/$p.snap" || fail "$p: a refused apply changed live values"
done
grep -q 'tcp_congestion_control: nosuchcc is not available on this kernel (tcp_available_congestion_control: ' "$W/cc.out" ||
	fail "cc message: $(cat "$W/cc.out")"
grep -q 'tcp_ehash_entries: writing 1024: Permission denied' "$W/ehash.out" || fail "ehash message"
grep -q 'tcp_wmem: value 3 of 3' "$W/wmem.out" || fail "wmem message"
grep -q '"key": "net.core.rmem_max"' "$W/hostro.json" || fail "rmem_max not listed as skipped"
grep -q 'rmem_max: skipped: host-wide' "$W/hostro.err" || fail "no note for rmem_max"
exit 0
