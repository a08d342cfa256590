#!/bin/sh
# SPDX-License-Identifier: ISC
# audit against a real kernel, inside a private user+net+mount namespace:
# live drift, boot-drift from the kernel default and from a sysctl.d line.
. "$SRCDIR/tests/integration/lib.sh"
tt_need_sandbox

cat >"$T/profiles/t.conf" <<'EOC'
description = "integration test";
sysctl = {
  net = {
    ipv4 = {
      tcp_keepalive_time = 200;
      tcp_tw_reuse = 1;
      tcp_fin_timeout = { max = 30; note = "orphaned FIN_WAIT2 only"; };
      ip_local_port_range = [ 10240, 65535 ];
    };
    core = { somaxconn = { min = 4096; }; };
  };
};
EOC
chmod 644 "$T/profiles/t.conf"

# 1. A fresh namespace is at the kernel defaults: four keys drift.
tt_sandbox '"$TCPTUNE" --profile-dir "$PROFILES" -o json audit t > $W/fresh.json; echo $? > $W/rc'
[ "$(cat "$T/w/rc")" = 1 ] || { cat "$T/err"; fail "fresh namespace: audit exit $(cat "$T/w/rc"), wanted 1"; }
python3 - "$T/w/fresh.json" <<'EOP' || fail "fresh namespace statuses"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["profiles"] == ["t"] and d["compliant"] is False, d
st = {k["key"]: (k["status"], k["live"], k["boot"], k["boot_source"]) for k in d["keys"]}
assert st["net.ipv4.tcp_keepalive_time"] == ("drift", "7200", "7200", "kernel default"), st
assert st["net.ipv4.tcp_tw_reuse"][0:2] == ("drift", "2"), st
assert st["net.ipv4.tcp_fin_timeout"][0:2] == ("drift", "60"), st
assert st["net.ipv4.ip_local_port_range"][0:2] == ("drift", "32768 60999"), st
assert st["net.core.somaxconn"][0] == "ok", st
for k in d["keys"]:
    assert set(("key", "rule", "expected", "live", "boot", "boot_source", "status")) <= set(k), k
EOP

# 2. Set live with sysctl -w style writes: live ok, boot (kernel default) breaks it.
#    A sysctl.d line for one key makes it ok; another line breaks tw_reuse at boot.
tt_sandbox '
cd /proc/sys/net/ipv4
echo 200 > tcp_keepalive_time; echo 1 > tcp_tw_reuse; echo 30 > tcp_fin_timeout
echo "10240 65535" > ip_local_port_range
printf "# test\nnet.ipv4.tcp_keepalive_time = 200\nnet/ipv4/ip_local_port_range = 10240\t65535\n" > /etc/sysctl.d/80-t.conf
printf "net.ipv4.tcp_tw_reuse=0\n" > /etc/sysctl.d/99-late.conf
"$TCPTUNE" --profile-dir "$PROFILES" audit t; echo "rc=$?"
"$TCPTUNE" --profile-dir "$PROFILES" -o json audit t > $W/set.json'
grep_out 'rc=1'
grep_out '^net\.ipv4\.tcp_keepalive_time +200 +200 +200 +/etc/sysctl\.d/80-t\.conf:2 +ok$'
grep_out '^net\.ipv4\.tcp_tw_reuse +1 +1 +0 +/etc/sysctl\.d/99-late\.conf:1 +boot-drift$'
grep_out '^net\.ipv4\.tcp_fin_timeout +<= 30 +30 +60 +kernel default +boot-drift$'
grep_out '^net\.ipv4\.ip_local_port_range +10240 65535 +10240 65535 +10240 65535 +/etc/sysctl\.d/80-t\.conf:3 +ok$'
python3 - "$T/w/set.json" <<'EOP' || fail "statuses after setting live values"
import json, sys
d = json.load(open(sys.argv[1]))
st = {k["key"]: k["status"] for k in d["keys"]}
assert st == {"net.core.somaxconn": "ok", "net.ipv4.ip_local_port_range": "ok",
              "net.ipv4.tcp_fin_timeout": "boot-drift", "net.ipv4.tcp_keepalive_time": "ok",
              "net.ipv4.tcp_tw_reuse": "boot-drift"}, st
EOP

# 3. All fixed, at boot too: exit 0.
tt_sandbox '
cd /proc/sys/net/ipv4
echo 200 > tcp_keepalive_time; echo 1 > tcp_tw_reuse; echo 30 > tcp_fin_timeout
echo "10240 65535" > ip_local_port_range
printf "net.ipv4.tcp_keepalive_time = 200\nnet.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_fin_timeout = 30\nnet.ipv4.ip_local_port_range = 10240 65535\n" > /etc/sysctl.d/80-t.conf
"$TCPTUNE" --profile-dir "$PROFILES" audit t; echo "rc=$?"'
grep_out 'rc=0'
grep_out '^compliant$'

# 4. Host-wide keys from inside the namespace are not drift.
cat >"$T/profiles/host.conf" <<'EOC'
sysctl = { net = { ipv4 = { tcp_mem = [ 1, 2, 3 ]; }; core = { netdev_max_backlog = { min = 1000; }; }; }; };
EOC
chmod 644 "$T/profiles/host.conf"
tt_sandbox '"$TCPTUNE" --profile-dir "$PROFILES" audit host; echo "rc=$?"'
grep_out '^net\.ipv4\.tcp_mem .* not-in-netns$'
grep_out '^net\.core\.netdev_max_backlog .* not-in-netns$'
grep_out 'rc=0'
exit 0
