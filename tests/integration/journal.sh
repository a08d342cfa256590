#!/bin/sh
# SPDX-License-Identifier: ISC
# The journal on a real kernel (sandbox): any bytes of the old fragment round-trip,
# non-UTF-8 paths survive it, recovery and rollback stay in their network namespace,
# a key gone since the apply does not wedge rollback or apply, hand edits are shown and refused.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_need_sandbox
W="$T/w"

# A NUL-padded fragment (a power cut) with CRLF; one with bytes that are not UTF-8 too; mode 0600.
printf 'net.ipv4.tcp_fin_timeout = 45\r\n\000\000\000\000' >"$W/oldfrag1"
printf 'net.ipv4.tcp_fin_timeout = 45\r\n# caf\351 \377\376\n\000\000' >"$W/oldfrag2"
chmod 644 "$W"/oldfrag*
# a key of an interface that goes away after the apply
cat >"$W/gone.conf" <<'EOF'
sysctl = { net = { ipv4 = { tcp_keepalive_time = 300; conf = { gone0 = { rp_filter = 2; }; }; }; }; };
EOF
chmod 644 "$W/gone.conf"

tt_sandbox '
set -u
F=/etc/sysctl.d/90-tcptune.conf
J=/var/lib/tcptune/last-apply
tt() { "$TCPTUNE" --profile-dir "$PROFILES" "$@"; }
for n in 1 2; do
	rm -f "$J"
	cp "$W/oldfrag$n" "$F" && chmod 600 "$F"
	tt apply crawler >"$W/b.apply" 2>&1; echo "bytes$n-apply=$?"
	echo "bytes$n-journal-mode=$(stat -c %a "$J")"
	tt audit >/dev/null 2>"$W/b.audit"; echo "bytes$n-audit=$?"
	tt apply crawler >/dev/null 2>&1; echo "bytes$n-again=$?"
	tt rollback >"$W/b.rollback" 2>&1; echo "bytes$n-rollback=$?"
	cmp -s "$F" "$W/oldfrag$n" && echo "bytes$n-fragment=same"
	echo "bytes$n-mode=$(stat -c %a "$F")"
	echo "bytes$n-fin=$(cat /proc/sys/net/ipv4/tcp_fin_timeout)"
done

# a fragment path that is not UTF-8
rm -f "$F" "$J"
G=$(printf "/etc/sysctl.d/91-caf\351.conf")
tt --fragment "$G" apply crawler >"$W/p.apply" 2>&1; echo "path-apply=$?"
[ -e "$G" ] && echo "path-written=yes"
tt --fragment "$G" rollback >"$W/p.rollback" 2>&1; echo "path-rollback=$?"
[ -e "$G" ] || echo "path-removed=yes"
echo "path-keepalive=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)"
rm -f "$J"

# a profile path that is not UTF-8: the journal keeps it, so a bare audit checks every key it set
P=$(printf "$W/caf\351.conf")
cp "$PROFILES/crawler.conf" "$P" && chmod 644 "$P" || exit 99
tt apply "$P" >"$W/pp.apply" 2>&1; echo "pprof-apply=$?"
tt -o json audit "$P" >"$W/pp.named" 2>&1
tt -o json audit >"$W/pp.bare" 2>&1; echo "pprof-audit=$?"
n1=$(grep -c "\"key\": " "$W/pp.named"); n2=$(grep -c "\"key\": " "$W/pp.bare")
[ "$n1" -gt 0 ] && [ "$n1" = "$n2" ] && echo "pprof-keys=same"
tt rollback >"$W/pp.rollback" 2>&1; echo "pprof-rollback=$?"
rm -f "$J"

# --- namespaces: an apply killed in one is never recovered into another
command -v ip >/dev/null || { echo "no-ip"; exit 0; }
snap() {
	for k in ip_local_port_range tcp_fin_timeout tcp_keepalive_intvl tcp_keepalive_probes \
		tcp_keepalive_time tcp_slow_start_after_idle tcp_tw_reuse; do
		printf "%s=%s " "$k" "$($1 cat /proc/sys/net/ipv4/$k | tr -s " \t" "  ")"
	done
	echo
}
kid="ip netns exec kid"
ip netns add kid || exit 99
snap "" >"$W/host0"; snap "$kid" >"$W/kid0"
TCPTUNE_TEST_CRASH_AT=key:2 tt --netns kid apply crawler >/dev/null 2>&1; echo "ns-crash=$?"
snap "$kid" >"$W/kid1"
cmp -s "$W/kid0" "$W/kid1" || echo "ns-kid-half=yes"
cp "$J" "$W/j1"
tt apply crawler >"$W/ns.host-apply" 2>&1; echo "ns-host-apply=$?"
snap "" >"$W/host1"; cmp -s "$W/host0" "$W/host1" && echo "ns-host-untouched=yes"
cmp -s "$J" "$W/j1" && echo "ns-journal-kept=yes"
tt rollback >"$W/ns.host-rollback" 2>&1; echo "ns-host-rollback=$?"
tt -n rollback >/dev/null 2>&1; echo "ns-host-rollback-n=$?"
cmp -s "$J" "$W/j1" && echo "ns-journal-kept2=yes"
tt --netns kid rollback >/dev/null 2>&1; echo "ns-kid-rollback=$?"
snap "$kid" >"$W/kid2"; cmp -s "$W/kid0" "$W/kid2" && echo "ns-kid-restored=yes"

# a container restart: same name, a new namespace
TCPTUNE_TEST_CRASH_AT=key:2 tt --netns kid apply crawler >/dev/null 2>&1; echo "re-crash=$?"
cp "$J" "$W/j2"
ip netns del kid && ip netns add kid || exit 99
$kid sh -c "echo 333 >/proc/sys/net/ipv4/tcp_keepalive_time"
snap "$kid" >"$W/kid3"
tt --netns kid apply crawler >"$W/re.apply" 2>&1; echo "re-apply=$?"
tt --netns kid rollback >"$W/re.rollback" 2>&1; echo "re-rollback=$?"
snap "$kid" >"$W/kid4"; cmp -s "$W/kid3" "$W/kid4" && echo "re-kid-untouched=yes"
cmp -s "$J" "$W/j2" && echo "re-journal-kept=yes"
tt --netns kid rollback --forget >"$W/re.forget" 2>&1; echo "re-forget=$?"
cmp -s "$J.forgotten" "$W/j2" && echo "re-forgotten=yes"
tt --netns kid apply crawler >/dev/null 2>&1; echo "re-apply2=$?"
echo "re-kid-keepalive=$($kid cat /proc/sys/net/ipv4/tcp_keepalive_time)"
tt --netns kid rollback >/dev/null 2>&1; echo "re-rollback2=$?"

# the reverse: a plain apply killed, then one with --netns
TCPTUNE_TEST_CRASH_AT=key:2 tt apply crawler >/dev/null 2>&1; echo "rev-crash=$?"
snap "$kid" >"$W/kid5"
tt --netns kid apply crawler >/dev/null 2>&1; echo "rev-kid-apply=$?"
snap "$kid" >"$W/kid6"; cmp -s "$W/kid5" "$W/kid6" && echo "rev-kid-untouched=yes"
tt apply crawler >/dev/null 2>&1; echo "rev-host-apply=$?"
tt rollback >/dev/null 2>&1; echo "rev-host-rollback=$?"
snap "" >"$W/host2"; cmp -s "$W/host0" "$W/host2" && echo "rev-host-old=yes"

# --- a key that disappears after the apply: "gone, nothing to restore", never a wedge
mkgone() { ip link add gone0 type dummy 2>/dev/null || ip link add gone0 type veth peer name gone1; }
mkgone || exit 99
tt apply "$W/gone.conf" >/dev/null 2>&1; echo "gone-apply=$?"
ip link del gone0
tt rollback >"$W/gone.rollback" 2>&1; echo "gone-rollback=$?"
echo "gone-keepalive=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)"
mkgone || exit 99
TCPTUNE_TEST_CRASH_AT=key:2 tt apply "$W/gone.conf" >/dev/null 2>&1; echo "gone-crash=$?"
ip link del gone0
tt apply crawler >"$W/gone.apply" 2>&1; echo "gone-recover-apply=$?"
echo "gone-keepalive2=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)"
tt rollback >/dev/null 2>&1; echo "gone-rollback2=$?"

# --- hand edits since the apply: shown by rollback and rollback -n, refused without --force
tt apply crawler >/dev/null 2>&1; echo "hand-apply=$?"
echo "net.ipv4.tcp_rmem = 4096 131072 6291456" >>"$F"
echo 333 >/proc/sys/net/ipv4/tcp_keepalive_time
cp "$F" "$W/hand.frag"
tt rollback -n >"$W/hand.n.out" 2>"$W/hand.n"; echo "hand-n=$?"
tt rollback >/dev/null 2>"$W/hand.rb"; echo "hand-rollback=$?"
echo "hand-keepalive=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)"
cmp -s "$F" "$W/hand.frag" && echo "hand-frag-kept=yes"
grep -q "\"state\": \"complete\"" "$J" && echo "hand-journal-complete=yes"
tt rollback --force >/dev/null 2>&1; echo "hand-force=$?"
echo "hand-keepalive2=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)"
[ -e "$F" ] || echo "hand-frag-removed=yes"

# --- a report that cannot be written (a full disk) does not change the result of apply
mkdir -p /run/full && mount -t tmpfs -o size=8k tmpfs /run/full || exit 99
dd if=/dev/zero of=/run/full/fill bs=1k count=64 2>/dev/null
tt --output /run/full/report apply crawler >/dev/null 2>"$W/out.err"; echo "output-apply=$?"
echo "output-keepalive=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)"
grep -q "\"state\": \"complete\"" "$J" && echo "output-complete=yes"
tt --output /run/full/report rollback >/dev/null 2>&1; echo "output-rollback=$?"
echo "output-keepalive2=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)"
true
'
rc=$?
cat "$T/out" >"$T/result"
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" >&2; fail "sandbox script failed ($rc)"; }
want() { grep -qx "$1" "$T/result" || { cat "$T/result" "$T/err" "$W"/b.* "$W"/p.* "$W"/pp.* "$W"/out.err >&2; fail "expected '$1'"; }; }
for n in 1 2; do
	for w in apply=0 journal-mode=600 audit=0 again=0 rollback=0 fragment=same mode=600 fin=60; do
		want "bytes$n-$w"
	done
done
want path-apply=0
want path-written=yes
want path-rollback=0
want path-removed=yes
want path-keepalive=7200
want pprof-apply=0
want pprof-audit=0
want pprof-keys=same
want pprof-rollback=0
grep -qx no-ip "$T/result" && skip "no ip(8) for the namespace part"
grep -qx ns-crash=137 "$T/result" || skip "tcptune built without --enable-test-hooks"
for w in ns-kid-half=yes ns-host-apply=2 ns-host-untouched=yes ns-journal-kept=yes ns-host-rollback=2 \
	ns-host-rollback-n=2 ns-journal-kept2=yes ns-kid-rollback=0 ns-kid-restored=yes re-crash=137 \
	re-apply=2 re-rollback=2 re-kid-untouched=yes re-journal-kept=yes re-forget=0 re-forgotten=yes \
	re-apply2=0 re-kid-keepalive=200 re-rollback2=0 rev-crash=137 rev-kid-apply=2 \
	rev-kid-untouched=yes rev-host-apply=0 rev-host-rollback=0 rev-host-old=yes \
	gone-apply=0 gone-rollback=0 gone-keepalive=7200 gone-crash=137 gone-recover-apply=0 \
	gone-keepalive2=200 gone-rollback2=0 hand-apply=0 hand-n=1 hand-rollback=1 \
	hand-keepalive=333 hand-frag-kept=yes hand-journal-complete=yes hand-force=0 \
	hand-keepalive2=7200 hand-frag-removed=yes output-apply=0 output-keepalive=200 \
	output-complete=yes output-rollback=0 output-keepalive2=7200; do
	want "$w"
done
# the refusal names both namespaces and the ways out
grep -q 'was made in network namespace --netns kid (nsfs device [0-9]*:[0-9]*, inode [0-9]*[^)]*); this is the network namespace tcptune runs in without --netns' "$W/ns.host-apply" ||
	{ cat "$W/ns.host-apply" >&2; fail "host apply: no message naming both namespaces"; }
grep -q 'tcptune --netns kid rollback' "$W/ns.host-apply" || fail "no way out named"
grep -q 'this is network namespace --netns kid (nsfs device [0-9]*:[0-9]*, inode [0-9]*' "$W/re.apply" ||
	{ cat "$W/re.apply" >&2; fail "restart: no message naming both"; }
grep -q 'rollback --forget' "$W/re.apply" || fail "restart: --forget not named"
grep -q 'net.ipv4.conf.gone0.rp_filter: gone since the apply.*nothing to restore' "$W/gone.rollback" ||
	{ cat "$W/gone.rollback" >&2; fail "rollback does not report the gone key"; }
grep -q 'net.ipv4.conf.gone0.rp_filter: gone since the apply' "$W/gone.apply" ||
	{ cat "$W/gone.apply" >&2; fail "recovery does not report the gone key"; }
for f in hand.n hand.rb; do
	grep -q 'hand edit: net.ipv4.tcp_keepalive_time: 333 by hand since the apply, which left 200; rollback sets 7200' "$W/$f" ||
		{ cat "$W/$f" >&2; fail "$f: the live value changed by hand is not named"; }
	grep -q 'hand edit: /etc/sysctl.d/90-tcptune.conf: edited by hand since the apply: 1 line added ("net.ipv4.tcp_rmem = 4096 131072 6291456")' "$W/$f" ||
		{ cat "$W/$f" >&2; fail "$f: the line added by hand is not named"; }
done
grep -q 'rollback --force' "$W/hand.rb" || fail "the refusal does not name --force"
grep -q 'the report is lost; the command.s own result stands (exit 0)' "$W/out.err" ||
	{ cat "$W/out.err" >&2; fail "--output that cannot be written: not said"; }
