#!/bin/sh
# SPDX-License-Identifier: ISC
# The Ansible collection over SSH: four namespace hosts with their own sshd, --check --diff, a rolling apply where one host refuses a key, a fleet report, a rollback.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
for c in ansible-playbook ansible-doc ansible-galaxy ssh ssh-keygen; do
	command -v $c >/dev/null 2>&1 || skip "$c is not installed (apt-get install ansible-core openssh-client)"
done
[ -x /usr/sbin/sshd ] || skip "no /usr/sbin/sshd (apt-get install openssh-server)"
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3 for the modules"
# A full uid range in the user namespace: root writes the map itself.
[ "$(id -u)" -eq 0 ] || skip "mapping a full uid range needs root (CI runs as root)"
tt_need_sandbox
W="$T/w"
PYTHONDONTWRITEBYTECODE=1 && export PYTHONDONTWRITEBYTECODE
A="$T/ansible"
C="$A/ansible_collections/tcptune/tcptune"
cp -R "$SRCDIR/contrib/ansible" "$A" && cp "$SRCDIR/tests/integration/userns.py" "$T/" &&
	chmod -R a+rX,go-w "$A" "$T/userns.py" || fail "cannot copy contrib/ansible"

# The collection: both modules' documentation renders, and it builds.
for m in profile facts; do
	HOME="$T" ANSIBLE_LOCAL_TEMP="$T/adoc" ANSIBLE_COLLECTIONS_PATH="$A" \
		ansible-doc "tcptune.tcptune.$m" >"$T/doc-$m" 2>&1 || { cat "$T/doc-$m" >&2; fail "ansible-doc tcptune.tcptune.$m"; }
done
grep -q 'lock_wait' "$T/doc-profile" && grep -q 'EXAMPLES' "$T/doc-profile" || fail "ansible-doc profile lacks its options"
grep -q 'audit_error' "$T/doc-facts" || fail "ansible-doc facts lacks its return values"
HOME="$T" ansible-galaxy collection build --output-path "$T/build" "$C" >"$T/build.log" 2>&1 ||
	{ cat "$T/build.log" >&2; fail "ansible-galaxy collection build"; }
tar -tzf "$T/build/tcptune-tcptune-0.1.0.tar.gz" >"$T/tar" || fail "no collection tarball"
for f in MANIFEST.json FILES.json meta/runtime.yml plugins/modules/profile.py plugins/modules/facts.py plugins/filter/fleet.py; do
	grep -qx "$f" "$T/tar" || { cat "$T/tar" >&2; fail "the collection lacks $f"; }
done
rm -rf "$T/adoc" "$T/.ansible" "$C/plugins/modules/__pycache__"

# The profile: crawler and a congestion control. h3 is like a container whose
# runtime mounts that /proc/sys file read-only: its kernel refuses the write.
cat >"$T/profiles/fleet.conf" <<'EOF'
description = "crawler, with reno";
inherits = "crawler";
sysctl = { net = { ipv4 = { tcp_congestion_control = "reno"; }; }; };
EOF
chmod 644 "$T/profiles/fleet.conf"
cat >"$T/inventory.yml" <<EOF
all:
  hosts:
    h1: { ansible_host: "fd00:16:1::2" }
    h2: { ansible_host: "fd00:16:2::2" }
    h3: { ansible_host: "fd00:16:3::2" }
    h4: { ansible_host: "fd00:16:4::2" }
  vars:
    ansible_user: root
    tcptune_become: false
    tcptune_binary: $T/bin/tcptune
    tcptune_profile_dirs: [ "$T/profiles" ]
    tcptune_profiles: [ fleet ]
EOF

cat >"$T/inner.sh" <<'EOF'
# PID 1 of the sandbox: root of a user namespace with 65536 uids, in the controller's network namespace.
set -u
T=$1 W=$1/w A=$1/ansible
PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
export PATH HOME
mount -t tmpfs -o mode=755 tmpfs /run && mount -t tmpfs -o mode=700 tmpfs /root || exit 99
mkdir -p /run/fleet /run/sshd /run/lock /root/.ssh && chmod 700 /root/.ssh || exit 99
# sshd refuses a locked account: the host's shadow says "!" (and is unreadable here).
awk -F: '{ print $1 ":*:19000:0:99999:7:::" }' /etc/passwd >/run/fleet/shadow &&
	chmod 600 /run/fleet/shadow && mount --bind /run/fleet/shadow /etc/shadow || exit 99
ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_ed25519 &&
	ssh-keygen -q -t ed25519 -N '' -f /run/fleet/hostkey &&
	cp /root/.ssh/id_ed25519.pub /run/fleet/id.pub || exit 99
cat >/run/fleet/sshd_config <<EOC
HostKey /run/fleet/hostkey
PidFile none
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile /root/.ssh/authorized_keys
Subsystem sftp /usr/lib/openssh/sftp-server
PrintMotd no
PrintLastLog no
EOC
ip link set lo up || exit 99
# Each host: a network namespace behind a veth pair, ULA addresses only, and
# a mount namespace of its own (sysctl.d, the journal, the lock, root's home).
for n in 1 2 3 4; do
	ip netns add h$n && ip link add c$n type veth peer name eth0 netns h$n &&
		ip addr add fd00:16:$n::1/64 dev c$n nodad && ip link set c$n up &&
		ip -n h$n addr add fd00:16:$n::2/64 dev eth0 nodad && ip -n h$n link set eth0 up &&
		ip -n h$n link set lo up || exit 99
	ip netns exec h$n sh -c '
		for d in /etc/sysctl.d /var/lib /run/lock; do mount -t tmpfs -o mode=755 tmpfs $d || exit 99; done
		mount -t tmpfs -o mode=700 tmpfs /root && mkdir -m 700 /root/.ssh &&
			cp /run/fleet/id.pub /root/.ssh/authorized_keys || exit 99
		if [ "$0" = 3 ]; then
			f=/proc/sys/net/ipv4/tcp_congestion_control
			mount --bind $f $f && mount -o remount,bind,ro $f || exit 99
		fi
		exec /usr/sbin/sshd -D -e -f /run/fleet/sshd_config' $n >"$W/sshd$n.log" 2>&1 &
done

ANSIBLE_COLLECTIONS_PATH=$A ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_HOST_KEY_CHECKING=False
ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_DEPRECATION_WARNINGS=0 ANSIBLE_FORKS=4 ANSIBLE_PIPELINING=True
ANSIBLE_SSH_ARGS='-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null -o ConnectTimeout=10'
export ANSIBLE_COLLECTIONS_PATH ANSIBLE_PYTHON_INTERPRETER ANSIBLE_HOST_KEY_CHECKING ANSIBLE_NOCOLOR
export ANSIBLE_RETRY_FILES_ENABLED ANSIBLE_DEPRECATION_WARNINGS ANSIBLE_FORKS ANSIBLE_SSH_ARGS ANSIBLE_PIPELINING
SSH="ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
# Wait for the four sshd.
for n in 1 2 3 4; do
	i=0
	until $SSH root@fd00:16:$n::2 true 2>/dev/null; do
		i=$((i + 1)); [ $i -lt 50 ] || { echo "h$n: no sshd"; exit 99; }; sleep 0.2
	done
done

# snap NAME: each host's live values, fragment and journal, seen over SSH.
snap() {
	for n in 1 2 3 4; do
		$SSH root@fd00:16:$n::2 'cd /proc/sys/net && for k in ipv4/tcp_tw_reuse ipv4/tcp_keepalive_time \
			ipv4/tcp_keepalive_intvl ipv4/tcp_fin_timeout ipv4/ip_local_port_range ipv4/tcp_max_tw_buckets \
			ipv4/tcp_slow_start_after_idle ipv4/tcp_congestion_control core/somaxconn; do
			printf "%s=%s\n" $k "$(tr -s "\t" " " <$k)"; done
			printf "fragment=%s\n" "$(cat /etc/sysctl.d/90-tcptune.conf 2>/dev/null | md5sum)"' >"$W/$1-h$n"
	done
}
play() {
	name=$1
	shift
	t0=$(date +%s)
	ansible-playbook -i "$T/inventory.yml" "$@" >"$W/$name.log" 2>&1
	echo "$name=$?"
	echo "$name: $(($(date +%s) - t0)) s" >&2
}

snap s0
play check0 "$A/fleet.yml" --check --diff
snap s1
play apply1 "$A/fleet.yml"
snap s2
# A hand edit on h1, then the report (its facts gathered in check mode).
$SSH root@fd00:16:1::2 'echo 2 >/proc/sys/net/ipv4/tcp_tw_reuse' || exit 99
mkdir -p "$W/r1"
play report1 "$A/fleet-report.yml" --check -e tcptune_report_dir=$W/r1
# h1's admin undoes the edit; h3's runtime stops masking the key, so its
# next run applies. (A rollback reaches back one apply only: a second apply
# that changed h1 would be what rollback undoes there.)
$SSH root@fd00:16:1::2 'echo 1 >/proc/sys/net/ipv4/tcp_tw_reuse' || exit 99
$SSH root@fd00:16:3::2 'umount /proc/sys/net/ipv4/tcp_congestion_control' || exit 99
play apply3 "$A/fleet.yml"
play apply4 "$A/fleet.yml"
snap s4
# The facts module alone, doctor included, in check mode.
ansible -i "$T/inventory.yml" h2 --check -m tcptune.tcptune.facts \
	-a "binary=$T/bin/tcptune profile_dirs=$T/profiles profiles=fleet" >"$W/facts.log" 2>&1
echo "facts=$?"
play rollback "$A/fleet.yml" -e tcptune_state=rolled_back
snap s5
exit 0
EOF
chmod -R a+rX "$T/inner.sh" "$T/inventory.yml"

# 3000000 and up is nobody's: no file outside belongs to these uids.
timeout 600 /usr/bin/python3 "$T/userns.py" 3000000 65536 sh "$T/inner.sh" "$T" >"$T/status" 2>"$T/err"; r=$?; cat "$T/err" >&2; [ $r -eq 0 ] ||
	{ cat "$T/status" "$T/err" "$W"/sshd*.log >&2; fail "the fleet sandbox failed"; }

status() {
	grep -qx "$1=$2" "$T/status" || { cat "$T/status" "$W/$1.log" >&2; fail "$1: wanted exit status $2"; }
}
# recap RUN HOST CHANGED FAILED
recap() {
	grep -Eq "^$2 +: ok=[0-9]+ +changed=$3 +unreachable=0 +failed=$4 " "$W/$1.log" ||
		{ cat "$W/$1.log" >&2; fail "$1: wanted $2 changed=$3 failed=$4 in the recap"; }
}
logged() {
	grep -Eq -- "$2" "$W/$1.log" || { cat "$W/$1.log" >&2; fail "$1: no match for /$2/"; }
}
same() {
	for n in 1 2 3 4; do
		case " ${3:-} " in *" h$n "*) continue ;; esac
		diff -u "$W/$1-h$n" "$W/$2-h$n" || fail "h$n: $2 differs from $1"
	done
}

# --check --diff: drift per host and key, nothing touched anywhere.
status check0 0
for h in h1 h2 h3 h4; do recap check0 $h 1 0; done
logged check0 '^-net\.ipv4\.tcp_congestion_control = cubic$|^-net\.ipv4\.tcp_congestion_control = '
logged check0 '^\+net\.ipv4\.tcp_congestion_control = reno$'
logged check0 '^\+net\.ipv4\.tcp_keepalive_time = 200$'
[ "$(grep -c '^+net\.ipv4\.tcp_tw_reuse = 1$' "$W/check0.log")" -eq 4 ] || fail "check0: not one tw_reuse diff per host"
same s0 s1

# The rolling apply: h3's kernel refuses, h3 fails with exit 3 and is left
# as it was; the others apply; the play goes on (serial 2, max 50 % failing).
status apply1 2
for h in h1 h2 h4; do recap apply1 $h 1 0; done
recap apply1 h3 0 1
logged apply1 'fatal: \[h3\]: FAILED!'
logged apply1 '"msg": "net\.ipv4\.tcp_congestion_control: writing reno: Read-only file system"'
logged apply1 '"rc": 3'
same s0 s2 "h1 h2 h4"
for n in 1 2 4; do
	grep -qx 'ipv4/tcp_congestion_control=reno' "$W/s2-h$n" && grep -qx 'ipv4/tcp_keepalive_time=200' "$W/s2-h$n" ||
		{ cat "$W/s2-h$n" >&2; fail "h$n: not applied"; }
	grep -qx "fragment=$(printf '' | md5sum)" "$W/s2-h$n" && fail "h$n: no fragment"
done

# The fleet report: h1's hand edit (live 2, boot 1) and h3's every key.
status report1 0
python3 - "$W/r1/fleet-report.json" "$W/r1/fleet-report.txt" <<'EOF' || fail "the fleet report is wrong"
import json, re, sys
r = json.load(open(sys.argv[1]))
t = open(sys.argv[2]).read()
assert r['noncompliant'] == ['h1', 'h3'], r['noncompliant']
assert r['hosts']['h2']['compliant'] and r['hosts']['h4']['compliant'] and not r['missing'], r
d1 = r['hosts']['h1']['drift']
assert [(d['key'], d['status'], d['live'], d['boot']) for d in d1] == \
    [('net.ipv4.tcp_tw_reuse', 'drift', '2', '1')], d1
d3 = {d['key']: d for d in r['hosts']['h3']['drift']}
assert d3['net.ipv4.tcp_congestion_control']['live'] != 'reno', d3
assert {'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_tw_reuse', 'net.ipv4.tcp_congestion_control'} <= set(d3), d3
assert r['keys'] == sorted(set(d3) | {'net.ipv4.tcp_tw_reuse'}), r['keys']
# columns are two spaces or more apart; a vector value has single spaces
rows = {l.split()[0]: re.split(r'  +', l) for l in t.splitlines()[1:5]}
head = re.split(r'  +', t.splitlines()[0])
assert head[:2] == ['HOST', 'COMPLIANT'] and head[2:] == r['keys'], head
col = head.index('net.ipv4.tcp_tw_reuse')
assert rows['h1'][1] == 'no' and rows['h1'][col] == '2/1', rows['h1']
assert rows['h2'][1] == 'yes' and set(rows['h2'][2:]) == {'ok'}, rows['h2']
assert rows['h3'][col] == '2/2' and rows['h3'][1] == 'no', rows['h3']
assert rows['h3'][head.index('net.ipv4.ip_local_port_range')] == '32768 60999/32768 60999', rows['h3']
print(t)
EOF
logged report1 'h1 +no'

# h3 applies once its runtime allows it, the others have nothing to do;
# then nobody changes.
status apply3 0
recap apply3 h1 0 0
recap apply3 h2 0 0
recap apply3 h3 1 0
recap apply3 h4 0 0
status apply4 0
for h in h1 h2 h3 h4; do recap apply4 $h 0 0; done

status facts 0
logged facts '^h2 \| SUCCESS'
logged facts '"compliant": true'
logged facts '"findings": \['
logged facts '"interval_s"|"sockets": \{'

# Rollback through the module: every host back to where it started.
status rollback 0
for h in h1 h2 h3 h4; do recap rollback $h 1 0; done
same s0 s5
grep -Eo '^fatal: \[h3\]: FAILED!|"msg": "[^"]*"|"rc": [0-9]+' "$W/apply1.log" | sort -u
sed -n '/^PLAY RECAP/,$p' "$W/apply1.log"
exit 0
