#!/bin/sh
# SPDX-License-Identifier: ISC
# valgrind.sh UNIT_TEST...: `make check-valgrind`. Runs the unit tests, the
# fuzz replays and the binary on fixture roots under valgrind: any memory
# error or definite leak fails. Valgrind cannot run an ASan build (both
# own the address space): build without --enable-sanitizers for this.
set -u
: "${TCPTUNE:?run through make check-valgrind}" "${SRCDIR:?}" "${BUILDDIR:?}"
case "${TT_CFLAGS:-}" in
*fsanitize=address*)
	echo "check-valgrind: this build uses --enable-sanitizers; valgrind and ASan do not mix." >&2
	echo "check-valgrind: configure a second build dir without it." >&2
	exit 1 ;;
esac
command -v valgrind >/dev/null || { echo "check-valgrind: apt-get install -y valgrind" >&2; exit 1; }
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS \
	TCPTUNE_SOCKETS_SOURCE TCPTUNE_DIAG_FILE TCPTUNE_DIAG_RECORD
NO_COLOR=1
export NO_COLOR
T=$(mktemp -d "${TMPDIR:-/tmp}/tcptune-vg.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
	--show-leak-kinds=definite --suppressions=$SRCDIR/tests/fuzz/valgrind.supp"
runs=0 bad=0 skipped=0
# Valgrind before 3.21 answers openat2() with ENOSYS and the boot view
# needs it: serve it from a preloaded shim (vg-openat2.c), only here.
SHIM=
if ${CC:-cc} -shared -fPIC -o "$T/vg-openat2.so" "$SRCDIR/tests/fuzz/vg-openat2.c" -ldl 2>"$T/cc"; then
	SHIM=$T/vg-openat2.so
else
	cat "$T/cc" >&2
	echo "check-valgrind: cannot build the openat2 shim; runs that need openat2 will be skipped" >&2
fi

# vg NAME COMMAND...: a valgrind error makes the exit 99; a signal, 128+.
# Without the shim, a run that needs openat2() (syscall 437) fails for
# valgrind's sake: it is skipped and counted apart.
vg() {
	name=$1
	shift
	runs=$((runs + 1))
	# shellcheck disable=SC2086
	LD_PRELOAD=$SHIM $VG "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if grep -q 'unhandled amd64-linux syscall: 437' "$T/err"; then
		skipped=$((skipped + 1))
		echo "skip ($rc): $name: this valgrind lacks openat2()"
	elif [ "$rc" -eq 99 ] || [ "$rc" -ge 128 ]; then
		bad=$((bad + 1))
		echo "FAIL ($rc): $name: $*"
		cat "$T/err"
	else
		echo "ok ($rc): $name"
	fi
}

cd "$BUILDDIR" || exit 1
CMOCKA_MESSAGE_OUTPUT=TAP
export CMOCKA_MESSAGE_OUTPUT
for t in "$@"; do
	vg "$t" "./$t"
done

for t in profile sysctld proctcp netlink value include; do
	vg "fuzz_$t replay" "$BUILDDIR/tests/fuzz/fuzz_$t" \
		"$SRCDIR/tests/fuzz/corpus/$t" "$SRCDIR/tests/fuzz/regressions/$t"
done

# the binary on fixture copies
for f in root-basic apply-root sockets-proc sockets-ports; do
	mkdir -p "$T/$f" && cp -R "$SRCDIR/tests/data/$f/." "$T/$f/"
done
P="--profile-dir $SRCDIR/profiles"
R="$T/root-basic"
A="$T/apply-root"
S="$T/sockets-proc"
vg audit "$TCPTUNE" --root "$R" $P audit crawler
vg "audit json" "$TCPTUNE" --root "$R" $P -o json audit crawler baseline
vg "audit prometheus" "$TCPTUNE" --root "$R" $P -o prometheus audit web-server
vg show "$TCPTUNE" --root "$R" $P show crawler high-bandwidth
vg profiles "$TCPTUNE" --root "$R" $P profiles
vg explain "$TCPTUNE" --root "$R" explain net.ipv4.tcp_tw_reuse net.ipv4.tcp_rmem net.ipv4.tcp_keepalive_tme
vg validate "$TCPTUNE" --root "$R" --profile-dir "$SRCDIR/tests/data/profiles-good" validate "$SRCDIR"/tests/data/profiles-good/*.conf
vg "validate bad" "$TCPTUNE" --root "$R" validate "$SRCDIR"/tests/data/profiles-bad/*.conf
vg render "$TCPTUNE" --root "$A" $P render crawler
vg plan "$TCPTUNE" --root "$A" $P plan crawler
vg apply "$TCPTUNE" --root "$A" $P apply crawler
vg "apply again" "$TCPTUNE" --root "$A" $P -o json apply crawler
vg "audit after apply" "$TCPTUNE" --root "$A" $P audit
vg rollback "$TCPTUNE" --root "$A" $P rollback
vg sockets "$TCPTUNE" --root "$S" sockets --by owner
vg "sockets json" "$TCPTUNE" --root "$S" -o json sockets --by remote --state close-wait,time-wait
vg "sockets replay" env TCPTUNE_DIAG_FILE="$SRCDIR/tests/data/sockets-nl/all.nl" "$TCPTUNE" --root "$S" -o prometheus sockets
vg doctor "$TCPTUNE" --root "$S" $P doctor crawler
vg "doctor ports" "$TCPTUNE" --root "$T/sockets-ports" -o json doctor
vg usage "$TCPTUNE" --root "$R" frobnicate

echo "check-valgrind: $runs runs, $bad with valgrind errors or definite leaks, $skipped skipped for want of openat2"
[ "$bad" -eq 0 ]
