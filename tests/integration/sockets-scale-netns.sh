#!/bin/sh
# SPDX-License-Identifier: ISC
# sockets --by remote at scale against a real kernel in a private namespace:
# 6,000 loopback connections, each client toward its own address. The
# counts equal ss's, the JSON holds every remote, the table the top 20, and
# the memory per remote stays small (the limit is argued below).
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_SOCKETS_SOURCE TCPTUNE_DIAG_FILE TCPTUNE_DIAG_RECORD
tt_need_sandbox
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3 for the socket scenario"
command -v ip >/dev/null 2>&1 || skip "no ip(8) to bring up loopback"
command -v ss >/dev/null 2>&1 || skip "no ss(8) to compare with (apt-get install -y iproute2)"
N=6000
cp "$SRCDIR/tests/integration/sockets-spread.py" "$T/w/" && chmod 644 "$T/w/sockets-spread.py"
# peak RSS: time(1) forks a small process (a python parent's RSS would hide ours)
[ -x /usr/bin/time ] || skip "no /usr/bin/time to measure peak RSS (apt-get install -y time)"

# ASan keeps freed blocks in quarantine: without it, RSS is what the code holds
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
export ASAN_OPTIONS
tt_sandbox "
ip link set lo up || exit 99
/usr/bin/python3 \$W/sockets-spread.py \$W/ready $N 120 &
P=\$!
i=0
while [ ! -f \$W/ready ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i+1)); done
[ -f \$W/ready ] || { echo 'scenario did not start' >&2; kill \$P; exit 99; }
echo \$P > \$W/pid
ss -tan > \$W/ss.txt
\"\$TCPTUNE\" -o json sockets --by remote > \$W/remote.json
\"\$TCPTUNE\" sockets --by remote > \$W/remote.txt
\"\$TCPTUNE\" -o json sockets --by owner,remote > \$W/pairs.json
\"\$TCPTUNE\" sockets --by owner,remote --top 3 > \$W/pairs.txt
/usr/bin/time -o \$W/rss-base -f %M \"\$TCPTUNE\" sockets --exact > /dev/null
/usr/bin/time -o \$W/rss-remote -f %M \"\$TCPTUNE\" sockets --by remote > /dev/null
ss -tan > \$W/ss-after.txt
kill \$P
" || fail "sandbox script failed: $(cat "$T/err")"
W=$T/w
cmp -s "$W/ss.txt" "$W/ss-after.txt" || fail "the sockets changed during the test"

python3 - "$W" "$N" <<'EOP' || fail "counts or groups differ from ss"
import json, sys
w, n = sys.argv[1], int(sys.argv[2])
SS = {"ESTAB": "ESTABLISHED", "LISTEN": "LISTEN", "TIME-WAIT": "TIME_WAIT", "CLOSE-WAIT": "CLOSE_WAIT",
      "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV", "FIN-WAIT-1": "FIN_WAIT1", "FIN-WAIT-2": "FIN_WAIT2",
      "LAST-ACK": "LAST_ACK", "CLOSING": "CLOSING"}
states, remotes = {}, {}
listening = set()
lines = [l.split() for l in open(w + "/ss.txt").read().splitlines()[1:]]
for f in lines:
    if f[0] == "LISTEN":
        listening.add(f[3].rsplit(":", 1)[1])
for f in lines:
    st = SS[f[0]]
    states[st] = states.get(st, 0) + 1
    if st == "LISTEN":
        continue
    lport = f[3].rsplit(":", 1)[1]
    key = "inbound to :" + lport if lport in listening else f[4]
    remotes[key] = remotes.get(key, 0) + 1
d = json.load(open(w + "/remote.json"))
got = {k: v for k, v in d["states"].items() if v}
assert got == states, (got, states)
assert d["total"] == sum(states.values()) == 2 * n + 1, d["total"]
rows = {r["remote"]: r["total"] for r in d["by_remote"]}
assert len(d["by_remote"]) == n + 1, len(d["by_remote"])      # every remote, not the top 20
assert rows == remotes, "remotes differ from ss's"
assert d["by_remote"][0] == {"remote": "inbound to :7100", "inbound": True, "total": n,
                             "states": d["by_remote"][0]["states"], "ephemeral_ports_used": 0,
                             "ephemeral_ports_share": 0.0}, d["by_remote"][0]
# the table: the top 20 and how many more
t = open(w + "/remote.txt").read().splitlines()
assert t[0].split()[:2] == ["REMOTE", "TOTAL"], t[0]
assert t[1].split()[:2] == ["inbound", "to"], t[1]
assert len(t) == 1 + 20 + 1 and t[21] == "%d more (--top 0 shows all)" % (n + 1 - 20), t[-2:]
# --by owner,remote: the one process, every remote of it, nothing else
pid = int(open(w + "/pid").read())
p = json.load(open(w + "/pairs.json"))
assert [o["pid"] for o in p["by_owner"]] == [pid], [o["pid"] for o in p["by_owner"]]
o = p["by_owner"][0]
assert o["total"] == 2 * n + 1 and o["states"]["LISTEN"] == 1, o["total"]
assert len(o["remotes"]) == n + 1 and sum(r["total"] for r in o["remotes"]) == 2 * n, len(o["remotes"])
assert {r["remote"]: r["total"] for r in o["remotes"]} == remotes
assert p["ownerless_remotes"] == [], p["ownerless_remotes"]
t = open(w + "/pairs.txt").read().splitlines()
assert t[0].split()[:4] == ["PID", "COMMAND", "REMOTE", "TOTAL"], t[0]
assert t[1].split()[:5] == [str(pid), "python3", "inbound", "to", ":7100"], t[1]
assert t[-1] == "%d more (--top 0 shows all)" % (n + 1 - 3), t[-1]
EOP

# Memory per remote. A group is an 84-byte struct remote in one array
# that doubles, a 4-byte slot 2 to 4 times over (the table doubles at half
# full) and 16 bytes while qsort sorts: about 130 bytes, measured 130 with
# and without ASan (its quarantine off). 384 leaves room for allocator and
# page slack; the old three tables of 152-byte entries took 1,240.
base=$(cat "$W/rss-base") remote=$(cat "$W/rss-remote")
per=$(( (remote - base) * 1024 / (N + 1) ))
echo "peak RSS: sockets --exact $base KiB, --by remote $remote KiB: $per bytes per remote"
[ "$per" -le 384 ] || fail "sockets --by remote holds $per bytes per remote (limit 384)"
