#!/bin/sh
# Fault sweep: an error injected (strace -e inject) at every occurrence of
# (TT_SWEEP_FULL=1; by default at a spread sample of the occurrences of)
# every syscall that apply and rollback make, in every transition of the
# journal's life cycle (src/apply.c), in the namespace sandbox. After each
# fault: the namespace's live values and the fragment are all as before the
# command or all as after it, the exit status and the message say which, and
# one more apply or rollback reaches a clean state (journal readable, not
# interrupted, audit agrees).
#
# Why strace and not in-process hooks: strace sees every syscall, those libc
# and libconfig make for us too (readdir's getdents64, fopen's openat), so the
# list faulted is the list the kernel sees, with nothing to keep in step with
# the code. Its cost is one process start per fault, the same as any hook's;
# --seccomp-bpf stops only at the one syscall traced. Two sandboxes share the
# faults between them (one per core).
#
# Syscalls counted: those of tcptune's main() (from its first syscall, the
# readlink of realpath(argv[0])) to its exit, except mmap, munmap, mprotect,
# madvise and brk (the allocator's: xmalloc aborts by design). Errors: EIO at
# each; ENOSPC too at write, pwrite64 and fsync; EACCES and EPERM too at the
# open and the write of a sysctl.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS TCPTUNE_TEST_LOCK_PAUSE_MS
tt_want strace strace "the fault sweep" || skip "no strace"
tt_need_sandbox
# one sandbox per core; TT_SWEEP_SHARDS=N for more (a machine others load too)
NSHARDS=${TT_SWEEP_SHARDS:-2}

# Small profiles: two keys make a mixed state possible, and fewer keys mean fewer faults to run.
cat >"$T/profiles/sweep.conf" <<'EOP'
description = "fault sweep";
sysctl = { net = { ipv4 = {
  tcp_fin_timeout = { value = 30; };
  tcp_tw_reuse = { value = 1; };
}; }; };
EOP
cat >"$T/profiles/sweepb.conf" <<'EOP'
description = "fault sweep, the second profile";
sysctl = { net = { ipv4 = {
  tcp_fin_timeout = { value = 20; };
  tcp_syncookies = { value = 2; };
}; }; };
EOP
chmod 644 "$T"/profiles/sweep*.conf

# The worker runs in a sandbox: it makes each scenario's starting state once,
# counts the syscalls of the command, then runs its share of the faults.
cat >"$T/worker.sh" <<'EOW'
set -u
# LeakSanitizer cannot run under ptrace
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export ASAN_OPTIONS
F=/etc/sysctl.d/90-tcptune.conf
J=/var/lib/tcptune/last-apply
KEYS="/proc/sys/net/ipv4/tcp_fin_timeout /proc/sys/net/ipv4/tcp_tw_reuse /proc/sys/net/ipv4/tcp_syncookies"
tt() { "$TCPTUNE" --profile-dir "$PROFILES" "$@"; }
jstate() {
	if [ -e "$J" ]; then sed -n 's/^ *"state": "\([a-z-]*\)".*/\1/p' "$J"; else echo none; fi
}
# $W/now: the live values and the fragment; $W/now.full: those, the journal
# (but its pid) and the files around them, all a next run starts from. One
# read() per value: /proc/sys answers a read past offset 0 with nothing.
look() {
	set -- $KEYS
	[ -e "$F" ] && set -- "$@" "$F"
	[ -e "$J" ] && set -- "$@" "$J"
	awk -v F="$F" -v J="$J" -v now="$W/now" '
		FNR == 1 && FILENAME !~ /^\/proc\// { print "--- " FILENAME }
		FILENAME == J { sub(/"pid": [0-9]*/, "\"pid\"") }
		FILENAME == F { frag = frag $0 "\\n" }
		FILENAME != J && FILENAME != F { print FILENAME ":" $0 >now }
		{ print FILENAME ":" $0 }
		END { print F ":" (frag == "" ? "absent or empty" : frag) >now }' "$@" >"$W/now.full"
	# files, not directories: an empty /var/lib/tcptune left by a failed first apply is no state
	find /etc/sysctl.d /var/lib -type f -printf '%p %m %U %s\n' | sort >>"$W/now.full"
}
# Is every line of $W/now (each key, the fragment) as in $1 or as in $2?
between() {
	awk 'FILENAME == ARGV[1] { a[FNR] = $0; next } FILENAME == ARGV[2] { b[FNR] = $0; next }
		$0 != a[FNR] && $0 != b[FNR] { bad = 1 } END { exit bad }' "$1" "$2" "$W/now"
}
save() {
	mkdir -p "$W/snap/$1" && look && cp "$W/now" "$W/snap/$1/live" && cp "$W/now.full" "$W/snap/$1/full" &&
		cp -a /etc/sysctl.d "$W/snap/$1/sysctl.d" && cp -a /var/lib "$W/snap/$1/lib" || exit 99
}
load() {
	rm -rf /etc/sysctl.d/* /etc/sysctl.d/.[!.]* /var/lib/* /var/lib/.[!.]* &&
		cp -a "$W/snap/$1/sysctl.d/." /etc/sysctl.d/ && cp -a "$W/snap/$1/lib/." /var/lib/ || exit 99
	while IFS=: read -r _k _v; do
		case $_k in /proc/sys/*) echo "$_v" >"$_k" || exit 99 ;; esac
	done <"$W/snap/$1/live"
}
crash() {
	TCPTUNE_TEST_CRASH_AT=$1 tt "$2" ${3:-} >/dev/null 2>&1
	[ $? -eq 137 ] || { echo "setup: $2 did not die at $1 (a build without --enable-test-hooks?)" >&2; exit 99; }
}
ok() { tt "$@" >/dev/null 2>&1 || { echo "setup: tt $* failed" >&2; exit 99; }; }

# name | set-up | command | the journal's state after a success | audit's exit after it
SCENARIOS='
apply-fresh|:|apply sweep|complete|0
apply-over-complete|ok apply sweep|apply sweepb|complete|0
apply-after-rollback|ok apply sweep; ok rollback|apply sweep|complete|0
apply-noop-after-rollback|ok apply sweep; ok apply sweepb; ok rollback|apply sweep|complete|0
recover-then-apply|crash key:1 apply sweep|apply sweep|complete|0
rollback-complete|ok apply sweep|rollback|rolled-back|1
rollback-incomplete|crash key:1 apply sweep|rollback|rolled-back|1
rollback-rolling-back|ok apply sweep; crash rollback-key:1 rollback|rollback|rolled-back|1
'

echo 8192 >/proc/sys/net/ipv4/tcp_max_tw_buckets || exit 99
save base
: >"$W/faults"
echo "$SCENARIOS" | while IFS='|' read -r name setup cmd jend arc; do
	[ -n "$name" ] || continue
	load base
	eval "$setup"
	save "$name"
	echo "$cmd" >"$W/snap/$name/cmd"
	echo "$jend $arc" >"$W/snap/$name/end"
	# the counting run: every syscall, with the paths of the descriptors, as a fault run makes them
	strace -f -qq -y -o "$W/count.$name" "$TCPTUNE" --profile-dir "$PROFILES" $cmd </dev/null >"$W/f.out" 2>"$W/f.err" ||
		{ echo "counting run of $name failed" >&2; exit 99; }
	look
	cp "$W/now" "$W/snap/$name/new.live"
	[ "$(jstate)" = "$jend" ] || { echo "$name: the journal says $(jstate), not $jend" >&2; exit 99; }
	cmp -s "$W/snap/$name/live" "$W/snap/$name/new.live" && [ "$name" != apply-noop-after-rollback ] &&
		{ echo "$name changes nothing: it would prove nothing" >&2; exit 99; }
	# every call after main() starts: SCENARIO SYSCALL N ERRNO CALL (its first argument, to check the fault hit it)
	awk -v s="$name" '
		{ c = $2; sub(/\(.*/, "", c) }
		c ~ /^(\+\+\+|---)/ { next }
		{ n[c]++ }
		# main() starts with realpath(argv[0]); the sanitizers read /proc/self/exe before
		!m && c == "readlink" && $2 !~ /^readlink\("\/proc\// { m = 1 }
		!m || c ~ /^(mmap|munmap|mprotect|madvise|brk|exit_group)$/ { next }
		{
			call = $0
			sub(/^[0-9]* */, "", call); sub(/[,)].*/, "", call); gsub(/\/proc\/[0-9]+\//, "/proc/PID/", call)
			gsub(/socket:\[[0-9]+\]/, "socket", call); gsub(/\.[0-9a-f]+>/, ".TEMP>", call)
			if (c == "getrandom") call = c
			print s, c, n[c], "EIO", call
			if (c == "write" || c == "pwrite64" || c == "fsync")
				print s, c, n[c], "ENOSPC", call
			if ((c == "write" && $2 ~ /<\/proc\/sys\//) ||
			    (c == "openat" && $0 ~ /<\/proc\/sys\/[^>]*>, "[^"]*", O_WRONLY/)) {
				print s, c, n[c], "EACCES", call
				print s, c, n[c], "EPERM", call
			}
		}' "$W/count.$name" >>"$W/faults"
done || exit 99
[ -s "$W/faults" ] || exit 99
echo "enumerated $(wc -l <"$W/faults") $(cut -d' ' -f1-4 "$W/faults" | cksum)"
# By default a sample, so that make check stays within minutes: every syscall
# of every scenario with every error, at its first and last call and at calls
# spread between (at most 6 a group). TT_SWEEP_FULL=1: every call (about an
# hour on 2 cores).
if [ -z "${TT_SWEEP_FULL:-}" ]; then
	cp "$W/faults" "$W/faults.all" || exit 99
	awk 'NR == FNR { g = $1 " " $2 " " $4; if ($3 > max[g]) max[g] = $3; next }
		{ g = $1 " " $2 " " $4; m = max[g]; st = int((m + 3) / 4) }
		$3 == 1 || $3 == m || $3 % st == 0' "$W/faults" "$W/faults" >"$W/faults.sample" &&
		mv "$W/faults.sample" "$W/faults" || exit 99
fi
[ -e "$W/faults.all" ] || cp "$W/faults" "$W/faults.all" || exit 99
echo "sweeping $(wc -l <"$W/faults")"

i=0
n=0
bad=0
while read -r name sys k err want; do
	i=$((i + 1))
	[ $((i % NSHARDS)) -eq "$SHARD" ] || continue
	# TT_SWEEP_SCENARIOS=GLOB: only those scenarios (to retry a fix; the test then fails its count)
	case $name in ${TT_SWEEP_SCENARIOS:-*}) ;; *) continue ;; esac
	n=$((n + 1))
	read -r cmd <"$W/snap/$name/cmd"
	read -r jend arc <"$W/snap/$name/end"
	load "$name"
	strace -f -qq -y -o "$W/f.st" --seccomp-bpf -e trace="$sys" -e inject="$sys:error=$err:when=$k" \
		"$TCPTUNE" --profile-dir "$PROFILES" $cmd </dev/null >"$W/f.out" 2>"$W/f.err"
	rc=$?
	why=
	# the k-th call of the syscall failed, and it is the k-th call of the counting run
	hit=$(awk -v k="$k" '/INJECTED/ { n++; if (NR != k) bad = 1; c = $0; sub(/^[0-9]* */, "", c);
		sub(/[,)].*/, "", c); gsub(/\/proc\/[0-9]+\//, "/proc/PID/", c)
		gsub(/socket:\[[0-9]+\]/, "socket", c); gsub(/\.[0-9a-f]+>/, ".TEMP>", c)
		if (c ~ /^getrandom/) c = "getrandom" }
		END { print (n == 1 && !bad) ? c : "none" }' "$W/f.st")
	[ "$hit" = "$want" ] || why="the fault did not hit call $k as counted ($want) but $hit"
	look
	# (apply-noop-after-rollback: before and after differ only in the journal)
	s=mixed
	cmp -s "$W/now" "$W/snap/$name/new.live" && s=after
	[ "$rc" -ne 0 ] || [ $s = mixed ] && cmp -s "$W/now" "$W/snap/$name/live" && s=before
	[ "$s" = mixed ] && cmp -s "$W/now" "$W/snap/base/live" && [ "$cmd" != rollback ] && s=recovered
	grep -Eq 'AddressSanitizer|runtime error:|LeakSanitizer' "$W/f.err" && why="${why:+$why; }a sanitizer report"
	if [ -z "$why" ]; then
		case "$rc/$s" in
		0/after) ;;
		0/*) why="exit 0, but the namespace is $s the command" ;;
		[123]/before)
			# nothing changed: then the journal, the way back, is as it was too
			cmp -s "$W/now.full" "$W/snap/$name/full" ||
				why="exit $rc and the values as before, but the journal or its directory changed: $(diff "$W/snap/$name/full" "$W/now.full" | grep '^[<>]' | tr '\n' ' ' | cut -c1-300)"
			;;
		[123]/recovered)
			# restored; the journal says so, or still says interrupted and the next run restores again
			case $(jstate) in
			rolled-back|incomplete) ;;
			*) why="exit $rc after recovering, but the journal says $(jstate)" ;;
			esac ;;
		4/*)
			# an interrupted transaction's restore that failed part way: each value
			# as before or as restored, the journal still interrupted, exit 4 saying
			# so; and something really not restored (a read-back that failed once
			# is no such thing: the value is back)
			case $name/$(jstate) in
			recover-*/incomplete|recover-*/rolling-back|rollback-incomplete/incomplete|rollback-incomplete/rolling-back|rollback-rolling-back/rolling-back)
				if ! between "$W/snap/$name/live" "$W/snap/base/live"; then
					why="exit 4, and some value is neither as before nor as restored"
				elif cmp -s "$W/now" "$W/snap/base/live"; then
					why="exit 4 (not all restored), but every value and the fragment are restored"
				fi ;;
			*) why="exit 4, the namespace mixed and the journal $(jstate)" ;;
			esac ;;
		*) why="exit $rc, and the namespace is $s the command" ;;
		esac
	fi
	[ -z "$why" ] && [ "$rc" -ne 0 ] && grep -Eq '^[^ ]*: applied;|^rolled back ' "$W/f.out" &&
		why="exit $rc, yet it says it succeeded"
	[ -z "$why" ] && [ "$rc" -ne 0 ] && [ ! -s "$W/f.err" ] && why="exit $rc without a word"
	[ -z "$why" ] && grep -q 'nothing was changed' "$W/f.err" && ! cmp -s "$W/now.full" "$W/snap/$name/full" &&
		why="says nothing was changed, but the namespace or the journal changed"
	# one more run of the same command reaches a clean state (run once per distinct state it starts from)
	key=$(cksum <"$W/now.full" | tr ' ' _)
	if [ -z "$why" ] && [ ! -e "$W/done.$name.$key" ]; then
		tt $cmd </dev/null >"$W/r.out" 2>&1
		r=$?
		look
		if [ $r -ne 0 ]; then
			why="then '$cmd' exited $r: $(tr '\n' ' ' <"$W/r.out")"
		elif ! cmp -s "$W/now" "$W/snap/$name/new.live"; then
			why="then '$cmd' left $(tr '\n' ' ' <"$W/now")"
		elif [ "$(jstate)" != "$jend" ]; then
			why="then '$cmd' left the journal $(jstate)"
		else
			# after a rollback, audit of the profile rolled back finds it undone (exit 1)
			p=${cmd#apply }
			[ "$cmd" = rollback ] && p=sweep
			tt audit "$p" </dev/null >"$W/a.out" 2>&1
			a=$?
			[ $a -eq "$arc" ] || why="then audit exited $a, not $arc: $(tr '\n' ' ' <"$W/a.out")"
			grep -q 'did not finish' "$W/a.out" && why="then audit says an apply did not finish"
		fi
		[ -z "$why" ] && : >"$W/done.$name.$key"
	fi
	if [ -n "$why" ]; then
		bad=$((bad + 1))
		echo "INCONSISTENT: $name: $sys call $k ($want) -> $err: exit $rc: $why"
		sed 's/^/    /' "$W/f.err" | head -5
	fi
done <"$W/faults"
echo "shard $SHARD: $n faults, $((n - bad)) consistent"
EOW
chmod 644 "$T/worker.sh"

mkdir -p "$T/ovl"
s=0
while [ $s -lt "$NSHARDS" ]; do
	mkdir -p "$T/w/$s" && chmod 1777 "$T/w/$s"
	{ sandbox_mounts; cat <<EOS
TCPTUNE=$T/bin/tcptune PROFILES=$T/profiles W=$T/w/$s SHARD=$s NSHARDS=$NSHARDS
export TCPTUNE PROFILES W
EOS
	cat "$T/worker.sh"; } >"$T/shard$s.sh"
	chmod 644 "$T/shard$s.sh"
	$(sandbox_cmd) sh "$T/shard$s.sh" >"$T/shard$s.out" 2>"$T/shard$s.err" &
	echo $! >"$T/shard$s.pid"
	s=$((s + 1))
done
status=0
s=0
while [ $s -lt "$NSHARDS" ]; do
	wait "$(cat "$T/shard$s.pid")" || { status=1; echo "shard $s failed:" >&2; cat "$T/shard$s.err" >&2; }
	grep '^INCONSISTENT' -A5 "$T/shard$s.out" >&2
	s=$((s + 1))
done
[ $status -eq 0 ] || fail "a shard did not finish"

# Both shards enumerated the same faults, and every one of them ran.
[ "$(grep -h '^enumerated' "$T"/shard*.out | sort -u | wc -l)" -eq 1 ] ||
	fail "the shards enumerated different faults: $(grep -h '^enumerated' "$T"/shard*.out)"
enumerated=$(grep -h '^enumerated' "$T/shard0.out" | cut -d' ' -f2)
total=$(grep -h '^sweeping' "$T/shard0.out" | cut -d' ' -f2)
N=$(grep -h '^shard .*: [0-9]* faults' "$T"/shard*.out | awk '{ s += $3 } END { print s + 0 }')
M=$(grep -h '^shard .*: [0-9]* faults' "$T"/shard*.out | awk '{ s += $5 } END { print s + 0 }')
echo "syscalls faulted (calls x errors, all scenarios):"
awk '{ n[$2]++ } END { for (c in n) printf "  %s %d\n", c, n[c] }' "$T/w/0/faults" | sort
echo "scenarios:"
awk '{ n[$1]++ } END { for (s in n) printf "  %s %d\n", s, n[s] }' "$T/w/0/faults" | sort
if [ -n "${TT_SWEEP_FULL:-}" ]; then
	echo "fault sweep: $N faults, $M consistent"
else
	echo "fault sweep: $N faults, $M consistent (a sample of the $enumerated enumerated; TT_SWEEP_FULL=1 runs all)"
fi
[ "$N" -eq "$total" ] || fail "$total faults to sweep, $N run"
# every syscall the counting runs saw was faulted (at every call with TT_SWEEP_FULL), and there are many
[ "$enumerated" -ge 1000 ] || fail "only $enumerated faults enumerated: not a meaningful sweep"
[ "$N" -ge 200 ] || fail "only $N faults swept: not a meaningful sweep"
[ "$(cut -d' ' -f1,2,4 "$T/w/0/faults" | sort -u | wc -l)" -eq \
	"$(cut -d' ' -f1,2,4 "$T/w/0/faults.all" | sort -u | wc -l)" ] ||
	fail "the sample left out a syscall, scenario or error"
for c in openat read write close fsync renameat fcntl flock newfstatat getdents64; do
	grep -q " $c " "$T/w/0/faults" || fail "no $c among the faulted syscalls"
done
[ "$M" -eq "$N" ] || fail "$((N - M)) of $N faults ended inconsistent"
exit 0
