#!/bin/sh
# SPDX-License-Identifier: ISC
# sockets and doctor against fixture roots and a recorded netlink dump: no kernel needed.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_SOCKETS_SOURCE TCPTUNE_DIAG_FILE TCPTUNE_DIAG_RECORD
R=$(tt_root sockets-proc)
PORTS=$(tt_root sockets-ports)
# The fd links of process 4242 (a dist tarball drops them from the fixture).
sh "$SRCDIR/tests/data/sockets-proc/mkfds.sh" "$R" || fail "mkfds"

# 1. Counts from /proc/net/tcp{,6} below --root (the recorded scenario: 6 9 3).
expect_exit 0 "$TCPTUNE" --root "$R" sockets
grep_out '^ESTABLISHED +6$'
grep_out '^TIME_WAIT +9$'
grep_out '^CLOSE_WAIT +6$'
grep_out '^FIN_WAIT2 +6$'
grep_out '^LISTEN +2$'
grep_out '^total +29$'
grep_out 'ephemeral ports: 28212 usable \(32768-60999, 20 reserved\)'

# 2. Owners: PID and comm from <root>/proc/PID; the comm's escape sequence is shown escaped.
expect_exit 0 "$TCPTUNE" --root "$R" sockets --state close-wait --by owner
grep_out '^4242 +leaker\\x1b\]0;pwned\\x07 +6 +6$'
if grep -q "$(printf '\033')" "$T/out"; then fail "a raw ESC reached the terminal"; fi
expect_exit 0 "$TCPTUNE" --root "$R" -o json sockets --by owner
python3 - "$T/out" <<'EOP' || fail "sockets JSON shape"
import json, sys
d = json.load(open(sys.argv[1]))
names = ["ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
         "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING"]
assert d["tcptune"] and d["total"] == 29, d
assert sorted(d["states"]) == sorted(names), d["states"]
assert d["states"]["CLOSE_WAIT"] == 6 and d["states"]["TIME_WAIT"] == 9, d
o = d["by_owner"]
assert len(o) == 1 and o[0]["pid"] == 4242, o
assert o[0]["comm"] == "leaker\x1b]0;pwned\x07", o[0]["comm"]     # JSON's own escaping, once
assert o[0]["states"]["CLOSE_WAIT"] == 6 and o[0]["states"]["LISTEN"] == 2, o
assert d["unowned"] == 6 and d["processes_vanished"] == 1, d
# the sockets no process holds are rows of their own
w = {x["kind"]: x for x in d["ownerless"]}
assert w["orphaned"]["states"]["FIN_WAIT2"] == 6 and w["orphaned"]["owner"] == "orphaned, no process", w
assert w["time-wait"]["total"] == 9 and w["unreadable"]["states"]["ESTABLISHED"] == 6, w
assert sum(x["total"] for x in o + d["ownerless"]) == d["total"] - 0, (o, d["ownerless"])
EOP
expect_exit 0 "$TCPTUNE" --root "$R" sockets --by owner
grep_out '^- +\(orphaned, no process\) +6 +0 +6 +0 +0 +0$'
grep_out '^- +\(TIME_WAIT, no process\) +9 '
grep_out '^- +\(no readable owner\) +6 +6 '

# 3. Filters: ss and netstat names, -4/-6, several --state.
expect_exit 0 "$TCPTUNE" --root "$R" sockets -6 --state time-wait --state CLOSE_WAIT
grep_out '^TIME_WAIT +3$'
grep_out '^CLOSE_WAIT +3$'
grep_out '^total +6$'
expect_exit 0 "$TCPTUNE" --root "$R" sockets -4 --state fin-wait-2,listening
grep_out '^total +4$'

# 4. The recorded netlink dump replays to the same answer.
expect_exit 0 env TCPTUNE_DIAG_FILE="$SRCDIR/tests/data/sockets-nl/all.nl" "$TCPTUNE" --root "$R" -o json sockets
python3 - "$T/out" <<'EOP' || fail "replayed dump"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["source"] == "replay" and d["total"] == 29, d
assert d["states"]["ESTABLISHED"] == 6 and d["states"]["LISTEN"] == 2, d
EOP
expect_exit 2 env TCPTUNE_DIAG_FILE="$T/nope.nl" "$TCPTUNE" --root "$R" sockets
grep_err 'nope.nl'

# 5. Port pressure per destination and the doctor's verdict on it.
expect_exit 0 "$TCPTUNE" --root "$PORTS" sockets --by remote
grep_out '^10\.0\.0\.10:3128 +85 +5 +80 +85/90 \(94\.4%\)$'
expect_exit 1 "$TCPTUNE" --root "$PORTS" doctor
grep_out '^critical +tw-port-exhaustion: connections to 10\.0\.0\.10:3128 use 94% of the connect capacity \(1\.3 of 1\.4 per second\)'
grep_out 'held 85 \(94%\): ESTABLISHED 5 TIME_WAIT 80; a closed port is reusable after 60 s'
grep_out 'Never tcp_tw_recycle'
# one look: 94% held is no verdict without a rate
expect_exit 0 "$TCPTUNE" --root "$PORTS" doctor --once
expect_exit 1 "$TCPTUNE" --root "$PORTS" -o json doctor --interval 0.2
python3 - "$T/out" <<'EOP' || fail "doctor JSON shape"
import json, sys
d = json.load(open(sys.argv[1]))
f = d["findings"]
assert f[0]["id"] == "tw-port-exhaustion" and f[0]["severity"] == "critical", f
assert f[0]["remote"] == "10.0.0.10:3128" and f[0]["count"] == 85, f[0]
assert f[0]["capacity_per_s"] == 1.4 and f[0]["headroom_pct"] < 10, f[0]
assert 0.2 <= d["interval_s"] < 2, d
machine = {"pid", "comm", "uid", "remote", "count", "oldest_s", "rate_per_min", "fds",
           "fd_limit", "eta_s", "capacity_per_s", "headroom_pct"}
for x in f:
    assert {"id", "severity", "summary", "evidence", "fix"} <= set(x), x
    assert set(x) - {"id", "severity", "summary", "evidence", "fix"} <= machine, x
assert {"tw-bucket-overflow", "listen-overflow"} <= {x["id"] for x in f}, f
EOP

# 6. CLOSE_WAIT that lasts is named with its PID; exit 1. /proc/net/tcp gives
#    no idle time: lasting through both looks is the evidence.
expect_exit 1 "$TCPTUNE" --root "$R" doctor --interval 0.2
grep_out '^warning +close-wait-leak: PID 4242 \(leaker\\x1b\]0;pwned\\x07\) holds 6 CLOSE_WAIT that last'
grep_out '6 of the first look.s still open, 0 closed, 0 new'
grep_out 'No sysctl fixes this'
grep_out '^info +tw-harmless: 9 sockets in TIME_WAIT'
# one look cannot tell
expect_exit 0 "$TCPTUNE" --root "$R" doctor --once
grep_out '^info +close-wait: PID 4242 '
expect_exit 2 "$TCPTUNE" --root "$R" doctor --interval 0
expect_exit 2 "$TCPTUNE" --root "$R" doctor --interval x

# 6b. Grouped tables show the top 20 and say how many more; --top 0 all, JSON all.
M=$(tt_root sockets-ports many)
i=0
while [ $i -lt 30 ]; do
	printf '%4d: 0200000A:%04X 0A0000%02X:01BB 06 00000000:00000000 03:00000000 00000000  1000        0 0 1 0000000000000000 20 4 30 10 -1\n' \
		$((100 + i)) $((50000 + i)) $((20 + i)) >>"$M/proc/net/tcp"
	i=$((i + 1))
done
expect_exit 0 "$TCPTUNE" --root "$M" sockets --by remote
[ "$(grep -c ':443 ' "$T/out")" -le 20 ] || fail "more than 20 rows without --top"
grep_out '^11 more \(--top 0 shows all\)$'
expect_exit 0 "$TCPTUNE" --root "$M" sockets --by remote --top 0
[ "$(grep -c ':443 ' "$T/out")" = 30 ] || fail "--top 0 does not show all"
if grep -q 'more (--top' "$T/out"; then fail "a 'more' line with --top 0"; fi
expect_exit 0 "$TCPTUNE" --root "$M" -o json sockets --by remote
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["by_remote"]) == 31, len(d["by_remote"])' "$T/out" ||
	fail "JSON is cut by the default --top"

# 7. Prometheus.
expect_exit 0 "$TCPTUNE" --root "$R" -o prometheus sockets --top 1
grep_out '^tcptune_sockets\{state="CLOSE_WAIT"\} 6$'
grep_out '^tcptune_sockets\{state="CLOSING"\} 0$'
grep_out '^tcptune_close_wait_by_process\{comm="leaker\\\\x1b\]0;pwned\\\\x07",pid="4242"\} 6$'

# 8. Bad usage is exit 2, nothing printed on stdout.
expect_exit 2 "$TCPTUNE" --root "$R" sockets --state waiting
grep_err 'not a TCP state'
expect_exit 2 "$TCPTUNE" --root "$R" sockets --by pid
expect_exit 2 "$TCPTUNE" --root "$R" sockets --top -1
expect_exit 2 "$TCPTUNE" --root "$R" sockets --watch x
expect_exit 2 "$TCPTUNE" --root "$R" sockets extra
expect_exit 2 env TCPTUNE_SOCKETS_SOURCE=bpf "$TCPTUNE" --root "$R" sockets
expect_exit 2 "$TCPTUNE" --root "$R" doctor --source x
[ -s "$T/out" ] && fail "stdout on a usage error"
exit 0
