#!/bin/sh
# SPDX-License-Identifier: ISC
# audit on fixture roots: golden table, JSON and Prometheus output, exit codes.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH NO_COLOR
R=$(tt_root root-basic)
tt() { "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" "$@"; }
# The profile directory differs between trees: pin it in the golden files.
# Hints name the binary as it was run: pin that too.
BIN=$(realpath "$TCPTUNE")
pin() { sed "s|$BIN |tcptune |g; s|$PROFILES|@PROFILES@|g; s|$R|@ROOT@|g" "$T/out" >"$T/pinned"; }

expect_exit 1 tt audit crawler
pin
golden audit-crawler.txt "$T/pinned"
expect_exit 1 tt -o json audit crawler
pin
golden audit-crawler.json "$T/pinned"
expect_exit 1 tt -o prometheus audit crawler
golden audit-crawler.prom
# --output: the textfile appears whole, and a failed run leaves it alone.
expect_exit 1 tt -o prometheus --output "$T/m.prom" audit crawler
[ -s "$T/out" ] && fail "--output also printed to stdout"
golden audit-crawler.prom "$T/m.prom"
expect_exit 2 tt -o prometheus --output "$T/m.prom" audit no-such-profile
golden audit-crawler.prom "$T/m.prom"
[ "$(ls "$T" | grep -c '^m\.prom')" -eq 1 ] || fail "--output left a temp file: $(ls "$T")"
# -q: only what is wrong
expect_exit 1 tt -q audit crawler
grep -q ' ok$' "$T/out" && fail "-q printed keys that are ok"
grep_out 'drift$'

# The JSON is what scripts rely on: the DESIGN shape, checked by a parser.
tt -o json audit crawler >"$T/a.json"
python3 - "$T/a.json" <<'EOP' || fail "audit JSON shape"
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["tcptune"], str) and d["profiles"] == ["crawler"]
assert d["compliant"] is False
for k in d["keys"]:
    for f in ("key", "rule", "expected", "live", "boot", "boot_source", "status"):
        assert f in k, (f, k)
    assert k["status"] in ("ok", "drift", "boot-drift", "missing", "unreadable", "not-in-netns", "boot-unknown")
EOP

# Bring the fixture in line with the profile, live and at boot: exit 0.
for kv in ip_local_port_range:"10240	65535" tcp_fin_timeout:30 tcp_keepalive_intvl:15 \
	tcp_keepalive_probes:3 tcp_keepalive_time:200 tcp_slow_start_after_idle:0 tcp_tw_reuse:1; do
	printf '%s\n' "${kv#*:}" >"$R/proc/sys/net/ipv4/${kv%%:*}"
done
expect_exit 1 tt audit crawler
grep_out '^net\.ipv4\.tcp_keepalive_time +<= 200 +200 +600 +/etc/sysctl\.d/60-keepalive\.conf:3 +boot-drift$'
"$TCPTUNE" --root "$R" --profile-dir "$PROFILES" render crawler >"$R/etc/sysctl.d/90-tcptune.conf" 2>/dev/null ||
	printf '%s\n' 'net.ipv4.tcp_keepalive_time = 200' 'net.ipv4.tcp_keepalive_intvl = 15' \
		'net.ipv4.tcp_keepalive_probes = 3' 'net.ipv4.tcp_fin_timeout = 30' 'net.ipv4.tcp_tw_reuse = 1' \
		'net.ipv4.ip_local_port_range = 10240 65535' 'net.ipv4.tcp_slow_start_after_idle = 0' \
		>"$R/etc/sysctl.d/90-tcptune.conf"
expect_exit 0 tt audit crawler
grep_out '^net\.ipv4\.tcp_keepalive_time +<= 200 +200 +200 +/etc/sysctl\.d/90-tcptune\.conf:[0-9]+ +ok$'
grep_out '^compliant$'
expect_exit 0 tt -q audit crawler
[ -s "$T/out" ] && fail "-q printed something on success"

# A child network namespace: host-wide keys are not drift there.
C=$(tt_root root-child)
expect_exit 1 "$TCPTUNE" --root "$C" --profile-dir "$PROFILES" audit high-bandwidth web-server
grep_out '^net\.core\.netdev_max_backlog .* not-in-netns$'
grep_out 'child network namespace'
exit 0
