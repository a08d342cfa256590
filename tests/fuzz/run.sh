#!/bin/sh
# SPDX-License-Identifier: ISC
# run.sh FUZZDIR TARGET RUNS SECONDS [WORKDIR]: fuzz one target (built by
# build.sh into FUZZDIR) from its committed corpus until RUNS executions or
# SECONDS have passed, restarting after each crash so one finding does not
# end the run. Crash inputs land in WORKDIR/artifacts, new inputs in
# WORKDIR/corpus; the total count of executions is printed at the end.
set -u
fz=${1:?usage: run.sh FUZZDIR TARGET RUNS SECONDS [WORKDIR]}
t=${2:?target}
runs=${3:?runs}
secs=${4:?seconds}
here=$(cd "$(dirname "$0")" && pwd)
w=${5:-$fz/work-$t}
mkdir -p "$w/corpus" "$w/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Longer inputs mostly repeat what shorter ones test, slower: a line or a few.
case $t in
value) maxlen=512 ;;
proctcp) maxlen=1024 ;;
sysctld) maxlen=2048 ;;
*) maxlen=4096 ;;
esac
# libFuzzer exits at once on a corpus directory that does not exist:
# pass the committed ones this target has (not every target has regressions).
dirs=
for d in "$here/corpus/$t" "$here/regressions/$t"; do
	[ -d "$d" ] && dirs="$dirs $d"
done
total=0
end=$(($(date +%s) + secs))
i=0
while [ "$total" -lt "$runs" ] && [ "$(date +%s)" -lt "$end" ]; do
	i=$((i + 1))
	left=$((end - $(date +%s)))
	# shellcheck disable=SC2086
	"$fz/fuzz_$t" -runs=$((runs - total)) -max_total_time="$left" -timeout=10 \
		-rss_limit_mb=2048 -max_len="${FUZZ_MAX_LEN:-$maxlen}" -print_final_stats=1 \
		-artifact_prefix="$w/artifacts/" "$w/corpus" $dirs >"$w/log.$i" 2>&1
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log.$i")
	total=$((total + ${n:-0}))
	# no executions at all: the run cannot start, and looping would hide it
	[ -n "$n" ] || { echo "$t: no run in $w/log.$i" >&2; tail -n 3 "$w/log.$i" >&2; break; }
	grep -q '^SUMMARY\|^==.*ERROR' "$w/log.$i" && echo "$t: finding in $w/log.$i" >&2
done
echo "$t: $total executions in $i run(s)"
