#!/bin/sh
# The manual pages are lint-clean and the SYNOPSIS says what usage() says.
. "$SRCDIR/tests/integration/lib.sh"

command -v mandoc >/dev/null 2>&1 || skip "mandoc is not installed"
for page in "$SRCDIR/man/tcptune.8" "$SRCDIR/man/tcptune.profile.5"; do
	mandoc -Tlint -W warning "$page" >"$T/lint" 2>&1 || true
	[ -s "$T/lint" ] && { cat "$T/lint" >&2; fail "mandoc -Tlint: $page"; }
done

# Word for word: the usage lines up to "commands:" against the rendered SYNOPSIS.
"$TCPTUNE" --help | sed '/^$/,$d' | tr -s ' \n' '  ' | sed 's/^usage: //; s/ *$//' >"$T/usage"
mandoc -Tascii -O width=400 "$SRCDIR/man/tcptune.8" | col -b |
	sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | tr -s ' \n' '  ' |
	sed 's/^ *//; s/ *$//' >"$T/synopsis"
diff -u "$T/synopsis" "$T/usage" || fail "SYNOPSIS of tcptune.8 differs from usage()"

# Every command in usage() has an entry in the manual.
"$TCPTUNE" --help | sed -n '/^commands:/,/^$/p' | grep -E '^  [a-z]' | awk '{ print $1 }' >"$T/cmds"
while read -r cmd; do
	grep -q "^\.It Cm $cmd" "$SRCDIR/man/tcptune.8" || fail "tcptune.8 lacks the command $cmd"
done <"$T/cmds"
[ -s "$T/cmds" ] || fail "no commands found in --help"
exit 0
