#!/bin/sh
# SPDX-License-Identifier: ISC
# Hostile input on fixture roots: key names that try to leave /proc/sys,
# huge files, terminal escapes and invalid UTF-8, profiles others can write.
# Prints the measured times and peak RSS.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_SOCKETS_SOURCE TCPTUNE_DIAG_FILE TCPTUNE_DIAG_RECORD
NO_COLOR=1
export NO_COLOR
R=$(tt_root root-basic)
P="$T/p"
mkdir -p "$P"
tt() { "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" "$@"; }
ESC=$(printf '\033')
BEL=$(printf '\007')
# clean FILE: no raw ESC, BEL or C1 CSI, and valid UTF-8 (what a terminal gets)
clean() {
	grep -q "[$ESC$BEL]" "$1" && { cat -A "$1" >&2; fail "raw control character in $2"; }
	grep -q "$(printf '\302\233')" "$1" && fail "raw C1 CSI in $2"
	iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1 || { cat -A "$1" >&2; fail "invalid UTF-8 in $2"; }
	return 0
}
# json FILE PYTHON: a strict JSON document that passes the assertions in PYTHON (d is the document)
json() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8", errors="strict"))
exec(sys.argv[2])' "$1" "$2" || { cat "$1" >&2; fail "JSON: $2"; }
}
# measure NAME COMMAND...: run it, print and keep seconds and peak RSS (KiB) in $secs and $rss
measure() {
	name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$T/time" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	secs=$(cut -d' ' -f1 "$T/time" | tail -n 1)
	rss=$(cut -d' ' -f2 "$T/time" | tail -n 1)
	echo "measured: $name: exit $rc, ${secs}s, peak RSS ${rss} KiB"
}
[ -x /usr/bin/time ] || skip "no /usr/bin/time"

# --- 1. key names that try to leave /proc/sys ---------------------------------
echo secret >"$R/proc/secret"
for k in 'net/../../secret' 'net.ipv4/../../secret' '../../../etc/passwd' 'net.ipv4.tcp keepalive_time' \
	'net..ipv4.tcp_keepalive_time' '/net/ipv4/tcp_keepalive_time' 'net.ipv4.' '.' "net.ipv4.tcp_fin_timeout$ESC[2J"; do
	expect_exit 2 tt explain "$k"
	grep -q secret "$T/out" && fail "explain '$k' read outside /proc/sys"
	clean "$T/err" "the error for '$k'"
done
# libconfig names cannot hold '.', '/' or spaces: such a profile is a syntax error, exit 2
S='sysctl = { net = { ipv4 = {'
E='}; }; };'
for k in '"tcp_keepalive_time/../../x"' 'tcp keepalive_time' '..' 'a/b'; do
	printf '%s\n %s = 1; %s\n' "$S" "$k" "$E" >"$P/key.conf"
	expect_exit 2 tt validate "$P/key.conf"
	grep_err "key\.conf:2: "
done
# a NUL byte in a profile (a key name cannot carry one on argv)
printf '%s\n tcp_fin_\000timeout = 30; %s\n' "$S" "$E" >"$P/nul.conf"
expect_exit 2 tt validate "$P/nul.conf"
grep_err 'NUL byte'
expect_exit 2 tt apply "$P/nul.conf"
[ -e "$R/etc/sysctl.d/90-tcptune.conf" ] && fail "apply wrote a fragment for a refused profile"
# sysctl.d lines with such keys are skipped with a warning, not followed
printf 'net/../../secret = 1\nnet.ipv4.tcp_keepalive_time/../../x = 2\n../../../secret=3\nnet.ipv4 .tcp = 4\nnet.ipv4.tcp_keepalive_time/.. = 5\nnet.ipv4.tcp_keepalive_probes = 7\n' \
	>"$R/etc/sysctl.d/99-evil.conf"
# a NUL byte in a sysctl.d file: no crash (what follows it is another matter)
printf 'net.ipv4.tcp_keepalive_time\000 = 5\n' >"$R/etc/sysctl.d/97-nul.conf"
expect_exit 1 tt -o json audit crawler
json "$T/out" '
k = {x["key"]: x for x in d["keys"]}
assert k["net.ipv4.tcp_keepalive_probes"]["boot_source"] == "/etc/sysctl.d/99-evil.conf:6", k["net.ipv4.tcp_keepalive_probes"]
assert "99-evil" not in (k["net.ipv4.tcp_keepalive_time"]["boot_source"] or ""), k["net.ipv4.tcp_keepalive_time"]'
[ "$(cat "$R/proc/secret")" = secret ] || fail "something wrote outside /proc/sys"
rm "$R/etc/sysctl.d/99-evil.conf" "$R/etc/sysctl.d/97-nul.conf"
# a symlink planted in /proc/sys is not followed, for reading or writing
echo 12345 >"$T/outside"
rm "$R/proc/sys/net/ipv4/tcp_fin_timeout" && ln -s "$T/outside" "$R/proc/sys/net/ipv4/tcp_fin_timeout"
expect_exit 1 tt -o json audit crawler
grep -q 12345 "$T/out" && fail "audit read through a symlink in /proc/sys"
tt apply crawler >"$T/out" 2>"$T/err"
[ "$(cat "$T/outside")" = 12345 ] || fail "apply wrote through a symlink in /proc/sys"
tt rollback >/dev/null 2>&1
# --fragment outside the root stays below it
A=$(tt_root apply-root)
"$TCPTUNE" --root "$A" --profile-dir "$PROFILES" --fragment "/../../../../..$T/escape.conf" apply crawler >"$T/out" 2>"$T/err"
[ -e "$T/escape.conf" ] && fail "--fragment with .. left the root"

# --- 2. huge files: refused early, bounded memory -----------------------------
truncate -s 100M "$P/huge.conf"
measure "validate a 100 MB profile" "$TCPTUNE" --root "$R" validate "$P/huge.conf"
[ "$rc" -eq 2 ] || fail "a 100 MB profile: exit $rc"
grep_err 'larger than 1048576 bytes'
awk -v s="$secs" 'BEGIN { exit !(s < 2) }' || fail "a 100 MB profile took ${secs}s to refuse"
[ "$rss" -lt 65536 ] || fail "a 100 MB profile: peak RSS $rss KiB"
head -c 2000000 /dev/zero | tr '\0' ' ' >"$P/big.cfg"
printf 'description = "x";\n@include "big.cfg"\n' >"$P/inc.conf"
expect_exit 2 tt validate "$P/inc.conf"
grep_err '@include "big.cfg": the profile and its @include files are larger than'
mkfifo "$P/fifo.cfg" "$P/fifo.conf"
printf '@include "fifo.cfg"\n' >"$P/incfifo.conf"
expect_exit 2 timeout 20 "$TCPTUNE" --root "$R" validate "$P/incfifo.conf"
grep_err 'fifo.cfg": not a regular file'
expect_exit 2 timeout 20 "$TCPTUNE" --root "$R" validate "$P/fifo.conf"
grep_err 'not a regular file'
# a string left open at the end: our message (libconfig 1.5 leaks on it)
printf 'description = "open;\n' >"$P/open.conf"
expect_exit 2 tt validate "$P/open.conf"
grep_err 'open\.conf:1: string not closed'

# the sysctl.d reader is linear: 80,000 lines in one file, and 20,000 files (the old reader
# took 32 s and 5-11 s without sanitizers); bounded in CPU time, which load does not inflate
for shape in lines files; do
	B=$(tt_root root-basic "sysctld-$shape")
	mkdir -p "$B/etc/sysctl.d"
	python3 - "$B/etc/sysctl.d" "$shape" <<'EOP' || fail "cannot write the $shape fixture"
import sys
d, shape = sys.argv[1], sys.argv[2]
if shape == "lines":
    with open(d + "/50-big.conf", "w") as f:
        for i in range(80000):
            f.write("net.ipv4.conf.if%d.rp_filter = 1\n" % i)
else:
    for i in range(20000):
        with open("%s/%05d-x.conf" % (d, i), "w") as f:
            f.write("net.ipv4.conf.if%d.rp_filter = 1\n" % i)
EOP
	/usr/bin/time -f '%U %e' -o "$T/time" "$TCPTUNE" --root "$B" --profile-dir "$PROFILES" audit crawler \
		>"$T/out" 2>"$T/err"
	rc=$?
	read -r user wall <<EOT
$(tail -n 1 "$T/time")
EOT
	echo "measured: audit with sysctl.d of 80k lines or 20k files ($shape): exit $rc, ${user}s CPU, ${wall}s"
	[ "$rc" -le 1 ] || { cat "$T/err" >&2; fail "audit with a big sysctl.d ($shape): exit $rc"; }
	awk -v s="$user" 'BEGIN { exit !(s < 8) }' || fail "audit with a big sysctl.d ($shape) took ${user}s of CPU"
	rm -rf "$B"
done

# /proc/net/tcp with 100k and 1M sockets: constant memory, linear time
S1=$(tt_root sockets-proc)
gen() {
	awk -v n="$1" 'BEGIN {
		print "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
		split("01 06 08 0A 01 06", st, " ")
		for (i = 0; i < n; i++)
			printf "%6d: 0100007F:%04X %08X:01BB %s 00000000:00000000 00:00000000 00000000  1000        0 %d 1 0000000000000000 20 4 0 10 -1\n",
				i, 1024 + i % 60000, 167772161 + i % 1000, st[i % 6 + 1], st[i % 6 + 1] == "06" ? 0 : 100000 + i
	}' >"$S1/proc/net/tcp" || fail "cannot write the big /proc/net/tcp"
	: >"$S1/proc/net/tcp6"
}
gen 100000
measure "sockets, 100k lines" "$TCPTUNE" --root "$S1" sockets
[ "$rc" -eq 0 ] || { cat "$T/err" >&2; fail "sockets on 100k lines: exit $rc"; }
grep_out '^total +100000$'
t1=$secs r1=$rss
measure "sockets --by remote, 100k lines" "$TCPTUNE" --root "$S1" sockets --by remote
[ "$rc" -eq 0 ] || fail "sockets --by remote on 100k lines: exit $rc"
t1r=$secs r1r=$rss
gen 1000000
measure "sockets, 1M lines" "$TCPTUNE" --root "$S1" sockets
[ "$rc" -eq 0 ] || fail "sockets on 1M lines: exit $rc"
grep_out '^total +1000000$'
t2=$secs r2=$rss
measure "sockets --by remote, 1M lines" "$TCPTUNE" --root "$S1" sockets --by remote
[ "$rc" -eq 0 ] || fail "sockets --by remote on 1M lines: exit $rc"
t2r=$secs r2r=$rss
rm -f "$S1/proc/net/tcp"
# 10x the lines: at most 20x the time (plus start-up noise), at most 2 MiB more memory
awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(b <= 20 * a + 1) }' || fail "sockets: ${t1}s at 100k, ${t2}s at 1M: not linear"
awk -v a="$t1r" -v b="$t2r" 'BEGIN { exit !(b <= 20 * a + 1) }' || fail "sockets --by remote: ${t1r}s at 100k, ${t2r}s at 1M: not linear"
[ "$r2" -le $((r1 + 2048)) ] || fail "sockets: peak RSS $r1 KiB at 100k, $r2 KiB at 1M: not bounded"
[ "$r2r" -le $((r1r + 2048)) ] || fail "sockets --by remote: peak RSS $r1r KiB at 100k, $r2r KiB at 1M: not bounded"

# --- 3. terminal escapes and invalid UTF-8 -------------------------------------
# a description with OSC, CSI, BEL, invalid UTF-8, an overlong '/', a C1 CSI
printf 'description = "evil \\x1b]0;pwned\\x07 \\x1b[2J bad\377\376 long\300\257 c1\302\233 end";\n%s\n tcp_keepalive_time = 200; %s\n' "$S" "$E" >"$P/esc.conf"
for cmd in "profiles" "show esc" "validate $P/esc.conf"; do
	# shellcheck disable=SC2086
	expect_exit 0 "$TCPTUNE" --root "$R" --profile-dir "$P" $cmd
	clean "$T/out" "$cmd"
done
expect_exit 0 "$TCPTUNE" --root "$R" --profile-dir "$P" profiles
grep_out 'evil \\x1b\]0;pwned\\x07 \\x1b\[2J bad\\xff\\xfe long\\xc0\\xaf c1\\xc2\\x9b end'
expect_exit 0 "$TCPTUNE" --root "$R" --profile-dir "$P" -o json profiles
json "$T/out" '
e = [p for p in d["profiles"] if p["name"] == "esc"][0]
assert e["description"] == "evil \x1b]0;pwned\x07 \x1b[2J bad\\xff\\xfe long\\xc0\\xaf c1\x9b end", e'
expect_exit 0 "$TCPTUNE" --root "$R" --profile-dir "$P" -o json show esc
json "$T/out" 'assert d["description"].startswith("evil \x1b]0;pwned"), d'
# a file name with escapes in an error message
bad="$P/x${ESC}[2Jy$(printf '\377').conf"
printf 'sysctl = 1;\n' >"$bad"
expect_exit 2 "$TCPTUNE" --root "$R" validate "$bad"
clean "$T/err" "an error naming an escaped file"
grep_err 'x\\x1b\[2Jy\\xff\.conf:1: '
expect_exit 2 "$TCPTUNE" --root "$R" -o json validate "$bad"
json "$T/out" 'assert d["files"][0]["file"].endswith("x\x1b[2Jy\\xff.conf"), d'
# live values and sysctl.d files with escapes and invalid UTF-8
printf 'cubic\033[2J\377\n' >"$R/proc/sys/net/ipv4/tcp_congestion_control"
printf 'net.ipv4.tcp_keepalive_time = 20\033]0;x\007\377\n' >"$R/etc/sysctl.d/98-esc.conf"
printf '%s\n tcp_congestion_control = "bbr"; tcp_keepalive_time = 200; %s\n' "$S" "$E" >"$P/cc.conf"
expect_exit 1 tt audit "$P/cc.conf"
clean "$T/out" "audit table"
expect_exit 1 tt -o json audit "$P/cc.conf"
json "$T/out" '
k = {x["key"]: x for x in d["keys"]}
assert k["net.ipv4.tcp_congestion_control"]["live"] == "cubic\x1b[2J\\xff", k
assert k["net.ipv4.tcp_keepalive_time"]["boot"] is not None, k'
expect_exit 1 tt -o prometheus audit "$P/cc.conf"
clean "$T/out" "audit prometheus"
# plan checks the name against the kernel's list: this one has bbr
printf 'reno cubic bbr\n' >"$R/proc/sys/net/ipv4/tcp_available_congestion_control"
expect_exit 1 tt plan "$P/cc.conf"
clean "$T/out" "plan table"
expect_exit 1 tt -o json plan "$P/cc.conf"
json "$T/out" '
k = {x["key"]: x for x in d["keys"]}
assert k["net.ipv4.tcp_congestion_control"]["before"] == "cubic\x1b[2J\\xff", k'
# process names: OSC and BEL, invalid UTF-8, a C1 CSI
S2=$(tt_root sockets-proc)
sh "$SRCDIR/tests/data/sockets-proc/mkfds.sh" "$S2" || fail "mkfds"
printf 'a\033]0;x\007b\377c\302\233d\n' >"$S2/proc/4242/comm"
expect_exit 0 "$TCPTUNE" --root "$S2" sockets --by owner
clean "$T/out" "sockets --by owner"
grep_out '4242 +a\\x1b\]0;x\\x07b\\xffc\\xc2\\x9bd '
expect_exit 0 "$TCPTUNE" --root "$S2" -o json sockets --by owner
json "$T/out" 'assert d["by_owner"][0]["comm"] == "a\x1b]0;x\x07b\\xffc\x9bd", d["by_owner"]'
expect_exit 1 "$TCPTUNE" --root "$S2" doctor
clean "$T/out" "doctor"
expect_exit 1 "$TCPTUNE" --root "$S2" -o json doctor
json "$T/out" 'assert d["findings"], d'

# --- 4. profiles others can change: as root refused (exit 2, -q or not), else a warning ---
W="$T/perm"
mkdir -p "$W" && chmod 755 "$W"
printf '%s\n tcp_keepalive_time = 200; %s\n' "$S" "$E" >"$W/ok.conf"
chmod 644 "$W/ok.conf"
expect_exit 0 tt validate "$W/ok.conf"
grep -q warning "$T/err" && fail "a warning for a safe profile: $(cat "$T/err")"
if [ "$(id -u)" -eq 0 ]; then
	chmod 666 "$W/ok.conf"
	expect_exit 2 tt validate "$W/ok.conf"
	grep_err "$W/ok\.conf: writable by everyone: refusing it as root"
	chmod 664 "$W/ok.conf"
	expect_exit 2 tt -q audit "$W/ok.conf"
	grep_err "$W/ok\.conf: writable by its group: refusing it as root"
	chmod 644 "$W/ok.conf"
	chmod 777 "$W"
	expect_exit 2 "$TCPTUNE" --root "$R" --profile-dir "$W" show ok
	grep_err "$W/ok\.conf: below $W, which everyone can write \(no sticky bit\)"
	chmod 1777 "$W"
	expect_exit 0 tt validate "$W/ok.conf"
	chmod 755 "$W"
	# an @include others can write: refused with the including file:line
	printf '@include "inc.conf"\n%s\n tcp_fin_timeout = 20; %s\n' "$S" "$E" >"$W/top.conf"
	printf 'description = "included";\n' >"$W/inc.conf"
	chmod 644 "$W/top.conf" "$W/inc.conf"
	expect_exit 0 tt validate "$W/top.conf"
	chmod 666 "$W/inc.conf"
	expect_exit 2 tt -q validate "$W/top.conf"
	grep_err "$W/top\.conf:1: @include \"inc\.conf\": $W/inc\.conf: writable by everyone: refusing it as root"
	chmod 644 "$W/inc.conf"
	chown 4242 "$W/ok.conf"
	expect_exit 2 tt validate "$W/ok.conf"
	grep_err "$W/ok\.conf: owned by uid 4242, not root: refusing it as root"
	expect_exit 2 tt -o json validate "$W/ok.conf"
	json "$T/out" 'assert "owned by uid 4242" in d["files"][0]["errors"][0], d'
	chown 0 "$W/ok.conf"
	mkdir "$W/sub" && cp "$W/ok.conf" "$W/sub/" && chown 4242 "$W/sub"
	expect_exit 2 tt validate "$W/sub/ok.conf"
	grep_err "$W/sub/ok\.conf: below $W/sub, owned by uid 4242, not root"
else
	chmod 666 "$W/ok.conf"
	expect_exit 0 tt validate "$W/ok.conf"
	grep_err "warning: $W/ok\.conf: writable by everyone"
	chmod 664 "$W/ok.conf"
	expect_exit 1 tt audit "$W/ok.conf"
	grep_err "warning: $W/ok\.conf: writable by its group"
	expect_exit 1 tt -q audit "$W/ok.conf"
	grep -q warning "$T/err" && fail "-q printed a warning"
	chmod 644 "$W/ok.conf"
	chmod 777 "$W"
	expect_exit 0 "$TCPTUNE" --root "$R" --profile-dir "$W" show ok
	grep_err "warning: $W/ok\.conf: directory $W is writable by everyone"
	chmod 1777 "$W"
	expect_exit 0 tt validate "$W/ok.conf"
	grep -q warning "$T/err" && fail "a warning for a profile of ours in a sticky directory"
	chmod 755 "$W"
fi

# --- 5. keys outside the network scope need allow_uncatalogued, shown in show and render ---
U="$T/scope"
mkdir -p "$U" && chmod 755 "$U"
printf 'sysctl = { kernel = { core_pattern = "|/tmp/x %%p"; }; };\n' >"$U/k.conf"
printf 'allow_uncatalogued = true;\nsysctl = { kernel = { core_pattern = "core"; }; };\n' >"$U/k2.conf"
chmod 644 "$U"/*.conf
expect_exit 2 "$TCPTUNE" -q render "$U/k.conf"
grep_err "$U/k\.conf:1: kernel\.core_pattern: outside the network keys tcptune knows .*allow_uncatalogued = true;"
[ -s "$T/out" ] && fail "render printed a fragment for a refused profile"
expect_exit 0 "$TCPTUNE" render "$U/k2.conf"
grep_out '^# allow_uncatalogued = true'
grep_out '^# rule: core \(k2\) \[outside the network scope\]$'
grep_out '^kernel\.core_pattern = core$'
expect_exit 0 "$TCPTUNE" show "$U/k2.conf"
grep_out "^# allow_uncatalogued = true \($U/k2\.conf\)"
expect_exit 0 "$TCPTUNE" -o json show "$U/k2.conf"
json "$T/out" 'assert d["allow_uncatalogued"] is True and d["allow_uncatalogued_in"][0].endswith("/k2.conf"), d'
exit 0
