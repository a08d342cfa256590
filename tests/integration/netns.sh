#!/bin/sh
# SPDX-License-Identifier: ISC
# --netns and audit --all-netns: a child namespace made inside the sandbox
# holds other values than its parent; tcptune must see the child's.
. "$SRCDIR/tests/integration/lib.sh"
tt_need_sandbox
command -v ip >/dev/null 2>&1 || skip "no ip (iproute2)"

cat >"$T/profiles/t.conf" <<'EOC'
sysctl = { net = { ipv4 = { tcp_keepalive_time = 200; tcp_mem = { min = [ 1, 1, 1 ]; }; }; }; };
EOC
cat >"$T/profiles/u.conf" <<'EOC'
sysctl = { net = { ipv4 = { tcp_fin_timeout = 60; }; }; };
EOC
chmod 644 "$T/profiles/t.conf" "$T/profiles/u.conf"

tt_sandbox '
set -e
ip netns add kid
ip netns exec kid sh -c "echo 333 > /proc/sys/net/ipv4/tcp_keepalive_time"
unshare -n sh -c "echo 444 > /proc/sys/net/ipv4/tcp_keepalive_time; exec sleep 20" &
anon=$!
i=0; while [ "$(cat /proc/$anon/comm)" != sleep ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
# a user'"'"'s private namespace: its own user namespace owns it
unshare -U -r -n sh -c "echo 555 > /proc/sys/net/ipv4/tcp_keepalive_time; echo 31 > /proc/sys/net/ipv4/tcp_fin_timeout; exec sleep 20" &
priv=$!
i=0; while [ "$(cat /proc/$priv/comm)" != sleep ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
set +e
tt() { "$TCPTUNE" --profile-dir "$PROFILES" "$@"; }
echo "== name"; tt --netns kid explain net.ipv4.tcp_keepalive_time
echo "== pid"; tt --netns $anon explain net.ipv4.tcp_keepalive_time
echo "== path"; tt --netns /run/netns/kid -o json audit t > $W/kid.json; echo "rc=$?"
echo "== all"; tt -o json audit --all-netns t > $W/all.json; echo "rc=$?"
echo "anon=$anon"
echo "priv=$priv"
tt -o json audit --all-netns u > $W/all-u.json; echo "rc-u=$?"
echo "== apply"; tt --netns kid apply t >/dev/null 2>&1; echo "rc=$?"
echo "kid=$(ip netns exec kid cat /proc/sys/net/ipv4/tcp_keepalive_time)"
echo "parent=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)"
ip netns exec kid ip link set lo up
ip netns exec kid python3 -c "
import socket, time
s = socket.socket(); s.bind((\"127.0.0.1\", 5555)); s.listen(); time.sleep(20)" &
lis=$!
i=0; until ip netns exec kid "$TCPTUNE" -o json sockets | grep -q "\"LISTEN\": 1" || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
tt --netns kid -o json sockets > $W/kid-sockets.json; echo "rc=$?"
tt -o json sockets > $W/parent-sockets.json
kill $lis
echo "== bad"; tt --netns /proc/self/status audit t; echo "rc=$?"
tt --root / --netns kid audit --all-netns t; echo "rc=$?"
kill $anon $priv
'
cat "$T/err" >&2
sed -n '/^== name/,/^== pid/p' "$T/out" | grep -Eq '^  live +333$' || fail "--netns NAME did not show the child's value"
sed -n '/^== pid/,/^== path/p' "$T/out" | grep -Eq '^  live +444$' || fail "--netns PID did not show the child's value"
grep_out '^kid=200$'
grep_out '^parent=7200$'
sed -n '/^== bad/,$p' "$T/out" | grep -c '^rc=2$' | grep -q '^2$' || fail "bad --netns uses did not exit 2"
python3 - "$T/w/kid-sockets.json" "$T/w/parent-sockets.json" <<'EOP' || fail "sockets --netns counted the wrong namespace"
import json, sys
kid, parent = (json.load(open(f)) for f in sys.argv[1:3])
assert kid["states"]["LISTEN"] == 1, kid["states"]
assert parent["states"]["LISTEN"] == 0, parent["states"]
EOP
python3 - "$T/w/kid.json" "$T/w/all.json" "$(sed -n 's/^anon=//p' "$T/out")" <<'EOP' || fail "namespace JSON"
import json, sys
kid = json.load(open(sys.argv[1]))
assert kid["child_netns"] is True
st = {k["key"]: k for k in kid["keys"]}
assert st["net.ipv4.tcp_keepalive_time"]["live"] == "333", st
assert st["net.ipv4.tcp_mem"]["status"] == "not-in-netns", st
alld = json.load(open(sys.argv[2]))
ns = alld["namespaces"]
def live(n):
    return {k["key"]: k["live"] for k in n["keys"]}["net.ipv4.tcp_keepalive_time"]
lives = sorted(live(n) for n in ns)
assert lives == ["333", "444", "555", "7200"], lives
assert [live(n) for n in ns if not n["counted"]] == ["555"], ns
named = [n for n in ns if n["netns"]["name"] == "kid"]
assert len(named) == 1 and live(named[0]) == "333", named
anon = [n for n in ns if any(p["pid"] == int(sys.argv[3]) for p in n["netns"]["processes"])]
assert len(anon) == 1 and live(anon[0]) == "444", anon
assert sum(n["netns"]["self"] for n in ns) == 1
assert alld["compliant"] is False
EOP
# every namespace the host owns is compliant with u; the private one is not, and does not count
grep_out '^rc-u=0$'
python3 - "$T/w/all-u.json" <<'EOP' || fail "a user's private namespace failed the host's --all-netns audit"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["compliant"] is True, d
priv = [n for n in d["namespaces"] if not n["counted"]]
assert len(priv) == 1 and priv[0]["compliant"] is False, priv
EOP
exit 0
