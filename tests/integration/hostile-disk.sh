#!/bin/sh
# SPDX-License-Identifier: ISC
# A fragment directory that cannot be written (read-only mount) and a full
# disk (a 64 KiB tmpfs, filled) under /etc/sysctl.d and under /var/lib, on
# a real kernel in the sandbox: apply exits 3 and everything is as before:
# live values, the previous fragment, no temp files left behind.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_need_sandbox
COMMON='
set -u
F=/etc/sysctl.d/90-tcptune.conf
tt() { "$TCPTUNE" --profile-dir "$PROFILES" "$@"; }
snap() {
	for k in net/core/somaxconn net/ipv4/ip_local_port_range net/ipv4/tcp_fin_timeout \
		net/ipv4/tcp_keepalive_intvl net/ipv4/tcp_keepalive_probes net/ipv4/tcp_keepalive_time \
		net/ipv4/tcp_max_tw_buckets net/ipv4/tcp_slow_start_after_idle net/ipv4/tcp_tw_reuse \
		net/ipv4/tcp_syncookies net/ipv4/tcp_timestamps net/ipv4/tcp_rmem net/ipv4/tcp_wmem; do
		printf "%s=%s\n" "$k" "$(tr -s " \t\n" "   " <"/proc/sys/$k" | sed "s/ *\$//")"
	done
	if [ -e "$F" ]; then echo "fragment=$(cksum <"$F")"; else echo "fragment=absent"; fi
	# files, temp files included; an empty /var/lib/tcptune left behind is fine
	echo "sysctl.d: $(ls -A /etc/sysctl.d | tr "\n" " ")"
	echo "journal: $(ls -A /var/lib/tcptune 2>/dev/null | tr "\n" " ")"
}
# fill DIR: a 64 KiB tmpfs over DIR, then a filler file (not *.conf) until it is full
fill() {
	mount -t tmpfs -o size=64k tmpfs "$1" || exit 99
	dd if=/dev/zero of="$1/filler" bs=1024 2>/dev/null
	[ "$(df -k "$1" | awk "NR == 2 { print \$4 }")" -eq 0 ] || exit 98
}
echo 8192 >/proc/sys/net/ipv4/tcp_max_tw_buckets || exit 99
'
# case NAME SETUP: a fresh sandbox; SETUP before the apply; prints the results
case_() {
	tt_sandbox "$COMMON
$2
snap >\"\$W/$1.before\"
tt apply crawler >\"\$W/$1.out\" 2>&1
echo \"$1=\$?\"
snap >\"\$W/$1.after\"
" || { cat "$T/out" "$T/err" >&2; fail "$1: sandbox script failed"; }
	cat "$T/out"
	diff -u "$T/w/$1.before" "$T/w/$1.after"; grep -qx "$1=3" "$T/out" || { cat "$T/w/$1.out" >&2; fail "$1: apply did not exit 3"; }
	diff -u "$T/w/$1.before" "$T/w/$1.after" || fail "$1: not everything was restored"
}

# a read-only fragment directory (root in the namespace ignores mode bits: a read-only mount)
case_ rofrag 'mount -t tmpfs -o ro tmpfs /etc/sysctl.d || exit 99'
# a full /etc/sysctl.d, with no fragment yet
case_ fullfrag 'fill /etc/sysctl.d'
# a full /etc/sysctl.d holding an earlier fragment: it stays, byte for byte
case_ fullfrag-prev 'mount -t tmpfs -o size=64k tmpfs /etc/sysctl.d || exit 99
tt apply baseline >/dev/null 2>&1 || exit 97
dd if=/dev/zero of=/etc/sysctl.d/filler bs=1024 2>/dev/null'
# a full /var/lib: the journal cannot be written, nothing is touched
case_ fulljournal 'fill /var/lib'
# a disk with room for the journal but not the fragment
case_ fullfrag-journal-ok 'fill /etc/sysctl.d; mkdir -p /var/lib/tcptune'
exit 0
