#!/bin/sh
# SPDX-License-Identifier: ISC
# bootview-differential.sh: the boot view against what the real systemd-sysctl and procps sysctl --system write.
#
# For a set of sysctl.d trees (hand-written tricky cases plus random ones
# from a fixed seed, made by bootview-gen.py) each tool runs in the
# sandbox with the tree's directories bound over the real ones and a tmpfs
# over /proc/sys that holds one file per key, "-" until a tool writes it.
# A fake /proc/sys, not the netns's real one, because it shows exactly
# what each tool wrote: multi-field values, odd whitespace and "wrote
# nothing" are all visible, where the kernel would reject or normalize
# them. tests/bootview_drv prints what sysctld_find (systemd) and
# sysctld_find_procps (procps) predict for the same keys; any difference
# fails the test with a diff per tree and tool. One more tree, "live",
# runs the tools on the kernel's own /proc/sys of fresh network namespaces
# and reads the values back.
#
# BOOTVIEW_SEED and BOOTVIEW_TREES change the random trees (default 40
# from seed 1); BOOTVIEW_ANY_VERSION=1 runs against other tool versions
# than the ones sysctld.c models (systemd 252, procps-ng 4.0.2).
. "$SRCDIR/tests/integration/lib.sh"

SEED=${BOOTVIEW_SEED:-1}
NTREES=${BOOTVIEW_TREES:-40}
DRV=${BUILDDIR:?}/tests/bootview_drv

SD=
for p in /lib/systemd/systemd-sysctl /usr/lib/systemd/systemd-sysctl; do
	[ -x "$p" ] && { SD=$p; break; }
done
[ -n "$SD" ] || skip "no systemd-sysctl"
PP=$(command -v sysctl) || skip "no sysctl"
"$PP" --version 2>/dev/null | grep -q procps || skip "$PP is not procps sysctl"
command -v python3 >/dev/null 2>&1 || skip "no python3"
[ -e /etc/sysctl.conf ] || skip "no /etc/sysctl.conf to bind a tree's over"
[ -d /usr/lib/sysctl.d ] || skip "no /usr/lib/sysctl.d to mount over"
if [ "${BOOTVIEW_ANY_VERSION:-0}" != 1 ]; then
	"$SD" --version 2>/dev/null | head -n1 | grep -q '^systemd 252 ' ||
		skip "systemd-sysctl is not systemd 252 (BOOTVIEW_ANY_VERSION=1 to run anyway)"
	"$PP" --version 2>/dev/null | grep -q 'procps-ng 4\.0\.2$' ||
		skip "sysctl is not procps-ng 4.0.2 (BOOTVIEW_ANY_VERSION=1 to run anyway)"
fi
[ -x "$DRV" ] || fail "no $DRV: run through make check"
tt_need_sandbox

python3 "$SRCDIR/tests/integration/bootview-gen.py" "$T/trees" "$SEED" "$NTREES" ||
	fail "cannot generate the trees"
: >"$T/empty.conf"
chmod -R a+rX "$T/trees" "$T/empty.conf"

# Both tools on one tree, in a mount namespace of its own so that nothing
# of the tree before is left: sh one.sh TREEDIR. Forks are what cost here
# (25 ms each on a loaded CI machine), so the tree's directories are bound
# over the real ones rather than copied, and the fake /proc/sys is reset
# to "-" with shell builtins between the tools. The "live" tree instead runs each tool in a fresh
# network namespace on the kernel's own /proc/sys ("base": no tool, the
# defaults): sh one.sh TREEDIR base|sd|pp, run by one.sh itself.
cat >"$T/one.sh" <<EOS
set -e
D=\$1
run() {
	if [ \$1 = sd ]; then
		"$SD" >/dev/null 2>&1 || :
	elif [ \$1 = pp ]; then
		"$PP" --system >/dev/null 2>&1 || :
	fi
	while read -r p; do
		# procfs answers only a read at offset 0: the shell's
		# byte-by-byte read would see one character.
		if [ -n "\$LIVE" ]; then
			v=\$(cat "/proc/sys/\$p")
		else
			v=
			IFS= read -r v <"/proc/sys/\$p" || :
		fi
		printf '%s %s=%s\\n' \$1 "\$p" "\$v"
	done <"\$D/paths"
}
LIVE=
if [ \$# = 2 ]; then
	LIVE=1
	run \$2
	exit 0
fi
for d in etc/sysctl.d run/sysctl.d usr/lib/sysctl.d usr/local/lib/sysctl.d; do
	mount --bind "\$D/root/\$d" "/\$d"
done
if [ -e "\$D/root/etc/sysctl.conf" ]; then
	mount --bind "\$D/root/etc/sysctl.conf" /etc/sysctl.conf
else
	mount --bind "$T/empty.conf" /etc/sysctl.conf
fi
if [ "\${D##*/}" = live ]; then
	for tool in base sd pp; do
		unshare -n sh "$T/one.sh" "\$D" \$tool
	done >"$T/w/live.real"
	exit 0
fi
mount -t tmpfs tmpfs /proc/sys
# Never let a tool write the real /proc/sys: procfs refuses new files.
: >/proc/sys/.tt-fake
cp -R "\$D/proc/." /proc/sys/
echo "== \${D##*/}"
run sd
# Back to "-" with builtins: cheaper than a new tmpfs.
while read -r p; do
	echo - >"/proc/sys/\$p"
done <"\$D/paths"
run pp
EOS
# The directories one.sh binds over must exist: /run is a fresh tmpfs,
# /usr/local/lib/sysctl.d and a /lib/sysctl.d of a split /usr may not.
cat >"$T/all.sh" <<EOS
set -e
mkdir -p /run/sysctl.d
if [ -d /lib/sysctl.d ] && ! [ /lib/sysctl.d -ef /usr/lib/sysctl.d ]; then
	mount -t tmpfs tmpfs /lib/sysctl.d
fi
if ! [ -d /usr/local/lib/sysctl.d ]; then
	mount -t tmpfs tmpfs /usr/local/lib
	mkdir /usr/local/lib/sysctl.d
fi
# half 0|1: every other tree, so that two cores share the work.
half() {
	i=0
	for d in "$T/trees"/*; do
		if [ \$((i % 2)) = \$1 ]; then
			unshare -m --propagation private sh "$T/one.sh" "\$d" ||
				{ echo "run on \$d failed" >&2; : >"$T/w/failed"; }
		fi
		i=\$((i + 1))
	done | tr -s ' \t\r' '   ' >"$T/w/real.\$1"
}
half 0 &
half 1
wait \$!
! [ -e "$T/w/failed" ]
cat "$T/w/real.0" "$T/w/real.1" >"$T/w/real"
EOS
chmod 644 "$T/one.sh" "$T/all.sh"
tt_sandbox "sh $T/all.sh" || { cat "$T/out" "$T/err" >&2; fail "cannot run the tools in the sandbox"; }

# show_diff TREEDIR: the tree, byte for byte, and $T/diff on stderr.
show_diff() {
	echo "--- ${1##*/} differs (sd: systemd-sysctl, pp: sysctl --system); the tree:" >&2
	(cd "$1/root" && find . \( -type f -o -type l \) | sort | while read -r f; do
		if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; else echo "$f:"; od -An -c "$f"; fi
	done) >&2
	cat "$T/diff" >&2
}

# All trees but "live" at once: a diff per tree costs too many forks.
# In the order all.sh wrote them: the even trees, then the odd ones.
n=0
for h in 0 1; do
	i=0
	for d in "$T/trees"/*; do
		name=${d##*/}
		[ $((i % 2)) = $h ] && [ "$name" != live ] && {
			n=$((n + 1))
			echo "== $name"
			"$DRV" "$d/root" sd pp <"$d/keys" || fail "bootview_drv failed on $name"
		}
		i=$((i + 1))
	done
done >"$T/ours"
bad=0
if ! cmp -s "$T/w/real" "$T/ours"; then
	mkdir "$T/cmp" && cd "$T/cmp" || fail "cannot make $T/cmp"
	awk '/^== / { f = $2 ".real"; next } { print > f }' "$T/w/real"
	awk '/^== / { f = $2 ".ours"; next } { print > f }' "$T/ours"
	for d in "$T/trees"/*; do
		name=${d##*/}
		[ "$name" = live ] && continue
		diff -u --label "real $name" --label "tcptune $name" "$name.real" "$name.ours" \
			>"$T/diff" 2>&1 && continue
		bad=$((bad + 1))
		show_diff "$d"
	done
	cd / || :
	# Say so if the files differ in a way no tree shows (a tree missing).
	[ "$bad" -gt 0 ] || { diff -u "$T/w/real" "$T/ours" >&2; bad=1; }
fi

# "live": what tcptune predicts, or the default where it predicts no write.
d=$T/trees/live
[ -s "$T/w/live.real" ] || fail "no output from the run on live"
"$DRV" "$d/root" sd pp <"$d/keys" >"$T/ours" || fail "bootview_drv failed on live"
tr -s ' \t\r' '   ' <"$T/w/live.real" >"$T/real"
grep -v '^base ' "$T/real" >"$T/real.tools"
awk 'NR == FNR { if ($1 == "base") { sub(/^base /, ""); i = index($0, "=");
		base[substr($0, 1, i - 1)] = substr($0, i + 1) } next }
	{ i = index($0, "="); k = substr($0, 1, i - 1); v = substr($0, i + 1)
		split(k, w, " "); print k "=" (v == "-" ? base[w[2]] : v) }' \
	"$T/real" "$T/ours" >"$T/ours.live"
n=$((n + 1))
if ! diff -u --label "real live" --label "tcptune live" "$T/real.tools" "$T/ours.live" >"$T/diff"; then
	bad=$((bad + 1))
	show_diff "$d"
fi
[ "$bad" -eq 0 ] || fail "$bad of $n trees differ from the real tools (seed $SEED)"
echo "ok: $n trees match systemd-sysctl and sysctl --system (seed $SEED)"
