# SPDX-License-Identifier: ISC
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

# skip WHY: the test cannot run here (exit 77). Under CI=true a skip hides
# evidence and is an error (exit 99): the README's test command installs
# everything every test needs.
skip() {
	if [ "${CI:-}" = true ]; then
		echo "SKIP, an error under CI=true: $*" >&2
		exit 99
	fi
	echo "SKIP: $*" >&2
	exit 77
}

# tt_want COMMAND PACKAGE WHAT: true when COMMAND is installed. Otherwise
# a note and false, for the part WHAT of a test that needs it; under
# CI=true the missing tool fails the test instead.
tt_want() {
	command -v "$1" >/dev/null 2>&1 && return 0
	[ "${CI:-}" = true ] && fail "$3 needs $1 (apt-get install -y $2), which the README's test command installs"
	echo "note: $1 is not installed (apt-get install -y $2): $3 untested" >&2
	return 1
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

# sandbox_mounts: the sh lines that give a sandbox its own empty
# /etc/sysctl.d, /run and /var/lib. A directory the host lacks (a minimal
# root without procps has no /etc/sysctl.d) is made on a private overlay of
# its parent, so nothing depends on what the host happens to have installed.
sandbox_mounts() {
	cat <<EOS
tt_private_dir() {
	if [ ! -d "\$1" ]; then
		_p=\$(dirname "\$1"); _o=$T/ovl/\$(echo "\$_p" | tr / _)
		mkdir -p "\$_o/u" "\$_o/w" &&
			mount -t overlay overlay -o "lowerdir=\$_p,upperdir=\$_o/u,workdir=\$_o/w" "\$_p" &&
			mkdir "\$1" || { echo "sandbox: cannot make \$1" >&2; return 1; }
	fi
	mount -t tmpfs tmpfs "\$1"
}
mount -t tmpfs tmpfs $T/ovl || exit 99
tt_private_dir /etc/sysctl.d || exit 99
tt_private_dir /run || exit 99
tt_private_dir /var/lib || exit 99
mkdir -p /run/lock
EOS
}

# tt_need_sandbox: skip the test (77) when such a namespace cannot be made.
tt_need_sandbox() {
	command -v unshare >/dev/null 2>&1 || skip "no unshare"
	command -v setpriv >/dev/null 2>&1 || skip "no setpriv"
	# The binary, profiles and scripts must be readable by the unprivileged
	# user, wherever the build tree lives: copy them into $T.
	mkdir -p "$T/bin" "$T/profiles" "$T/w" "$T/ovl" && chmod 1777 "$T/w"
	cp "$TCPTUNE" "$T/bin/tcptune" && chmod 755 "$T/bin/tcptune" || fail "cannot copy the binary"
	cp "$PROFILES"/*.conf "$T/profiles/" && chmod -R a+rX "$T/profiles"
	{ sandbox_mounts; echo 'echo 1 >/proc/sys/net/ipv4/tcp_tw_reuse'; } >"$T/probe.sh"
	chmod 644 "$T/probe.sh"
	$(sandbox_cmd) sh "$T/probe.sh" >"$T/probe.err" 2>&1 ||
		skip "cannot make a user+net+mount namespace here: $(tr '\n' ' ' <"$T/probe.err")"
}

# tt_sandbox SCRIPT: run the sh SCRIPT in a fresh sandbox, with TCPTUNE and
# PROFILES pointing at the copies, W a directory shared with the outside,
# and stdout/stderr to $T/out and $T/err. Returns the script's status.
tt_sandbox() {
	mkdir -p "$T/ovl"
	{ sandbox_mounts; cat <<EOS
TCPTUNE=$T/bin/tcptune PROFILES=$T/profiles W=$T/w
export TCPTUNE PROFILES W
$1
EOS
	} >"$T/sandbox.sh"
	chmod 644 "$T/sandbox.sh"
	$(sandbox_cmd) sh "$T/sandbox.sh" >"$T/out" 2>"$T/err"
}

# tt_scrape_script: $T/scrape.py prints one scrape of a node_exporter on
# 127.0.0.1:9100 (in the sandbox's own network namespace), waiting up to
# about 10 s for it to answer.
tt_scrape_script() {
	cat >"$T/scrape.py" <<'EOS'
import sys, time, urllib.request
for _ in range(100):
    try:
        sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:9100/metrics', timeout=2).read().decode())
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit('node_exporter did not answer')
EOS
	chmod 644 "$T/scrape.py"
}
