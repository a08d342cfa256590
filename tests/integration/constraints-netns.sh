#!/bin/sh
# SPDX-License-Identifier: ISC
# plan and apply check values against the running kernel's own constraints
# before touching anything, and order writes the way the kernel requires:
# ip_local_port_range against the live ip_unprivileged_port_start, the
# congestion control against the available (and, in a child netns,
# allowed) list; ip_local_reserved_ports compared as a set of ports.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_need_sandbox
W="$T/w"

prof() { printf '%s\n' "$2" >"$T/profiles/$1.conf"; chmod 644 "$T/profiles/$1.conf"; }
prof low 'sysctl = { net = { ipv4 = { ip_local_port_range = [ 10240, 65535 ]; }; }; };'
prof below1024 'sysctl = { net = { ipv4 = { ip_local_port_range = [ 1000, 65535 ]; }; }; };'
prof both-down 'sysctl = { net = { ipv4 = { ip_unprivileged_port_start = 500; ip_local_port_range = [ 600, 65535 ]; }; }; };'
prof both-up 'sysctl = { net = { ipv4 = { ip_unprivileged_port_start = 20000; ip_local_port_range = [ 30000, 65535 ]; }; }; };'
prof floor-over 'sysctl = { net = { ipv4 = { ip_unprivileged_port_start = 40000; }; }; };'
prof nocc 'sysctl = { net = { ipv4 = { tcp_congestion_control = "nosuchcc"; tcp_keepalive_time = 300; }; }; };'
prof firstcc 'sysctl = { net = { ipv4 = { tcp_congestion_control = { one_of = [ "nosuchcc", "reno" ]; }; }; }; };'
prof reserved 'sysctl = { net = { ipv4 = { ip_local_reserved_ports = "9000-9010,8080,8081"; }; }; };'

tt_sandbox '
TT="$TCPTUNE --profile-dir $PROFILES"
ps=/proc/sys/net/ipv4
snap() { cat $ps/ip_local_port_range $ps/ip_unprivileged_port_start $ps/tcp_congestion_control \
	$ps/tcp_keepalive_time $ps/ip_local_reserved_ports | tr -s "\t" " "; ls /etc/sysctl.d; }
snap > $W/snap0

# 1. the live floor is 20000: 10240 is refused by plan and apply, exit 2, nothing touched
echo 20000 > $ps/ip_unprivileged_port_start
snap > $W/snap1
$TT plan low > $W/1plan.out 2>&1; echo "plan-low=$?"
$TT apply low > $W/1apply.out 2>&1; echo "apply-low=$?"
snap | cmp -s - $W/snap1 || echo "low-touched"
$TT validate $PROFILES/low.conf > $W/1validate.out 2>&1; echo "validate-low=$?"

# 2. the live floor is 0: 1000 is fine (no fixed 1024)
echo 0 > $ps/ip_unprivileged_port_start
$TT apply below1024 > $W/2.out 2>&1; echo "apply-below1024=$?"
echo "range2=$(tr -s "\t" " " < $ps/ip_local_port_range)"
$TT rollback > /dev/null 2>&1; echo "rollback2=$?"
echo 1024 > $ps/ip_unprivileged_port_start

# 3. lowering both: the floor first; raising both from a low range: the range first
$TT plan both-down > $W/3plan.out 2>&1; echo "plan-both-down=$?"
$TT apply both-down > $W/3.out 2>&1; echo "apply-both-down=$?"
echo "down=$(cat $ps/ip_unprivileged_port_start) $(tr -s "\t" " " < $ps/ip_local_port_range)"
$TT rollback > $W/3rb.out 2>&1; echo "rollback3=$?"
echo "10240 65535" > $ps/ip_local_port_range
$TT apply both-up > $W/3up.out 2>&1; echo "apply-both-up=$?"
echo "up=$(cat $ps/ip_unprivileged_port_start) $(tr -s "\t" " " < $ps/ip_local_port_range)"
$TT rollback > /dev/null 2>&1; echo "rollback3up=$?"
$TT plan floor-over > $W/3over.out 2>&1; echo "plan-floor-over=$?"

# 4. congestion control: unknown name refused before anything is touched; one_of takes a usable one
snap > $W/snap4
$TT apply nocc > $W/4.out 2>&1; echo "apply-nocc=$?"
snap | cmp -s - $W/snap4 || echo "nocc-touched"
$TT apply firstcc > $W/4first.out 2>&1; echo "apply-firstcc=$?"
echo "cc=$(cat $ps/tcp_congestion_control)"
$TT rollback > /dev/null 2>&1
# a name the kernel has but does not allow in a child netns (EPERM), where there is one
for c in $(cat $ps/tcp_available_congestion_control); do
	grep -qw "$c" $ps/tcp_allowed_congestion_control && continue
	printf "sysctl = { net = { ipv4 = { tcp_congestion_control = \"%s\"; }; }; };\n" "$c" > $W/eperm.conf
	$TT plan $W/eperm.conf > $W/4eperm.out 2>&1; echo "plan-eperm=$?"
	break
done

# 5. reserved ports: the kernel merges and sorts them; the same set is the same value
$TT apply reserved > $W/5.out 2>&1; echo "apply-reserved=$?"
echo "reserved=$(cat $ps/ip_local_reserved_ports)"
$TT audit reserved > $W/5audit.out 2>&1; echo "audit-reserved=$?"
printf "net.ipv4.ip_local_reserved_ports = 9005-9010,9000-9004,8081,8080\n" > /etc/sysctl.d/95-ports.conf
$TT audit reserved > $W/5audit2.out 2>&1; echo "audit-reserved-other-spelling=$?"
$TT apply reserved > $W/5again.out 2>&1; echo "apply-reserved-again=$?"
'
rc=$?
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" >&2; fail "sandbox script failed ($rc)"; }
want() { grep -qx "$1" "$T/out" || { cat "$T/out" >&2; for f in "$W"/*.out; do echo "--- $f"; cat "$f"; done >&2; fail "expected '$1'"; }; }
nope() { grep -qx "$1" "$T/out" && { cat "$T/out" >&2; fail "unexpected '$1'"; }; return 0; }

want plan-low=2
want apply-low=2
nope low-touched
grep -q 'ip_local_port_range would start at 10240, below net.ipv4.ip_unprivileged_port_start = 20000 (live)' "$W/1apply.out" ||
	fail "no reason for the refused port range: $(cat "$W/1apply.out")"
grep -q 'low.conf:1: net.ipv4.ip_local_port_range' "$W/1plan.out" || fail "plan does not name file:line and key"
want validate-low=0
grep -q 'against the live ip_unprivileged_port_start' "$W/1validate.out" || fail "validate does not say what needs the host"

want apply-below1024=0
want "range2=1000 65535"
want rollback2=0

want plan-both-down=1
grep -q 'write order: net.ipv4.ip_unprivileged_port_start before net.ipv4.ip_local_port_range' "$W/3plan.out" ||
	fail "plan does not say the write order: $(cat "$W/3plan.out")"
want apply-both-down=0
want "down=500 600 65535"
want rollback3=0
want apply-both-up=0
want "up=20000 30000 65535"
want rollback3up=0
want plan-floor-over=2
grep -q 'would start at 10240, below net.ipv4.ip_unprivileged_port_start = 40000 (set by the profile)' "$W/3over.out" ||
	fail "floor-over reason: $(cat "$W/3over.out")"

want apply-nocc=2
nope nocc-touched
grep -q 'tcp_congestion_control: nosuchcc is not available on this kernel' "$W/4.out" || fail "nocc reason"
want apply-firstcc=0
want cc=reno
if grep -q '^plan-eperm=' "$T/out"; then
	want plan-eperm=2
	grep -q 'is not allowed in this network namespace (tcp_allowed_congestion_control' "$W/4eperm.out" ||
		fail "EPERM reason: $(cat "$W/4eperm.out")"
fi

want apply-reserved=0
want reserved=8080-8081,9000-9010
want audit-reserved=0
want audit-reserved-other-spelling=0
want apply-reserved-again=0
grep -q 'nothing changed' "$W/5again.out" || fail "second apply of the same set changed something: $(cat "$W/5again.out")"
exit 0
