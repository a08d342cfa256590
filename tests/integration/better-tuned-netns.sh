#!/bin/sh
# SPDX-License-Identifier: ISC
# Rules that do not make a better-tuned host worse, on a real kernel in a
# private namespace: the shipped crawler leaves a stricter keepalive and a
# wider port range alone; render pins bounds, never this host's computed
# values; a new port range that takes in a listener's port or Kubernetes'
# NodePort range is warned about unless ip_local_reserved_ports keeps it out.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_need_sandbox
W="$T/w"
command -v python3 >/dev/null 2>&1 || fail "python3 is needed for the listener"

cat >"$T/profiles/reserved.conf" <<'EOC'
inherits = "crawler";
sysctl = { net = { ipv4 = { ip_local_reserved_ports = "20000,30000-32767"; }; }; };
EOC
chmod 644 "$T/profiles/reserved.conf"

tt_sandbox '
TT="$TCPTUNE --profile-dir $PROFILES"
ps=/proc/sys/net/ipv4
ip link set lo up 2>/dev/null
# 1. render on this kernel: no computed value baked in
$TT render crawler > $W/render.conf; echo "render=$?"

# 2. a listener on 20000, inside the default range 32768-60999? no: outside it, inside the new one
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((\"127.0.0.1\", 20000)); s.listen(1); open(\"$W/listening\", \"w\").close(); time.sleep(20)" &
lp=$!
i=0; while [ ! -e $W/listening ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
$TT plan crawler > $W/plan.out 2> $W/plan.err; echo "plan=$?"
$TT plan reserved > $W/plan-res.out 2> $W/plan-res.err; echo "plan-reserved=$?"
kill $lp 2>/dev/null; wait $lp 2>/dev/null

# 3. a host tuned better than the profile: stricter keepalive, wider range
echo 60 > $ps/tcp_keepalive_time; echo 5 > $ps/tcp_keepalive_intvl; echo "1024 65535" > $ps/ip_local_port_range
$TT apply crawler > $W/apply.out 2>&1; echo "apply=$?"
echo "keepalive=$(cat $ps/tcp_keepalive_time) $(cat $ps/tcp_keepalive_intvl)"
echo "range=$(tr -s "\t" " " < $ps/ip_local_port_range)"
$TT audit crawler > $W/audit.out 2>&1; echo "audit=$?"
cp /etc/sysctl.d/90-tcptune.conf $W/fragment.conf 2>/dev/null
true
'
rc=$?
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" >&2; fail "sandbox script failed ($rc)"; }
want() { grep -qx "$1" "$T/out" || { cat "$T/out" >&2; for f in "$W"/*.out "$W"/*.err; do echo "--- $f"; cat "$f"; done >&2; fail "expected '$1'"; }; }

want render=0
grep -q '^-\?fs\.file-max *=' "$W/render.conf" && fail "render pins fs.file-max: $(grep file-max "$W/render.conf")"
grep -q '^-\?net\.ipv4\.tcp_max_tw_buckets *=' "$W/render.conf" && fail "render pins tcp_max_tw_buckets"
grep -q '^# fs.file-max: not pinned: optional, and the kernel computes it at boot$' "$W/render.conf" ||
	fail "render does not say why fs.file-max is not pinned"
grep -q '^net\.ipv4\.tcp_keepalive_time = 200$' "$W/render.conf" || fail "render does not pin the keepalive bound"

want plan=1
grep -q 'ip_local_port_range 10240-65535 now takes in port 20000 that a process is listening here' "$W/plan.err" ||
	fail "no warning for the listener: $(cat "$W/plan.err")"
grep -q "now overlaps Kubernetes' NodePort range 30000-32767" "$W/plan.err" || fail "no NodePort warning"
want plan-reserved=1
grep -q 'now takes in port\|NodePort' "$W/plan-res.err" && fail "warned although the ports are reserved: $(cat "$W/plan-res.err")"

want apply=0
want "keepalive=60 5"
want "range=1024 65535"
want audit=0
grep -q '^net\.ipv4\.ip_local_port_range = 10240 65535$' "$W/fragment.conf" ||
	fail "the fragment does not pin the covered range for boot: $(cat "$W/fragment.conf")"
exit 0
