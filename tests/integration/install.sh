#!/bin/sh
# SPDX-License-Identifier: ISC
# make install DESTDIR=...: the binary, profiles, man pages, completion and units where distributions expect them; uninstall removes them all.
. "$SRCDIR/tests/integration/lib.sh"
: "${BUILDDIR:?run through make check}"
[ -f "$BUILDDIR/Makefile" ] || skip "no Makefile in $BUILDDIR"
MAKE=${MAKE:-make}
D="$T/dest"

# The directories as this build's Makefile has them.
printf 'tt-dirs:\n\t@echo "sbindir=$(sbindir)"; echo "pkgdatadir=$(pkgdatadir)"; echo "mandir=$(mandir)"; echo "datadir=$(datadir)"; echo "unitdir=$(systemdsystemunitdir)"\n' >"$T/dirs.mk"
$MAKE -s -C "$BUILDDIR" -f Makefile -f "$T/dirs.mk" tt-dirs >"$T/dirs" 2>"$T/err" ||
	{ cat "$T/err" >&2; fail "cannot read the install directories"; }
eval "$(grep -E '^[a-z]+=' "$T/dirs")"
for v in sbindir pkgdatadir mandir datadir; do
	eval "x=\$$v"
	case $x in /*) ;; *) fail "$v is '$x'" ;; esac
done

$MAKE -s -C "$BUILDDIR" install DESTDIR="$D" >"$T/log" 2>&1 || { cat "$T/log" >&2; fail "make install"; }

cat >"$T/want" <<EOF
$sbindir/tcptune
$pkgdatadir/profiles/baseline.conf
$pkgdatadir/profiles/crawler.conf
$pkgdatadir/profiles/high-bandwidth.conf
$pkgdatadir/profiles/web-server.conf
$mandir/man8/tcptune.8
$mandir/man5/tcptune.profile.5
$datadir/bash-completion/completions/tcptune
$datadir/zsh/vendor-completions/_tcptune
EOF
case $unitdir in
"" | no) echo "note: built without systemd units" >&2 ;;
*) printf '%s\n' "$unitdir/tcptune-audit.service" "$unitdir/tcptune-metrics.service" \
	"$unitdir/tcptune-metrics.timer" >>"$T/want" ;;
esac
(cd "$D" && find . ! -type d | sed 's|^\.||') | LC_ALL=C sort >"$T/got"
LC_ALL=C sort -o "$T/want" "$T/want"
diff -u "$T/want" "$T/got" || fail "installed files differ from the expected list"

# They work where they are.
[ -x "$D$sbindir/tcptune" ] || fail "tcptune is not executable"
"$D$sbindir/tcptune" --version | grep -q '^tcptune ' || fail "installed tcptune --version"
"$D$sbindir/tcptune" --profile-dir "$D$pkgdatadir/profiles" validate "$D$pkgdatadir"/profiles/*.conf \
	>"$T/out" 2>&1 || { cat "$T/out" >&2; fail "installed profiles do not validate"; }
for f in $(grep -v '/sbin/' "$T/want"); do
	[ "$(stat -c %a "$D$f")" = 644 ] || fail "$f: mode $(stat -c %a "$D$f"), wanted 644"
done
bash -c ". '$D$datadir/bash-completion/completions/tcptune' && complete -p tcptune" 2>&1 |
	grep -qx 'complete -F _tcptune tcptune' || fail "the installed bash completion does not register"
if tt_want zsh zsh "zsh -n on the installed completion"; then
	zsh -n "$D$datadir/zsh/vendor-completions/_tcptune" || fail "zsh -n on the installed _tcptune"
fi
if [ -n "$unitdir" ] && [ "$unitdir" != no ]; then
	for u in tcptune-audit.service tcptune-metrics.service; do
		grep -q "^ExecStart=$sbindir/tcptune " "$D$unitdir/$u" ||
			grep -q "$sbindir/tcptune -o prometheus audit" "$D$unitdir/$u" ||
			fail "$u does not run $sbindir/tcptune"
		grep -q '@[a-z]*@' "$D$unitdir/$u" && fail "$u: a @variable@ is left"
	done
	# systemd-analyze verify wants the binary to exist: point the units into DESTDIR.
	if tt_want systemd-analyze systemd "systemd-analyze verify of the installed units"; then
		mkdir -p "$T/units"
		for u in tcptune-audit.service tcptune-metrics.service tcptune-metrics.timer; do
			sed "s|$sbindir/tcptune|$D$sbindir/tcptune|g" "$D$unitdir/$u" >"$T/units/$u"
		done
		systemd-analyze verify --man=no "$T"/units/* >"$T/verify" 2>&1 ||
			{ cat "$T/verify" >&2; fail "systemd-analyze verify of the installed units"; }
		[ -s "$T/verify" ] && { cat "$T/verify" >&2; fail "systemd-analyze verify is not silent"; }
	fi
fi

# uninstall leaves no file behind.
$MAKE -s -C "$BUILDDIR" uninstall DESTDIR="$D" >"$T/log" 2>&1 || { cat "$T/log" >&2; fail "make uninstall"; }
left=$(cd "$D" && find . ! -type d)
[ -z "$left" ] || fail "make uninstall left: $left"
exit 0
