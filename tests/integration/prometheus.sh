#!/bin/sh
# SPDX-License-Identifier: ISC
# -o prometheus of audit and sockets is valid exposition format (strict parser; promtool too when installed).
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_SOCKETS_SOURCE TCPTUNE_DIAG_FILE NO_COLOR
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"
PYTHONDONTWRITEBYTECODE=1 && export PYTHONDONTWRITEBYTECODE
CHECK="python3 $SRCDIR/tests/integration/promcheck.py"

# The checker itself must be able to fail.
$CHECK --self-test || fail "promcheck.py accepts bad input"

# valid FILE: the strict checker, and promtool's when it is there.
valid() {
	$CHECK "$1" >"$T/why" || { cat "$T/why" "$1" >&2; fail "$1 is not valid exposition format"; }
	if tt_want promtool prometheus "promtool check metrics"; then
		promtool check metrics <"$1" >"$T/why" 2>&1 || { cat "$T/why" >&2; fail "promtool: $1"; }
	fi
}

# audit: drift on the fixture host, label values with a quote and a backslash.
R=$(tt_root root-basic)
mkdir -p "$T/we\"i\\rd" && cp "$PROFILES/crawler.conf" "$T/we\"i\\rd/x.conf"
expect_exit 1 "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" -o prometheus audit crawler
cp "$T/out" "$T/audit.prom" && valid "$T/audit.prom"
expect_exit 1 "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" -o prometheus audit "$T/we\"i\\rd/x.conf" baseline
cp "$T/out" "$T/odd.prom" && valid "$T/odd.prom"
# a profile name that is not UTF-8: the label must still be UTF-8 (a collector drops the whole file)
cp "$PROFILES/crawler.conf" "$T/caf$(printf '\351').conf"
expect_exit 1 "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" -o prometheus audit "$T/caf$(printf '\351').conf"
cp "$T/out" "$T/latin1.prom"
iconv -f UTF-8 -t UTF-8 "$T/latin1.prom" >/dev/null 2>&1 || fail "invalid UTF-8 in the exposition"
valid "$T/latin1.prom"
grep -q 'profile="[^"]*caf\\\\xe9\.conf"' "$T/latin1.prom" || { cat "$T/latin1.prom" >&2; fail "the non-UTF-8 byte is not shown as \\xe9"; }

# sockets: the recorded scenario, whose process name has control characters.
# make dist drops dangling symlinks (tar -h), so PID 4242's fds are made
# here: one per CLOSE_WAIT socket of the recorded /proc/net/tcp{,6}.
S=$(tt_root sockets-proc)
rm -rf "$S/proc/4242/fd" && mkdir "$S/proc/4242/fd" || fail "cannot reset the fds"
n=3
for ino in $(awk 'NR > 1 && $4 == "08" { print $10 }' "$S/proc/net/tcp" "$S/proc/net/tcp6"); do
	ln -s "socket:[$ino]" "$S/proc/4242/fd/$n" && n=$((n + 1))
done
[ "$n" -eq 9 ] || fail "the fixture has $((n - 3)) CLOSE_WAIT sockets, not 6"
expect_exit 0 "$TCPTUNE" --root "$S" -o prometheus sockets --top 2
cp "$T/out" "$T/sockets.prom" && valid "$T/sockets.prom"
expect_exit 0 "$TCPTUNE" --root "$S" -o prometheus sockets -4
cp "$T/out" "$T/sockets4.prom" && valid "$T/sockets4.prom"

# What the samples say, read back through the parser.
python3 - "$SRCDIR/tests/integration" "$T" <<'EOP' || fail "the metrics say the wrong thing"
import sys
sys.path.insert(0, sys.argv[1])
from promcheck import check
T = sys.argv[2]

def samples(name):
    errors, s = check(open('%s/%s' % (T, name), encoding='utf-8').read())
    assert not errors, errors
    return s

a = samples('audit.prom')
keys = [(l['key'], v) for n, l, v in a if n == 'tcptune_key_compliant']
assert all(v in (0, 1) for _, v in keys), keys
drift = [v for n, l, v in a if n == 'tcptune_drift_keys']
assert drift == [sum(1 for _, v in keys if v == 0)] and drift[0] > 0, (drift, keys)
assert ('net.ipv4.tcp_tw_reuse', 0) in keys, keys
assert all(l['profile'] == 'crawler' for n, l, v in a), a

o = samples('odd.prom')
profs = {l['profile'] for n, l, v in o}
assert profs == {T + '/we"i\\rd/x.conf,baseline'}, profs

s = samples('sockets.prom')
st = {l['state']: v for n, l, v in s if n == 'tcptune_sockets'}
assert st['CLOSE_WAIT'] == 6 and st['TIME_WAIT'] == 9 and st['ESTABLISHED'] == 6, st
assert set(st) == {'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT',
                   'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING'}, st
cw = [(l['comm'], l['pid'], v) for n, l, v in s if n == 'tcptune_close_wait_by_process']
assert 1 <= len(cw) <= 2, cw
# Control characters reach the scraper as visible escapes, never raw.
assert cw[0] == ('leaker\\x1b]0;pwned\\x07', '4242', 6), cw
EOP

# node_exporter's own textfile collector reads the files, on loopback in a
# private network namespace, scraped once.
tt_want prometheus-node-exporter prometheus-node-exporter "node_exporter's textfile collector" || exit 0
NE=$(command -v prometheus-node-exporter)
tt_need_sandbox
W="$T/w"
mkdir -p "$T/tf" && cp "$T/audit.prom" "$T/sockets.prom" "$T/odd.prom" "$T/tf/" &&
	chmod -R a+rX "$T/tf" || fail "cannot make the textfile dir"
tt_scrape_script
tt_sandbox "
ip link set lo up || exit 99
$NE --collector.disable-defaults --collector.textfile --collector.textfile.directory=$T/tf \
	--web.listen-address=127.0.0.1:9100 >\$W/ne.log 2>&1 &
pid=\$!
python3 $T/scrape.py >\$W/scrape.txt; rc=\$?
kill \$pid
wait \$pid 2>/dev/null
exit \$rc
" || { cat "$T/err" "$W/ne.log" >&2; fail "scraping node_exporter"; }
s="$W/scrape.txt"
grep -q '^node_textfile_scrape_error 0$' "$s" || { cat "$s" "$W/ne.log" >&2; fail "node_exporter could not read the textfiles"; }
grep -q '^tcptune_key_compliant{key="net.ipv4.tcp_tw_reuse",profile="crawler",status="drift"} 0$' "$s" ||
	{ cat "$s" >&2; fail "no tcptune_key_compliant in the scrape"; }
# The label with a quote and a backslash, as node_exporter writes it back.
grep -qF "tcptune_drift_keys{profile=\"$(printf '%s' "$T" | sed 's/\\/\\\\/g')/we\\\"i\\\\rd/x.conf,baseline\"} 7" "$s" ||
	{ cat "$s" >&2; fail "the escaped profile label did not survive node_exporter"; }
grep -q '^tcptune_close_wait_by_process{comm="leaker\\\\x1b\]0;pwned\\\\x07",pid="4242"} 6$' "$s" ||
	{ cat "$s" >&2; fail "no tcptune_close_wait_by_process in the scrape"; }
exit 0
