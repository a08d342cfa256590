#!/bin/sh
# SPDX-License-Identifier: ISC
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

# Every command has its own EXAMPLES subsection.
sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' "$SRCDIR/man/tcptune.8" >"$T/examples"
while read -r cmd; do
	grep -q "^\.Ss $cmd\$" "$T/examples" || fail "tcptune.8 EXAMPLES has no subsection for $cmd"
done <"$T/cmds"

# Linux volume names in the header, whichever formatter man(1) uses (not "BSD ...").
for f in "tcptune.8:System Manager's Manual" "tcptune.profile.5:File Formats Manual"; do
	page=${f%%:*}
	want=${f#*:}
	mandoc -Tascii "$SRCDIR/man/$page" | head -n 1 | grep -q "  $want  " ||
		fail "$page: mandoc header is not '$want'"
	if command -v groff >/dev/null 2>&1; then
		groff -Tascii -mdoc "$SRCDIR/man/$page" 2>/dev/null | head -n 1 >"$T/head"
		grep -q "  $want  " "$T/head" && ! grep -q BSD "$T/head" ||
			{ cat "$T/head" >&2; fail "$page: groff header is not '$want'"; }
	fi
done

# Every environment variable the program reads is documented.
grep -ho 'getenv("[A-Z_]*")' "$SRCDIR"/src/*.c | sed 's/getenv("\(.*\)")/\1/' | sort -u >"$T/env"
[ -s "$T/env" ] || fail "no getenv() found in src"
sed -n '/^\.Sh ENVIRONMENT/,/^\.Sh /p' "$SRCDIR/man/tcptune.8" >"$T/envsec"
while read -r v; do
	grep -q "^\.It Ev .*$v" "$T/envsec" || fail "tcptune.8 ENVIRONMENT lacks $v"
done <"$T/env"

# Every exit code, and each command's, is in EXIT STATUS.
sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$SRCDIR/man/tcptune.8" >"$T/exit"
for c in 0 1 2 3 4; do
	grep -q "^\.It $c\$" "$T/exit" || fail "EXIT STATUS lacks $c"
done
while read -r cmd; do
	grep -qE "^\.It Cm .*\<$cmd\>" "$T/exit" || fail "EXIT STATUS says nothing of $cmd"
done <"$T/cmds"
exit 0
