#!/bin/sh
# SPDX-License-Identifier: ISC
# -o json tells the truth on every exit path, in a private namespace on a
# real kernel: one JSON document on stdout whatever happens, with "exit"
# equal to the exit status; a failed apply that restored everything does
# not claim a changed fragment or applied keys.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_need_sandbox
W="$T/w"

# gid 0..100 are not mapped in the sandbox's user namespace: the kernel refuses (EINVAL) after somaxconn is written
printf 'sysctl = { net = { core = { somaxconn = 8192; }; ipv4 = { ping_group_range = [0, 100]; tcp_keepalive_time = 300; }; }; };\n' \
	>"$T/profiles/refused.conf"
printf 'sysctl = { net = { ipv4 = { tcp_keepalive_tme = 300; }; }; };\n' >"$T/profiles/typo.conf"
chmod 644 "$T/profiles/"*.conf

tt_sandbox '
TT="$TCPTUNE --profile-dir $PROFILES"
i=0
run() { i=$((i+1)); "$@" > $W/j$i.json 2> $W/j$i.err; echo "$i $? $*" >> $W/runs; }
: > $W/runs
run $TT -o json apply refused
run $TT -o json audit no-such-profile
run $TT -o json plan typo
run $TT -o json apply typo
run $TT -o json rollback
run $TT -o json render
run $TT -o json explain net.ipv4.no_such_key
run $TT -o json sockets --by nonsense
run $TT -o json doctor no-such-profile
run $TT -o json no-such-command
run $TT -o json --root /nonexistent audit t
run $TT -o json audit --no-such-option
run $TT -o json validate $PROFILES/typo.conf
run $TT audit no-such-profile -o json
'
rc=$?
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" >&2; fail "sandbox script failed ($rc)"; }
python3 - "$W" <<'EOP' || fail "JSON on exit paths"
import json, sys
w = sys.argv[1]
bad = []
for line in open(w + "/runs"):
    n, rc, cmd = line.rstrip("\n").split(" ", 2)
    rc = int(rc)
    text = open("%s/j%s.json" % (w, n)).read()
    try:
        d = json.loads(text)          # exactly one document, nothing around it
    except ValueError as e:
        bad.append("%s (exit %d): stdout is not one JSON document: %r" % (cmd, rc, text[:200]))
        continue
    if rc == 0:
        bad.append("%s: exit 0 on bad input" % cmd)
    if d.get("exit") != rc or "tcptune" not in d:
        bad.append("%s: exit %d but the document says %r" % (cmd, rc, d.get("exit")))
    if rc == 2:
        e = d.get("error")
        if not isinstance(e, dict) or not e.get("message") or set(e) != {"message", "file", "line", "key"}:
            bad.append("%s: no error object: %r" % (cmd, d))
    if "refused" in cmd:
        if rc != 3:
            bad.append("apply refused: exit %d, wanted 3" % rc)
        if d.get("changed") is not False or d.get("fragment_changed") is not False or d.get("keys") != []:
            bad.append("apply refused: restored, yet the document says %r" %
                       {k: d.get(k) for k in ("changed", "fragment_changed", "keys")})
        if not d.get("planned") or not d.get("error", {}).get("message"):
            bad.append("apply refused: no planned keys or error: %r" % d)
    if "typo" in cmd:
        e = d.get("error") or {}
        if not (e.get("file") or "").endswith("typo.conf") or e.get("line") != 1 or \
                e.get("key") != "net.ipv4.tcp_keepalive_tme":
            bad.append("%s: error without file, line and key: %r" % (cmd, e))
if bad:
    sys.exit("\n".join(bad))
EOP
exit 0
