#!/bin/sh
# SPDX-License-Identifier: ISC
# build.sh OUTDIR: build the fuzz targets with clang's libFuzzer, ASan and
# UBSan, out of tree in OUTDIR (the normal build is not touched). With
# FUZZ_ENGINE=afl, build them with afl-clang-fast and driver.c for afl-fuzz.
#
#   tests/fuzz/build.sh /tmp/fz && /tmp/fz/fuzz_value -runs=1000000 tests/fuzz/corpus/value
#   FUZZ_ENGINE=afl tests/fuzz/build.sh /tmp/afl &&
#       afl-fuzz -i tests/fuzz/corpus/profile -o /tmp/afl/out -- /tmp/afl/fuzz_profile @@
set -eu
out=${1:?usage: build.sh OUTDIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
engine=${FUZZ_ENGINE:-libfuzzer}
# FUZZ_SANITIZERS=undefined: a build without ASan, several times faster,
# for long campaigns whose new corpus inputs are then replayed under ASan
san="-fsanitize=${FUZZ_SANITIZERS:-address,undefined} -fno-sanitize-recover=all -fno-omit-frame-pointer"
case $engine in
libfuzzer)
	CC=${CC:-clang}
	lib_cflags="-g -O1 $san -fsanitize=fuzzer-no-link"
	link="$san -fsanitize=fuzzer"
	driver=
	;;
afl)
	CC=${CC:-afl-clang-fast}
	lib_cflags="-g -O1 $san"
	link="$san"
	driver=$src/tests/fuzz/driver.c
	;;
*)
	echo "build.sh: FUZZ_ENGINE must be libfuzzer or afl" >&2
	exit 2
	;;
esac
command -v "$CC" >/dev/null || {
	echo "build.sh: $CC not found (apt-get install -y clang libclang-rt-14-dev)" >&2
	exit 2
}
mkdir -p "$out/build"
out=$(cd "$out" && pwd)
[ -f "$src/configure" ] || (cd "$src" && ./bootstrap)
cd "$out/build"
if [ ! -f Makefile ]; then
	"$src/configure" CC="$CC" CFLAGS="$lib_cflags" >configure.log 2>&1 ||
		{ cat configure.log >&2; exit 1; }
fi
make -j2 libtcptune.a >make.log 2>&1 || { cat make.log >&2; exit 1; }
flags="-g -O1 $san -include $out/build/config.h -I$src/src -I$src/tests/fuzz"
libs="$(pkg-config --libs libconfig jansson libmnl)"
for t in profile sysctld proctcp netlink value include journal; do
	# shellcheck disable=SC2086
	$CC $flags $link -o "$out/fuzz_$t" "$src/tests/fuzz/fuzz_$t.c" \
		"$src/tests/fuzz/common.c" $driver "$out/build/libtcptune.a" $libs
done
echo "built $out/fuzz_{profile,sysctld,proctcp,netlink,value,include,journal} ($engine)"
