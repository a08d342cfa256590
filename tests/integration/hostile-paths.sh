#!/bin/sh
# SPDX-License-Identifier: ISC
# Planted symlinks on a fixture root: at the fragment's temp name, the
# journal, the journal's temp name and the lock. Each is refused or
# removed, never followed: what it points at stays as it was, and so do
# the live values. (The fragment itself and a symlinked /run are in
# apply-fixture.sh; fileio's unit tests cover the rest.)
. "$SRCDIR/tests/integration/lib.sh"
unset TCPTUNE_PROFILE_PATH TCPTUNE_TEST_CRASH_AT TCPTUNE_TEST_DELAY_MS
NO_COLOR=1
export NO_COLOR
R=$(tt_root apply-root)
FRAG="$R/etc/sysctl.d/90-tcptune.conf"
JDIR="$R/var/lib/tcptune"
JOURNAL="$JDIR/last-apply"
tt() { "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" "$@"; }
snapshot() { (cd "$R/proc/sys" && find . -type f | sort | while read -r f; do
	printf '%s=%s\n' "$f" "$(tr -s ' \t\n' '   ' <"$f" | sed 's/ *$//')"; done) >"$1"; }
# untouched: the bait files are as planted, the live values as before
untouched() {
	for b in "$T"/bait-*; do
		[ "$(cat "$b")" = "bait $(basename "$b")" ] || fail "$1: wrote through a symlink to $b"
	done
	snapshot "$T/now"
	diff -u "$T/before" "$T/now" || fail "$1: live values changed"
}
bait() { echo "bait bait-$1" >"$T/bait-$1"; echo "$T/bait-$1"; }
snapshot "$T/before"

# 1. the fragment's temp name: apply never opens a guessable name, and the
# leftover-temp sweep unlinks the link, not its target
ln -s "$(bait tmp)" "$R/etc/sysctl.d/.90-tcptune.conf.0123456789abcdef"
ln -s "$(bait tmp2)" "$R/etc/sysctl.d/.90-tcptune.conf.XXXXXX"
expect_exit 0 tt apply crawler
[ -L "$R/etc/sysctl.d/.90-tcptune.conf.0123456789abcdef" ] && echo "note: the planted temp-name link was left in place"
for b in "$T"/bait-tmp*; do
	[ "$(cat "$b")" = "bait $(basename "$b")" ] || fail "apply wrote through a planted temp name to $b"
done
expect_exit 0 tt rollback
snapshot "$T/now"
diff -u "$T/before" "$T/now" || fail "rollback after the temp-name links did not restore"
rm -f "$FRAG" "$JOURNAL" "$R"/etc/sysctl.d/.90-tcptune.conf.*

# 2. the journal: a link to a file outside is not written through
mkdir -p "$JDIR"
ln -s "$(bait journal)" "$JOURNAL"
tt apply crawler >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { cat "$T/err" >&2; fail "apply with a symlinked journal: exit $rc"; }
[ "$(cat "$T/bait-journal")" = "bait bait-journal" ] || fail "apply wrote the journal through a symlink"
if [ "$rc" -eq 3 ]; then
	untouched "apply with a symlinked journal"
	[ -e "$FRAG" ] && fail "a refused apply left the fragment"
else
	# replaced atomically: the link is gone, a real journal is there
	[ -L "$JOURNAL" ] && fail "apply succeeded but left the journal symlink"
	expect_exit 0 tt rollback
	untouched "rollback after a replaced journal link"
fi
rm -f "$FRAG" "$JOURNAL"

# 3. rollback must not read a journal planted as a link to a crafted file
expect_exit 0 tt apply crawler
cp "$JOURNAL" "$T/crafted"
sed 's/"before": "7200"/"before": "31337"/; s/"7200"/"31337"/' "$T/crafted" >"$T/crafted2"
expect_exit 0 tt rollback
snapshot "$T/now"
diff -u "$T/before" "$T/now" || fail "rollback did not restore"
rm -f "$JOURNAL" && ln -s "$T/crafted2" "$JOURNAL"
tt rollback >"$T/out" 2>"$T/err"
rc=$?
grep -rq 31337 "$R/proc/sys" && fail "rollback restored values from a journal behind a symlink"
[ "$rc" -ne 0 ] || fail "rollback accepted a symlinked journal"
rm -f "$JOURNAL" "$FRAG"
snapshot "$T/now"
diff -u "$T/before" "$T/now" || fail "live values changed around a symlinked journal"

# 4. the journal's temp name
mkdir -p "$JDIR"
ln -s "$(bait jtmp)" "$JDIR/.last-apply.0123456789abcdef"
expect_exit 0 tt apply crawler
[ "$(cat "$T/bait-jtmp")" = "bait bait-jtmp" ] || fail "apply wrote through a planted journal temp name"
expect_exit 0 tt rollback
rm -f "$FRAG" "$JOURNAL" "$JDIR"/.last-apply.*

# 5. the lock: a link (to a file outside, or dangling) is refused, nothing touched
mkdir -p "$R/run/lock" && rm -f "$R/run/lock/tcptune.lock"
ln -s "$(bait lock)" "$R/run/lock/tcptune.lock"
expect_exit 3 tt apply crawler
grep_err 'tcptune\.lock'
untouched "apply with a symlinked lock"
[ -e "$FRAG" ] && fail "apply with a symlinked lock wrote the fragment"
expect_exit 3 tt rollback
rm -f "$R/run/lock/tcptune.lock"
ln -s "$T/nonexistent-lock" "$R/run/lock/tcptune.lock"
expect_exit 3 tt apply crawler
[ -e "$T/nonexistent-lock" ] && fail "apply created the lock through a dangling symlink"
untouched "apply with a dangling lock symlink"
rm -f "$R/run/lock/tcptune.lock"

# 6. a FIFO at the fragment, the journal or the lock: refused, no hang
mkfifo "$FRAG"
expect_exit 3 timeout 20 "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" apply crawler
untouched "apply with a FIFO at the fragment"
rm -f "$FRAG"
mkdir -p "$JDIR" && mkfifo "$JOURNAL"
expect_exit 2 timeout 20 "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" rollback
rm -f "$JOURNAL"
rm -f "$R/run/lock/tcptune.lock" && mkfifo "$R/run/lock/tcptune.lock"
expect_exit 3 timeout 20 "$TCPTUNE" --root "$R" --profile-dir "$PROFILES" apply crawler
untouched "apply with a FIFO at the lock"
exit 0
