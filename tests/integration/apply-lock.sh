#!/bin/sh
# SPDX-License-Identifier: ISC
# The lock (real kernel, sandbox): a waiter names the holder even while the holder has not yet
# written its PID; the lock file is 0600, and a planted hard link is refused with its target intact.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS TCPTUNE_TEST_LOCK_PAUSE_MS
tt_need_sandbox
W="$T/w"
R=$(tt_root apply-root)
TCPTUNE_TEST_CRASH_AT=lock "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" apply crawler >/dev/null 2>&1
[ $? -eq 137 ] || skip "built without --enable-test-hooks: the holder cannot be paused"

cat >"$W/a.conf" <<'EOF'
sysctl = { net = { ipv4 = { tcp_keepalive_time = 300; tcp_fin_timeout = 20; }; }; };
EOF
cat >"$W/b.conf" <<'EOF'
sysctl = { net = { ipv4 = { tcp_keepalive_time = 400; tcp_fin_timeout = 25; }; }; };
EOF
chmod 644 "$W/a.conf" "$W/b.conf"
[ "$(id -u)" -eq 0 ] && chown 65534:65534 "$W/a.conf" "$W/b.conf"

tt_sandbox '
set -u
L=/run/lock/tcptune.lock
# an earlier apply leaves its (stale) PID in the file
"$TCPTUNE" apply "$W/b.conf" >/dev/null 2>&1 || echo "setup-failed"
echo "mode=$(stat -c %a "$L")"
# the holder takes the lock and pauses before it writes its PID
env TCPTUNE_TEST_LOCK_PAUSE_MS=3000 "$TCPTUNE" apply "$W/a.conf" >"$W/a.out" 2>"$W/a.err" & pa=$!
n=0
while ! grep -q "lock taken" "$W/a.err" 2>/dev/null && [ $n -lt 200 ]; do
	sleep 0.05
	n=$((n + 1))
done
echo "file-during-pause=$(tr -d "\n" <"$L")"
"$TCPTUNE" apply --wait 0 "$W/b.conf" >"$W/b.out" 2>&1; rb=$?
echo "waiter=$rb"
grep -q "another tcptune (pid $pa)" "$W/b.out" && echo "names-holder"
wait $pa; echo "holder=$?"

# a hard link planted in place of the lock: refused, its target untouched
rm -f "$L"
echo secret >/run/precious && chmod 600 /run/precious && ln /run/precious "$L"
"$TCPTUNE" apply "$W/a.conf" >"$W/c.out" 2>&1; echo "hardlink=$?"
grep -q "more than one link" "$W/c.out" && echo "hardlink-named"
echo "precious=$(cat /run/precious)"
'
rc=$?
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" >&2; fail "sandbox script failed ($rc)"; }
cat "$T/out"
grep -q "setup-failed" "$T/out" && fail "the first apply failed: $(cat "$W/a.err" 2>/dev/null)"
grep -qx 'mode=600' "$T/out" || fail "the lock file is not 0600"
grep -qx 'waiter=3' "$T/out" || fail "the waiter did not give up with 3"
grep -qx 'names-holder' "$T/out" || { cat "$W/b.out" >&2; fail "the waiter did not name the paused holder"; }
grep -qx 'holder=0' "$T/out" || fail "the holder did not finish"
grep -qx 'hardlink=3' "$T/out" || fail "a hard-linked lock file was not refused"
grep -qx 'hardlink-named' "$T/out" || fail "the refusal does not say why"
grep -qx 'precious=secret' "$T/out" || fail "the hard link's target was written"
exit 0
