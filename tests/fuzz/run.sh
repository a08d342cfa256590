#!/bin/sh
# SPDX-License-Identifier: ISC
# run.sh FUZZDIR TARGET RUNS SECONDS [WORKDIR]: fuzz one target (built by
# build.sh into FUZZDIR) from its committed corpus until RUNS executions or
# SECONDS have passed, restarting after each crash so one finding does not
# end the run. Crash inputs land in WORKDIR/artifacts, new inputs in
# WORKDIR/corpus; the total count of executions is printed at the end.
# JOBS=N runs N fuzzers of the one target side by side (one a core), each
# with RUNS/N executions, sharing WORKDIR/corpus (libFuzzer rereads it).
set -u
fz=${1:?usage: run.sh FUZZDIR TARGET RUNS SECONDS [WORKDIR]}
t=${2:?target}
runs=${3:?runs}
secs=${4:?seconds}
here=$(cd "$(dirname "$0")" && pwd)
w=${5:-$fz/work-$t}
jobs=${JOBS:-1}
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
end=$(($(date +%s) + secs))

# one fuzzer, restarted after each finding: prints its executions and runs
fuzz_loop() {
	j=$1 want=$2 total=0 i=0
	while [ "$total" -lt "$want" ] && [ "$(date +%s)" -lt "$end" ]; do
		i=$((i + 1))
		log=$w/log.$j.$i
		left=$((end - $(date +%s)))
		# shellcheck disable=SC2086
		"$fz/fuzz_$t" -runs=$((want - total)) -max_total_time="$left" -timeout=10 \
			-rss_limit_mb=2048 -max_len="${FUZZ_MAX_LEN:-$maxlen}" -print_final_stats=1 \
			-artifact_prefix="$w/artifacts/" "$w/corpus" $dirs >"$log" 2>&1
		n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		total=$((total + ${n:-0}))
		# no executions at all: the run cannot start, and looping would hide it
		[ -n "$n" ] || { echo "$t: no run in $log" >&2; tail -n 3 "$log" >&2; break; }
		grep -q '^SUMMARY\|^==.*ERROR' "$log" && echo "$t: finding in $log" >&2
	done
	echo "$total $i"
}

pids=
for j in $(seq 1 "$jobs"); do
	fuzz_loop "$j" $(((runs + jobs - j) / jobs)) >"$w/count.$j" &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
total=0 n=0
for j in $(seq 1 "$jobs"); do
	read -r c k <"$w/count.$j" || { c=0 k=0; }
	total=$((total + c)) n=$((n + k))
done
echo "$t: $total executions in $n run(s)"
