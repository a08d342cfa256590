#!/bin/sh
# SPDX-License-Identifier: ISC
# A journal edited by hand (root-owned, 0600, as tcptune writes it) is checked before
# rollback or crash recovery acts on it: a key outside the network scope, a key with
# path tricks, a fragment path that is not the one apply writes, a huge value. Rollback
# (with or without --force) and the next apply refuse it (exit 2), name the journal, the
# field and why, give `rollback --forget`, and change nothing: /proc/sys, the fragment,
# the file it names and the journal stay as they were. So is a journal others can write.
# The profile paths it records are only reported, never read as root unless a profile
# could be loaded from them. --forget is then the way out.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_need_sandbox
W="$T/w"

tt_sandbox '
set -u
F=/etc/sysctl.d/90-tcptune.conf
J=/var/lib/tcptune/last-apply
tt() { "$TCPTUNE" --profile-dir "$PROFILES" "$@"; }
# every value the journal names or an old tcptune would have written, and the files
snap() {
	for k in ipv4/tcp_fin_timeout ipv4/tcp_tw_reuse ipv4/ip_local_port_range ipv4/tcp_keepalive_time \
		ipv4/tcp_slow_start_after_idle core/somaxconn; do
		printf "%s=%s\n" "$k" "$(tr -s " \t" "  " </proc/sys/net/$k)"
	done
	echo "core_pattern=$(cat /proc/sys/kernel/core_pattern)"
	for f in "$F" "$J" /etc/passwd /run/decoy.conf; do
		echo "$f=$(sha256sum "$f" 2>/dev/null | cut -c1-16) $(stat -c %a "$f" 2>/dev/null)"
	done
}
tt apply crawler >"$W/apply0" 2>&1; echo "apply0=$?"
[ "$(stat -c %a "$J")" = 600 ] && echo "journal-0600=yes"
cp "$J" "$W/journal0"
echo "decoy: net.ipv4.tcp_fin_timeout = 45" >/run/decoy.conf
big=$(head -c 100000 /dev/zero | tr "\000" 7)
# name, then the sed script that makes the hostile journal from the real one
while IFS="|" read -r name script; do
	sed -e "$script" "$W/journal0" >"$J"
	chmod 600 "$J"
	cmp -s "$J" "$W/journal0" && { echo "$name-unchanged-by-sed"; continue; }
	snap >"$W/$name.before"
	tt rollback >"$W/$name.rollback" 2>&1; echo "$name-rollback=$?"
	snap >"$W/$name.after1"
	tt rollback --force >"$W/$name.force" 2>&1; echo "$name-force=$?"
	snap >"$W/$name.after2"
	# an interrupted apply: the next apply would restore from it first
	sed -i "s/\"state\": \"complete\"/\"state\": \"incomplete\"/" "$J"
	snap >"$W/$name.before3"
	tt apply crawler >"$W/$name.apply" 2>&1; echo "$name-apply=$?"
	snap >"$W/$name.after3"
	cmp -s "$W/$name.before" "$W/$name.after1" && cmp -s "$W/$name.before" "$W/$name.after2" &&
		cmp -s "$W/$name.before3" "$W/$name.after3" && echo "$name-untouched=yes"
done <<EOS
core|0,/"key": "net.ipv4/s//"key": "kernel.core_pattern", "was": "net.ipv4/
dotdot|0,/"key": "net.ipv4/s//"key": "..\/..\/etc\/x", "was": "net.ipv4/
passwd|s|"fragment": "/etc/sysctl.d/90-tcptune.conf"|"fragment": "/etc/passwd"|
decoy|s|"fragment": "/etc/sysctl.d/90-tcptune.conf"|"fragment": "/run/decoy.conf"|
dots|s|"fragment": "/etc/sysctl.d/90-tcptune.conf"|"fragment": "/etc/sysctl.d/../../run/decoy.conf"|
huge|0,/"before": "[^"]*"/s//"before": "$big"/
EOS
# a journal others could have written is not trusted at all
cp "$W/journal0" "$J" && chmod 666 "$J"
snap >"$W/mode.before"
tt rollback >"$W/mode.rollback" 2>&1; echo "mode-rollback=$?"
sed -i "s/\"state\": \"complete\"/\"state\": \"incomplete\"/" "$J"
snap >"$W/mode.before3"
tt apply crawler >"$W/mode.apply" 2>&1; echo "mode-apply=$?"
snap >"$W/mode.after3"
grep -v "^$J=" "$W/mode.before" >"$W/mode.b1"; grep -v "^$J=" "$W/mode.before3" >"$W/mode.b3"
cmp -s "$W/mode.b1" "$W/mode.b3" && cmp -s "$W/mode.before3" "$W/mode.after3" && echo "mode-untouched=yes"
# the profile paths it records are only reported: as root, a file others can write, or one
# that is not a regular file, is not even read
cp "$PROFILES/crawler.conf" /run/ww.conf && chmod 666 /run/ww.conf && mkfifo /run/fifo
for f in ww.conf fifo; do
	sed -e "0,/\"path\": \"[^\"]*\"/s//\"path\": \"\/run\/$f\"/" "$W/journal0" >"$J"
	chmod 600 "$J"
	timeout 20 "$TCPTUNE" --profile-dir "$PROFILES" audit >/dev/null 2>"$W/$f.audit"; echo "$f-audit=$?"
done
# the documented way out
cp "$W/journal0" "$J"; sed -i "s|\"fragment\": \"/etc/sysctl.d/90-tcptune.conf\"|\"fragment\": \"/etc/passwd\"|" "$J"
tt rollback --forget >/dev/null 2>&1; echo "forget=$?"
tt apply crawler >/dev/null 2>&1; echo "apply-after=$?"
tt audit crawler >/dev/null 2>&1; echo "audit-after=$?"
'
rc=$?
cat "$T/out" >"$T/result"
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" >&2; fail "sandbox script failed ($rc)"; }
want() { grep -qx "$1" "$T/result" || { cat "$T/result" "$T/err" >&2; fail "expected '$1'"; }; }
said() {
	grep -q -- "$2" "$W/$1" || { cat "$W/$1" >&2; fail "$1 does not say '$2'"; }
}
want apply0=0
want journal-0600=yes
for n in core dotdot passwd decoy dots huge; do
	for step in rollback force apply; do
		want "$n-$step=2"
		said "$n.$step" 'last-apply'
		said "$n.$step" 'rollback --forget` sets it aside'
	done
	want "$n-untouched=yes"
done
for step in rollback force apply; do
	said "core.$step" 'keys\[0\]\.key "kernel.core_pattern": outside the network keys'
	said "dotdot.$step" 'keys\[0\]\.key "\.\./\.\./etc/x": not a sysctl name'
	said "passwd.$step" '"fragment" /etc/passwd: neither the fragment this apply writes'
	said "decoy.$step" '"fragment" /run/decoy.conf: neither the fragment this apply writes'
	said "dots.$step" '"\.\." component'
	said "huge.$step" 'keys\[0\]\.before (of net\.[a-z0-9_.]*): a value of 100000 bytes'
done
for step in rollback apply; do
	want "mode-$step=2"
	said "mode.$step" 'last-apply: writable by everyone (mode 0666): it must be 0600'
	said "mode.$step" 'rollback --forget` sets it aside'
done
want mode-untouched=yes
want ww.conf-audit=2
said ww.conf.audit '/run/ww.conf: not read: refused as root: writable by everyone'
want fifo-audit=2
said fifo.audit '/run/fifo: not read: not a regular file'
want forget=0
want apply-after=0
want audit-after=0
exit 0
