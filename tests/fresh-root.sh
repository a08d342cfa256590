#!/bin/bash
# SPDX-License-Identifier: ISC
# fresh-root.sh: run the README's two commands in a minimal Debian 12 root.
#
# What a newcomer or a CI system starting from the debian:12 image has:
# `debootstrap --variant=minbase bookworm`, nothing else. This builds such a
# root, puts a clean clone of this checkout's HEAD in it, and runs the
# README's first command (install, build, `tcptune audit crawler`) and then
# its second (the whole suite, CI=true so that a skip fails) as root inside
# it, after pivot_root, with its own /proc, /dev, /tmp and mount namespace.
# The host's /proc/sys is reached only as the suite always reaches it
# (read-only, or from private namespaces).
#
# Not run by CI: it needs root, a Debian mirror and about 20 minutes.
#
#   sudo tests/fresh-root.sh            # the summary is the last lines
#
# FRESH_ROOT_CACHE (default /var/tmp/tcptune-minbase.tar) keeps the
# debootstrap result between runs; delete it to start from the mirror again.
# MIRROR overrides the mirror (default: the first one apt on this host uses).
# FRESH_ROOT_KEEP=1 keeps the root afterwards for a look inside.
set -euo pipefail

die() { echo "fresh-root.sh: $*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, mounts and pivot_root need it)"
top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel) || die "not inside a git checkout"
cache=${FRESH_ROOT_CACHE:-/var/tmp/tcptune-minbase.tar}

# The mirror this host's apt already uses, so that no address is written here.
host_mirror() {
	{ grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
	  grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}'; } |
		grep -v -e security -e '^$' | head -n 1 || true
}
mirror=${MIRROR:-$(host_mirror)}
[ -n "$mirror" ] || die "no Debian mirror in this host's apt sources: give MIRROR=URL"

if [ ! -s "$cache" ]; then
	command -v debootstrap >/dev/null 2>&1 || apt-get install -y debootstrap
	base=$(mktemp -d /var/tmp/tcptune-minbase.XXXXXX)
	echo "+ debootstrap --variant=minbase bookworm $base $mirror"
	debootstrap --variant=minbase bookworm "$base" "$mirror" >"$base.log" 2>&1 ||
		{ tail -n 20 "$base.log"; die "debootstrap failed (log: $base.log)"; }
	tar -C "$base" -cf "$cache.tmp" . && mv "$cache.tmp" "$cache"
	rm -rf "$base" "$base.log"
fi

work=$(mktemp -d /var/tmp/tcptune-fresh.XXXXXX)
root=$work/root
cleanup() {
	if [ "${FRESH_ROOT_KEEP:-0}" = 1 ]; then
		echo "fresh-root.sh: the root is kept in $root"
	else
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT
mkdir "$root"
tar -C "$root" -xf "$cache"
# tar gave / the mode of debootstrap's mktemp directory (0700): the tests'
# unprivileged user could not reach /usr/lib.
chmod 755 "$root"

# The same package sources as this host (bookworm, updates, security), so
# that the root gets the versions CI's machine gets.
if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
	: >"$root/etc/apt/sources.list"
	for f in /etc/apt/sources.list.d/*.sources; do
		grep -q 'debian' "$f" && cp "$f" "$root/etc/apt/sources.list.d/"
	done
fi
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
git clone -q "$top" "$root/src/tcptune"

# The README's two commands, as a user would paste them.
cmds=$(sed -n '/^```sh$/,/^```$/p' "$top/README.md" | grep -v '^```')
[ "$(printf '%s\n' "$cmds" | wc -l)" -eq 2 ] || die "the README does not open with two commands"
cat >"$root/fresh-run.sh" <<EOF
set -e
export DEBIAN_FRONTEND=noninteractive CI=true
cd /src/tcptune
echo "+ \$(sed -n 1p /fresh-cmds)"
# It ends with the audit: 0 compliant, 1 drift (a fresh host drifts from
# crawler); anything else, or no audit summary, is a failure.
st=0
bash -c "\$(sed -n 1p /fresh-cmds)" >/fresh-first.log 2>&1 || st=\$?
tail -n 12 /fresh-first.log
if [ "\$st" -gt 1 ] || ! grep -q '^[0-9]* keys: ' /fresh-first.log; then
	tail -n 40 /fresh-first.log
	echo "fresh-root: the README's first command failed (exit \$st)"
	exit 1
fi
echo "fresh-root: the README's first command: exit \$st"
echo "+ bash .ci/run"
bash .ci/run
EOF
printf '%s\n' "$cmds" >"$root/fresh-cmds"

# A private mount and PID namespace; the root becomes / by pivot_root, with
# a fresh /proc, the host's /dev and /sys, and an empty /tmp and /run.
status=0
unshare --mount --pid --fork --propagation private bash -euo pipefail -c '
	root=$1
	mount --bind "$root" "$root"
	mount -t proc proc "$root/proc"
	mount --rbind /dev "$root/dev"
	mount --rbind /sys "$root/sys"
	mount -t tmpfs tmpfs "$root/tmp"
	mount -t tmpfs tmpfs "$root/run"
	cd "$root"
	mkdir -p .old-root
	pivot_root . .old-root
	umount -l /.old-root
	rmdir /.old-root
	exec env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		bash /fresh-run.sh
' fresh-root "$root" 2>&1 | tee "$work/run.log" || status=$?
echo "fresh-root.sh: exit $status"
exit "$status"
