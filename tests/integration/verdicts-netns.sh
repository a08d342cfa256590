#!/bin/sh
# SPDX-License-Identifier: ISC
# The remedy loop on a real kernel (private user+net+mount namespace):
# audit -> plan -> apply -> audit over histories an admin meets. Whenever
# audit exits 1 it must name a step (a full command) that runs as printed,
# and after that step audit must exit 0.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_need_sandbox
W="$T/w"

cat >"$T/profiles/t.conf" <<'EOC'
description = "verdicts test";
sysctl = { net = { ipv4 = {
  tcp_keepalive_time = 200;
  tcp_tw_reuse = 1;
}; }; };
EOC
cat >"$T/profiles/computed.conf" <<'EOC'
description = "a key the kernel computes at boot from memory (tcp_init())";
sysctl = { net = { ipv4 = { tcp_rmem = { min = [ 4096, 87380, 67108864 ]; }; }; }; };
EOC
# the build's default congestion control: no formula tcptune could follow.
# The rule accepts what this kernel runs now, so only the boot value is open.
cc=$(cat /proc/sys/net/ipv4/tcp_congestion_control)
cat >"$T/profiles/unknown.conf" <<EOC
description = "a key whose boot value tcptune cannot compute";
sysctl = { net = { ipv4 = { tcp_congestion_control = { one_of = [ "$cc", "reno" ]; }; }; }; };
EOC
cat >"$T/profiles/formula.conf" <<'EOC'
description = "keys whose boot value follows from the TCP hash size";
sysctl = { net = { ipv4 = { tcp_max_syn_backlog = { min = 128; }; tcp_max_tw_buckets = { min = 1024; }; }; }; };
EOC
chmod 644 "$T/profiles/"*.conf

# step.py AUDIT_TABLE AUDIT_JSON WHICH: the step audit suggests, as printed.
# WHICH "run": the command of the final "not compliant: run: CMD" line, else
# of a key's "run: CMD" fix; "fragment": the "apply ... --fragment" way out of
# a boot conflict; "edit": the sed command that comments the line out.
cat >"$W/step.py" <<'EOP'
import json, re, sys
table, doc, which = open(sys.argv[1]).read(), json.load(open(sys.argv[2])), sys.argv[3]
fixes = [k.get("fix") or "" for k in doc["keys"] if k["status"] != "ok"]
if which == "run":
    m = re.search(r"^not compliant: run: (.*?)(?: \(`.*)?$", table, re.M)
    if not m:
        m = next(filter(None, (re.match(r"run: (.*?)(?: \(its fragment.*)?$", f) for f in fixes)), None)
elif which == "fragment":
    m = next(filter(None, (re.search(r"where it is read last: ((?:\S*/)?tcptune .*?) \(and keep", f) for f in fixes)), None)
    # the same step must be in the table's advice, as printed
    assert m and m.group(1) in table, (m, table)
else:
    m = next(filter(None, (re.search(r"comment (?:it|that line) out: (sed .*)$", f) for f in fixes)), None)
    assert m and m.group(1) in table, (m, table)
if not m:
    sys.exit("no %s step in the advice:\n%s" % (which, table))
print(m.group(1))
EOP

# loop HISTORY WHICH SETUP: in a fresh namespace, SETUP, then audit (must
# exit 1 and show the step WHICH), plan (exit 1), the step as printed,
# audit again (exit 0). $TT is tcptune with the test's global options.
loop() {
	tt_sandbox "
TT=\"\$TCPTUNE --profile-dir \$PROFILES\"
$3
\$TT audit \$P > \$W/a.txt 2> \$W/a.err; echo \"audit1=\$?\"
\$TT -o json audit \$P > \$W/a.json 2>/dev/null
\$TT -o prometheus audit \$P > \$W/a.prom 2>/dev/null
\$TT audit > \$W/a0.txt 2>&1; echo \"audit0=\$?\"
\$TT doctor \$P > \$W/doctor.txt 2>&1
\$TT plan \$P > \$W/plan.txt 2> \$W/plan.err; echo \"plan=\$?\"
step=\$(python3 \$W/step.py \$W/a.txt \$W/a.json $2) || { echo nostep; exit 1; }
echo \"step=\$step\"
PATH=\$(dirname \$TCPTUNE):\$PATH; export PATH
eval \"\$step\" > \$W/step.out 2>&1; echo \"steprc=\$?\"
\$TT audit \$P > \$W/b.txt 2>&1; echo \"audit2=\$?\"
[ -z \"\${R:-}\" ] || \$TCPTUNE --root \$R --profile-dir \$PROFILES audit \$P >> \$W/b.txt 2>&1
"
	cp "$T/out" "$T/$1.log"
	for want in audit1=1 plan=1 steprc=0 audit2=0; do
		grep -qx "$want" "$T/out" || {
			echo "--- $1"; cat "$T/out" "$T/err" "$W/a.txt" "$W/a.err" "$W/plan.txt" "$W/plan.err" \
				"$W/step.out" "$W/b.txt" >&2
			fail "$1: wanted $want"
		}
	done
}

# 1. A later sysctl.d file overrides a key of the fragment at boot. audit
#    names it on the row and in the advice; plan exits 1 on the conflict;
#    either way out turns audit green.
LATE='P=t
$TT apply t >/dev/null 2>&1 || { echo apply0-failed; exit 1; }
printf "# site policy\nnet.ipv4.tcp_keepalive_time = 7200\n" > /etc/sysctl.d/95-local.conf'
loop late-override-fragment fragment "$LATE"
grep -q '^net\.ipv4\.tcp_keepalive_time .* /etc/sysctl\.d/95-local\.conf:2 *boot-drift$' "$W/a.txt" ||
	fail "the boot-drift row does not name 95-local.conf:2: $(cat "$W/a.txt")"
grep -q 'boot conflict: net.ipv4.tcp_keepalive_time: /etc/sysctl.d/95-local.conf:2 sets 7200' "$W/plan.err" ||
	fail "plan does not list the boot conflict: $(cat "$W/plan.err")"
grep -Eq -- '--fragment /etc/sysctl.d/99-zz-tcptune.conf( --profile-dir [^ ]+)? apply t' "$W/plan.err" ||
	fail "plan does not print the fragment way out"
grep -q 'fix: .*95-local.conf:2 sets 7200 at boot after the fragment' "$W/doctor.txt" ||
	fail "doctor does not name the overriding file: $(cat "$W/doctor.txt")"
loop late-override-edit edit "$LATE"

# 2. A live-only change (sysctl -w) after the apply: drift, apply again.
loop live-only run 'P=t
$TT apply t >/dev/null 2>&1 || { echo apply0-failed; exit 1; }
echo 7200 > /proc/sys/net/ipv4/tcp_keepalive_time'
grep -q '^net\.ipv4\.tcp_keepalive_time .* drift$' "$W/a.txt" || fail "live-only change: no drift row"

# 3. A key the kernel computes at boot, set only live. Where tcptune knows
#    the formula (tcp_init(): tcp_rmem[2] = max(131072, min(cap, free memory
#    / 128)), it computes the boot value, says so, and judges it: boot-drift,
#    and apply pins the key in the fragment.
loop computed run 'P=computed
echo "4096 131072 67108864" > /proc/sys/net/ipv4/tcp_rmem'
# the same formula, in awk, from MemTotal and the kernel version: 32 MiB cap
# since 6.16, 6 MiB before; at most 5 % of MemTotal is not free at boot
want=$(awk -v page="$(getconf PAGESIZE)" -v rel="$(uname -r)" '
/^MemTotal:/ { pages = $2 * 1024 / page }
END { split(rel, v, "."); cap = (v[1] > 6 || (v[1] == 6 && v[2] >= 16)) ? 32 : 6; cap *= 1048576
      hi = int(pages) * page / 128; lo = int(int(pages) * 95 / 100) * page / 128
      hi = hi < cap ? hi : cap; lo = lo < cap ? lo : cap
      printf "%d %d", (hi > 131072 ? hi : 131072), (lo > 131072 ? lo : 131072) }' /proc/meminfo)
hi=${want% *} lo=${want#* }
if [ "$hi" = "$lo" ]; then
	grep -q "^net\.ipv4\.tcp_rmem .* $(getconf PAGESIZE) 131072 $hi *computed: tcp_init(): max(131072, min([0-9]* MiB, free memory / 128)) *boot-drift\$" "$W/a.txt" ||
		fail "tcp_rmem: no boot-drift row with the computed $hi: $(cat "$W/a.txt")"
else
	grep -q "^net\.ipv4\.tcp_rmem .* 131072 $hi *computed within 5%: tcp_init()" "$W/a.txt" ||
		fail "tcp_rmem: no row with the estimate $lo..$hi: $(cat "$W/a.txt")"
fi
grep -q '^net\.ipv4\.tcp_rmem .*/etc/sysctl\.d/90-tcptune\.conf:[0-9]* *ok$' "$W/b.txt" ||
	fail "tcp_rmem is not pinned in the fragment after the step: $(cat "$W/b.txt")"

# 3a. No formula (the build's default congestion control): boot-unknown,
#     not ok, with the reason; apply pins the live choice in the fragment.
loop unknown run 'P=unknown'
grep -q '^net\.ipv4\.tcp_congestion_control .*(computed by the kernel) *boot-unknown$' "$W/a.txt" ||
	fail "no boot-unknown row: $(cat "$W/a.txt")"
grep -q '^boot-unknown: net.ipv4.tcp_congestion_control: no sysctl.d file sets it and its boot value depends on this kernel' "$W/a.txt" ||
	fail "no reason for boot-unknown"

# 3b. Where the boot formula is known (tcp_sk_init(): the TCP hash size), the
#     boot value is computed, said so, and judged: nothing to fix here.
tt_sandbox '"$TCPTUNE" --profile-dir "$PROFILES" audit formula; echo "rc=$?"'
e=$(cat /proc/sys/net/ipv4/tcp_ehash_entries 2>/dev/null | tr -d -)
if [ -n "$e" ]; then
	grep -qx 'rc=0' "$T/out" || { cat "$T/out" "$T/err" >&2; fail "computed boot values: audit not compliant"; }
	b=$((e / 128)); [ "$b" -lt 128 ] && b=128
	grep -q "^net\.ipv4\.tcp_max_syn_backlog .* $b *computed: max(128, tcp_ehash_entries / 128) *ok$" "$T/out" ||
		fail "tcp_max_syn_backlog not computed as $b: $(cat "$T/out")"
	grep -q "^net\.ipv4\.tcp_max_tw_buckets .* $((e / 2)) *computed: tcp_ehash_entries / 2 *ok$" "$T/out" ||
		fail "tcp_max_tw_buckets not computed as $((e / 2))"
fi

# 4. /etc/sysctl.conf that procps applies but systemd-sysctl does not read
#    (no 99-sysctl.conf link): `sysctl --system` would undo the fragment. A
#    root of our own keeps the host's /etc out of it; /proc is the namespace's.
loop procps-only edit 'P=t
R=$W/root; mkdir -p $R/proc $R/etc/sysctl.d $R/run/lock $R/var/lib && mount --rbind /proc $R/proc || exit 99
printf "net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_keepalive_time = 7200\n" > $R/etc/sysctl.conf
TT="$TT --root $R"
$TT apply t >/dev/null 2>&1 || { echo apply0-failed; exit 1; }'
grep -q "^boot-drift: net.ipv4.tcp_keepalive_time: /etc/sysctl.conf:2 sets 7200 for \`sysctl --system\`" "$W/a.txt" ||
	fail "procps-only: no reason naming /etc/sysctl.conf:2: $(cat "$W/a.txt")"

# 5. A profile switch. Keys crawler set that web-server does not name
#    (tcp_tw_reuse, ip_local_port_range, tcp_fin_timeout): apply web-server
#    puts them back; with --keep-stale they stay set live but leave the
#    fragment, so audit calls them boot-drift (never ok), with or without a
#    PROFILE, in every output form, until apply without --keep-stale.
loop switch-keep-stale run 'P=web-server
$TT apply crawler >/dev/null 2>&1 || { echo apply0-failed; exit 1; }
$TT apply --keep-stale web-server >/dev/null 2>&1 || { echo apply1-failed; exit 1; }'
grep -qx audit0=1 "$T/switch-keep-stale.log" || fail "audit of the recorded profiles calls the host compliant: $(cat "$W/a0.txt")"
for k in tcp_tw_reuse ip_local_port_range tcp_fin_timeout; do
	grep -q "^net\.ipv4\.$k .*boot-drift\$" "$W/a.txt" || fail "switch: no boot-drift row for $k: $(cat "$W/a.txt")"
	grep -q "^net\.ipv4\.$k .*boot-drift\$" "$W/a0.txt" || fail "switch: audit without PROFILE: no row for $k"
	grep -q "^boot-drift: net\.ipv4\.$k: set by tcptune apply (the last one at [0-9-]* [0-9:]* UTC), no profile names it now: live .*; run: .*apply web-server (without --keep-stale it puts the key back to" "$W/a.txt" ||
		fail "switch: no reason and step for $k: $(cat "$W/a.txt")"
	grep -q "^tcptune_key_compliant{key=\"net\.ipv4\.$k\",profile=\"web-server\",status=\"boot-drift\"} 0\$" "$W/a.prom" ||
		fail "switch: no Prometheus series for $k: $(cat "$W/a.prom")"
done
python3 - "$W/a.json" <<'EOP' || fail "switch: the JSON rows of the stale keys"
import json, sys
doc = json.load(open(sys.argv[1]))
rows = {k["key"]: k for k in doc["keys"] if k.get("stale")}
assert not doc["compliant"], doc
for k in ("tcp_tw_reuse", "ip_local_port_range", "tcp_fin_timeout"):
    r = rows["net.ipv4." + k]
    assert r["status"] == "boot-drift" and not r["compliant"], r
    assert r["boot"] == r["original"] and r["live"] != r["boot"], r
    assert "no profile names it now" in r["reason"] and "apply web-server" in r["fix"], r
EOP

# ... without --keep-stale, the switch itself leaves nothing to fix; a later
# hand `sysctl -w` of a key tcptune once set is boot-drift again, and apply
# (which puts it back) the way out.
tt_sandbox '"$TCPTUNE" --profile-dir "$PROFILES" apply crawler >/dev/null 2>&1
"$TCPTUNE" --profile-dir "$PROFILES" apply web-server >/dev/null 2>&1
"$TCPTUNE" --profile-dir "$PROFILES" audit; echo "rc=$?"'
grep -qx rc=0 "$T/out" || { cat "$T/out" "$T/err" >&2; fail "switch without --keep-stale: audit not compliant"; }
loop switch-hand-change run 'P=web-server
$TT apply crawler >/dev/null 2>&1 || { echo apply0-failed; exit 1; }
$TT apply web-server >/dev/null 2>&1 || { echo apply1-failed; exit 1; }
echo 1 > /proc/sys/net/ipv4/tcp_tw_reuse'
grep -q '^net\.ipv4\.tcp_tw_reuse  *2  *1  *2  *kernel default  *boot-drift$' "$W/a.txt" ||
	fail "hand change of a key tcptune once set: no boot-drift row: $(cat "$W/a.txt")"
exit 0
