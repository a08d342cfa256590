#!/bin/sh
# SPDX-License-Identifier: ISC
# The systemd units: systemd-analyze verify clean, hardening scored, and their ExecStart lines run for real in the private namespace.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_PROFILES TCPTUNE_TEXTFILE NO_COLOR
command -v systemd-analyze >/dev/null 2>&1 || skip "systemd-analyze is not installed"
U="$SRCDIR/contrib/systemd"
tt_need_sandbox
W="$T/w"

# The units as make substitutes them, with the binary where this test has it.
mkdir -p "$T/units" "$T/man/man8"
for f in tcptune-audit.service tcptune-metrics.service; do
	sed "s|@sbindir@|$T/bin|g" "$U/$f.in" >"$T/units/$f" || fail "cannot substitute $f.in"
	grep -q '@[a-z]*@' "$T/units/$f" && fail "$f: a @variable@ is left"
done
cp "$U/tcptune-metrics.timer" "$T/units/"

# verify: syntax, the executables, and the man page of Documentation=.
cp "$SRCDIR/man/tcptune.8" "$T/man/man8/"
if tt_want man man-db "the units' Documentation= man page"; then
	MANPATH="$T/man" systemd-analyze verify "$T"/units/* >"$T/verify" 2>&1
else
	systemd-analyze verify --man=no "$T"/units/* >"$T/verify" 2>&1
fi || { cat "$T/verify" >&2; fail "systemd-analyze verify"; }
[ -s "$T/verify" ] && { cat "$T/verify" >&2; fail "systemd-analyze verify is not silent"; }

# The hardening, scored offline (systemd 252+): both must stay "OK" (below 3).
if systemd-analyze security --help 2>&1 | grep -q -- --offline; then
	for f in tcptune-audit.service tcptune-metrics.service; do
		systemd-analyze security --offline=true --threshold=25 "$T/units/$f" >"$T/sec" 2>&1 ||
			{ cat "$T/sec" >&2; fail "$f: exposure above 2.5"; }
		grep -Eq "Overall exposure level for $f: [0-2]\.[0-9] OK" "$T/sec" ||
			{ tail -3 "$T/sec" >&2; fail "$f: exposure not OK"; }
	done
fi
grep -q '^After=systemd-sysctl.service' "$T/units/tcptune-audit.service" || fail "audit unit not after systemd-sysctl"
grep -q '^SuccessExitStatus=1$' "$T/units/tcptune-audit.service" || fail "drift would fail the audit unit"

# ExecStart as systemd hands it over: its quoting undone, $$ made $, $VAR
# taken from the environment (a lone $VAR word splits and may vanish).
cat >"$T/exec.py" <<'EOF'
import os, re, sys
text = open(sys.argv[1]).read().replace('\\\n', ' ')
line = [l for l in text.splitlines() if l.startswith('ExecStart=')][-1][len('ExecStart='):]
words, w, q, i, have = [], '', None, 0, False
esc = {'\\': '\\', '"': '"', "'": "'", 'n': '\n', 't': '\t', ' ': ' '}
while i < len(line):
    c = line[i]
    if c == '\\' and i + 1 < len(line) and line[i + 1] in esc:
        w += esc[line[i + 1]]; i += 2; have = True; continue
    if q:
        if c == q: q = None
        else: w += c
    elif c in '\'"':
        q, have = c, True
    elif c in ' \t':
        if have or w: words.append(w)
        w, have = '', False
    else:
        w += c
    i += 1
if have or w:
    words.append(w)
out = []
for word in words:
    m = re.fullmatch(r'\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?', word)
    if m:
        out += os.environ.get(m.group(1), '').split()
        continue
    word = re.sub(r'\$\{([A-Za-z_][A-Za-z0-9_]*)\}', lambda m: os.environ.get(m.group(1), ''), word.replace('$$', '\0'))
    out.append(word.replace('\0', '$'))
os.execv(out[0], out)
EOF
cat >"$T/run-unit.sh" <<'EOF'
# sh run-unit.sh UNIT: run the ExecStart of UNIT, as systemd would, with its Environment=.
u=$1
eval "$(sed -n 's/^Environment=\(.*\)$/export \1/p' "$u")"
exec python3 "$(dirname "$0")/exec.py" "$u"
EOF
chmod -R a+rX "$T/units" "$T/exec.py" "$T/run-unit.sh"

# The timer's file, scraped by a real node_exporter: the same families and samples.
NE=$(command -v prometheus-node-exporter || command -v node_exporter || true)
[ -n "$NE" ] || skip "prometheus-node-exporter is not installed"
tt_scrape_script

tt_sandbox "
set -u
D=/var/lib/prometheus/node-exporter
# The recorded profile is a name: find it where the test has the profiles.
run() { PATH=/usr/bin:/bin TCPTUNE_PROFILE_PATH=\$PROFILES sh $T/run-unit.sh $T/units/\$1; }
# Nothing applied yet: the metrics hold the sockets only.
mkdir -p \$D
run tcptune-metrics.service >\$W/m0.out 2>&1; echo m0=\$?
cp \$D/tcptune.prom \$W/m0.prom
\"\$TCPTUNE\" --profile-dir \"\$PROFILES\" apply crawler >/dev/null 2>&1 || exit 99
run tcptune-audit.service >\$W/a1.out 2>&1; echo a1=\$?
run tcptune-metrics.service >\$W/m1.out 2>&1; echo m1=\$?
cp \$D/tcptune.prom \$W/m1.prom
echo 2 >/proc/sys/net/ipv4/tcp_tw_reuse
run tcptune-audit.service >\$W/a2.out 2>&1; echo a2=\$?
run tcptune-metrics.service >\$W/m2.out 2>&1; echo m2=\$?
cp \$D/tcptune.prom \$W/m2.prom
ls -A \$D >\$W/dir
# node_exporter's textfile collector reads what the timer wrote, on loopback here.
ip link set lo up || exit 99
$NE --collector.disable-defaults --collector.textfile --collector.textfile.directory=\$D \\
	--web.listen-address=127.0.0.1:9100 >\$W/ne.log 2>&1 &
ne=\$!
python3 $T/scrape.py >\$W/scrape.txt; echo scrape=\$?
kill \$ne; wait \$ne 2>/dev/null
# The profiles named in the environment file win over the recorded ones.
TCPTUNE_PROFILES='$T/profiles/web-server.conf' run tcptune-audit.service >\$W/a3.out 2>&1; echo a3=\$?
# A profile that does not exist: the audit unit fails, the metrics keep the sockets.
TCPTUNE_PROFILES=nosuch run tcptune-audit.service >\$W/a4.out 2>&1; echo a4=\$?
TCPTUNE_PROFILES=nosuch run tcptune-metrics.service >\$W/m4.out 2>&1; echo m4=\$?
cp \$D/tcptune.prom \$W/m4.prom
exit 0
" || { cat "$T/out" "$T/err" >&2; fail "the sandbox script failed"; }
cp "$T/out" "$T/status"
status() { grep -qx "$1=$2" "$T/status" || { cat "$T/status" "$W/$1.out" >&2; fail "$1: wanted exit status $2"; }; }
PYTHONDONTWRITEBYTECODE=1 && export PYTHONDONTWRITEBYTECODE
valid() { python3 "$SRCDIR/tests/integration/promcheck.py" "$1" || fail "$1 is not valid exposition format"; }

status m0 0
valid "$W/m0.prom"
grep -q '^tcptune_sockets{state="LISTEN"} ' "$W/m0.prom" || fail "m0: no socket metrics"
grep -q 'tcptune_key_compliant' "$W/m0.prom" && fail "m0: audit metrics with nothing to audit"
# Compliant after the apply: the audit unit is silent (-q).
status a1 0
[ -s "$W/a1.out" ] && { cat "$W/a1.out" >&2; fail "a1: output on success"; }
status m1 0
valid "$W/m1.prom"
grep -q '^tcptune_drift_keys{profile="crawler"} 0$' "$W/m1.prom" || fail "m1: drift_keys not 0"
grep -q '^tcptune_sockets{state="ESTABLISHED"} ' "$W/m1.prom" || fail "m1: no socket metrics"
# Drift: exit 1 (a success for systemd: SuccessExitStatus=1), the key in the journal.
status a2 1
grep -Eq '^net\.ipv4\.tcp_tw_reuse +1 +2 .*drift$' "$W/a2.out" || { cat "$W/a2.out" >&2; fail "a2: drift not logged"; }
status m2 0
grep -q '^tcptune_key_compliant{key="net.ipv4.tcp_tw_reuse",profile="crawler",status="drift"} 0$' "$W/m2.prom" ||
	fail "m2: drift not in the metrics"
grep -q '^tcptune_drift_keys{profile="crawler"} 1$' "$W/m2.prom" || fail "m2: drift_keys not 1"
[ "$(cat "$W/dir")" = tcptune.prom ] || fail "the textfile directory holds: $(cat "$W/dir")"
status scrape 0
grep -q '^node_textfile_scrape_error 0$' "$W/scrape.txt" || { cat "$W/scrape.txt" "$W/ne.log" >&2; fail "node_exporter could not read the timer's file"; }
python3 - "$SRCDIR/tests/integration" "$W/m2.prom" "$W/scrape.txt" <<'EOP' || fail "the scrape differs from the timer's file"
import sys
sys.path.insert(0, sys.argv[1])
from promcheck import check


def tcptune_only(text):
    # the scrape: tcptune's lines only (node_exporter adds its own families)
    keep = []
    for line in text.splitlines():
        w = line.split(' ')
        name = w[2] if line.startswith('# ') and len(w) > 2 else w[0].split('{')[0]
        if name.startswith('tcptune_'):
            keep.append(line)
    return '\n'.join(keep) + '\n'


def read(path, scrape):
    text = open(path, encoding='utf-8').read()
    if scrape:
        text = tcptune_only(text)
    fams = {l.split(' ')[2]: l.split(' ')[3] for l in text.splitlines() if l.startswith('# TYPE ')}
    errors, s = check(text)
    assert not errors, errors
    return fams, sorted((n, tuple(sorted(l.items())), v) for n, l, v in s)


(f, a), (g, b) = read(sys.argv[2], False), read(sys.argv[3], True)
assert f == g and len(f) >= 6, (f, g)
assert a == b, set(a) ^ set(b)
print('node_exporter: %d families, %d samples, as in the file' % (len(f), len(a)))
EOP
status a3 1
grep -q 'somaxconn\|tcp_max_syn_backlog' "$W/a3.out" || { cat "$W/a3.out" >&2; fail "a3: not the web-server profile"; }
status a4 2
grep -q 'nosuch: no such profile' "$W/a4.out" || fail "a4: no message"
status m4 0
grep -q 'audit failed; its metrics are left out' "$W/m4.out" || fail "m4: no message"
valid "$W/m4.prom"
grep -q 'tcptune_key_compliant' "$W/m4.prom" && fail "m4: audit metrics from a failed audit"
grep -q '^tcptune_sockets{state="LISTEN"} ' "$W/m4.prom" || fail "m4: no socket metrics"
exit 0
