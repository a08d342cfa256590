#!/bin/sh
# SPDX-License-Identifier: ISC
# render --as kubernetes|docker: only per-netns keys, the kubelet's safe split, and flags that make a fresh namespace compliant.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH NO_COLOR
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
command -v sysctl >/dev/null 2>&1 || skip "sysctl (procps) is not installed"
PYTHONDONTWRITEBYTECODE=1 && export PYTHONDONTWRITEBYTECODE
tt_need_sandbox
W="$T/w"

# A profile with what the shipped ones lack: a key a netns copies from the
# host (one_of), and host-wide keys of both kinds.
cat >"$T/profiles/mixed.conf" <<'EOF2'
description = "render --as test";
inherits = "crawler";
sysctl = { net = {
  core = { somaxconn = { min = 1024; }; netdev_max_backlog = 2000; rmem_max = { min = 4194304; }; };
  ipv4 = { tcp_congestion_control = { one_of = [ "reno", "cubic" ]; };
           tcp_mem = { min = [ 1, 1, 1 ]; optional = true; }; tcp_syn_retries = { max = 5; }; };
}; };
EOF2
chmod 644 "$T/profiles/mixed.conf"
SETS="crawler web-server high-bandwidth mixed crawler,web-server"

# Bad words are refused before anything is read.
expect_exit 2 "$TCPTUNE" --profile-dir "$T/profiles" render --as helm crawler
grep_err 'sysctl.d, kubernetes or docker'
expect_exit 2 "$TCPTUNE" --profile-dir "$T/profiles" render crawler --as
# sysctl.d is today's render, byte for byte, wherever --as stands.
"$TCPTUNE" --profile-dir "$T/profiles" render crawler >"$T/plain" || fail "render crawler"
expect_exit 0 "$TCPTUNE" --profile-dir "$T/profiles" render crawler --as sysctl.d
cmp -s "$T/out" "$T/plain" || fail "render --as sysctl.d differs from render"

for set in $SETS; do
	n=$(echo "$set" | tr , _)
	profs=$(echo "$set" | tr , ' ')
	# shellcheck disable=SC2086
	{ "$TCPTUNE" --profile-dir "$T/profiles" render --as kubernetes $profs >"$W/$n.k8s" &&
	  "$TCPTUNE" --profile-dir "$T/profiles" render --as=docker $profs >"$W/$n.docker" &&
	  "$TCPTUNE" --profile-dir "$T/profiles" -o json show $profs >"$W/$n.show"; } 2>"$T/err" ||
		{ cat "$T/err" >&2; fail "render --as $set"; }
	keys=$(python3 -c 'import json,sys; print(" ".join(k["key"] for k in json.load(open(sys.argv[1]))["keys"]))' "$W/$n.show")
	# shellcheck disable=SC2086
	"$TCPTUNE" -o json explain $keys >"$W/$n.explain" 2>/dev/null
	chmod 644 "$W/$n".*
done

# Kubernetes: YAML; exactly the per-netns keys, each value passing its rule;
# the safe group holds only the kubelet's safe set (Kubernetes 1.32); the
# others sit under a comment naming --allowed-unsafe-sysctls.
python3 - "$W" $SETS <<'EOP' || fail "the Kubernetes output does not match the profiles"
import json, sys, yaml
W = sys.argv[1]
SAFE = {'net.ipv4.ip_local_port_range', 'net.ipv4.ip_local_reserved_ports',
        'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.ping_group_range', 'net.ipv4.tcp_syncookies',
        'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
        'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'}

def ints(v):
    return [int(x) for x in v.split()]

def passes(rule, v):
    if rule['value'] is not None:
        return v.split() == rule['value'].split()
    if rule['one_of']:
        return v in rule['one_of']
    ok = True
    if rule['min'] is not None:
        ok &= all(a >= b for a, b in zip(ints(v), ints(rule['min'])))
    if rule['max'] is not None:
        ok &= all(a <= b for a, b in zip(ints(v), ints(rule['max'])))
    return ok

for s in sys.argv[2:]:
    n = s.replace(',', '_')
    text = open('%s/%s.k8s' % (W, n)).read()
    doc = yaml.safe_load(text)
    rules = {k['key']: k for k in json.load(open('%s/%s.show' % (W, n)))['keys']}
    scope = {k['key']: k['scope'] for k in json.load(open('%s/%s.explain' % (W, n)))['keys']}
    netns = {k for k in rules if scope.get(k) in ('netns', 'netns-copied')}
    host = set(rules) - netns
    assert set(doc) == {'securityContext'}, doc
    items = doc['securityContext']['sysctls']
    names = [i['name'] for i in items]
    assert sorted(names) == sorted(netns) and len(names) == len(set(names)), (s, names, netns)
    for i in items:
        assert set(i) == {'name', 'value'} and isinstance(i['value'], str), i
        assert passes(rules[i['name']], i['value']), (s, i, rules[i['name']])
    # the split, read from the text: safe first, then the comment, then the rest
    lines = text.splitlines()
    cut = [j for j, l in enumerate(lines) if l.strip().startswith('# unsafe')]
    where = {l.split(':', 1)[1].strip(): j for j, l in enumerate(lines) if l.strip().startswith('- name:')}
    for k, j in where.items():
        unsafe = bool(cut) and j > cut[0]
        assert unsafe == (k not in SAFE), (s, k, unsafe)
    if any(k not in SAFE for k in names):
        assert '--allowed-unsafe-sysctls' in lines[cut[0] + 1] + lines[cut[0]], lines[cut[0]:cut[0] + 2]
    left = [l for l in lines if l.startswith('# Left out')]
    named = set(left[0].split(': ', 1)[1].split(', ')) if left else set()
    assert named == host, (s, named, host)
    # the docker flags carry the same keys and values
    flags = [l.rstrip(' \\') for l in open('%s/%s.docker' % (W, n)).read().splitlines() if not l.startswith('#')]
    assert all(f.startswith('--sysctl ') for f in flags), flags
    pairs = [f[len('--sysctl '):].strip("'").split('=', 1) for f in flags]
    assert dict(pairs) == {i['name']: i['value'] for i in items}, (s, pairs, items)
print('kubernetes: %d profile sets match key by key' % (len(sys.argv) - 2))
EOP

# Docker: each flag, run as sysctl -w in a fresh namespace, and audit of the
# per-netns keys. docker applies the flags at every container start, so the
# same pairs are that namespace's boot configuration (a sysctl.d file here).
for set in $SETS; do
	n=$(echo "$set" | tr , _)
	profs=$(echo "$set" | tr , ' ')
	tt_sandbox "
set -u
# the flags as the shell hands them to docker: quoting undone
eval \"set -- \$(grep -v '^#' \$W/$n.docker | tr -d '\\\\\\\\\\n')\"
: >/etc/sysctl.d/99-docker.conf
while [ \$# -gt 0 ]; do
	[ \"\$1\" = --sysctl ] || { echo \"not a flag: \$1\"; exit 1; }
	sysctl -q -w \"\$2\" || exit 1
	printf '%s\n' \"\$2\" >>/etc/sysctl.d/99-docker.conf
	shift 2
done
\"\$TCPTUNE\" --profile-dir \"\$PROFILES\" -o json audit $profs >\$W/$n.audit
echo audit=\$?
" || { cat "$T/out" "$T/err" >&2; fail "$set: the docker flags do not apply in a fresh namespace"; }
	python3 - "$W/$n.audit" "$W/$n.explain" <<'EOP' || fail "$set: audit after the docker flags"
import json, sys
a = json.load(open(sys.argv[1]))
scope = {k['key']: k['scope'] for k in json.load(open(sys.argv[2]))['keys']}
bad = [(k['key'], k['status'], k['live']) for k in a['keys']
       if scope.get(k['key']) in ('netns', 'netns-copied') and k['status'] != 'ok']
assert not bad, bad
assert sum(scope.get(k['key']) in ('netns', 'netns-copied') for k in a['keys']) >= 5, a
EOP
done
exit 0
