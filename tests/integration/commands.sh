#!/bin/sh
# SPDX-License-Identifier: ISC
# The front door and the read-only commands: help, version, usage errors,
# explain, show, profiles, validate, colour. Against a fixture root.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH NO_COLOR
R=$(tt_root root-basic)
tt() { "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" "$@"; }

expect_exit 0 "$TCPTUNE" --help
grep_out '^usage: tcptune '
grep_out '^  audit \[--all-netns\] \[--raw\] \[PROFILE\.\.\.\]'
expect_exit 0 "$TCPTUNE" -V
grep_out '^tcptune [0-9]+\.[0-9]+\.[0-9]+$'
expect_exit 0 "$TCPTUNE" audit --help
grep_out '^usage: tcptune \[GLOBAL\] audit \[--all-netns\] \[--raw\] \[PROFILE\.\.\.\]'

# Usage errors: exit 2 and a message that says what is wrong.
expect_exit 2 "$TCPTUNE"
grep_err '^usage: '
expect_exit 2 "$TCPTUNE" frobnicate
grep_err "'frobnicate' is not a command"
expect_exit 2 "$TCPTUNE" -o yaml audit crawler
grep_err "'yaml' is not one of table, json, prometheus"
expect_exit 2 "$TCPTUNE" --color sometimes audit crawler
expect_exit 2 "$TCPTUNE" --fragment relative.conf audit crawler
grep_err 'not an absolute path'
expect_exit 2 "$TCPTUNE" --root "$T/nonexistent" audit crawler
grep_err "--root $T/nonexistent: No such file or directory"
expect_exit 2 "$TCPTUNE" --netns "$T/nonexistent" audit crawler
grep_err "--netns $T/nonexistent"
expect_exit 2 "$TCPTUNE" --netns "$R/etc/sysctl.conf" audit crawler
grep_err 'not a network namespace'
mkfifo "$T/fifo"
expect_exit 2 timeout 20 "$TCPTUNE" --netns "$T/fifo" audit crawler
grep_err 'not a network namespace'
expect_exit 2 tt audit --bogus crawler
grep_err "unknown option '--bogus'"
expect_exit 2 tt audit
grep_err 'no PROFILE given and no apply recorded'
expect_exit 2 tt audit no-such-profile
grep_err 'no-such-profile'

# Global options after the command work too.
expect_exit 0 "$TCPTUNE" explain net.ipv4.tcp_tw_reuse --root "$R" -o json
grep_out '"key": "net.ipv4.tcp_tw_reuse"'

# explain: catalogue + live + boot, dotted or slashed.
expect_exit 0 tt explain net/ipv4/tcp_keepalive_time
grep_out '^net\.ipv4\.tcp_keepalive_time$'
grep_out '^  meaning '
grep_out '^  scope +netns'
grep_out '^  live +[0-9]+$'
grep_out '^  source '
expect_exit 2 tt explain net.ipv4.tcp_keepalive_tme
grep_err 'did you mean net\.ipv4\.tcp_keepalive_time\?'
expect_exit 2 tt explain net.ipv4.tcp_tw_recycle
grep_err 'removed in Linux 4\.12'
expect_exit 2 tt explain ../../etc/passwd
grep_err 'not a sysctl key name'
expect_exit 2 tt explain 'net.ipv4.tcp_tw_reuse/../../x'
expect_exit 2 tt explain
grep_err 'no KEY given'
expect_exit 2 tt -o prometheus explain net.ipv4.tcp_tw_reuse

# profiles, show, validate on the shipped profiles.
expect_exit 0 tt profiles
for p in baseline crawler web-server high-bandwidth; do grep_out "^$p "; done
expect_exit 0 tt -o json profiles
grep_out '"name": "crawler"'
expect_exit 0 tt show crawler
grep_out '^net\.ipv4\.tcp_keepalive_time +<= 200 +.*/crawler\.conf:[0-9]+'
grep_out '^net\.ipv4\.tcp_tw_reuse +1 '
grep_out 'baseline\.conf:[0-9]+'
expect_exit 0 tt validate "$PROFILES"/*.conf
grep_out 'crawler\.conf: ok, [0-9]+ keys'

# Colour only when asked; NO_COLOR wins over auto, not over always.
expect_exit 0 tt --color always explain net.ipv4.tcp_tw_reuse
grep -q "$(printf '\033')" "$T/out" || fail "--color always printed no colour"
expect_exit 0 env NO_COLOR=1 "$TCPTUNE" --root "$R" explain net.ipv4.tcp_tw_reuse
grep -q "$(printf '\033')" "$T/out" && fail "colour without a terminal"
# On a terminal (script(1), from bsdutils, which Debian always has): colour by default, none when TERM=dumb or NO_COLOR.
for term in xterm dumb; do
	env TERM=$term script -qec "\"$TCPTUNE\" --root \"$R\" --profile-dir \"$PROFILES\" audit crawler" \
		/dev/null >"$T/tty-$term" 2>&1 </dev/null
done
env TERM=xterm NO_COLOR=1 script -qec "\"$TCPTUNE\" --root \"$R\" --profile-dir \"$PROFILES\" audit crawler" \
	/dev/null >"$T/tty-nocolor" 2>&1 </dev/null
grep -q "$(printf '\033')" "$T/tty-xterm" || fail "no colour on a terminal: $(cat "$T/tty-xterm")"
grep -q "$(printf '\033')" "$T/tty-dumb" && fail "colour with TERM=dumb"
grep -q "$(printf '\033')" "$T/tty-nocolor" && fail "colour with NO_COLOR on a terminal"
exit 0
