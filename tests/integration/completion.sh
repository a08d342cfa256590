#!/bin/sh
# SPDX-License-Identifier: ISC
# Shell completion: bash (complete -p and scripted calls, with and without bash-completion), zsh (syntax and a real zpty session).
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH
command -v bash >/dev/null 2>&1 || skip "bash is not installed"
BASHCOMP="$SRCDIR/contrib/completion/tcptune.bash"
ZSHCOMP="$SRCDIR/contrib/completion/_tcptune"
R=$(tt_root root-basic)
mkdir -p "$T/bin" "$T/mine" "$T/files/sub" &&
	cp "$TCPTUNE" "$T/bin/tcptune" &&
	printf 'description = "mine";\ninherits = "baseline";\n' >"$T/mine/mine.conf" &&
	: >"$T/files/a.conf" && : >"$T/files/b.txt" || fail "cannot set up"

bash -n "$BASHCOMP" || fail "bash -n $BASHCOMP"

# One bash script per mode: $1 = plain or bash-completion.
cat >"$T/t.bash" <<'EOF'
set -u
export LC_ALL=C
mode=$1 T=$2 SRCDIR=$3 R=$4
if [ "$mode" = bash-completion ]; then
	. /usr/share/bash-completion/bash_completion || exit 99
	declare -F _get_comp_words_by_ref >/dev/null || { echo "no _get_comp_words_by_ref"; exit 1; }
fi
. "$SRCDIR/contrib/completion/tcptune.bash" || exit 1
bad=0
[ "$(complete -p tcptune)" = "complete -F _tcptune tcptune" ] ||
	{ echo "complete -p tcptune: $(complete -p tcptune 2>&1)"; bad=1; }

# comp WANT WORD...: complete the last WORD of the line; COMPREPLY, sorted, must be WANT.
comp() {
	local want=$1 got
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_tcptune tcptune "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" != "$want" ]; then
		echo "$mode: '$*': got '$got', wanted '$want'"
		bad=1
	fi
}
# has WANT WORD...: WANT is among the candidates.
has() {
	local want=$1
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_tcptune tcptune "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | grep -qxF -- "$want" ||
		{ echo "$mode: '$*': '$want' not among: ${COMPREPLY[*]}"; bad=1; }
}

PATH=$T/bin:/usr/bin:/bin
export TCPTUNE_PROFILE_PATH=$SRCDIR/profiles
comp "apply audit doctor explain help plan profiles render rollback show sockets validate" tcptune ""
comp "show sockets" tcptune help s
comp "" tcptune help sockets ""
comp "show sockets" tcptune s
comp "sockets" tcptune -q --root / so
comp "--color --colour" tcptune --co
comp "json" tcptune -o j
comp "always" tcptune --color al
comp "prometheus" tcptune audit -o pr
has --profile-dir tcptune audit --pro
# Profiles: from the program (TCPTUNE_PROFILE_PATH, --profile-dir, --root) ...
comp "baseline crawler high-bandwidth web-server" tcptune audit ""
comp "crawler" tcptune apply cr
comp "crawler" tcptune plan baseline c
comp "mine" tcptune --profile-dir "$T/mine" show mi
comp "mine" tcptune show --profile-dir "$T/mine" mi
comp "baseline crawler high-bandwidth mine web-server" tcptune --profile-dir="$T/mine" doctor ""
# ... and from the directories when the program is not on PATH.
PATH=/usr/bin:/bin
comp "baseline crawler high-bandwidth mine web-server" tcptune --profile-dir "$T/mine" render ""
unset TCPTUNE_PROFILE_PATH
# (below an empty --root, so profiles installed on this machine stay out of it)
comp "mine" tcptune --root "$T/files" --profile-dir "$T/mine" audit ""
PATH=$T/bin:/usr/bin:/bin
# A PROFILE with a slash is a file.
comp "$T/files/a.conf $T/files/sub/" tcptune audit "$T/files/"
comp "$T/files/a.conf $T/files/sub/" tcptune validate "$T/files/"
# Options per command.
comp "--check" tcptune apply --ch
has --dry-run tcptune apply -
has --wait tcptune rollback --
has -N tcptune sockets -
comp "--source" tcptune doctor --so
has --top tcptune sockets -
has -4 tcptune sockets -
has --watch tcptune sockets --
comp "local-port owner owner,remote remote state" tcptune sockets --by ""
comp "owner owner,remote" tcptune sockets -b o
comp "close close-wait closing" tcptune sockets --state clos
comp "close-wait,time-wait" tcptune sockets --state close-wait,time
comp "netlink" tcptune sockets --source n
comp "" tcptune sockets --top ""
comp "baseline crawler high-bandwidth web-server" tcptune --profile-dir "$SRCDIR/profiles" apply -n ""
# Keys for explain: from the --root tree, and from this kernel.
comp "net.ipv4.tcp_keepalive_intvl net.ipv4.tcp_keepalive_probes net.ipv4.tcp_keepalive_time" \
	tcptune --root "$R" explain net.ipv4.tcp_keep
has net.ipv4.tcp_tw_reuse tcptune --root="$R" explain net.ipv4.tcp_tw
has fs.file-max tcptune --root "$R" explain fs.
if [ -r /proc/sys/net/core/somaxconn ]; then
	comp "net.core.somaxconn" tcptune explain net.core.soma
	has net.ipv4.ip_local_port_range tcptune explain net.ipv4.ip_lo
fi
# Directories for --root, formats after the command.
comp "$T/files/sub" tcptune --root "$T/files/s"
# Every long option --help names is offered: the global ones anywhere, a
# command's own after that command.
"$T/bin/tcptune" --help >"$T/help" || exit 1
for o in $(sed -n '/^options:/,/^$/p' "$T/help" | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
	has "$o" tcptune -
	has "$o" tcptune sockets -
done
for cmd in $(sed -n '/^commands:/,/^$/p' "$T/help" | awk '/^  [a-z]/ { print $1 }'); do
	for o in $(sed -n '/^commands:/,/^$/p' "$T/help" | grep -E "^  $cmd( |$)" | grep -oE -- '--[a-z][a-z-]*'); do
		has "$o" tcptune "$cmd" -
	done
done
exit $bad
EOF

bash --norc --noprofile "$T/t.bash" plain "$T" "$SRCDIR" "$R" >"$T/bash.out" 2>&1 ||
	{ cat "$T/bash.out" >&2; fail "bash completion (plain bash)"; }
if [ -r /usr/share/bash-completion/bash_completion ] ||
	{ [ "${CI:-}" = true ] && fail "CI needs bash-completion (apt-get install -y bash-completion)"; }; then
	bash --norc --noprofile "$T/t.bash" bash-completion "$T" "$SRCDIR" "$R" >"$T/bash.out" 2>&1 ||
		{ cat "$T/bash.out" >&2; fail "bash completion (with bash-completion)"; }
else
	echo "note: bash-completion is not installed; tested on plain bash only" >&2
fi

# zsh: syntax, then a real interactive zsh in a zpty, listing candidates.
tt_want zsh zsh "zsh completion" || exit 0
zsh -n "$ZSHCOMP" || fail "zsh -n $ZSHCOMP"
# Every long option of --help is in the zsh specs.
"$TCPTUNE" --help | sed -n '/^commands:/,$p' | grep -oE -- '--[a-z][a-z-]*' | sort -u >"$T/opts"
while read -r o; do
	grep -q -- "'[^']*$o[]=[+]" "$ZSHCOMP" || grep -q -- "[{,]$o[,}=+]" "$ZSHCOMP" ||
		fail "_tcptune does not know $o"
done <"$T/opts"
mkdir -p "$T/fpath" && cp "$ZSHCOMP" "$T/fpath/_tcptune"
cat >"$T/t.zsh" <<'EOF'
# zsh t.zsh T LINE...: print what zsh lists (^D) at the end of each LINE.
T=$1
shift
zmodload zsh/zpty || exit 77
for line in "$@"; do
	zpty z "env -i PATH=$T/bin:/usr/bin:/bin HOME=$T TERM=dumb zsh -f -i"
	zpty -w z "PS1='ZP> '; unsetopt zle_bracketed_paste; fpath=($T/fpath \$fpath); autoload -Uz compinit; compinit -u -D; LISTMAX=0; print -r -- READY''1"
	# The words are split in the command so that its echo does not match.
	zpty -r z text '*READY1*ZP> *' || exit 3
	zpty -w -n z "$line"$'\C-d'
	# Completion runs tcptune; let it list before the line is killed.
	sleep 3
	zpty -w -n z $'\C-u'"print -r -- END''2"$'\n'
	zpty -r z text '*END2*' || exit 4
	zpty -d z
	print -r -- "### $line"
	print -r -- "$text"
done
EOF
timeout 120 zsh -f "$T/t.zsh" "$T" \
	"tcptune " \
	"tcptune --profile-dir $SRCDIR/profiles audit " \
	"tcptune --root $R explain net.ipv4.tcp_keep" \
	"tcptune sockets --by " \
	"tcptune help " \
	"tcptune apply --" >"$T/zsh.out" 2>&1
rc=$?
[ "$rc" -eq 77 ] && { echo "note: no zsh/zpty; zsh completion checked for syntax only" >&2; exit 0; }
[ "$rc" -eq 0 ] || { cat "$T/zsh.out" >&2; fail "zsh session failed ($rc)"; }
tr -d '\r' <"$T/zsh.out" >"$T/zsh.txt"
# section LINE: what zsh printed for LINE.
section() {
	awk -v h="### $1" '/^### / { on = ($0 == h); next } on' "$T/zsh.txt"
}
zhas() {
	section "$1" | grep -Eq -- "$2" || { cat "$T/zsh.txt" >&2; fail "zsh: '$1': no /$2/"; }
}
zhas "tcptune " 'sockets +-- TCP sockets by state'
zhas "tcptune " 'rollback +-- undo the last apply'
zhas "tcptune " 'help +-- the options and examples'
zhas "tcptune help " 'doctor'
zhas "tcptune help " 'rollback'
zhas "tcptune --profile-dir $SRCDIR/profiles audit " 'baseline +crawler +high-bandwidth +web-server'
zhas "tcptune --root $R explain net.ipv4.tcp_keep" 'net\.ipv4\.tcp_keepalive_intvl'
zhas "tcptune --root $R explain net.ipv4.tcp_keep" 'net\.ipv4\.tcp_keepalive_probes'
zhas "tcptune sockets --by " 'local-port +owner +owner,remote +remote +state'
zhas "tcptune apply --" '--dry-run'
zhas "tcptune apply --" '--wait'
section "tcptune sockets --by " | grep -q crawler && fail "zsh: profiles offered for --by"
exit 0
