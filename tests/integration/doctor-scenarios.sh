#!/bin/sh
# SPDX-License-Identifier: ISC
# doctor on real software in a private namespace (loopback only, bounded in
# time): python3-requests clients against nginx, directly and through
# tinyproxy. Right on every pile-up, quiet on the healthy cases:
#   1. TIME_WAIT storm, tcp_tw_reuse=0, 200 ports: critical, connects fail
#   2. the same with tcp_tw_reuse=1: no failed connect, nothing above info
#   3. a client leaking pooled CLOSE_WAIT: PID, remote, rate, time to EMFILE
#   4. a reused Session with an occasional idle CLOSE_WAIT: info, exit 0
#   5. nginx stopped with a full accept queue: names it and its backlog
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_SOCKETS_SOURCE TCPTUNE_DIAG_FILE TCPTUNE_DIAG_RECORD
tt_need_sandbox
for c in python3 nginx tinyproxy ip; do
	command -v $c >/dev/null 2>&1 || skip "no $c (apt-get install -y nginx tinyproxy python3-requests iproute2)"
done
python3 -c 'import requests' 2>/dev/null || skip "no python3-requests"
cp "$SRCDIR/tests/integration/doctor-load.py" "$T/w/load.py" && chmod 644 "$T/w/load.py"
W=$T/w

# Servers on loopback, each under a timeout so nothing outlives the test.
cat >"$W/serve.sh" <<'EOS'
ip link set lo up || exit 99
mkdir -p $W/ng/tmp
cat >$W/ng/nginx.conf <<EOC
daemon off;
master_process off;
user root root;
pid $W/ng/nginx.pid;
error_log $W/ng/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_timeout 1s;
	client_body_temp_path $W/ng/tmp; proxy_temp_path $W/ng/tmp; fastcgi_temp_path $W/ng/tmp;
	uwsgi_temp_path $W/ng/tmp; scgi_temp_path $W/ng/tmp;
	server { listen 127.0.0.1:8080; location / { return 200 "ok\n"; } }
	server { listen 127.0.0.1:8081 backlog=32; location / { return 200 "ok\n"; } }
}
EOC
cat >$W/tp.conf <<EOC
Port 8888
Listen 127.0.0.1
Timeout 30
MaxClients 200
LogFile "$W/tp.log"
LogLevel Error
EOC
timeout 60 nginx -p $W/ng -c $W/ng/nginx.conf -e $W/ng/error.log &
NGINXT=$!
timeout 60 tinyproxy -d -c $W/tp.conf &
TP=$!
i=0
until python3 -c 'import socket; [socket.create_connection(("127.0.0.1", p)).close() for p in (8080, 8081, 8888)]' 2>/dev/null; do
	i=$((i+1)); [ $i -lt 50 ] || { echo "servers did not start" >&2; exit 99; }; sleep 0.1
done
NGINX=$(cat $W/ng/nginx.pid)
# load NAME MODE ARGS...: start the workload, wait until it says ready.
load() {
	n=$1; m=$2; shift 2
	python3 $W/load.py $m $W/ready-$n 40 "$@" &
	LOAD=$!
	echo $LOAD >$W/pid-$n
	i=0
	while [ ! -f $W/ready-$n ] && [ $i -lt 250 ]; do sleep 0.1; i=$((i+1)); done
	[ -f $W/ready-$n ] || { echo "workload $n did not start" >&2; exit 99; }
}
# stop NAME: end the workload and keep its counters
stop() {
	kill $LOAD 2>/dev/null; wait $LOAD 2>/dev/null
}
finish() {
	kill $NGINXT $TP 2>/dev/null; wait 2>/dev/null
}
EOS
chmod 644 "$W/serve.sh"

json() { python3 - "$W" "$@"; }

# 1. TIME_WAIT storm toward nginx, no reuse, 200 ports: the capacity is
#    200 / 60 s, the client wants 40/s. Critical, and connect() really fails.
tt_sandbox "
echo 0 >/proc/sys/net/ipv4/tcp_tw_reuse
echo '40000 40199' >/proc/sys/net/ipv4/ip_local_port_range
. \$W/serve.sh
WARMUP=20 load storm storm http://127.0.0.1:8080/ 40
\"\$TCPTUNE\" -o json doctor --interval 2 >\$W/storm.json; echo \$? >\$W/storm.rc
\"\$TCPTUNE\" doctor --once >\$W/storm-once.txt; echo \$? >\$W/storm-once.rc
stop; finish
" || fail "storm sandbox: $(cat "$T/err")"
[ "$(cat "$W/storm.rc")" = 1 ] || { cat "$W/storm.json" >&2; fail "storm: doctor exit $(cat "$W/storm.rc"), wanted 1"; }
[ "$(cat "$W/storm-once.rc")" = 1 ] || { cat "$W/storm-once.txt" >&2; fail "storm --once exit $(cat "$W/storm-once.rc")"; }
grep_out '^critical +tw-port-exhaustion: connections to 127.0.0.1:8080' "$W/storm-once.txt"
grep -q 'eaddrnotavail=[1-9]' "$W/ready-storm.stats" || fail "storm: no connect failed: $(cat "$W/ready-storm.stats")"
json <<'EOP' || fail "storm JSON"
import json, sys
d = json.load(open(sys.argv[1] + "/storm.json"))
assert d["interval_s"] >= 1.9, d["interval_s"]
f = [x for x in d["findings"] if x["id"] == "tw-port-exhaustion"]
assert len(f) == 1 and f[0]["severity"] == "critical", d["findings"]
f = f[0]
assert f["remote"] == "127.0.0.1:8080", f
assert f["capacity_per_s"] < 4 and f["headroom_pct"] < 10, f
assert f["count"] >= 190, f
assert "TIME_WAIT" in f["evidence"] and "tcp_tw_reuse does not apply" in f["evidence"], f
assert "set net.ipv4.tcp_tw_reuse=1" in f["fix"], f
EOP

# 2. The same storm with tcp_tw_reuse=1: half the ports in use, no failure.
tt_sandbox "
echo 1 >/proc/sys/net/ipv4/tcp_tw_reuse
echo '40000 40199' >/proc/sys/net/ipv4/ip_local_port_range
. \$W/serve.sh
WARMUP=7 load reuse storm http://127.0.0.1:8080/ 40
\"\$TCPTUNE\" -o json doctor --interval 2 >\$W/reuse.json; echo \$? >\$W/reuse.rc
\"\$TCPTUNE\" doctor --once >\$W/reuse-once.txt; echo \$? >\$W/reuse-once.rc
stop; finish
" || fail "reuse sandbox: $(cat "$T/err")"
grep -q 'failed=0 ok=[1-9]' "$W/ready-reuse.stats" || fail "reuse: connects failed: $(cat "$W/ready-reuse.stats")"
[ "$(cat "$W/reuse.rc")" = 0 ] || { cat "$W/reuse.json" >&2; fail "reuse: doctor exit $(cat "$W/reuse.rc"), wanted 0"; }
[ "$(cat "$W/reuse-once.rc")" = 0 ] || { cat "$W/reuse-once.txt" >&2; fail "reuse --once exit $(cat "$W/reuse-once.rc")"; }
json <<'EOP' || fail "reuse JSON"
import json, sys
d = json.load(open(sys.argv[1] + "/reuse.json"))
assert all(x["severity"] == "info" for x in d["findings"]), d["findings"]
tw = [x for x in d["findings"] if x["id"] == "tw-harmless"]
assert tw and "headroom" in tw[0]["evidence"], d["findings"]
assert d["sockets"]["states"]["TIME_WAIT"] >= 50, d["sockets"]
EOP

# 3. A client that keeps every Session: the pooled connections tinyproxy
#    closed stay in CLOSE_WAIT and grow until EMFILE.
tt_sandbox "
. \$W/serve.sh
WARMUP=3 load leak leak http://127.0.0.1:8080/ http://127.0.0.1:8888 5
\"\$TCPTUNE\" -o json doctor --interval 2 >\$W/leak.json; echo \$? >\$W/leak.rc
\"\$TCPTUNE\" doctor --interval 1 >\$W/leak.txt
stop; finish
" || fail "leak sandbox: $(cat "$T/err")"
P=$(cat "$W/pid-leak")
[ "$(cat "$W/leak.rc")" = 1 ] || { cat "$W/leak.json" >&2; fail "leak: doctor exit $(cat "$W/leak.rc"), wanted 1"; }
grep_out "close-wait-leak: PID [0-9]+ \\(python3\\) leaks CLOSE_WAIT: [0-9]+ toward 127.0.0.1:8888, [0-9]+ bytes unread, growing [0-9]+/min, EMFILE in about" "$W/leak.txt"
json "$P" <<'EOP' || fail "leak JSON"
import json, sys
d = json.load(open(sys.argv[1] + "/leak.json"))
f = [x for x in d["findings"] if x["id"] == "close-wait-leak"]
assert len(f) == 1 and f[0]["severity"] in ("warning", "critical"), d["findings"]
f = f[0]
assert f["comm"] == "python3" and f["pid"] == int(sys.argv[2]), f
assert f["remote"] == "127.0.0.1:8888", f
assert 100 <= f["rate_per_min"] <= 600, f
assert f["fd_limit"] == 1024 and 0 < f["fds"] < 1024, f
assert 0 < f["eta_s"] < 1024 * 60 / 100, f
assert f["count"] >= 10 and f["oldest_s"] >= 2, f
assert "seen in both looks" in f["evidence"] and "tcpi_last_ack_recv" in f["evidence"], f
assert "still open" in f["evidence"], f
assert "idle (pooled) connections" in f["summary"], f
EOP

# 4. Healthy: one Session reused every 6 s; nginx closes it after 1 s idle,
#    so one CLOSE_WAIT sits in the pool until the next request. Quiet.
tt_sandbox "
. \$W/serve.sh
load session session http://127.0.0.1:8080/ 6
sleep 1.5
\"\$TCPTUNE\" -o json doctor --interval 2 >\$W/session.json; echo \$? >\$W/session.rc
\"\$TCPTUNE\" doctor --once >\$W/session-once.txt; echo \$? >\$W/session-once.rc
stop; finish
" || fail "session sandbox: $(cat "$T/err")"
[ "$(cat "$W/session.rc")" = 0 ] || { cat "$W/session.json" >&2; fail "healthy session: doctor exit $(cat "$W/session.rc"), wanted 0"; }
[ "$(cat "$W/session-once.rc")" = 0 ] || { cat "$W/session-once.txt" >&2; fail "healthy session --once exit $(cat "$W/session-once.rc")"; }
json <<'EOP' || fail "session JSON"
import json, sys
d = json.load(open(sys.argv[1] + "/session.json"))
assert all(x["severity"] == "info" for x in d["findings"]), d["findings"]
cw = [x for x in d["findings"] if x["id"] == "close-wait"]
assert len(cw) == 1 and cw[0]["count"] == 1 and cw[0]["comm"] == "python3", d["findings"]
assert cw[0]["remote"] == "127.0.0.1:8080" and cw[0]["rate_per_min"] == 0, cw
EOP

# 5. nginx stopped (SIGSTOP) with 60 connects waiting on its backlog=32
#    listener: named, and the fix is its own backlog, not somaxconn.
tt_sandbox "
. \$W/serve.sh
echo \$NGINX >\$W/nginx.pid
kill -STOP \$NGINX
load flood flood 127.0.0.1 8081 60
\"\$TCPTUNE\" -o json doctor --interval 2 >\$W/listen.json; echo \$? >\$W/listen.rc
\"\$TCPTUNE\" doctor --once >\$W/listen.txt
\"\$TCPTUNE\" -o json sockets --by owner >\$W/owners.json
\"\$TCPTUNE\" sockets --by owner >\$W/owners.txt
\"\$TCPTUNE\" -o json sockets --by remote >\$W/remotes.json
kill -CONT \$NGINX
stop; finish
" || fail "listen sandbox: $(cat "$T/err")"
[ "$(cat "$W/listen.rc")" = 1 ] || { cat "$W/listen.json" >&2; fail "listen: doctor exit $(cat "$W/listen.rc"), wanted 1"; }
grep_out '^warning +listen-overflow: PID [0-9]+ \(nginx\) does not keep up accepting on 127.0.0.1:8081' "$W/listen.txt"
json <<'EOP' || fail "listen JSON"
import json, sys
d = json.load(open(sys.argv[1] + "/listen.json"))
f = [x for x in d["findings"] if x["id"] == "listen-overflow"]
assert len(f) == 1 and f[0]["severity"] in ("warning", "critical"), d["findings"]
f = f[0]
assert f["comm"] == "nginx" and f["remote"] == "127.0.0.1:8081" and f["count"] >= 32, f
assert "backlog=32" in f["evidence"] and "somaxconn=4096" in f["evidence"], f
assert "the application's backlog binds" in f["evidence"], f
assert "not net.core.somaxconn (4096)" in f["fix"], f
assert "ListenOverflows +" in f["evidence"], f
nginx = int(open(sys.argv[1] + "/nginx.pid").read())
assert f["pid"] == nginx, (f, nginx)
# sockets --by owner: the queued connections are a row of their own
o = json.load(open(sys.argv[1] + "/owners.json"))
q = [x for x in o["ownerless"] if x["kind"] == "accept-queue"]
assert len(q) == 1 and q[0]["listener_pid"] == nginx and q[0]["total"] >= 32, o["ownerless"]
assert q[0]["owner"] == "in accept queue of PID %d" % nginx, q
# sockets --by remote: the server's side is one inbound row, not one per client port
r = {x["remote"]: x for x in json.load(open(sys.argv[1] + "/remotes.json"))["by_remote"]}
assert r["inbound to :8081"]["inbound"] and r["inbound to :8081"]["total"] >= 32, r
assert r["127.0.0.1:8081"]["states"]["SYN_SENT"] + r["127.0.0.1:8081"]["states"]["ESTABLISHED"] == 60, r
assert len(r) <= 6, sorted(r)
EOP
grep_out "^- +\\(in accept queue of PID $(cat "$W/nginx.pid")\\) +[0-9]+ " "$W/owners.txt"
exit 0
