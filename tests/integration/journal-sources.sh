#!/bin/sh
# SPDX-License-Identifier: ISC
# audit and doctor with no PROFILE use exactly the files the last apply read (absolute path and
# SHA-256 in the journal), from any directory, and say when one changed or vanished since.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_need_sandbox
W="$T/w"

tt_sandbox '
set -u
J=/var/lib/tcptune/last-apply
tt() { "$TCPTUNE" --profile-dir "$PROFILES" "$@"; }
mkdir -p "$W/p1" "$W/x"
cp "$PROFILES/crawler.conf" "$PROFILES/baseline.conf" "$W/p1/"
# a relative path, from one directory; audit from another
cd "$W/p1" && tt apply ./crawler.conf >/dev/null 2>&1; echo "rel-apply=$?"
cd / && tt audit >"$W/rel.audit" 2>&1; echo "rel-audit=$?"
tt -o json audit >"$W/rel.json" 2>/dev/null
tt rollback >/dev/null 2>&1

# --profile-dir X apply crawler: the recorded file is X/crawler.conf, not the shipped one
printf "sysctl = { net = { ipv4 = { tcp_keepalive_time = 300; }; }; };\n" >"$W/x/crawler.conf"
"$TCPTUNE" --profile-dir "$W/x" apply crawler >/dev/null 2>&1; echo "dir-apply=$?"
echo "dir-keepalive=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)"
tt audit >"$W/dir.audit" 2>&1; echo "dir-audit=$?"
# doctor judges the settings by the recorded file too: 200 is drift from its 300
echo 200 >/proc/sys/net/ipv4/tcp_keepalive_time
"$TCPTUNE" doctor -o json >"$W/dir.doctor" 2>"$W/dir.doctor.err"; echo "dir-doctor=$?"
tt rollback >/dev/null 2>&1

# an @include: recorded too; a change to it is said, also under -q; a vanished profile stops audit
printf "description = \"inc\";\n@include \"inc.cfg\"\n" >"$W/p1/inc.conf"
printf "sysctl = { net = { ipv4 = { tcp_fin_timeout = 40; }; }; };\n" >"$W/p1/inc.cfg"
tt apply "$W/p1/inc.conf" >/dev/null 2>&1; echo "inc-apply=$?"
grep -q "\"path\": \"$W/p1/inc.cfg\"" "$J" && echo "inc-recorded=yes"
tt audit >/dev/null 2>"$W/inc.audit0"; echo "inc-audit0=$?"
printf "sysctl = { net = { ipv4 = { tcp_fin_timeout = 41; }; }; };\n" >"$W/p1/inc.cfg"
tt -q audit >/dev/null 2>"$W/inc.audit1"; echo "inc-audit1=$?"
rm "$W/p1/inc.conf"
tt audit >/dev/null 2>"$W/inc.audit2"; echo "inc-audit2=$?"
tt rollback >/dev/null 2>&1; echo "inc-rollback=$?"
'
rc=$?
cat "$T/out" >"$T/result"
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" >&2; fail "sandbox script failed ($rc)"; }
want() { grep -qx "$1" "$T/result" || { cat "$T/result" "$T/err" "$W"/*.audit* >&2; fail "expected '$1'"; }; }
for w in rel-apply=0 rel-audit=0 dir-apply=0 dir-keepalive=300 dir-audit=0 dir-doctor=1 \
	inc-apply=0 inc-recorded=yes inc-audit0=0 inc-audit1=1 inc-audit2=2 inc-rollback=0; do
	want "$w"
done
grep -q "\"$W/p1/crawler.conf\"" "$W/rel.json" || { cat "$W/rel.json" >&2; fail "audit does not name the recorded file"; }
grep -q "tcp_keepalive_time" "$W/dir.doctor" || fail "doctor did not audit the settings"
grep -q "$W/p1/inc.cfg: changed since the apply" "$W/inc.audit1" ||
	{ cat "$W/inc.audit1" >&2; fail "a changed @include is not said under -q"; }
[ -s "$W/inc.audit0" ] && { cat "$W/inc.audit0" >&2; fail "unchanged files, yet audit said something"; }
grep -q "$W/p1/inc.conf: vanished since the apply" "$W/inc.audit2" ||
	{ cat "$W/inc.audit2" >&2; fail "a vanished profile is not said"; }
exit 0
