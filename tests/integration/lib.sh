# lib.sh: helpers sourced by the integration tests (POSIX sh).
#
# make check exports TCPTUNE (the binary), SRCDIR and BUILDDIR. Every test
# gets a private scratch directory $T, removed on exit.
set -u
: "${TCPTUNE:?run through make check}" "${SRCDIR:?run through make check}"

T=$(mktemp -d "${TMPDIR:-/tmp}/tcptune-it.XXXXXX") || exit 99
chmod 755 "$T"
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
# A copy of the shipped profiles, 0644: a checkout made with umask 002 must
# not get them refused when the tests run as root (tcptune refuses profiles
# others can write).
mkdir "$T/shipped" && cp "$SRCDIR"/profiles/*.conf "$T/shipped/" && chmod 755 "$T/shipped" &&
	chmod 644 "$T"/shipped/*.conf || exit 99
PROFILES="$T/shipped"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# tt_root FIXTURE [NAME]: a writable copy of tests/data/FIXTURE in $T/NAME
# (default: $T/FIXTURE); prints its path.
tt_root() {
	_d="$T/${2:-$1}"
	mkdir -p "$_d" && cp -R "$SRCDIR/tests/data/$1/." "$_d/" && chmod -R u+w "$_d" ||
		fail "cannot copy fixture $1"
	echo "$_d"
}

# expect_exit CODE COMMAND...: stdout to $T/out, stderr to $T/err.
expect_exit() {
	want=$1
	shift
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: '$*' exited $got, wanted $want" >&2
		echo "--- stdout" >&2; cat "$T/out" >&2
		echo "--- stderr" >&2; cat "$T/err" >&2
		exit 1
	fi
}

# golden NAME [FILE]: FILE (default $T/out) must equal tests/data/golden/NAME.
golden() {
	diff -u "$SRCDIR/tests/data/golden/$1" "${2:-$T/out}" || fail "output differs from golden/$1"
}

# grep_out PATTERN [FILE]: FILE (default $T/out) must match the extended regex.
grep_out() {
	grep -Eq -- "$1" "${2:-$T/out}" || { cat "${2:-$T/out}" >&2; fail "no match for /$1/"; }
}

# grep_err PATTERN: stderr of the last expect_exit must match.
grep_err() {
	grep_out "$1" "$T/err"
}

# --- the private namespace sandbox -------------------------------------
#
# An unprivileged user + network + mount namespace: net.* of the private
# netns is writable there and fs.* and host-wide keys are refused by the
# kernel itself, so nothing a test does can reach the host. tmpfs hides
# the host's /etc/sysctl.d, /run and /var/lib.

sandbox_cmd() {
	if [ "$(id -u)" -eq 0 ]; then
		echo "setpriv --reuid=65534 --regid=65534 --clear-groups unshare -U -r -n -m --propagation private"
	else
		echo "unshare -U -r -n -m --propagation private"
	fi
}

# tt_need_sandbox: skip the test (77) when such a namespace cannot be made.
tt_need_sandbox() {
	command -v unshare >/dev/null 2>&1 || skip "no unshare"
	# The binary, profiles and scripts must be readable by the unprivileged
	# user, wherever the build tree lives: copy them into $T.
	mkdir -p "$T/bin" "$T/profiles" "$T/w" && chmod 1777 "$T/w"
	cp "$TCPTUNE" "$T/bin/tcptune" && chmod 755 "$T/bin/tcptune" || fail "cannot copy the binary"
	cp "$PROFILES"/*.conf "$T/profiles/" && chmod -R a+rX "$T/profiles"
	$(sandbox_cmd) sh -c 'mount -t tmpfs tmpfs /etc/sysctl.d && mount -t tmpfs tmpfs /run &&
		mount -t tmpfs tmpfs /var/lib && echo 1 >/proc/sys/net/ipv4/tcp_tw_reuse' \
		>/dev/null 2>&1 || skip "cannot make a user+net+mount namespace here"
}

# tt_sandbox SCRIPT: run the sh SCRIPT in a fresh sandbox, with TCPTUNE and
# PROFILES pointing at the copies, W a directory shared with the outside,
# and stdout/stderr to $T/out and $T/err. Returns the script's status.
tt_sandbox() {
	cat >"$T/sandbox.sh" <<EOS
mount -t tmpfs tmpfs /etc/sysctl.d || exit 99
mount -t tmpfs tmpfs /run || exit 99
mount -t tmpfs tmpfs /var/lib || exit 99
mkdir -p /run/lock
TCPTUNE=$T/bin/tcptune PROFILES=$T/profiles W=$T/w
export TCPTUNE PROFILES W
$1
EOS
	chmod 644 "$T/sandbox.sh"
	$(sandbox_cmd) sh "$T/sandbox.sh" >"$T/out" 2>"$T/err"
}
