#!/bin/sh
# SPDX-License-Identifier: ISC
# Switching profiles (real kernel, sandbox): keys the last apply set that the new profiles drop go
# back to their value before tcptune first set them (plan says so), unless --keep-stale;
# apply A, apply B, rollback, apply A records A again.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_need_sandbox
W="$T/w"

tt_sandbox '
set -u
tt() { "$TCPTUNE" --profile-dir "$PROFILES" "$@"; }
v() { tr -s " \t" "  " <"/proc/sys/net/ipv4/$1"; }
three() { echo "$1: reuse=$(v tcp_tw_reuse) range=$(v ip_local_port_range) fin=$(v tcp_fin_timeout)"; }
three before
tt apply crawler >/dev/null 2>&1; echo "crawler=$?"
three crawler
tt plan web-server >"$W/plan.out" 2>"$W/plan.err"; echo "plan=$?"
tt apply web-server >/dev/null 2>"$W/apply.err"; echo "web=$?"
three web
tt audit >/dev/null 2>&1; echo "web-audit=$?"
tt rollback >/dev/null 2>&1; echo "rollback=$?"
three rolled
# the same state as crawler'"'"'s apply: nothing changes, but the journal names crawler again
tt apply crawler >/dev/null 2>&1; echo "again=$?"
grep -q "\"state\": \"complete\"" /var/lib/tcptune/last-apply && echo "again-complete=yes"
tt -o json audit >"$W/again.json" 2>&1; echo "again-audit=$?"
tt apply --keep-stale web-server >/dev/null 2>"$W/keep.err"; echo "keep=$?"
three keep
tt rollback >/dev/null 2>&1
# A, B, rollback, A: still the value from before tcptune, not crawler'"'"'s
tt apply web-server >/dev/null 2>&1; echo "web2=$?"
three web2
tt rollback >/dev/null 2>&1; tt rollback >/dev/null 2>&1
tt apply crawler >/dev/null 2>&1; tt apply web-server >/dev/null 2>&1; echo "web3=$?"
three web3
'
rc=$?
cat "$T/out" >"$T/result"
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" >&2; fail "sandbox script failed ($rc)"; }
want() { grep -qx "$1" "$T/result" || { cat "$T/result" "$T/err" "$W"/*.err >&2; fail "expected '$1'"; }; }
b=$(sed -n 's/^before: //p' "$T/result")
[ -n "$b" ] || fail "no starting values"
want crawler=0
want "crawler: reuse=1 range=10240 65535 fin=30"
want plan=1
want web=0
want "web: $b"
want web-audit=0
want rollback=0
want "rolled: reuse=1 range=10240 65535 fin=30"
want again=0
want again-complete=yes
want again-audit=0
grep -q '"crawler"' "$W/again.json" || { cat "$W/again.json" >&2; fail "audit after apply A, B, rollback, A does not audit A"; }
want keep=0
want "keep: reuse=1 range=10240 65535 fin=30"
want web2=0
want "web2: $b"
want web3=0
want "web3: $b"
for k in tcp_tw_reuse ip_local_port_range tcp_fin_timeout; do
	grep -q "net.ipv4.$k: set by an earlier apply and named by none of these profiles: back to" "$W/plan.err" ||
		{ cat "$W/plan.err" >&2; fail "plan does not say that $k goes back"; }
	grep -q "^net.ipv4.$k " "$W/plan.out" || { cat "$W/plan.out" >&2; fail "plan table lacks $k"; }
	grep -q "net.ipv4.$k: set by an earlier apply.*kept at.*--keep-stale" "$W/keep.err" ||
		{ cat "$W/keep.err" >&2; fail "--keep-stale does not warn about $k"; }
done
exit 0
