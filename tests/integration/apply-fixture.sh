#!/bin/sh
# SPDX-License-Identifier: ISC
# render, plan, apply, rollback on a fixture root (no kernel): golden bytes, exit codes, JSON, refusals.
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
NO_COLOR=1
export NO_COLOR
R=$(tt_root apply-root)
G="$SRCDIR/tests/data/apply-golden"
FRAG="$R/etc/sysctl.d/90-tcptune.conf"
JOURNAL="$R/var/lib/tcptune/last-apply"
tt() { "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" "$@"; }
# live values of the fixture, as tokens (the kernel prints vectors with TABs)
snapshot() { (cd "$R/proc/sys" && find . -type f | sort | while read -r f; do
	printf '%s=%s\n' "$f" "$(tr -s ' \t\n' '   ' <"$f" | sed 's/ *$//')"; done) >"$1"; }
snapshot "$T/before"

# render: exactly the golden bytes, every time
expect_exit 0 tt render crawler
diff -u "$G/crawler-fixture.conf" "$T/out" || fail "render differs from the golden fragment"
expect_exit 2 tt render
expect_exit 2 tt render no-such-profile

# plan = apply --dry-run = apply --check: exit 1 with changes pending, nothing touched
expect_exit 1 tt plan crawler
sed "s|$(realpath "$TCPTUNE") |tcptune |g; s|$PROFILES|@PROFILES@|g; s|$R|@ROOT@|g" "$T/out" >"$T/pinned"
diff -u "$G/plan-crawler.txt" "$T/pinned" || fail "plan table differs"
grep_err 'per network namespace'
expect_exit 1 tt apply --dry-run crawler
expect_exit 1 tt apply --check crawler
expect_exit 1 tt -o json plan crawler
python3 - "$T/out" <<'EOP' || fail "plan JSON shape"
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["tcptune"], str)
assert d["changed"] is True and d["fragment"] == "/etc/sysctl.d/90-tcptune.conf"
k = {x["key"]: (x["before"], x["after"]) for x in d["keys"]}
assert k["net.ipv4.tcp_keepalive_time"] == ("7200", "200"), k
assert k["net.ipv4.ip_local_port_range"] == ("32768 60999", "10240 65535"), k
assert len(k) == 9, k
EOP
[ -e "$FRAG" ] && fail "plan wrote the fragment"
[ -e "$R/var" ] && fail "plan wrote below /var"
snapshot "$T/now"
diff -u "$T/before" "$T/now" || fail "plan changed live values"

# apply: the fragment is the rendered one, the live values the targets
expect_exit 0 tt -o json apply crawler
python3 - "$T/out" <<'EOP' || fail "apply JSON shape"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["changed"] is True and d["fragment_changed"] is True and len(d["keys"]) == 9, d
EOP
diff -u "$G/crawler-fixture.conf" "$FRAG" || fail "applied fragment differs from render"
[ "$(stat -c %a "$FRAG")" = 644 ] || fail "fragment mode is not 0644"
for kv in ip_local_port_range:"10240 65535" tcp_keepalive_time:200 tcp_tw_reuse:1 tcp_max_tw_buckets:65536; do
	[ "$(tr -s ' \t\n' '  ' <"$R/proc/sys/net/ipv4/${kv%%:*}" | sed 's/ *$//')" = "${kv#*:}" ] ||
		fail "${kv%%:*} is not ${kv#*:}"
done
grep -q '"state": "complete"' "$JOURNAL" || fail "journal not complete"

# again: nothing changes, not even the fragment's mtime
m1=$(stat -c %y "$FRAG")
sleep 1
expect_exit 0 tt -o json apply crawler
grep_out '"changed": false'
[ "$(stat -c %y "$FRAG")" = "$m1" ] || fail "second apply rewrote the fragment"
expect_exit 0 tt plan crawler
grep_out 'nothing to do'
expect_exit 0 tt apply crawler
grep_out 'already applied, nothing changed'

# rollback: everything as before; again: nothing to do; the fragment is gone
expect_exit 1 tt rollback --dry-run
grep_out 'rollback of crawler: 9 keys to restore'
expect_exit 0 tt rollback
grep_out '^net\.ipv4\.tcp_keepalive_time +200 +-> +7200$'
grep_out 'removed'
[ -e "$FRAG" ] && fail "rollback left the fragment"
snapshot "$T/now"
diff -u "$T/before" "$T/now" || fail "rollback did not restore live values"
expect_exit 0 tt -o json rollback
grep_out '"changed": false'
grep_err 'already rolled back'
rm -f "$JOURNAL"
expect_exit 2 tt rollback
grep_err 'nothing to roll back'
expect_exit 2 tt rollback crawler

# a fragment that existed before comes back byte for byte
printf '# mine\nnet.ipv4.tcp_fin_timeout = 45\n' >"$FRAG"
cp "$FRAG" "$T/mine"
expect_exit 0 tt apply crawler
expect_exit 0 tt rollback
cmp "$T/mine" "$FRAG" || fail "rollback did not restore the previous fragment"
rm -f "$FRAG" "$JOURNAL"

# a symlink in place of the fragment is refused; its target and live values untouched
echo keep >"$R/etc/target"
ln -s ../target "$FRAG"
expect_exit 3 tt apply crawler
grep_err 'symlink'
[ "$(cat "$R/etc/target")" = keep ] || fail "wrote through the symlink"
snapshot "$T/now"
diff -u "$T/before" "$T/now" || fail "a refused apply changed live values"
rm -f "$FRAG"

# a symlinked lock or journal directory is refused too
mkdir -p "$T/elsewhere"
rm -rf "$R/run" && ln -s "$T/elsewhere" "$R/run"
expect_exit 3 tt apply crawler
grep_err '/run/lock/tcptune.lock'
[ -e "$T/elsewhere/lock" ] && fail "created the lock through a symlink"
rm -f "$R/run"

# bad input: nothing touched, exit 2
printf 'sysctl = { net = { ipv4 = { tcp_fastopen = 1; }; }; };\n' >"$T/need.conf"
expect_exit 2 tt apply "$T/need.conf"
grep_err 'tcp_fastopen: this kernel does not have the key'
expect_exit 2 tt apply
expect_exit 2 tt apply --bogus crawler
expect_exit 2 tt apply --wait x crawler
expect_exit 2 tt --fragment relative.conf apply crawler
[ -e "$FRAG" ] && fail "a refused apply wrote the fragment"
snapshot "$T/now"
diff -u "$T/before" "$T/now" || fail "a refused apply changed live values"

# "//" and "/./" name the same fragment: no false "not read at boot"
expect_exit 1 tt --fragment /etc/sysctl.d//./90-tcptune.conf plan crawler
grep -q 'not read at boot' "$T/err" && fail "a // or /./ fragment path gives a false warning"
grep_out '^fragment /etc/sysctl.d/90-tcptune.conf: would be created$'

# an interrupted apply (journal left "incomplete") is noticed and finished
expect_exit 0 tt apply crawler
sed 's/"state": "complete"/"state": "incomplete"/' "$JOURNAL" >"$T/j" && cp "$T/j" "$JOURNAL"
expect_exit 0 tt plan crawler
grep_err 'did not finish'
# -q (what the boot audit unit runs) keeps the advice: it is the way back
"$TCPTUNE" --root "$R" --profile-dir "$PROFILES" -q audit >/dev/null 2>"$T/err"
grep_err "did not finish.*run \`[^\`]*tcptune --root $R rollback\`"
expect_exit 0 tt rollback
grep_err 'did not finish: completing the restore'
snapshot "$T/now"
diff -u "$T/before" "$T/now" || fail "recovery did not restore live values"
[ -e "$FRAG" ] && fail "recovery left the fragment"

# a garbled journal stops apply (it may be the only way back) and rollback
echo '{ garbage' >"$JOURNAL"
expect_exit 3 tt apply crawler
grep_err 'tcptune --root [^ ]+ rollback --forget` sets it aside'
expect_exit 2 tt rollback
grep_err 'tcptune --root [^ ]+ rollback --forget` sets it aside'
# the documented way out: kept aside, and the next apply works
expect_exit 0 tt rollback --forget
[ "$(cat "$JOURNAL.forgotten")" = '{ garbage' ] || fail "--forget did not keep the journal"
[ -e "$JOURNAL" ] && fail "--forget left the journal"
[ "$(stat -c %a "$JOURNAL.forgotten")" = 600 ] || fail "--forget left the copy set aside readable by others"
expect_exit 0 tt apply crawler
expect_exit 0 tt rollback
# whatever stands in the journal's place, --forget sets it aside: a directory
# (over the older copy), a symlink, a file too big to read
rm -f "$JOURNAL"
mkdir "$JOURNAL" && echo x >"$JOURNAL/x"
expect_exit 3 tt apply crawler
grep_err 'rollback --forget` sets it aside'
expect_exit 0 tt rollback --forget
[ -d "$JOURNAL.forgotten" ] && [ ! -e "$JOURNAL" ] || fail "--forget did not set the directory aside"
ln -s /etc/passwd "$JOURNAL"
# the older copy, a directory with files, is not removed for the admin: named instead
expect_exit 3 tt rollback --forget
grep_err "last-apply.forgotten, is a directory with files in it: remove it"
[ -L "$JOURNAL" ] && [ -e "$JOURNAL.forgotten/x" ] || fail "a refused --forget changed something"
rm -r "$JOURNAL.forgotten"
expect_exit 0 tt rollback --forget
[ -L "$JOURNAL.forgotten" ] && [ ! -e "$JOURNAL" ] && [ ! -L "$JOURNAL" ] || fail "--forget did not set the symlink aside"
head -c 20000000 /dev/zero | tr '\0' ' ' >"$JOURNAL"
expect_exit 0 tt rollback --forget
[ ! -e "$JOURNAL" ] && [ "$(stat -c %s "$JOURNAL.forgotten")" = 20000000 ] || fail "--forget did not set a big journal aside"
expect_exit 0 tt rollback --forget
grep_err 'nothing to forget'
expect_exit 0 tt apply crawler
expect_exit 0 tt rollback

# -q: success prints nothing, a pending plan still shows what is pending.
Q=$(tt_root apply-root quiet)
qt() { "$TCPTUNE" --root "$Q" --profile-dir "$PROFILES" -q "$@"; }
expect_exit 1 qt plan crawler
grep_out '^net\.ipv4\.tcp_keepalive_time '
expect_exit 0 qt apply crawler
[ -s "$T/out" ] && fail "apply -q printed on success: $(cat "$T/out")"
expect_exit 0 qt plan crawler
[ -s "$T/out" ] && fail "plan -q printed with nothing pending"
expect_exit 0 qt rollback
[ -s "$T/out" ] && fail "rollback -q printed on success"
exit 0
