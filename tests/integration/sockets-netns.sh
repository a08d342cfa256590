#!/bin/sh
# SPDX-License-Identifier: ISC
# sockets against a real kernel in a private user+net+mount namespace: a known
# process holds CLOSE_WAIT, ESTABLISHED and LISTEN sockets; TIME_WAIT and
# orphaned FIN_WAIT2 are left behind. Every way of counting must agree.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_SOCKETS_SOURCE TCPTUNE_DIAG_FILE TCPTUNE_DIAG_RECORD
tt_need_sandbox
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3 for the socket scenario"
command -v ip >/dev/null 2>&1 || skip "no ip(8) to bring up loopback"
cp "$SRCDIR/tests/data/sockets-live/scenario.py" "$T/w/" && chmod 644 "$T/w/scenario.py"

tt_sandbox '
ip link set lo up || exit 99
/usr/bin/python3 $W/scenario.py $W/ready "\x1b[31mleaker" 6 9 3 60 &
P=$!
i=0
while [ ! -f $W/ready ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done
[ -f $W/ready ] || { echo "scenario did not start" >&2; kill $P; exit 99; }
echo $P > $W/pid
"$TCPTUNE" -o json sockets > $W/counters.json
"$TCPTUNE" -o json sockets --exact > $W/exact.json
"$TCPTUNE" -o json sockets --source proc > $W/proc.json
"$TCPTUNE" -o json sockets -4 > $W/v4.json
"$TCPTUNE" -o json sockets -6 --source proc > $W/v6.json
"$TCPTUNE" -o json sockets --by owner > $W/owner.json
TCPTUNE_SOCKETS_SOURCE=proc "$TCPTUNE" -o json sockets --by owner > $W/owner-proc.json
"$TCPTUNE" sockets --state close-wait --by owner > $W/owner.txt
"$TCPTUNE" -o json sockets --by remote > $W/remote.json
"$TCPTUNE" -o prometheus sockets > $W/prom.txt
TCPTUNE_DIAG_RECORD=$W/rec.nl "$TCPTUNE" -o json sockets > $W/recorded.json
TCPTUNE_DIAG_FILE=$W/rec.nl "$TCPTUNE" -o json sockets --by owner > $W/replayed.json
echo keep > $W/rec-target && ln -s $W/rec-target $W/rec-link && mkfifo $W/rec-fifo
TCPTUNE_DIAG_RECORD=$W/rec-link "$TCPTUNE" -o json sockets > /dev/null 2>&1; echo $? > $W/rec-link.rc
TCPTUNE_DIAG_RECORD=$W/rec-fifo timeout 20 "$TCPTUNE" -o json sockets > /dev/null 2>&1; echo $? > $W/rec-fifo.rc
timeout --foreground --preserve-status -k 10 -s INT 3.5 "$TCPTUNE" sockets --watch 1 > $W/watch.txt; echo $? > $W/watch.rc
# piped JSON: one document a line, each there while the watch still runs
timeout --foreground --preserve-status -k 10 -s INT 3.5 "$TCPTUNE" -o json sockets --by remote --watch 1 > $W/watch.jsonl &
WP=$!; sleep 2.5; cp $W/watch.jsonl $W/watch-early.jsonl; wait $WP
timeout --foreground --preserve-status -k 10 -s TERM 1.5 "$TCPTUNE" sockets --by owner --watch 1 > /dev/null; echo $? > $W/watch-term.rc
kill $P
' || fail "sandbox script failed: $(cat "$T/err")"
W=$T/w
P=$(cat "$W/pid")
[ "$(cat "$W/rec-target")" = keep ] || fail "TCPTUNE_DIAG_RECORD wrote through a symlink"
[ "$(cat "$W/rec-link.rc")" -ne 0 ] || fail "TCPTUNE_DIAG_RECORD through a symlink did not fail"
rc=$(cat "$W/rec-fifo.rc")
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "TCPTUNE_DIAG_RECORD on a FIFO: exit $rc (124: it hung)"

python3 - "$W" "$P" <<'EOP' || fail "live socket counts"
import json, sys, os
w, pid = sys.argv[1], int(sys.argv[2])
ld = lambda n: json.load(open(os.path.join(w, n)))
want = {"ESTABLISHED": 6, "TIME_WAIT": 9, "CLOSE_WAIT": 6, "FIN_WAIT2": 6, "LISTEN": 2}
c, e, p = ld("counters.json"), ld("exact.json"), ld("proc.json")
assert c["from_counters"] is True and e["from_counters"] is False, (c, e)
assert p["source"] == "proc" and e["source"] == "netlink", (p, e)
for d in (c, e, p):
    for k, v in d["states"].items():
        assert v == want.get(k, 0), (d["source"], d["from_counters"], k, v)
    assert d["total"] == 29, d
# netlink and /proc agree, state by state
assert c["states"] == e["states"] == p["states"]
v4, v6 = ld("v4.json"), ld("v6.json")
assert v4["total"] + v6["total"] == 29 and v6["states"]["CLOSE_WAIT"] == 3, (v4, v6)
for name in ("owner.json", "owner-proc.json"):
    o = ld(name)
    bo = {x["pid"]: x for x in o["by_owner"]}
    assert pid in bo, (name, o)
    x = bo[pid]
    assert x["comm"] == "\x1b[31mleaker", x["comm"]     # JSON's own escaping, once
    assert x["states"]["CLOSE_WAIT"] == 6 and x["states"]["ESTABLISHED"] == 6, x
    assert x["states"]["LISTEN"] == 2 and x["total"] == 14, x
r = {x["remote"]: x for x in ld("remote.json")["by_remote"]}
assert r["127.0.0.1:7001"]["states"]["TIME_WAIT"] == 6, r["127.0.0.1:7001"]
assert r["[::1]:7001"]["states"]["TIME_WAIT"] == 3, r["[::1]:7001"]
assert r["127.0.0.1:7001"]["ephemeral_ports_used"] == 12, r["127.0.0.1:7001"]
# a recorded dump replays to the same counts, and owners still resolve live
rec, rep = ld("recorded.json"), ld("replayed.json")
assert rec["source"] == "netlink" and rep["source"] == "replay", (rec, rep)
assert rec["states"] == rep["states"] == e["states"], (rec, rep)
assert [x["pid"] for x in rep["by_owner"]] == [pid], rep["by_owner"]
EOP

grep_out "^$P +\\\\x1b\\[31mleaker +6 +6\$" "$W/owner.txt"
if grep -q "$(printf '\033')" "$W/owner.txt"; then fail "a raw ESC reached the terminal"; fi
grep_out '^tcptune_sockets\{state="CLOSE_WAIT"\} 6$' "$W/prom.txt"
grep_out "^tcptune_close_wait_by_process\\{comm=\"\\\\\\\\x1b\\[31mleaker\",pid=\"$P\"\\} 6\$" "$W/prom.txt"
# --watch: at least two frames with a CHANGE column, a clean exit on SIGINT and SIGTERM
[ "$(cat "$W/watch.rc")" = 0 ] || fail "--watch exit on SIGINT: $(cat "$W/watch.rc")"
[ "$(cat "$W/watch-term.rc")" = 0 ] || fail "--watch exit on SIGTERM: $(cat "$W/watch-term.rc")"
[ "$(grep -Ec '^STATE +SOCKETS +CHANGE' "$W/watch.txt")" -ge 2 ] ||
	{ cat "$W/watch.txt" >&2; fail "--watch printed fewer than two frames"; }
grep_out '^CLOSE_WAIT +6 +0$' "$W/watch.txt"
python3 - "$W/watch.jsonl" "$W/watch-early.jsonl" <<'EOP' || fail "--watch -o json: not one document a line"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) >= 2, lines
for l in lines:
    d = json.loads(l)
    assert d["states"]["CLOSE_WAIT"] == 6 and d["by_remote"], d
early = open(sys.argv[2]).read().splitlines()
assert len(early) >= 1 and json.loads(early[0]), "nothing written while the watch ran"
EOP
exit 0
