#!/bin/sh
# SPDX-License-Identifier: ISC
# doctor against a real kernel in a private user+net+mount namespace: it names
# the process that holds CLOSE_WAIT, and a small pile that neither grows nor
# lasts is info (exit 0); TIME_WAIT alone is harmless (exit 0); a profile's
# audit findings join in. doctor-scenarios.sh has the real pile-ups.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_SOCKETS_SOURCE TCPTUNE_DIAG_FILE TCPTUNE_DIAG_RECORD
tt_need_sandbox
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3 for the socket scenario"
command -v ip >/dev/null 2>&1 || skip "no ip(8) to bring up loopback"
cp "$SRCDIR/tests/data/sockets-live/scenario.py" "$T/w/" && chmod 644 "$T/w/scenario.py"

# start_scenario NAME COMM CW TW EST: a shell fragment that starts it and waits.
start_scenario() {
	echo "/usr/bin/python3 \$W/scenario.py \$W/ready-$1 '$2' $3 $4 $5 60 &
P=\$!
i=0
while [ ! -f \$W/ready-$1 ] && [ \$i -lt 150 ]; do sleep 0.1; i=\$((i+1)); done
[ -f \$W/ready-$1 ] || { echo 'scenario did not start' >&2; kill \$P; exit 99; }
echo \$P > \$W/pid-$1"
}

# 1. A leak: doctor names the PID and the comm, exit 1; the JSON agrees.
tt_sandbox "
ip link set lo up || exit 99
$(start_scenario leak 'proxy-agent' 4 2 1)
\"\$TCPTUNE\" doctor --interval 0.5 > \$W/leak.txt; echo \$? > \$W/leak.rc
\"\$TCPTUNE\" -o json doctor --interval 0.5 > \$W/leak.json
\"\$TCPTUNE\" doctor --once --source proc > \$W/leak-proc.txt; echo \$? > \$W/leak-proc.rc
\"\$TCPTUNE\" --profile-dir \"\$PROFILES\" -o json doctor --once crawler > \$W/profile.json; echo \$? > \$W/profile.rc
kill \$P
" || fail "sandbox script failed: $(cat "$T/err")"
W=$T/w
P=$(cat "$W/pid-leak")
[ "$(cat "$W/leak.rc")" = 0 ] || { cat "$W/leak.txt" >&2; fail "doctor exit $(cat "$W/leak.rc") with 4 steady CLOSE_WAIT, wanted 0"; }
grep_out "^info +close-wait: PID $P \\(proxy-agent\\) holds 4 sockets in CLOSE_WAIT, not growing" "$W/leak.txt"
grep_out 'No sysctl fixes this' "$W/leak.txt"
grep_out '^info +tw-harmless: 2 sockets in TIME_WAIT' "$W/leak.txt"
[ "$(cat "$W/leak-proc.rc")" = 0 ] || fail "doctor --source proc exit $(cat "$W/leak-proc.rc")"
grep_out "close-wait: PID $P \\(proxy-agent\\) holds 4 sockets" "$W/leak-proc.txt"
python3 - "$W" "$P" <<'EOP' || fail "doctor JSON"
import json, sys, os
w, pid = sys.argv[1], sys.argv[2]
d = json.load(open(os.path.join(w, "leak.json")))
f = d["findings"]
assert f[0]["id"] == "close-wait" and f[0]["severity"] == "info", f[0]
assert f[0]["pid"] == int(pid) and f[0]["comm"] == "proxy-agent" and f[0]["count"] == 4, f[0]
assert "4 of the first look's still open" in f[0]["evidence"], f[0]
assert 0.4 <= d["interval_s"] <= 2, d
assert d["sockets"]["states"]["CLOSE_WAIT"] == 4, d["sockets"]
p = json.load(open(os.path.join(w, "profile.json")))
ids = [x["id"] for x in p["findings"]]
assert "close-wait" in ids and "audit-drift" in ids, ids
assert any("net.ipv4.tcp_keepalive_time" in x["summary"] for x in p["findings"] if x["id"] == "audit-drift"), p
EOP
[ "$(cat "$W/profile.rc")" = 1 ] || fail "doctor crawler exit $(cat "$W/profile.rc")"

# 2. Only TIME_WAIT (the client closed first): normal, said as info, exit 0.
tt_sandbox "
ip link set lo up || exit 99
$(start_scenario tw 'crawler' 0 5 0)
\"\$TCPTUNE\" doctor --interval 0.5 > \$W/tw.txt; echo \$? > \$W/tw.rc
kill \$P
" || fail "sandbox script failed: $(cat "$T/err")"
[ "$(cat "$W/tw.rc")" = 0 ] || { cat "$W/tw.txt" >&2; fail "doctor exit $(cat "$W/tw.rc") with TIME_WAIT only, wanted 0"; }
grep_out '^info +tw-harmless: 5 sockets in TIME_WAIT: normal for the side that closes first' "$W/tw.txt"
grep_out 'TIME_WAIT lasts 60 s' "$W/tw.txt"
if grep -q close-wait "$W/tw.txt"; then fail "a CLOSE_WAIT finding without CLOSE_WAIT"; fi

# 3. No PROFILE: the profiles of the last apply are audited; a key changed
#    behind tcptune's back is a finding; after a rollback they are not.
tt_sandbox '
"$TCPTUNE" -q --profile-dir "$PROFILES" apply crawler >/dev/null || exit 99
echo 7200 > /proc/sys/net/ipv4/tcp_keepalive_time
"$TCPTUNE" --profile-dir "$PROFILES" -o json doctor --once > $W/last.json; echo $? > $W/last.rc
"$TCPTUNE" -q rollback >/dev/null || exit 99
"$TCPTUNE" --profile-dir "$PROFILES" -o json doctor --once > $W/rolled.json; echo $? > $W/rolled.rc
' || fail "sandbox script failed: $(cat "$T/err")"
[ "$(cat "$W/last.rc")" = 1 ] || fail "doctor after apply + drift exit $(cat "$W/last.rc"), wanted 1"
[ "$(cat "$W/rolled.rc")" = 0 ] || fail "doctor after rollback exit $(cat "$W/rolled.rc"), wanted 0"
python3 - "$W" <<'EOP' || fail "doctor with the last apply's profiles"
import json, sys, os
d = json.load(open(os.path.join(sys.argv[1], "last.json")))
drift = [x for x in d["findings"] if x["id"] == "audit-drift"]
assert len(drift) == 1 and "net.ipv4.tcp_keepalive_time is 7200" in drift[0]["summary"], d
r = json.load(open(os.path.join(sys.argv[1], "rolled.json")))
assert not [x for x in r["findings"] if x["id"].startswith("audit-")], r
EOP
exit 0
