#!/bin/sh
# SPDX-License-Identifier: ISC
# Plain `tcptune sockets` adds one line when doctor, on one look (its --once
# verdicts), finds a destination out of ephemeral ports or a CLOSE_WAIT
# leak; a healthy host with young CLOSE_WAIT gets no line. Real loopback
# sockets in a private user+net+mount namespace.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_SOCKETS_SOURCE TCPTUNE_DIAG_FILE TCPTUNE_DIAG_RECORD
tt_need_sandbox
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3 for the socket scenario"
command -v ip >/dev/null 2>&1 || skip "no ip(8) to bring up loopback"
cp "$SRCDIR/tests/data/sockets-live/scenario.py" "$T/w/" && chmod 644 "$T/w/scenario.py"
# TIME_WAIT toward 127.0.0.1:8888 until connect() finds no port (bounded)
cat >"$T/w/storm.py" <<'EOS'
import errno, socket, sys
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 8888))
l.listen(128)
ok = failed = 0
for _ in range(80):
    c = socket.socket()
    try:
        c.connect(("127.0.0.1", 8888))
    except OSError as e:
        if e.errno != errno.EADDRNOTAVAIL:
            raise
        failed += 1
        c.close()
        continue
    s, _ = l.accept()
    c.close()                  # the client closes first: the TIME_WAIT and its port are its
    s.close()
    ok += 1
print("ok=%d failed=%d" % (ok, failed))
EOS
chmod 644 "$T/w/storm.py"

# 1. 50 usable ports, no reuse, all in TIME_WAIT toward one destination
tt_sandbox '
ip link set lo up || exit 99
echo 0 > /proc/sys/net/ipv4/tcp_tw_reuse
echo "40000 40049" > /proc/sys/net/ipv4/ip_local_port_range
/usr/bin/python3 $W/storm.py > $W/storm.txt || exit 99
"$TCPTUNE" sockets > $W/full.txt; echo $? > $W/full.rc
"$TCPTUNE" doctor --once > $W/full-doctor.txt; echo $? > $W/full-doctor.rc
"$TCPTUNE" -q sockets > $W/full-q.txt
' || fail "storm sandbox failed: $(cat "$T/err")"
W=$T/w
grep -q 'failed=[1-9]' "$W/storm.txt" || fail "the storm did not run out of ports: $(cat "$W/storm.txt")"
[ "$(cat "$W/full.rc")" = 0 ] || fail "sockets exited $(cat "$W/full.rc") on a pile-up: it is a view"
[ "$(cat "$W/full-doctor.rc")" = 1 ] || fail "doctor --once exited $(cat "$W/full-doctor.rc"): the note has no finding behind it"
grep_out '^critical +tw-port-exhaustion: connections to 127\.0\.0\.1:8888' "$W/full-doctor.txt"
[ "$(grep -c '^note:' "$W/full.txt")" = 1 ] || { cat "$W/full.txt" >&2; fail "not one note line"; }
grep_out '^note: 127\.0\.0\.1:8888 uses 100% of its ephemeral ports \(50 of 50\); run `tcptune doctor`$' "$W/full.txt"
# the note comes last, after the counts and the limits
[ "$(tail -n 1 "$W/full.txt" | cut -c1-5)" = "note:" ] || fail "the note is not the last line"
grep -q '^note:' "$W/full-q.txt" && fail "-q printed the note"

# 2. healthy: 6 young CLOSE_WAIT (enough for doctor to look), TIME_WAIT, ESTABLISHED
tt_sandbox '
ip link set lo up || exit 99
/usr/bin/python3 $W/scenario.py $W/ready healthy 6 9 3 60 &
P=$!
i=0
while [ ! -f $W/ready ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done
[ -f $W/ready ] || { echo "scenario did not start" >&2; kill $P; exit 99; }
"$TCPTUNE" sockets > $W/healthy.txt; echo $? > $W/healthy.rc
"$TCPTUNE" doctor --once > $W/healthy-doctor.txt; echo $? > $W/healthy-doctor.rc
kill $P
' || fail "healthy sandbox failed: $(cat "$T/err")"
[ "$(cat "$W/healthy.rc")" = 0 ] || fail "sockets exited $(cat "$W/healthy.rc")"
grep_out '^CLOSE_WAIT +6$' "$W/healthy.txt"
[ "$(cat "$W/healthy-doctor.rc")" = 0 ] || { cat "$W/healthy-doctor.txt" >&2; fail "doctor --once calls the healthy case sick"; }
grep -q 'note:' "$W/healthy.txt" && { cat "$W/healthy.txt" >&2; fail "a note on a healthy host"; }
exit 0
