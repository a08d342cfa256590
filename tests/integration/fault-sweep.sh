#!/bin/sh
# Fault sweep: an error injected (strace -e inject) at every occurrence of
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
# faults between them (one per core). The worker, fault-sweep.py, keeps each
# starting state in memory: a fault costs the strace'd run and little else.
#
# Syscalls counted: those of tcptune's main() (from its first syscall, the
# readlink of realpath(argv[0])) to its exit, except mmap, munmap, mprotect,
# madvise and brk (the allocator's: xmalloc aborts by design). Errors: EIO at
# each; ENOSPC too at write, pwrite64 and fsync; EACCES and EPERM too at the
# open and the write of a sysctl.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS TCPTUNE_TEST_LOCK_PAUSE_MS
tt_want strace strace "the fault sweep" || skip "no strace"
tt_want python3 python3 "the fault sweep" || skip "no python3"
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

# The worker (fault-sweep.py) runs in each sandbox: it makes each scenario's
# starting state once, counts the syscalls of the command, then runs its
# share of the faults.
cp "$SRCDIR/tests/integration/fault-sweep.py" "$T/worker.py" && chmod 644 "$T/worker.py" || exit 99

# Two passes: every call against a build without the sanitizers, then a
# sample against the sanitizer build (the ASan runtime's start is most of
# a run's cost: every call under it would take twice as long). A build
# configured without --enable-sanitizers has only the first pass.
# TT_SWEEP_SANITIZERS=every: every call under the sanitizers too (twice as long).
# A pass is LABEL:MODE:BINARY.
if [ -n "${TCPTUNE_NOSAN:-}" ]; then
	cp "$TCPTUNE_NOSAN" "$T/bin/tcptune-nosan" && chmod 755 "$T/bin/tcptune-nosan" || exit 99
	PASSES="plain:every:$T/bin/tcptune-nosan sanitizers:${TT_SWEEP_SANITIZERS:-sample}:$T/bin/tcptune"
else
	PASSES="plain:every:$T/bin/tcptune"
fi
mkdir -p "$T/ovl"
s=0
while [ $s -lt "$NSHARDS" ]; do
	# each pass in a sandbox of its own: its scenarios start from a fresh namespace
	for p in $PASSES; do
		l=${p%%:*} m=${p#*:} b=${m#*:} m=${m%%:*}
		mkdir -p "$T/w/$s/$l" && chmod 1777 "$T/w/$s" "$T/w/$s/$l" || exit 99
		{
			sandbox_mounts
			echo "PROFILES=$T/profiles SHARD=$s NSHARDS=$NSHARDS W=$T/w/$s/$l"
			echo "export PROFILES SHARD NSHARDS W"
			echo "exec python3 $T/worker.py $m $b >$T/w/$s/$l.out"
		} >"$T/shard$s.$l.sh"
		chmod 644 "$T/shard$s.$l.sh"
	done
	(
		for p in $PASSES; do
			$(sandbox_cmd) sh "$T/shard$s.${p%%:*}.sh" || exit 1
		done
	) 2>"$T/shard$s.err" &
	echo $! >"$T/shard$s.pid"
	s=$((s + 1))
done
status=0
s=0
while [ $s -lt "$NSHARDS" ]; do
	wait "$(cat "$T/shard$s.pid")" || { status=1; echo "shard $s failed:" >&2; cat "$T/shard$s.err" >&2; }
	for p in $PASSES; do
		p=${p%%:*}
		[ -e "$T/w/$s/$p.out" ] || continue
		grep '^INCONSISTENT' -A5 "$T/w/$s/$p.out" >&2
		grep '^shard ' "$T/w/$s/$p.out" | sed "s/^/$p: /"
	done
	s=$((s + 1))
done
[ $status -eq 0 ] || fail "a shard did not finish"

for p in $PASSES; do
	m=${p#*:} m=${m%%:*} p=${p%%:*}
	# a glob, expanded where it is used
	# shellcheck disable=SC2125
	out=$T/w/*/$p.out
	# the shards enumerated the same faults, and every one of them ran
	# shellcheck disable=SC2086
	[ "$(grep -h '^enumerated' $out | sort -u | wc -l)" -eq 1 ] ||
		fail "$p: the shards enumerated different faults: $(grep -h '^enumerated' $out)"
	enumerated=$(grep -h '^enumerated' "$T/w/0/$p.out" | cut -d' ' -f2)
	total=$(grep -h '^sweeping' "$T/w/0/$p.out" | cut -d' ' -f2)
	# shellcheck disable=SC2086
	N=$(grep -h '^shard .*: [0-9]* faults' $out | awk '{ s += $3 } END { print s + 0 }')
	# shellcheck disable=SC2086
	M=$(grep -h '^shard .*: [0-9]* faults' $out | awk '{ s += $5 } END { print s + 0 }')
	f=$T/w/0/$p/faults
	echo "$p: syscalls faulted (calls x errors, all scenarios):"
	awk '{ n[$2]++ } END { for (c in n) printf "  %s %d\n", c, n[c] }' "$f" | sort
	echo "$p: scenarios:"
	awk '{ n[$1]++ } END { for (s in n) printf "  %s %d\n", s, n[s] }' "$f" | sort
	if [ "$p" = plain ]; then
		echo "fault sweep: $N faults, $M consistent"
	elif [ "$m" = every ]; then
		echo "fault sweep under ASan and UBSan: $N faults, $M consistent"
	else
		echo "fault sweep under ASan and UBSan: $N faults, $M consistent (a sample of the $enumerated)"
		# the sample leaves out no syscall, scenario or error
		[ "$(cut -d' ' -f1,2,4 "$f" | sort -u | wc -l)" -eq \
			"$(cut -d' ' -f1,2,4 "$f.all" | sort -u | wc -l)" ] ||
			fail "the sample left out a syscall, scenario or error"
	fi
	[ "$N" -eq "$total" ] || fail "$p: $total faults to sweep, $N run"
	[ "$m" = sample ] || [ "$N" -eq "$enumerated" ] || fail "$p: $enumerated enumerated, $total swept"
	# every syscall the counting runs saw was faulted, and there are many
	[ "$enumerated" -ge 1000 ] || fail "$p: only $enumerated faults enumerated: not a meaningful sweep"
	[ "$N" -ge 200 ] || fail "$p: only $N faults swept: not a meaningful sweep"
	for c in openat read write close fsync renameat fcntl flock newfstatat getdents64; do
		grep -q " $c " "$f" || fail "$p: no $c among the faulted syscalls"
	done
	[ "$M" -eq "$N" ] || fail "$p: $((N - M)) of $N faults ended inconsistent"
done
exit 0
