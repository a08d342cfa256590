#!/bin/sh
# The library (every file in src/ but the front door) neither includes the
# front door's headers nor writes to stdout: it returns results and
# messages, and the commands print them (DESIGN.md, "Data flows one way").
# The front door: main.c, the commands (cmd_*.c) and the output writer
# (output.c, report*.c), and their headers.
. "$SRCDIR/tests/integration/lib.sh"

front_c='main.c cmd_*.c output.c report.c report_*.c'
front_h='tcptune.h output.h report.h report-internal.h remedy.h cmd_sockets.h'

is_front() {
	for p in $front_c $front_h; do
		# shellcheck disable=SC2254
		case $1 in $p) return 0 ;; esac
	done
	return 1
}

n=0
: >"$T/bad"
for f in "$SRCDIR"/src/*.c "$SRCDIR"/src/*.h; do
	name=${f##*/}
	is_front "$name" && continue
	n=$((n + 1))
	for h in $front_h; do
		grep -n "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<]$h[\">]" "$f" |
			sed "s|^|src/$name:|; s|\$|: the library includes the front door's $h|" >>"$T/bad"
	done
	# Comments blanked (lines kept), then anything that reaches stdout.
	perl -0777 -pe 's{/\*.*?\*/}{ $& =~ tr/\n//cdr }gse; s{//[^\n]*}{}g' "$f" |
		grep -nE '(^|[^_[:alnum:]])(printf|vprintf|puts|putchar)[[:space:]]*\(|(^|[^_[:alnum:]])(stdout|STDOUT_FILENO)([^_[:alnum:]]|$)' |
		sed "s|^|src/$name:|; s|\$|: the library writes to stdout|" >>"$T/bad"
done
# A list that missed the tree would pass whatever the code does.
[ "$n" -ge 20 ] || fail "only $n library files found in $SRCDIR/src"
[ -f "$SRCDIR/src/main.c" ] && [ -f "$SRCDIR/src/tcptune.h" ] || fail "no front door in $SRCDIR/src"
if [ -s "$T/bad" ]; then
	cat "$T/bad" >&2
	fail "library files reach into the front door or print (above)"
fi
echo "ok: $n library files in src/ include no front-door header and do not write to stdout"
