#!/bin/sh
# SPDX-License-Identifier: ISC
# Bad input: exit 2, a message naming file:line and key, nothing touched.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH
R=$(tt_root root-basic)
P="$T/p"
mkdir -p "$P"

# bad NAME 'PROFILE TEXT' 'REGEX THE ERROR MUST MATCH'
bad() {
	printf '%s\n' "$2" >"$P/$1.conf"
	expect_exit 2 "$TCPTUNE" --root "$R" --profile-dir "$P" validate "$P/$1.conf"
	grep_err "$3"
	# audit, show and apply refuse it the same way, and apply touches nothing.
	expect_exit 2 "$TCPTUNE" --root "$R" --profile-dir "$P" audit "$1"
	grep_err "$3"
	expect_exit 2 "$TCPTUNE" --root "$R" --profile-dir "$P" apply "$1"
	grep_err "$3"
	[ -e "$R/etc/sysctl.d/90-tcptune.conf" ] && fail "$1: apply wrote the fragment"
	[ -e "$R/var/lib/tcptune/last-apply" ] && fail "$1: apply wrote a journal"
	cmp -s "$R/proc/sys/net/ipv4/tcp_keepalive_time" "$SRCDIR/tests/data/root-basic/proc/sys/net/ipv4/tcp_keepalive_time" ||
		fail "$1: apply changed a live value"
}

S='sysctl = { net = { ipv4 = {'
E='}; }; };'
bad syntax "$S
 tcp_keepalive_time = = 200; $E" "$P/syntax\.conf:2: "
bad unknown "$S
 frobnicate_me = 1; $E" "$P/unknown\.conf:2: net\.ipv4\.frobnicate_me: unknown key"
bad misspelt "$S
 tcp_keepalive_tme = 200; $E" "$P/misspelt\.conf:2: net\.ipv4\.tcp_keepalive_tme: .*did you mean net\.ipv4\.tcp_keepalive_time\?"
bad range "$S
 tcp_keepalive_time = 0; $E" "$P/range\.conf:2: net\.ipv4\.tcp_keepalive_time: .*1\.\.32767"
bad string "$S
 tcp_keepalive_time = \"soon\"; $E" "$P/string\.conf:2: net\.ipv4\.tcp_keepalive_time: "
bad arity "$S
 tcp_rmem = [ 4096, 131072 ]; $E" "$P/arity\.conf:2: net\.ipv4\.tcp_rmem: .*3"
bad minmax "$S
 tcp_fin_timeout = { min = 30; max = 10; }; $E" "$P/minmax\.conf:2: net\.ipv4\.tcp_fin_timeout: .*min"
bad emptyoneof "$S
 tcp_congestion_control = { one_of = [ ]; }; $E" "$P/emptyoneof\.conf:2: net\.ipv4\.tcp_congestion_control: .*one_of"
bad field "$S
 tcp_fin_timeout = { maximum = 30; }; $E" "$P/field\.conf:2: net\.ipv4\.tcp_fin_timeout: .*maximum"
bad twice "$S
 tcp_tw_reuse = 1;
 tcp_tw_reuse = 1; $E" "$P/twice\.conf:3: "
printf 'inherits = "cycle-b";\n' >"$P/cycle-a.conf"
bad cycle-b 'inherits = "cycle-a";' "inheritance cycle: .*cycle-b.*cycle-a.*cycle-b"
bad orphan 'inherits = "no-such-parent";' "$P/orphan\.conf:1: .*no-such-parent: no such profile"
bad removed "$S
 tcp_tw_recycle = 1; $E" "$P/removed\.conf:2: net\.ipv4\.tcp_tw_recycle: removed in Linux 4\.12 .*tcp_tw_reuse"

# Several errors in one file: every one is reported, each with its line.
printf '%s\n' "$S" ' tcp_keepalive_time = 0;' ' tcp_keepalive_tme = 1;' ' tcp_rmem = [ 1 ];' "$E" >"$P/many.conf"
expect_exit 2 "$TCPTUNE" --root "$R" validate "$P/many.conf"
grep_err "many\.conf:2: net\.ipv4\.tcp_keepalive_time"
grep_err "many\.conf:3: net\.ipv4\.tcp_keepalive_tme"
grep_err "many\.conf:4: net\.ipv4\.tcp_rmem"

# A profile path that is a directory, or does not exist.
expect_exit 2 "$TCPTUNE" --root "$R" validate "$P"
grep_err "$P"
expect_exit 2 "$TCPTUNE" --root "$R" validate "$P/absent.conf"
grep_err "$P/absent\.conf: No such file or directory"
expect_exit 2 "$TCPTUNE" --root "$R" audit ../../../etc/shadow
expect_exit 2 "$TCPTUNE" --root "$R" --profile-dir "$P" audit 'a/../b'
exit 0
