#!/bin/sh
# The views go through the writer (src/report*.c): the cmd_*.c
# files build no JSON and write nothing to stdout themselves.
. "$SRCDIR/tests/integration/lib.sh"

# Every cmd_*.c, the help too (it prints to the FILE main.c hands it, which
# checks the write), and at least the ones that existed when this was written.
n=0
for f in "$SRCDIR"/src/cmd_*.c; do
	n=$((n + 1))
	b=$(basename "$f")
	# comments aside, no jansson construction and no write to stdout
	sed 's://.*$::; s:/\*.*\*/::g' "$f" >"$T/code"
	if grep -nE '\bjson_[a-z_]+\(' "$T/code" >"$T/hits"; then
		cat "$T/hits" >&2
		fail "$b builds JSON itself"
	fi
	if grep -nE '(^|[^a-z_])(printf|puts|putchar)\(|(fputs|fprintf|fputc|fwrite)\([^;]*stdout|\bstdout\b' "$T/code" >"$T/hits"; then
		cat "$T/hits" >&2
		fail "$b writes stdout itself"
	fi
done
[ "$n" -ge 11 ] || fail "only $n src/cmd_*.c files: the glob missed them"
exit 0
