/* SPDX-License-Identifier: ISC */
/* apply.c: the transaction: lock, recovery, journal, fragment, live writes, read-back, undo. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "apply.h"
#include "apply-internal.h"
#include "journal_check.h"
#include "fileio.h"
#include "netns.h"

/*
 * Test builds only (configure --enable-test-hooks): TCPTUNE_TEST_CRASH_AT
 * names a step ("journal", "fragment", "key:2", ...) at which we die with
 * SIGKILL, as a power cut would; TCPTUNE_TEST_DELAY_MS sleeps at every
 * step so concurrent runs overlap.
 */
#ifdef TCPTUNE_TEST_HOOKS
void apply_test_hook(const char *step, size_t n)
{
	const char *at = getenv("TCPTUNE_TEST_CRASH_AT");
	const char *delay = getenv("TCPTUNE_TEST_DELAY_MS");
	char name[64];
	long long ms;

	if (n)
		(void)snprintf(name, sizeof(name), "%s:%zu", step, n);
	else
		(void)snprintf(name, sizeof(name), "%s", step);
	if (delay && parse_ll(delay, &ms) == 0 && ms > 0) {
		struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
		(void)nanosleep(&ts, NULL);
	}
	if (at && strcmp(at, name) == 0)
		(void)raise(SIGKILL);
}
#else
void apply_test_hook(const char *step, size_t n)
{
	(void)step;
	(void)n;
}
#endif

/* ---- small helpers ----------------------------------------------------- */

int apply_read_file(int rootfd, const char *path, char **ret, size_t *ret_len, unsigned *ret_mode)
{
	char *name;
	struct stat st;
	int dfd, r;

	*ret = NULL;
	*ret_len = 0;
	dfd = fileio_open_parent(rootfd, path, false, &name);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	r = fileio_read_at(dfd, name, ret, ret_len);
	if (r == 0 && ret_mode)
		*ret_mode = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_mode & 07777 : 0644;
	if (r == -ENOENT)
		r = 0;
	free(name);
	(void)close(dfd);
	return r;
}

/* Temp files of a writer killed between create and rename (we hold the lock). */
void apply_remove_temps(int rootfd, const char *path)
{
	char *name;
	int dfd = fileio_open_parent(rootfd, path, false, &name);

	if (dfd < 0)
		return;
	(void)fileio_remove_temps(dfd, name);
	free(name);
	(void)close(dfd);
}

/* Leave `path` holding data (NULL: absent), atomically. */
int apply_put_file(int rootfd, const char *path, const char *data, size_t len, unsigned mode)
{
	char *name;
	int dfd, r;

	dfd = fileio_open_parent(rootfd, path, data != NULL, &name);
	if (dfd == -ENOENT && !data)
		return 0;
	if (dfd < 0)
		return dfd;
	if (data)
		r = fileio_replace_at(dfd, name, data, len, mode ? mode : 0644);
	else
		r = fileio_unlink_at(dfd, name);
	free(name);
	(void)close(dfd);
	return r;
}

/* ELOOP from O_NOFOLLOW means a symlink where we keep our own files: say so. */
const char *apply_file_error(int r)
{
	return r == -ELOOP ? "a symlink (or one on its path): refusing to follow or replace it"
			   : strerror(-r);
}

bool apply_same_bytes(const char *a, size_t la, const char *b, size_t lb)
{
	if (!a || !b)
		return !a && !b;
	return la == lb && memcmp(a, b, la) == 0;
}

/* Does path hold exactly data with mode (data NULL: is it absent)? */
bool apply_file_holds(int rootfd, const char *path, const char *data, size_t len, unsigned mode)
{
	char *cur = NULL;
	size_t cur_len = 0;
	unsigned cur_mode = 0;
	bool same = apply_read_file(rootfd, path, &cur, &cur_len, &cur_mode) == 0 &&
		    apply_same_bytes(cur, cur_len, data, len) && (!data || cur_mode == (mode ? mode : 0644));

	free(cur);
	return same;
}

char *apply_join(char *const *v, size_t n)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < n; i++) {
		char *t = xasprintf("%s%s%s", s, i ? ", " : "", v[i]);
		free(s);
		s = t;
	}
	return s;
}

struct apply_key *apply_add_key(struct apply_tx *tx, const char *key)
{
	struct apply_key *k;

	tx->keys = xreallocarray(tx->keys, tx->n_keys + 1, sizeof(*tx->keys));
	k = &tx->keys[tx->n_keys++];
	*k = (struct apply_key){ .key = xstrdup(key) };
	return k;
}

void apply_tx_free(struct apply_tx *tx)
{
	if (!tx)
		return;
	strv_free(tx->profiles, tx->n_profiles);
	free(tx->fragment);
	free(tx->frag_old);
	free(tx->frag_new);
	for (size_t i = 0; i < tx->n_keys; i++) {
		free(tx->keys[i].key);
		free(tx->keys[i].before);
		free(tx->keys[i].after);
	}
	free(tx->keys);
	provenance_free(tx->sources, tx->n_sources);
	journal_origs_free(tx->originals, tx->n_originals);
	msgs_free(&tx->errors);
	msgs_free(&tx->unrestored);
	msgs_free(&tx->warnings);
	msgs_free(&tx->notes);
	bootfix_free(&tx->conflicts);
	msgs_free(&tx->edits);
	*tx = (struct apply_tx){ 0 };
}

/* Write one value and read it back: vectors are not atomic in the kernel. */
int apply_set_live(const struct procsys *ps, const char *key, const char *value, char **ret_seen)
{
	char *seen = NULL;
	int r = procsys_write(ps, key, value), rr;

	rr = procsys_read(ps, key, &seen);
	/*
	 * The read only checks the write: one that failed says nothing about
	 * the value, so ask once more before calling the key not set (a restore
	 * would otherwise report a value it did put back as lost).
	 */
	if (rr < 0 && rr != -ENOENT)
		rr = procsys_read(ps, key, &seen);
	if (r == 0 && rr < 0)
		r = rr;
	if (r == 0 && !value_equal(seen, value))
		r = -EIO;
	if (ret_seen)
		*ret_seen = seen;
	else
		free(seen);
	return r;
}

/* ---- restore ------------------------------------------------------------ */

/*
 * Put the fragment back to data (NULL: absent). A replace whose rename
 * happened but whose directory sync failed has put it back, if not yet
 * durably: a warning, not a failure. Otherwise the failure is named in
 * tx->unrestored. 0 or -errno.
 */
int apply_put_back(int rootfd, struct apply_tx *tx, const char *data, size_t len, unsigned mode)
{
	int r = apply_put_file(rootfd, tx->fragment, data, len, mode);

	if (r < 0 && apply_file_holds(rootfd, tx->fragment, data, len, mode)) {
		msgs_add(&tx->warnings, "%s: the previous %s is back, but syncing its directory failed "
			 "(%s): a power cut may still undo that", tx->fragment,
			 data ? "file" : "absence of the file", apply_file_error(r));
		return 0;
	}
	if (r < 0)
		msgs_add(&tx->unrestored, "%s: could not put the previous %s back (%s)", tx->fragment,
			 data ? "file" : "absence of the file", apply_file_error(r));
	return r;
}

/* A key that no longer exists holds nothing to put back: say so, it is not a failure. */
void apply_note_gone(struct apply_tx *tx, const char *key)
{
	msgs_add(&tx->notes, "%s: gone since the apply (an interface removed, a module unloaded): "
		 "nothing to restore", key);
}

/*
 * Put every touched key back, newest first, then the fragment. Whatever
 * cannot be put back is named in tx->unrestored. 0 when all is as before.
 */
int apply_undo(int rootfd, const struct procsys *ps, struct apply_tx *tx, bool frag_touched)
{
	int ret = 0;

	for (size_t i = tx->n_keys; i-- > 0;) {
		struct apply_key *k = &tx->keys[i];
		char *seen = NULL;
		int r;

		if (!k->touched)
			continue;
		/* a rollback that could not read a value first has nothing to put back */
		if (!k->before) {
			msgs_add(&tx->unrestored, "%s: its value before could not be read", k->key);
			ret = -EIO;
			continue;
		}
		r = apply_set_live(ps, k->key, k->before, &seen);
		/* a refused write that left the old value is not a failure */
		if (r < 0 && seen && value_equal(seen, k->before))
			r = 0;
		if (r == -ENOENT) {
			apply_note_gone(tx, k->key);
			r = 0;
		}
		if (r < 0) {
			msgs_add(&tx->unrestored, "%s: is %s, was %s (%s)", k->key, seen ? seen : "unreadable",
				 k->before, r == -EIO && seen ? "read back differs" : strerror(-r));
			ret = r;
		}
		free(seen);
	}
	/* a replace that failed before its rename left the old file: nothing to put back */
	if (frag_touched && !apply_file_holds(rootfd, tx->fragment, tx->frag_old, tx->frag_old_len, tx->frag_old_mode)) {
		int r = apply_put_back(rootfd, tx, tx->frag_old, tx->frag_old_len, tx->frag_old_mode);
		if (r < 0)
			ret = r;
	}
	return ret;
}

/* ---- apply and rollback ---------------------------------------------------- */

/* The uid that runs PID, or (uid_t)-1 when /proc cannot say. */
static uid_t pid_uid(pid_t pid)
{
	char path[32];
	struct stat st;

	(void)snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	return stat(path, &st) == 0 ? st.st_uid : (uid_t)-1;
}

int apply_take_lock(int rootfd, const struct apply_opts *ao, struct fileio_lock *l, struct apply_tx *tx)
{
	pid_t holder = 0;
	int r = fileio_lock(rootfd, TT_LOCK_PATH, ao->lock_timeout_ms, l, &holder);
	uid_t uid = r == -EWOULDBLOCK && holder > 0 ? pid_uid(holder) : (uid_t)-1;

	if (r == -EWOULDBLOCK && holder > 0 && uid != (uid_t)-1 && uid != geteuid())
		msgs_add(&tx->errors, "%s: held by pid %ld of another user (uid %ld); "
			 "gave up after %u ms", TT_LOCK_PATH, (long)holder, (long)uid, ao->lock_timeout_ms);
	else if (r == -EWOULDBLOCK && holder > 0)
		msgs_add(&tx->errors, "%s: another tcptune (pid %ld) is applying or rolling back; "
			 "gave up after %u ms", TT_LOCK_PATH, (long)holder, ao->lock_timeout_ms);
	else if (r == -EWOULDBLOCK)
		msgs_add(&tx->errors, "%s: held by a process that cannot be named from here "
			 "(another PID namespace); gave up after %u ms", TT_LOCK_PATH, ao->lock_timeout_ms);
	else if (r == -EPERM)
		msgs_add(&tx->errors, "%s: owned by another user, who could hold it forever: "
			 "refusing it; remove it", TT_LOCK_PATH);
	else if (r == -EMLINK)
		msgs_add(&tx->errors, "%s: has more than one link (a hard link to another file?): "
			 "refusing it; remove it", TT_LOCK_PATH);
	else if (r == -EACCES || r == -EROFS)
		msgs_add(&tx->errors, "%s: %s (apply and rollback need root, or a writable --root)",
			 TT_LOCK_PATH, strerror(-r));
	else if (r < 0)
		msgs_add(&tx->errors, "%s: %s", TT_LOCK_PATH, apply_file_error(r));
	return r;
}

static void journal_from_tx(struct journal *j, const struct apply_tx *tx, const struct apply_opts *ao)
{
	*j = (struct journal){ .state = APPLY_STATE_INCOMPLETE, .pid = getpid() };
	j->profiles = tx->profiles;
	j->n_profiles = tx->n_profiles;
	j->netns = (char *)ao->netns;
	j->has_ns = netns_self(&j->ns_dev, &j->ns_ino) == 0;
	j->ns_cookie = j->has_ns ? netns_cookie() : 0;
	j->fragment = tx->fragment;
	j->sources = tx->sources;
	j->n_sources = tx->n_sources;
	j->originals = tx->originals;
	j->n_originals = tx->n_originals;
	j->frag_before = tx->frag_old;
	j->frag_before_len = tx->frag_old_len;
	j->frag_before_mode = tx->frag_old_mode;
	j->frag_after = tx->frag_new;
	j->frag_after_len = tx->frag_new_len;
	j->has_after = true;
	j->allow_uncatalogued = tx->allow_uncatalogued;
	j->keys = xcalloc(tx->n_set ? tx->n_set : 1, sizeof(*j->keys));
	for (size_t i = 0; i < tx->n_keys; i++)
		if (tx->keys[i].action == APPLY_SET)
			j->keys[j->n_keys++] = (struct jkey){ tx->keys[i].key, tx->keys[i].before,
							      tx->keys[i].after };
}

/*
 * A journal write that failed may have failed after its rename (an EIO
 * from the directory's fsync): the file may already hold the new state.
 * Put the previous bytes back, so that a failure that changed nothing
 * does not take the previous apply's way back with it.
 */
void journal_put_back(int rootfd, const char *old, size_t old_len, struct apply_tx *tx)
{
	int r;

	if (apply_file_holds(rootfd, TT_JOURNAL_PATH, old, old_len, 0600) ||
	    (old && apply_file_holds(rootfd, TT_JOURNAL_PATH, old, old_len, 0644)))
		return;
	r = apply_put_file(rootfd, TT_JOURNAL_PATH, old, old_len, 0600);
	if (r < 0)
		msgs_add(&tx->warnings, "%s: could not put the previous journal back (%s): the way "
			 "back to before the previous apply may be lost; `tcptune rollback -n` shows "
			 "what the journal holds now", TT_JOURNAL_PATH, apply_file_error(r));
}

/* The journal names the fragment this run writes, or it is refused (exit 2). */
int apply_fragment_ok(const struct journal *j, const struct apply_opts *ao, struct apply_tx *tx)
{
	char *why = journal_check_fragment(j->fragment, ao->fragment);

	if (!why)
		return 0;
	msgs_add(&tx->errors, "%s: \"fragment\" %s: %s; if it is not needed for a rollback, "
		 "`tcptune rollback --forget` sets it aside as %s", TT_JOURNAL_PATH, j->fragment, why,
		 TT_JOURNAL_FORGOTTEN);
	free(why);
	return -EBADMSG;
}

/* Finish an interrupted apply or rollback before anything else (lock held). */
static enum apply_outcome recover(int rootfd, const struct procsys *ps, const struct apply_opts *ao,
				  struct apply_tx *tx)
{
	struct apply_tx rtx = { .recovered = true };
	enum apply_outcome oc = APPLY_OK;
	struct msgs m = { 0 };
	struct journal j;
	bool found;
	int r;

	r = journal_load(rootfd, &j, &found, &m);
	if (r < 0) {
		msgs_add(&tx->errors, "%s; if it is not needed for a rollback, `tcptune rollback "
			 "--forget` sets it aside as %s", msgs_last(&m), TT_JOURNAL_FORGOTTEN);
		msgs_free(&m);
		return r == -EBADMSG ? APPLY_INVALID : APPLY_FAILED;
	}
	if (!found || !journal_interrupted(j.state)) {
		journal_free(&j);
		return APPLY_OK;
	}
	/* another namespace's interrupted transaction: neither restore it here nor drop it */
	if (apply_fragment_ok(&j, ao, tx) < 0 || journal_check_netns(&j, ao, "restore it", tx) < 0) {
		journal_free(&j);
		return APPLY_INVALID;
	}
	char *names = apply_join(j.profiles, j.n_profiles);
	msgs_add(&tx->warnings, "the %s of %s by pid %lld did not finish: restoring the state "
		 "before it first", j.state == APPLY_STATE_INCOMPLETE ? "apply" : "rollback", names, j.pid);
	free(names);
	r = rollback_restore(rootfd, ps, &j, &rtx, false) == APPLY_OK ? 0 : -1;
	if (r == 0) {
		j.state = APPLY_STATE_ROLLED_BACK;
		r = journal_store(rootfd, &j);
		if (r < 0)
			msgs_add(&tx->errors, "%s: %s", TT_JOURNAL_PATH, strerror(-r));
	}
	if (r < 0) {
		for (size_t i = 0; i < rtx.unrestored.n; i++)
			msgs_add(&tx->unrestored, "%s", rtx.unrestored.v[i]);
		for (size_t i = 0; i < rtx.errors.n; i++)
			msgs_add(&tx->errors, "%s", rtx.errors.v[i]);
		msgs_add(&tx->errors, "could not finish restoring the interrupted transaction; "
			 "nothing new was applied");
		/* broken only when something is left half restored; the journal still says so */
		oc = rtx.unrestored.n ? APPLY_BROKEN : APPLY_FAILED;
	}
	for (size_t i = 0; i < rtx.notes.n; i++)
		msgs_add(&tx->notes, "%s", rtx.notes.v[i]);
	tx->recovered = true;
	tx->changed = rtx.changed;
	apply_tx_free(&rtx);
	journal_free(&j);
	return oc;
}

/*
 * apply A, apply B, rollback, apply A: the last step changes nothing, yet
 * the journal must not say "B, rolled back" for ever (audit and doctor
 * use it). Record A as complete, with no keys: its rollback changes nothing.
 */
static void record_noop(int rootfd, struct apply_tx *tx, const struct apply_opts *ao)
{
	struct journal old, j;
	bool found;

	if (journal_load(rootfd, &old, &found, NULL) < 0 || !found)
		return;
	if (old.state == APPLY_STATE_ROLLED_BACK && journal_same_netns(&old, ao)) {
		journal_from_tx(&j, tx, ao);
		j.state = APPLY_STATE_COMPLETE;
		if (journal_store(rootfd, &j) < 0)
			msgs_add(&tx->warnings, "%s: could not record this apply; it still names the "
				 "apply rolled back before", TT_JOURNAL_PATH);
		free(j.keys);
	}
	journal_free(&old);
}

static const char *why(int r)
{
	return r == -EIO ? "read back differs" : strerror(-r);
}

enum apply_outcome apply_run(int rootfd, const struct procsys *ps, const struct profile *p,
			     const struct apply_opts *ao, struct apply_tx *ret)
{
	struct fileio_lock lock = { -1 };
	struct apply_tx pre = { 0 };
	struct journal j = { 0 };
	enum apply_outcome oc = APPLY_FAILED;
	char *old_journal = NULL;
	size_t old_journal_len = 0, n = 0;
	unsigned old_journal_mode = 0644;
	bool frag_touched = false;
	int r;

	*ret = (struct apply_tx){ 0 };
	if (apply_take_lock(rootfd, ao, &lock, &pre) < 0)
		goto fail_pre;
	apply_test_hook("lock", 0);
	apply_remove_temps(rootfd, TT_JOURNAL_PATH);
	apply_remove_temps(rootfd, ao->fragment);
	oc = recover(rootfd, ps, ao, &pre);
	if (oc != APPLY_OK)
		goto fail_pre;
	oc = apply_plan(rootfd, ps, p, ao, ret);
	/* carry what recovery said into the result */
	for (size_t i = 0; i < pre.warnings.n; i++)
		msgs_add(&ret->warnings, "%s", pre.warnings.v[i]);
	for (size_t i = 0; i < pre.notes.n; i++)
		msgs_add(&ret->notes, "%s", pre.notes.v[i]);
	ret->recovered = pre.recovered;
	ret->changed = pre.changed;
	apply_tx_free(&pre);
	if (oc != APPLY_OK)
		goto out;
	if (!ret->frag_changes && ret->n_set == 0) {
		record_noop(rootfd, ret, ao);
		goto out;
	}

	r = apply_read_file(rootfd, TT_JOURNAL_PATH, &old_journal, &old_journal_len, &old_journal_mode);
	if (r < 0) {
		msgs_add(&ret->errors, "%s: %s", TT_JOURNAL_PATH, apply_file_error(r));
		oc = APPLY_FAILED;
		goto out;
	}
	journal_from_tx(&j, ret, ao);
	r = journal_store(rootfd, &j);
	if (r < 0) {
		msgs_add(&ret->errors, "%s: cannot write the journal: %s; %s", TT_JOURNAL_PATH,
			 r == -EINVAL ? "a value cannot be stored" : apply_file_error(r),
			 ret->recovered ? "nothing new was applied (the interrupted transaction was "
					  "restored first)" : "nothing was changed");
		journal_put_back(rootfd, old_journal, old_journal_len, ret);
		oc = APPLY_FAILED;
		goto out;
	}
	apply_test_hook("journal", 0);

	if (ret->frag_changes) {
		frag_touched = true;
		r = apply_put_file(rootfd, ret->fragment, ret->frag_new, ret->frag_new_len, ret->frag_new_mode);
		if (r < 0) {
			msgs_add(&ret->errors, "%s: %s", ret->fragment, apply_file_error(r));
			goto undo;
		}
		ret->changed = true;
		apply_test_hook("fragment", 0);
	}
	for (size_t i = 0; i < ret->n_keys; i++) {
		struct apply_key *k = &ret->keys[i];
		char *seen = NULL;

		if (k->action != APPLY_SET)
			continue;
		/* touched before the write: a refused vector write may have stored part of it */
		k->touched = true;
		r = apply_set_live(ps, k->key, k->after, &seen);
		if (r < 0) {
			if (r == -EIO)
				msgs_add(&ret->errors, "%s: wrote %s, the kernel kept %s", k->key, k->after,
					 seen ? seen : "(unreadable)");
			else
				msgs_add(&ret->errors, "%s: writing %s: %s", k->key, k->after, why(r));
			free(seen);
			goto undo;
		}
		free(seen);
		ret->changed = true;
		apply_test_hook("key", ++n);
	}
	apply_test_hook("complete", 0);
	j.state = APPLY_STATE_COMPLETE;
	r = journal_store(rootfd, &j);
	if (r < 0) {
		msgs_add(&ret->errors, "%s: cannot mark the journal complete: %s", TT_JOURNAL_PATH,
			 strerror(-r));
		goto undo;
	}
	apply_test_hook("done", 0);
	goto out;

undo:
	if (apply_undo(rootfd, ps, ret, frag_touched) < 0) {
		/* the journal stays "incomplete": rollback will retry from it */
		oc = APPLY_BROKEN;
	} else {
		oc = APPLY_FAILED;
		ret->changed = ret->recovered;
		if (apply_put_file(rootfd, TT_JOURNAL_PATH, old_journal, old_journal_len, 0600) < 0)
			msgs_add(&ret->warnings, "%s: could not put the previous journal back; it now "
				 "records this failed apply, whose rollback changes nothing",
				 TT_JOURNAL_PATH);
	}
out:
	free(j.keys);
	free(old_journal);
	fileio_unlock(&lock);
	return oc;
fail_pre:
	ret->recovered = pre.recovered;
	ret->changed = pre.changed;
	ret->fragment = xstrdup(ao->fragment);
	ret->errors = pre.errors;
	ret->unrestored = pre.unrestored;
	ret->warnings = pre.warnings;
	pre.errors = pre.unrestored = pre.warnings = (struct msgs){ 0 };
	apply_tx_free(&pre);
	fileio_unlock(&lock);
	return oc;
}

