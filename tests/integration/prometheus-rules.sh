#!/bin/sh
# SPDX-License-Identifier: ISC
# contrib/prometheus rules: promtool check and unit tests, on the metric names tcptune really writes; each healthy series keeps its alert silent.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_SOCKETS_SOURCE NO_COLOR
command -v promtool >/dev/null 2>&1 || skip "promtool is not installed (apt-get install prometheus)"
P="$SRCDIR/contrib/prometheus"
mkdir "$T/p" && cp "$P/tcptune.rules.yml" "$P/tcptune.rules.test.yml" "$T/p/" || fail "cannot copy the rules"

promtool check rules "$T/p/tcptune.rules.yml" >"$T/check" 2>&1 || { cat "$T/check" >&2; fail "promtool check rules"; }
cat "$T/check"
grep -q 'SUCCESS: 7 rules found' "$T/check" || fail "not the 7 rules"
(cd "$T/p" && promtool test rules tcptune.rules.test.yml) >"$T/test" 2>&1 ||
	{ cat "$T/test" >&2; fail "promtool test rules"; }
cat "$T/test"

# Every alert is tested firing and silent, on the healthy series as well.
for a in TcptuneNotCompliant TcptuneBootDrift TcptuneCloseWaitLeak TcptunePortHeadroomLow TcptuneMetricsStale; do
	grep -q "alertname: $a\$" "$T/p/tcptune.rules.test.yml" || fail "no unit test for $a"
done

# The tests can fail: each rule, made careless in the way a healthy series
# catches, must break them (mutant rules, same tests).
mutant() {
	sed "$1" "$P/tcptune.rules.yml" >"$T/p/tcptune.rules.yml"
	cmp -s "$T/p/tcptune.rules.yml" "$P/tcptune.rules.yml" && fail "mutation '$1' changed nothing"
	(cd "$T/p" && promtool test rules tcptune.rules.test.yml) >"$T/mut" 2>&1 &&
		fail "the unit tests pass on a rule mutated by '$1'"
	grep -q "$2" "$T/mut" || { cat "$T/mut" >&2; fail "mutation '$1' did not break $2"; }
}
mutant 's/{status!="boot-drift"}//' TcptuneNotCompliant                 # boot drift pages twice
mutant 's/status="boot-drift"/status=~".*drift"/' TcptuneBootDrift       # live drift called boot drift
mutant '/and instance_pid:tcptune_close_wait/d' TcptuneCloseWaitLeak    # a flat count is a leak
mutant 's/tcptune_close_wait_by_process >= 20/tcptune_close_wait_by_process >= 1/' TcptuneCloseWaitLeak
mutant 's/ratio < 0.2/ratio < 0.6/' TcptunePortHeadroomLow              # tw_reuse at 50 % pages
mutant '/alert: TcptunePortHeadroomLow/,/for:/s/for: 5m/for: 1m/' TcptunePortHeadroomLow   # a spike pages
mutant 's/file=~"(.\*\/)?tcptune\\\\.prom"/file=~".*"/' TcptuneMetricsStale  # another textfile pages
mutant 's/(.\*\/)?tcptune/tcptune/' TcptuneMetricsStale                  # the full path of node_exporter >= 1.6

# The rules use the names tcptune writes: audit and sockets on fixture roots,
# doctor too; node_* only from node_exporter's textfile collector. Every
# tcptune metric is in the manual.
R=$(tt_root root-basic)
S=$(tt_root sockets-proc)
# make dist drops the dangling fd links (socket:[N]): remake them
sh "$SRCDIR/tests/data/sockets-proc/mkfds.sh" "$S" || fail "mkfds"
{ "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" -o prometheus audit crawler
  "$TCPTUNE" --root "$S" -o prometheus sockets
  "$TCPTUNE" --root "$S" -o prometheus doctor; } >"$T/all.prom" 2>"$T/err"
sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' "$T/all.prom" | sort -u >"$T/written"
[ "$(wc -l <"$T/written")" -ge 9 ] || { cat "$T/all.prom" >&2; fail "too few metrics written"; }
grep -v '^ *#' "$P/tcptune.rules.yml" | grep -v 'record:' |
	grep -oE '(^|[^:a-z_])(tcptune|node)_[a-z_]+' | sed 's/^[^a-z]//' | sort -u >"$T/used"
for m in $(cat "$T/used"); do
	case $m in
	node_textfile_mtime_seconds) ;;
	*) grep -qx "$m" "$T/written" || fail "the rules use $m, which tcptune does not write" ;;
	esac
done
for m in $(cat "$T/written"); do
	grep -q "^\.It Va $m\( \|$\)" "$SRCDIR/man/tcptune.8" || fail "tcptune.8 does not document $m"
done
# Prometheus' conventions: gauges only, no _total without a counter, base units.
grep -q '^# TYPE .* \(counter\|histogram\|summary\)$' "$T/all.prom" && fail "a non-gauge type crept in"
grep -Eq '^tcptune_[a-z_]*_(total|ms|milliseconds|minutes)[{ ]' "$T/all.prom" && fail "a name breaks the conventions"
exit 0
