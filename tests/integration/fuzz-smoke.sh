#!/bin/sh
# SPDX-License-Identifier: ISC
# Replay every committed fuzz corpus and regression input through the
# plain-main driver, built with this tree's compiler and flags (under
# --enable-sanitizers, ASan and UBSan). A crash, a sanitizer report or a
# broken property fails the test. No clang needed: tests/fuzz/build.sh
# builds the same targets for libFuzzer and AFL++.
. "$SRCDIR/tests/integration/lib.sh"
# libconfig 1.5 leaks a token's buffer on some syntax errors: not ours.
LSAN_OPTIONS="suppressions=$SRCDIR/tests/fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
n=0
for t in profile sysctld proctcp netlink value include journal; do
	bin="$BUILDDIR/tests/fuzz/fuzz_$t"
	[ -x "$bin" ] || fail "$bin not built"
	for d in corpus regressions; do
		dir="$SRCDIR/tests/fuzz/$d/$t"
		[ -d "$dir" ] || continue
		k=$(find "$dir" -type f | wc -l)
		[ "$d" = corpus ] && [ "$k" -eq 0 ] && fail "empty corpus $dir"
		"$bin" "$dir" >"$T/out" 2>"$T/err" || {
			cat "$T/err" >&2
			fail "fuzz_$t on $d/$t"
		}
		grep -q "^$bin: $k inputs run" "$T/err" || { cat "$T/err" >&2; fail "fuzz_$t ran a different count than $k"; }
		n=$((n + k))
	done
done
echo "replayed $n inputs"
exit 0
