#!/bin/sh
# The journal on a real kernel (sandbox): any bytes of the old fragment round-trip, and
# non-UTF-8 paths survive it.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
tt_need_sandbox
W="$T/w"

# A NUL-padded fragment (a power cut), CRLF, bytes that are not UTF-8, mode 0600.
printf 'net.ipv4.tcp_fin_timeout = 45\r\n# caf\351 \377\376\n\000\000\000\000' >"$W/oldfrag"
chmod 644 "$W/oldfrag"

tt_sandbox '
set -u
F=/etc/sysctl.d/90-tcptune.conf
J=/var/lib/tcptune/last-apply
tt() { "$TCPTUNE" --profile-dir "$PROFILES" "$@"; }
cp "$W/oldfrag" "$F" && chmod 600 "$F"
tt apply crawler >"$W/b.apply" 2>&1; echo "bytes-apply=$?"
echo "bytes-journal-mode=$(stat -c %a "$J")"
tt audit >/dev/null 2>"$W/b.audit"; echo "bytes-audit=$?"
tt apply crawler >/dev/null 2>&1; echo "bytes-again=$?"
tt rollback >"$W/b.rollback" 2>&1; echo "bytes-rollback=$?"
cmp -s "$F" "$W/oldfrag" && echo "bytes-fragment=same"
echo "bytes-mode=$(stat -c %a "$F")"
echo "bytes-fin=$(cat /proc/sys/net/ipv4/tcp_fin_timeout)"

# a fragment path that is not UTF-8
rm -f "$F" "$J"
G=$(printf "/etc/sysctl.d/91-caf\351.conf")
tt --fragment "$G" apply crawler >"$W/p.apply" 2>&1; echo "path-apply=$?"
[ -e "$G" ] && echo "path-written=yes"
tt --fragment "$G" rollback >"$W/p.rollback" 2>&1; echo "path-rollback=$?"
[ -e "$G" ] || echo "path-removed=yes"
echo "path-keepalive=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)"
'
rc=$?
cat "$T/out" >"$T/result"
[ "$rc" -eq 0 ] || { cat "$T/out" "$T/err" >&2; fail "sandbox script failed ($rc)"; }
want() { grep -qx "$1" "$T/result" || { cat "$T/result" "$T/err" "$W"/b.* "$W"/p.* >&2; fail "expected '$1'"; }; }
want bytes-apply=0
want bytes-journal-mode=600
want bytes-audit=0
want bytes-again=0
want bytes-rollback=0
want bytes-fragment=same
want bytes-mode=600
want bytes-fin=60
want path-apply=0
want path-written=yes
want path-rollback=0
want path-removed=yes
want path-keepalive=7200
