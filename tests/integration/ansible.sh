#!/bin/sh
# SPDX-License-Identifier: ISC
# The Ansible module and example playbook, run for real by ansible-playbook -c local in the private namespace.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
command -v ansible-playbook >/dev/null 2>&1 || skip "ansible-playbook is not installed (apt-get install ansible-core)"
[ -x /usr/bin/python3 ] || skip "no /usr/bin/python3 for the module"
tt_need_sandbox
W="$T/w"

# The unprivileged user must read the playbook and module: copy them into $T.
cp -R "$SRCDIR/contrib/ansible" "$T/ansible" && chmod -R a+rX,go-w "$T/ansible" ||
	fail "cannot copy contrib/ansible"
# DOCUMENTATION, EXAMPLES and RETURN parse (ansible-doc refuses the module otherwise).
if command -v ansible-doc >/dev/null 2>&1; then
	HOME="$T" ANSIBLE_LOCAL_TEMP="$T/adoc" ansible-doc -M "$T/ansible/library" tcptune >"$T/doc" 2>&1 ||
		{ cat "$T/doc" >&2; fail "ansible-doc tcptune"; }
	grep -q 'fail_on_drift' "$T/doc" || fail "ansible-doc does not show the options"
	rm -rf "$T/adoc" "$T/.ansible" "$T/ansible/library/__pycache__"
fi

# One script, one namespace: the runs see each other's sysctls and fragment.
cat >"$T/ansible/run.sh" <<'EOF'
set -u
A=$1
PATH=/usr/sbin:/usr/bin:/sbin:/bin
HOME=/run/home TMPDIR=/run/tmp
ANSIBLE_LOCAL_TEMP=/run/ansible/local ANSIBLE_REMOTE_TEMP=/run/ansible/remote
ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0
ANSIBLE_LIBRARY=$A/library ANSIBLE_HOST_KEY_CHECKING=0 ANSIBLE_DEPRECATION_WARNINGS=0
export PATH HOME TMPDIR ANSIBLE_LOCAL_TEMP ANSIBLE_REMOTE_TEMP ANSIBLE_PYTHON_INTERPRETER
export ANSIBLE_NOCOLOR ANSIBLE_RETRY_FILES_ENABLED ANSIBLE_LIBRARY ANSIBLE_HOST_KEY_CHECKING
export ANSIBLE_DEPRECATION_WARNINGS
mkdir -p "$HOME" "$TMPDIR" /run/ansible && cd /run || exit 99
F=/etc/sysctl.d/90-tcptune.conf
live() { tr -s " \t" "  " <"/proc/sys/$1"; }
snap() {
	for k in net/ipv4/tcp_tw_reuse net/ipv4/tcp_keepalive_time net/ipv4/tcp_fin_timeout \
		net/ipv4/ip_local_port_range net/ipv4/tcp_slow_start_after_idle; do
		printf "%s=%s\n" "$k" "$(live $k)"
	done
}
play() {
	name=$1
	shift
	ansible-playbook -c local -i localhost, "$A/site.yml" \
		-e tcptune_hosts=localhost -e tcptune_become=false \
		-e tcptune_binary="$TCPTUNE" -e "{\"tcptune_profile_dirs\": [\"$PROFILES\"]}" \
		"$@" >"$W/$name.log" 2>&1
	echo "$name=$?"
}
# adhoc NAME ARGS [OPTION...]: the module alone, ARGS its key=value arguments.
adhoc() {
	name=$1 args=$2
	shift 2
	ansible localhost -c local -i localhost, -m tcptune \
		-a "binary=$TCPTUNE profile_dirs=$PROFILES $args" "$@" >"$W/$name.log" 2>&1
	echo "$name=$?"
}

snap >"$W/before"
play check0 --check --diff
snap >"$W/after-check0"
[ -e "$F" ] && echo "check0 wrote the fragment"
play apply1
snap >"$W/after-apply1"
cp "$F" "$W/frag" 2>/dev/null
play apply2
play check2 --check --diff
adhoc audit-ok "state=audited profiles=crawler"
adhoc rollback1 "state=rolled_back"
snap >"$W/after-rollback"
adhoc rollback2 "state=rolled_back"
adhoc audit-drift "state=audited profiles=crawler"
adhoc audit-nofail "state=audited profiles=crawler fail_on_drift=false"
adhoc nosuch "profiles=nosuch"
adhoc diffapply "profiles=crawler" --diff
snap >"$W/after-diffapply"
exit 0
EOF
chmod 644 "$T/ansible/run.sh"

tt_sandbox "sh $T/ansible/run.sh $T/ansible" || { cat "$T/out" "$T/err" >&2; fail "the sandbox script failed"; }
cp "$T/out" "$T/status"

# recap NAME CHANGED FAILED: the PLAY RECAP line of run NAME.
recap() {
	grep -Eq "^localhost +: ok=[0-9]+ +changed=$2 +unreachable=0 +failed=$3 " "$W/$1.log" ||
		{ cat "$W/$1.log" >&2; fail "$1: wanted changed=$2 failed=$3 in the recap"; }
}
# status NAME CODE: the exit status of ansible(-playbook) for run NAME.
status() {
	grep -qx "$1=$2" "$T/status" || { cat "$W/$1.log" >&2; fail "$1: wanted exit status $2"; }
}
# logged NAME REGEX: the output of run NAME matches.
logged() {
	grep -Eq -- "$2" "$W/$1.log" || { cat "$W/$1.log" >&2; fail "$1: no match for /$2/"; }
}

# --check --diff before any apply: changes reported per key, nothing touched.
status check0 0
recap check0 1 0
logged check0 '^-net\.ipv4\.tcp_tw_reuse = 2$'
logged check0 '^\+net\.ipv4\.tcp_tw_reuse = 1$'
logged check0 '^\+net\.ipv4\.tcp_keepalive_time = 200$'
logged check0 '^\+net\.ipv4\.ip_local_port_range = 10240 65535$'
grep -q "wrote the fragment" "$T/status" && fail "check mode wrote the fragment"
diff -u "$W/before" "$W/after-check0" || fail "check mode changed live values"

# The first run changes, the second does not, and neither fails the audit.
status apply1 0
recap apply1 1 0
status apply2 0
recap apply2 0 0
status check2 0
recap check2 0 0
logged check2 'changed=0'
grep -Eq '^[-+]net\.' "$W/check2.log" && { cat "$W/check2.log" >&2; fail "check2 shows a diff"; }

# The live values in the namespace's /proc/sys, and the fragment.
cat >"$T/want" <<'EOF'
net/ipv4/tcp_tw_reuse=1
net/ipv4/tcp_keepalive_time=200
net/ipv4/tcp_fin_timeout=30
net/ipv4/ip_local_port_range=10240 65535
net/ipv4/tcp_slow_start_after_idle=0
EOF
diff -u "$T/want" "$W/after-apply1" || fail "live values after the playbook"
grep -q '^net.ipv4.tcp_keepalive_time = 200$' "$W/frag" || fail "fragment lacks tcp_keepalive_time"

# Ad hoc: audited, rolled_back (twice: the second is a no-op), failures.
status audit-ok 0
logged audit-ok '"compliant": true'
logged audit-ok '^localhost \| SUCCESS'
status rollback1 0
logged rollback1 '^localhost \| CHANGED'
diff -u "$W/before" "$W/after-rollback" || fail "rolled_back did not restore the values"
status rollback2 0
logged rollback2 '^localhost \| SUCCESS'
logged rollback2 '"changed": false'
status audit-drift 2
logged audit-drift '^localhost \| FAILED'
logged audit-drift 'drift from crawler: .*net\.ipv4\.tcp_tw_reuse \(drift: live 2'
logged audit-drift '"rc": 1'
status audit-nofail 0
logged audit-nofail '"compliant": false'
status nosuch 2
logged nosuch '^localhost \| FAILED'
logged nosuch '"msg": "nosuch: no such profile'
logged nosuch '"rc": 2'
status diffapply 0
logged diffapply '^localhost \| CHANGED'
logged diffapply '^\+net\.ipv4\.tcp_fin_timeout = 30$'
diff -u "$T/want" "$W/after-diffapply" || fail "live values after the ad hoc apply"
exit 0
