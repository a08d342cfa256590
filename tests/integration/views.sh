#!/bin/sh
# The views go through the writer (src/report.c): the converted cmd_*.c
# files build no JSON and write nothing to stdout themselves.
. "$SRCDIR/tests/integration/lib.sh"

# Every cmd_*.c is listed: converted, or not yet (with why).
CONVERTED="cmd_audit.c cmd_apply.c cmd_profile.c cmd_render.c cmd_doctor.c cmd_common.c cmd_remedy.c cmd_sockets.c cmd_sockets_doc.c cmd_sockets_table.c"
# cmd_help.c: prints --help to the FILE main.c hands it (stdout or stderr), not a result.
NOT_YET="cmd_help.c"

for f in "$SRCDIR"/src/cmd_*.c; do
	b=$(basename "$f")
	case " $CONVERTED $NOT_YET " in
	*" $b "*) ;;
	*) fail "$b is neither converted nor listed as not yet converted" ;;
	esac
done
for b in $CONVERTED; do
	f="$SRCDIR/src/$b"
	[ -f "$f" ] || fail "$b: missing"
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
exit 0
