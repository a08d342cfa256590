#!/bin/sh
# SPDX-License-Identifier: ISC
# A newcomer's questions answered: per-command help lists every option with
# its values, no short option means two things, "did you mean" for commands,
# profiles, states and --by keys, --output FORMAT refused, profiles from a
# checkout before make install. Fixture roots only.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH
NO_COLOR=1
export NO_COLOR
R=$(tt_root sockets-proc)
tt() { "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" "$@"; }

# --- per-command help --------------------------------------------------------
"$TCPTUNE" --help >"$T/usage" || fail "--help"
sed -n '/^commands:/,/^$/p' "$T/usage" | awk '/^  [a-z]/ { print $1 }' >"$T/cmds"
[ "$(wc -l <"$T/cmds")" -ge 11 ] || fail "fewer commands than expected in --help"
: >"$T/shorts"
while read -r cmd; do
	expect_exit 0 "$TCPTUNE" help "$cmd"
	cp "$T/out" "$T/help.$cmd"
	expect_exit 0 "$TCPTUNE" "$cmd" --help
	cmp -s "$T/out" "$T/help.$cmd" || fail "tcptune $cmd --help differs from tcptune help $cmd"
	grep -q "^usage: tcptune \[GLOBAL\] $cmd" "$T/out" || fail "help $cmd: no usage line"
	grep -q '^global options' "$T/out" || fail "help $cmd: no global options"
	grep -q '^example:' "$T/out" || fail "help $cmd: no example"
	# every option of the command's usage line is explained with its values
	for o in $(grep -E "^  $cmd( |$)" "$T/usage" | grep -oE -- '--[a-z][a-z-]*|-[0-9a-zA-Z]+' |
		sed -E '/^-[^-]/s/([0-9a-zA-Z])/ -\1/g; s/^- //'); do
		sed -n '/^options:/,/^$/p' "$T/out" | grep -q -- "$o" ||
			fail "help $cmd does not explain $o"
	done
	sed -n '/^options:/,/^$/p;/^global options/,/^$/p' "$T/out" |
		sed -nE 's/^  (-[a-zA-Z0-9]), (--[a-z][a-z-]*).*/\1 \2/p' >>"$T/shorts"
done <"$T/cmds"
# a short option means one thing everywhere
sort -u "$T/shorts" | awk '{ n[$1]++; l[$1] = l[$1] " " $2 } END { for (s in n) if (n[s] > 1) { print s ":" l[s]; bad = 1 } exit bad }' ||
	fail "a short option means two things (above)"
grep -q '^-N --top$' "$T/shorts" || fail "sockets help does not give -N for --top"
grep -q '^-n --dry-run$' "$T/shorts" || fail "apply help does not give -n for --dry-run"

# sockets: every state the tool counts and every --by key, in the help
expect_exit 0 tt -o json sockets --source proc
python3 -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))["states"]))' "$T/out" >"$T/states"
[ "$(wc -l <"$T/states")" -eq 11 ] || fail "expected the 11 netstat state names"
while read -r s; do
	grep -q "$s" "$T/help.sockets" || fail "sockets help lacks the state $s"
done <"$T/states"
expect_exit 2 tt sockets --by nothing-like-it
for k in $(sed -n 's/.*--by wants \(.*\)$/\1/p' "$T/err" | sed 's/, / /g; s/ or / /'); do
	tr '\n' ' ' <"$T/help.sockets" | tr -s ' ' | grep -q -- "--by KEY .*$k" ||
		fail "sockets help lacks the --by key $k"
done
# -N and the older -n N give the same rows
expect_exit 0 tt sockets --source proc --by remote -N 1
cp "$T/out" "$T/top"
expect_exit 0 tt sockets --source proc --by remote -n 1
cmp -s "$T/out" "$T/top" || fail "sockets -n N differs from -N N"
grep_err 'older spelling of -N'

# --- did you mean ------------------------------------------------------------
expect_exit 2 "$TCPTUNE" adit crawler
grep_err "'adit' is not a command; did you mean audit\?"
expect_exit 2 "$TCPTUNE" help socket
grep_err 'did you mean sockets\?'
expect_exit 2 tt audit crawlr
grep_err 'crawlr: no such profile; looked in .*; did you mean crawler\?'
expect_exit 2 tt sockets --source proc --state close_wiat
grep_err 'did you mean CLOSE_WAIT\?'
expect_exit 2 tt sockets --source proc --by onwer
grep_err 'did you mean owner\?'
expect_exit 2 tt -o jsn audit crawler
grep_err 'did you mean json\?'

# --- --output is a file, -o the format -----------------------------------------
mkdir "$T/cwd" || exit 99
for v in json table prometheus yaml JSON jsonpath=.keys; do
	(cd "$T/cwd" && "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" --output "$v" audit crawler) \
		>"$T/out" 2>"$T/err"
	[ $? -eq 2 ] || fail "--output $v was not refused"
	grep_err 'did you mean -o (json|table|prometheus)\?'
	[ -z "$(ls "$T/cwd")" ] || fail "--output $v wrote a file"
done
(cd "$T/cwd" && "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" audit crawler --output=json) \
	>"$T/out" 2>"$T/err"
[ $? -eq 2 ] || fail "audit --output=json after the command was not refused"
(cd "$T/cwd" && "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" --output ./json audit crawler) \
	>"$T/out" 2>"$T/err"
[ $? -le 1 ] && [ -s "$T/cwd/json" ] || fail "--output ./json did not write the file"

# --- profiles from a checkout, before make install ----------------------------
mkdir -p "$T/co/profiles" || exit 99
sed 's/inherits *= *"baseline"/inherits = "base-local"/' "$PROFILES/crawler.conf" >"$T/co/profiles/kid.conf"
cp "$PROFILES/baseline.conf" "$T/co/profiles/base-local.conf"
grep -q 'inherits = "base-local"' "$T/co/profiles/kid.conf" || fail "fixture: crawler no longer inherits baseline"
cd "$T/co" || exit 99
expect_exit 1 "$TCPTUNE" --root "$R" audit profiles/kid.conf
expect_exit 0 "$TCPTUNE" --root "$R" show profiles/kid.conf
grep -q 'base-local' "$T/out" || fail "show: the parent beside the file was not merged"
expect_exit 2 "$TCPTUNE" --root "$R" audit kid
grep_err 'kid: no such profile; looked in .*/etc/tcptune/profiles.*\./profiles/kid\.conf exists: add --profile-dir \./profiles'
expect_exit 1 "$TCPTUNE" --root "$R" --profile-dir ./profiles audit kid
# nothing on the path: say where, exit 1 (unless this machine has profiles installed)
"$TCPTUNE" --root "$R" -o json profiles >"$T/path.json" 2>/dev/null
if python3 -c 'import json, sys; sys.exit(1 if json.load(open(sys.argv[1]))["profiles"] else 0)' "$T/path.json"; then
	expect_exit 1 "$TCPTUNE" --root "$R" profiles
	grep_err 'no profiles found; looked in .*/etc/tcptune/profiles'
	[ -s "$T/out" ] && fail "profiles printed an empty table"
else
	echo "profiles are installed on this machine: the empty listing is not checked here" >&2
fi

# --- a sysctl.conf habit --------------------------------------------------------
printf 'description = "x";\nnet.ipv4.tcp_sack = 1;\n' >"$T/dotted.conf"
expect_exit 2 "$TCPTUNE" validate "$T/dotted.conf"
grep_err 'dotted.conf:2: .*nested groups.*sysctl = \{ net = \{ ipv4 = \{ tcp_sack = 1; \}; \}; \};'
exit 0
