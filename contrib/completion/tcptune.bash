# SPDX-License-Identifier: ISC
# tcptune.bash: bash completion for tcptune(8): commands, options, profile names, sysctl keys.
#
# Works on a plain bash; uses bash-completion's helpers only when they are
# loaded. Installed as $(datadir)/bash-completion/completions/tcptune.

_tcptune_commands="audit apply plan rollback render profiles show validate explain sockets doctor help"
# Global options that take a value (also accepted after the command).
_tcptune_global_arg="--root --netns --fragment --profile-dir -o --format --output --color --colour"
_tcptune_global_flag="-q --quiet -v --verbose -h --help -V --version"

# _tcptune_profiles WORD...: profile names on the profile path tcptune would
# search for this command line (--root and --profile-dir taken into account).
_tcptune_profiles()
{
	local prog=$1 i w root=/ names dir
	local -a args=() dirs=()
	shift
	for ((i = 1; i <= $#; i++)); do
		w=${!i}
		case $w in
		--root=* | --profile-dir=*)
			args+=("$w")
			[[ $w == --root=* ]] && root=${w#--root=} || dirs+=("${w#--profile-dir=}")
			;;
		--root | --profile-dir)
			((i++))
			args+=("$w" "${!i}")
			[[ $w == --root ]] && root=${!i} || dirs+=("${!i}")
			;;
		esac
	done
	# The program knows the path best; its JSON has one "name" per profile.
	names=$(command "$prog" "${args[@]}" -o json profiles 2>/dev/null |
		sed -n 's/^ *"name": "\([^"\\]*\)",\{0,1\}$/\1/p')
	if [[ -z $names ]]; then
		local IFS=:
		dirs+=(${TCPTUNE_PROFILE_PATH-})
		unset IFS
		dirs+=("${root%/}/etc/tcptune/profiles" "${root%/}/usr/local/share/tcptune/profiles"
			"${root%/}/usr/share/tcptune/profiles")
		for dir in "${dirs[@]}"; do
			[[ -d $dir ]] || continue
			for w in "$dir"/*.conf; do
				[[ -f $w ]] && w=${w##*/} && names+=" ${w%.conf}"
			done
		done
	fi
	# a name shadowed further down the path is still one name
	printf '%s\n' $names | sort -u
}

# _tcptune_keys ROOT: dotted sysctl keys tcptune knows about, from ROOT/proc/sys.
_tcptune_keys()
{
	local base=${1%/}/proc/sys p
	for p in "$base"/net/ipv4/tcp_* "$base"/net/ipv4/ip_local_* \
		"$base"/net/ipv4/ip_unprivileged_port_start "$base"/net/ipv6/tcp_* \
		"$base"/net/core/* "$base"/net/netfilter/nf_conntrack_max \
		"$base"/net/netfilter/nf_conntrack_tcp_timeout_* "$base"/fs/file-max "$base"/fs/nr_open; do
		[[ -f $p ]] || continue
		p=${p#"$base"/}
		printf '%s\n' "${p//\//.}"
	done
}

_tcptune()
{
	local cur prev cword cmd="" root=/ i w
	local -a words
	if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
		_get_comp_words_by_ref -n =: cur prev words cword
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${words[cword]}
		prev=${words[cword - 1]}
	fi
	COMPREPLY=()

	# The command is the first word that is not an option or an option's value.
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		case " $_tcptune_global_arg --by --state --top --watch --source --wait -b -s -N -n -w " in
		*" $w "*)
			[[ $w == --root ]] && root=${words[i + 1]}
			((i++))
			continue
			;;
		esac
		[[ $w == --root=* ]] && root=${w#--root=}
		[[ $w == -* ]] && continue
		if [[ -z $cmd && " $_tcptune_commands " == *" $w "* ]]; then
			cmd=$w
		fi
	done

	# Values of options.
	case $prev in
	--root | --profile-dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return 0
		;;
	--fragment | --output)
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0
		;;
	--netns)
		COMPREPLY=($(compgen -W "$(ls /run/netns 2>/dev/null)" -- "$cur"))
		return 0
		;;
	-o | --format)
		COMPREPLY=($(compgen -W "table json prometheus" -- "$cur"))
		return 0
		;;
	--color | --colour)
		COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
		return 0
		;;
	--by | -b)
		[[ $cmd == sockets ]] && COMPREPLY=($(compgen -W "state owner remote local-port owner,remote" -- "$cur"))
		return 0
		;;
	--state | -s)
		if [[ $cmd == sockets ]]; then
			# A comma-separated list: complete the last element.
			local head=${cur%"${cur##*,}"}
			COMPREPLY=($(compgen -P "$head" -W "all established syn-sent syn-recv fin-wait-1
				fin-wait-2 time-wait close close-wait last-ack listen closing" -- "${cur##*,}"))
			compopt -o nospace 2>/dev/null
		fi
		return 0
		;;
	--as)
		[[ $cmd == render ]] && COMPREPLY=($(compgen -W "sysctl.d kubernetes docker" -- "$cur"))
		return 0
		;;
	--source)
		COMPREPLY=($(compgen -W "auto netlink proc" -- "$cur"))
		return 0
		;;
	--top | -N | --watch | --wait)
		return 0
		;;
	-n | -w)
		# --top and --watch of sockets; apply's -n is --dry-run, a flag.
		[[ $cmd == sockets ]] && return 0
		;;
	esac

	if [[ $cur == -* ]]; then
		local opts="$_tcptune_global_arg $_tcptune_global_flag"
		case $cmd in
		audit) opts+=" --all-netns --raw" ;;
		apply) opts+=" --dry-run -n --check --keep-stale --wait" ;;
		plan) opts+=" --keep-stale" ;;
		rollback) opts+=" --dry-run -n --check --forget --force --wait" ;;
		sockets) opts+=" --by --state --top -N --watch --exact --source -4 -6" ;;
		doctor) opts+=" --interval --once --source" ;;
		render) opts+=" --as" ;;
		esac
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return 0
	fi

	case $cmd in
	"")
		COMPREPLY=($(compgen -W "$_tcptune_commands" -- "$cur"))
		;;
	audit | apply | plan | render | show | doctor)
		if [[ $cur == */* ]]; then
			COMPREPLY=($(compgen -f -X '!*.conf' -- "$cur") $(compgen -d -S / -- "$cur"))
			compopt -o nospace -o filenames 2>/dev/null
		else
			COMPREPLY=($(compgen -W "$(_tcptune_profiles "${words[0]}" "${words[@]:1:cword-1}")" -- "$cur"))
		fi
		;;
	validate)
		COMPREPLY=($(compgen -f -X '!*.conf' -- "$cur") $(compgen -d -S / -- "$cur"))
		compopt -o nospace -o filenames 2>/dev/null
		;;
	explain)
		COMPREPLY=($(compgen -W "$(_tcptune_keys "$root")" -- "$cur"))
		;;
	help)
		# help COMMAND: the commands, once
		[[ ${words[cword-1]} == help ]] &&
			COMPREPLY=($(compgen -W "${_tcptune_commands% help}" -- "$cur"))
		;;
	esac
	return 0
}
complete -F _tcptune tcptune
