#!/bin/sh
# On a terminal: every converted command, sockets' views too, fits 60 and
# 100 columns (stdout in a pseudo-terminal of that size, no COLUMNS), colour
# is decided per stream, NO_COLOR and TERM=dumb turn it off; piped output
# stays full. Fixture roots.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH NO_COLOR COLUMNS
tt_want python3 python3 "the pseudo-terminal test" || exit 77
R=$(tt_root root-basic)
S=$(tt_root sockets-proc)
sh "$SRCDIR/tests/data/sockets-proc/mkfds.sh" "$S" || fail "mkfds"
PORTS=$(tt_root sockets-ports)
TERM=xterm
export TERM

# ptyrun COLS OUT ERR CMD...: CMD's stdout in a COLS-wide pseudo-terminal, into OUT; stderr into ERR.
cat >"$T/ptyrun.py" <<'EOP'
import fcntl, os, pty, struct, sys, termios
cols, out, err, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 50, cols, 0, 0))
    e = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(e, 2)
    os.execvp(argv[0], argv)
data = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
_, status = os.waitpid(pid, 0)
open(out, "wb").write(data.replace(b"\r\n", b"\n"))
sys.exit(os.waitstatus_to_exitcode(status))
EOP
ptyrun() { python3 "$T/ptyrun.py" "$@"; }

# the widest line, in characters, colour codes left out
widest() {
	python3 -c '
import re, sys
w = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace").read().split("\n"):
    w = max(w, len(re.sub(r"\x1b\[[0-9;]*m", "", line)))
print(w)' "$1"
}

BASE="$TCPTUNE --root $R --profile-dir $PROFILES"
n=0
for cols in 60 100; do
	for cmd in "audit crawler" "audit --raw crawler" "plan crawler" "show crawler" "profiles" \
		"validate $PROFILES/crawler.conf" "explain net.ipv4.tcp_rmem fs.file-max" "render crawler" \
		"--root $S doctor --once crawler" "--root $S sockets" "--root $S sockets --by remote" \
		"--root $S sockets --by owner" "--root $S sockets --by owner,remote" "--root $PORTS sockets --by remote" \
		"--root $PORTS sockets --by owner"; do
		n=$((n + 1))
		# shellcheck disable=SC2086
		ptyrun "$cols" "$T/tty.$n" "$T/tty.$n.err" $BASE $cmd
		rc=$?
		[ "$rc" -le 1 ] || { cat "$T/tty.$n.err" >&2; fail "'$cmd' on a terminal exited $rc"; }
		[ -s "$T/tty.$n" ] || fail "'$cmd' printed nothing on a terminal"
		w=$(widest "$T/tty.$n")
		[ "$w" -le "$cols" ] || { cat "$T/tty.$n" >&2; fail "'$cmd' wrote a line of $w columns on a $cols-column terminal"; }
	done
done
# sockets --watch on a terminal: each frame replaces the last one, and fits
# shellcheck disable=SC2086
ptyrun 60 "$T/watch" "$T/watch.err" timeout -s INT 2.5 $BASE --root $S sockets --by owner --watch 1 || :
[ "$(grep -c "$(printf '\033')\[H$(printf '\033')\[2J" "$T/watch")" -ge 2 ] ||
	{ cat -v "$T/watch" >&2; fail "sockets --watch did not redraw in place twice"; }
[ "$(widest "$T/watch")" -le 60 ] || { cat "$T/watch" >&2; fail "sockets --watch is wider than 60 columns"; }

# the width the terminal says, or COLUMNS when set
COLUMNS=60 ptyrun 200 "$T/cols" "$T/cols.err" $BASE show crawler || fail "show with COLUMNS"
[ "$(widest "$T/cols")" -le 60 ] || fail "COLUMNS=60 not honoured"

# piped: the full table (one line per key, exact numbers, every count)
$BASE audit crawler >"$T/piped" 2>/dev/null
grep -q '^net.ipv4.tcp_slow_start_after_idle  ' "$T/piped" || fail "piped audit lost its full table"
grep -q ' 0 boot-drift, 0 missing,' "$T/piped" || fail "piped audit summary lost its zero counts"
[ "$(widest "$T/piped")" -gt 100 ] || fail "piped audit was fitted to a width"

# a terminal: drifting rows first, units unless --raw, no zero counts
ptyrun 100 "$T/audit" "$T/audit.err" $BASE audit crawler
sed -n 2p "$T/audit" | grep -q 'drift' || fail "first row on a terminal is not a drift: $(sed -n 2p "$T/audit")"
grep -q '10 min' "$T/audit" || fail "tcp_keepalive_time 600 not shown as 10 min"
grep 'keys:' "$T/audit" | grep -q ' 0 ' && fail "zero counts on a terminal"
ptyrun 100 "$T/raw" "$T/raw.err" $BASE audit --raw crawler
grep -q '600' "$T/raw" || fail "--raw did not keep 600"
grep -q '10 min' "$T/raw" && fail "--raw still shows units"

# colour, per stream: an error is red on a terminal stderr, not when stderr is a file
ESC=$(printf '\033')
ptyrun 80 "$T/c.out" "$T/c.err" $BASE audit no-such-profile
grep -q "$ESC" "$T/c.err" && fail "colour on a stderr that is a file"
grep -q "$ESC\[1;31mdrift" "$T/tty.1" || fail "no colour on a terminal stdout (a red drift)"
# stderr a terminal (stdout a file): the error is red
python3 - "$T/red" $BASE audit no-such-profile <<'EOP'
import os, pty, sys
out, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    f = os.open(out + ".stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(f, 1)
    os.execvp(argv[0], argv)
data = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
os.waitpid(pid, 0)
open(out, "wb").write(data)
EOP
grep -q "$ESC\[1;31mno-such-profile: no such profile" "$T/red" || { cat -v "$T/red" >&2; fail "an error on a terminal is not red"; }
grep -q "$ESC" "$T/red.stdout" && fail "colour on a stdout that is a file"
NO_COLOR=1 ptyrun 80 "$T/nc.out" "$T/nc.err" $BASE audit crawler
grep -q "$ESC" "$T/nc.out" && fail "NO_COLOR did not turn colour off"
TERM=dumb ptyrun 80 "$T/dumb.out" "$T/dumb.err" $BASE audit crawler
grep -q "$ESC" "$T/dumb.out" && fail "TERM=dumb did not turn colour off"
exit 0
