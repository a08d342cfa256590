#!/bin/sh
# SPDX-License-Identifier: ISC
# campaign.sh OUTDIR [RUNS] [TARGET...]: fuzz every target (or those named)
# to RUNS executions each (10 M by default), one target after another with
# JOBS fuzzers each (2: one a core), at nice 19. The campaign runs a build
# with UBSan and no ASan (FUZZ_SANITIZERS=undefined: several times faster);
# every input it kept, with the committed corpus, is then replayed once
# under ASan, UBSan and LeakSanitizer. Prints one line a target:
#   TARGET: N executions in K run(s), S s; replay of C inputs: clean|FINDING
# and exits 1 when any run or replay found something (see OUTDIR/work-*).
#
#   tests/fuzz/campaign.sh /var/tmp/fz 10000000
set -u
out=${1:?usage: campaign.sh OUTDIR [RUNS] [TARGET...]}
runs=${2:-10000000}
if [ $# -ge 2 ]; then shift 2; else shift $#; fi
here=$(cd "$(dirname "$0")" && pwd)
targets=${*:-netlink proctcp value journal include sysctld profile}
JOBS=${JOBS:-2}
export JOBS
# the scratch roots the targets write each execution: memory, not disk
TMPDIR=${TMPDIR:-/dev/shm}
export TMPDIR
FUZZ_SANITIZERS=undefined nice "$here/build.sh" "$out/fast" >/dev/null || exit 2
nice "$here/build.sh" "$out/asan" >/dev/null || exit 2
export LSAN_OPTIONS="suppressions=$here/lsan.supp:print_suppressions=0"
bad=0
for t in $targets; do
	w=$out/work-$t
	s=$(date +%s)
	line=$(nice -n 19 sh "$here/run.sh" "$out/fast" "$t" "$runs" 86400 "$w" 2>"$w.err")
	[ -s "$w.err" ] && { cat "$w.err" >&2; bad=1; }
	d=$(($(date +%s) - s))
	dirs=$w/corpus
	for c in "$here/corpus/$t" "$here/regressions/$t"; do
		[ -d "$c" ] && dirs="$dirs $c"
	done
	# shellcheck disable=SC2086
	n=$(find $dirs -type f | wc -l)
	# -runs=0: run each input once, then stop
	# shellcheck disable=SC2086
	if nice -n 19 "$out/asan/fuzz_$t" -runs=0 -timeout=10 -rss_limit_mb=2048 $dirs \
		>"$w/replay.log" 2>&1; then
		verdict=clean
	else
		verdict="FINDING (see $w/replay.log)"
		bad=1
	fi
	echo "$line, $d s; replay of $n inputs: $verdict"
done
exit $bad
