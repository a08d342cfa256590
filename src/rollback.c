/* rollback.c: undo the last apply from its journal, or set the journal aside. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "apply.h"
#include "apply-internal.h"
#include "fileio.h"

/*
 * Restore the state a journal recorded; used by rollback and by apply's
 * recovery. APPLY_OK; APPLY_FAILED when the fragment cannot be read
 * (nothing touched); APPLY_BROKEN with tx->unrestored naming what is not
 * back.
 */
enum apply_outcome rollback_restore(int rootfd, const struct procsys *ps, struct journal *j,
				    struct apply_tx *tx, bool dry_run)
{
	const char *step = tx->recovered ? "recover" : "rollback";
	char step_key[32];
	int ret = 0, r;

	(void)snprintf(step_key, sizeof(step_key), "%s-key", step);
	tx->fragment = xstrdup(j->fragment);
	tx->profiles = strv_dup(j->profiles, j->n_profiles);
	tx->n_profiles = j->n_profiles;
	tx->child_netns = procsys_in_child_netns(ps);
	tx->frag_old_mode = 0644;
	r = apply_read_file(rootfd, j->fragment, &tx->frag_old, &tx->frag_old_len, &tx->frag_old_mode);
	if (r < 0) {
		msgs_add(&tx->errors, "%s: %s", j->fragment, apply_file_error(r));
		return APPLY_FAILED;
	}
	if (j->frag_before) {
		tx->frag_new = xmalloc(j->frag_before_len + 1);
		memcpy(tx->frag_new, j->frag_before, j->frag_before_len + 1);
	}
	tx->frag_new_len = j->frag_before_len;
	tx->frag_new_mode = j->frag_before_mode ? j->frag_before_mode : 0644;
	tx->frag_changes = !apply_same_bytes(tx->frag_old, tx->frag_old_len, tx->frag_new, tx->frag_new_len);
	for (size_t i = 0; i < j->n_keys; i++) {
		struct apply_key *k = apply_add_key(tx, j->keys[i].key);
		int rr = procsys_read(ps, k->key, &k->before);

		if (rr < 0)
			k->before = NULL;
		k->after = xstrdup(j->keys[i].before);
		if (rr == -ENOENT) {
			k->action = APPLY_SKIP_GONE;
			apply_note_gone(tx, k->key);
			continue;
		}
		k->action = k->before && value_equal(k->before, k->after) ? APPLY_KEEP : APPLY_SET;
		if (k->action == APPLY_SET)
			tx->n_set++;
	}
	if (dry_run)
		return APPLY_OK;
	if (tx->frag_changes) {
		r = apply_put_back(rootfd, tx, tx->frag_new, tx->frag_new_len, tx->frag_new_mode);
		if (r < 0) {
			ret = r;
		} else {
			tx->changed = true;
		}
		(void)snprintf(step_key, sizeof(step_key), "%s-fragment", step);
		apply_test_hook(step_key, 0);
		(void)snprintf(step_key, sizeof(step_key), "%s-key", step);
	}
	/* newest first, as the apply wrote them */
	for (size_t i = tx->n_keys, n = 0; i-- > 0;) {
		struct apply_key *k = &tx->keys[i];
		char *seen = NULL;

		if (k->action != APPLY_SET)
			continue;
		/* for undo() when a rollback gives up: a refused write may have stored part */
		k->touched = true;
		r = apply_set_live(ps, k->key, k->after, &seen);
		if (r < 0 && seen && value_equal(seen, k->after))
			r = 0;
		if (r == -ENOENT) {
			/* gone between the read and the write */
			k->action = APPLY_SKIP_GONE;
			tx->n_set--;
			apply_note_gone(tx, k->key);
		} else if (r < 0) {
			msgs_add(&tx->unrestored, "%s: is %s, was %s before the apply (%s)", k->key,
				 seen ? seen : "unreadable", k->after,
				 r == -EIO && seen ? "read back differs" : strerror(-r));
			ret = r;
		} else {
			tx->changed = true;
		}
		free(seen);
		apply_test_hook(step_key, ++n);
	}
	return ret < 0 ? APPLY_BROKEN : APPLY_OK;
}

/* Lines of a that b lacks, up to three, quoted; and how many. */
static size_t lines_not_in(const char *a, size_t la, const char *b, size_t lb, char **ret)
{
	size_t n = 0;

	*ret = xstrdup("");
	for (const char *p = a; a && p < a + la;) {
		const char *e = memchr(p, '\n', (size_t)(a + la - p));
		size_t len = e ? (size_t)(e - p) : (size_t)(a + la - p);
		bool found = false;

		for (const char *q = b; b && q < b + lb && !found;) {
			const char *f = memchr(q, '\n', (size_t)(b + lb - q));
			size_t ql = f ? (size_t)(f - q) : (size_t)(b + lb - q);

			found = ql == len && memcmp(p, q, len) == 0;
			q += ql + 1;
		}
		if (!found && len && n++ < 3) {
			char *t = xasprintf("%s%s\"%.*s\"", *ret, **ret ? ", " : "", (int)len, p);
			free(*ret);
			*ret = t;
		}
		p += len + 1;
	}
	return n;
}

/*
 * What changed by hand since a complete apply: a live value it set that
 * is no longer what it left, a fragment that is no longer what it wrote.
 * Rollback would silently undo these: it shows them and wants --force.
 */
static void hand_edits(int rootfd, const struct procsys *ps, const struct journal *j, struct msgs *ret)
{
	char *cur = NULL;
	size_t cur_len = 0;

	for (size_t i = 0; i < j->n_keys; i++) {
		char *live = NULL;

		/* already back at the value before: rollback changes nothing there */
		if (procsys_read(ps, j->keys[i].key, &live) == 0 && !value_equal(live, j->keys[i].after) &&
		    !value_equal(live, j->keys[i].before))
			msgs_add(ret, "%s: %s by hand since the apply, which left %s; rollback sets %s",
				 j->keys[i].key, live, j->keys[i].after, j->keys[i].before);
		free(live);
	}
	if (!j->has_after || apply_read_file(rootfd, j->fragment, &cur, &cur_len, NULL) < 0)
		return;
	if (!apply_same_bytes(cur, cur_len, j->frag_after, j->frag_after_len)) {
		char *added, *removed;
		size_t na = lines_not_in(cur, cur_len, j->frag_after, j->frag_after_len, &added);
		size_t nr = lines_not_in(j->frag_after, j->frag_after_len, cur, cur_len, &removed);

		if (!cur)
			msgs_add(ret, "%s: removed by hand since the apply", j->fragment);
		else
			msgs_add(ret, "%s: edited by hand since the apply: %zu line%s added%s%s%s, %zu "
				 "removed%s%s%s; rollback replaces the file", j->fragment, na,
				 na == 1 ? "" : "s", na ? " (" : "", added, na ? ")" : "", nr,
				 nr ? " (" : "", removed, nr ? ")" : "");
		free(added);
		free(removed);
	}
	free(cur);
}

enum apply_outcome apply_rollback(int rootfd, const struct procsys *ps, const struct apply_opts *ao,
				  bool dry_run, struct apply_tx *tx)
{
	struct fileio_lock lock = { -1 };
	struct journal j = { 0 };
	enum apply_outcome oc = APPLY_OK;
	struct msgs m = { 0 };
	char *old = NULL;               /* the journal before "rolling-back" */
	size_t old_len = 0;
	bool found;
	int r;

	*tx = (struct apply_tx){ 0 };
	if (!dry_run) {
		if (apply_take_lock(rootfd, ao, &lock, tx) < 0)
			return APPLY_FAILED;
		apply_remove_temps(rootfd, TT_JOURNAL_PATH);
	}
	r = journal_load(rootfd, &j, &found, &m);
	if (r < 0 || !found) {
		if (r < 0)
			msgs_add(&tx->errors, "%s; if it is not needed, `tcptune rollback --forget` sets "
				 "it aside as %s", msgs_last(&m), TT_JOURNAL_FORGOTTEN);
		else
			msgs_add(&tx->errors, "nothing to roll back: no apply is recorded in %s",
				 TT_JOURNAL_PATH);
		msgs_free(&m);
		/* a journal that could not be read is no bad input: the disk failed */
		oc = r == -EIO ? APPLY_FAILED : APPLY_INVALID;
		tx->fragment = xstrdup(ao->fragment);
		goto out;
	}
	if (journal_check_netns(&j, ao, "roll it back", tx) < 0) {
		oc = APPLY_INVALID;
		tx->fragment = xstrdup(j.fragment);
		goto out;
	}
	if (j.state == APPLY_STATE_ROLLED_BACK) {
		char *names = apply_join(j.profiles, j.n_profiles);
		msgs_add(&tx->notes, "the last apply (%s) is already rolled back; nothing to do", names);
		free(names);
		tx->fragment = xstrdup(j.fragment);
		tx->profiles = strv_dup(j.profiles, j.n_profiles);
		tx->n_profiles = j.n_profiles;
		goto out;
	}
	/* before anything reads or writes the file it names (hand_edits() shows its lines) */
	if (apply_fragment_ok(&j, ao, tx) < 0) {
		oc = APPLY_INVALID;
		tx->fragment = xstrdup(ao->fragment);
		goto out;
	}
	if (journal_interrupted(j.state)) {
		char *names = apply_join(j.profiles, j.n_profiles);
		msgs_add(&tx->warnings, "the %s of %s by pid %lld did not finish: completing the restore",
			 j.state == APPLY_STATE_INCOMPLETE ? "apply" : "rollback", names, j.pid);
		free(names);
	}
	if (j.state == APPLY_STATE_COMPLETE)
		hand_edits(rootfd, ps, &j, &tx->edits);
	if (ao->force) {
		for (size_t i = 0; i < tx->edits.n; i++)
			msgs_add(&tx->warnings, "undone by --force: %s", tx->edits.v[i]);
		msgs_free(&tx->edits);
	}
	if (tx->edits.n && !ao->force && !dry_run) {
		msgs_add(&tx->errors, "changed by hand since the apply (above); rollback would undo "
			 "that too: `tcptune%s%s rollback --force` rolls back anyway", ao->netns ? " --netns " : "",
			 ao->netns ? ao->netns : "");
		oc = APPLY_REFUSED;
		tx->fragment = xstrdup(j.fragment);
		goto out;
	}
	if (!dry_run && j.state == APPLY_STATE_COMPLETE) {
		/* a rollback that dies half way must be noticed like an apply that does */
		j.state = APPLY_STATE_ROLLING_BACK;
		r = apply_read_file(rootfd, TT_JOURNAL_PATH, &old, &old_len, NULL);
		if (r == 0)
			r = journal_store(rootfd, &j);
		if (r < 0) {
			msgs_add(&tx->errors, "%s: %s; nothing was changed", TT_JOURNAL_PATH, strerror(-r));
			/* left "complete": the next apply must not take this for a rollback to finish */
			if (old)
				journal_put_back(rootfd, old, old_len, tx);
			oc = APPLY_FAILED;
			tx->fragment = xstrdup(j.fragment);
			goto out;
		}
		apply_test_hook("rollback-journal", 0);
	}
	oc = rollback_restore(rootfd, ps, &j, tx, dry_run);
	if (dry_run)
		goto out;
	/* from "complete": all or nothing, so put back what was restored and the journal */
	if (oc != APPLY_OK && old) {
		if (apply_undo(rootfd, ps, tx, tx->frag_changes) == 0) {
			/* what failed is the reason, no longer a state to report */
			for (size_t i = 0; i < tx->unrestored.n; i++)
				msgs_add(&tx->errors, "%s", tx->unrestored.v[i]);
			msgs_free(&tx->unrestored);
			journal_put_back(rootfd, old, old_len, tx);
			oc = APPLY_FAILED;
			goto out;
		}
		oc = APPLY_BROKEN;
	}
	if (oc == APPLY_FAILED)
		goto out;
	if (oc == APPLY_BROKEN) {
		msgs_add(&tx->errors, "rollback incomplete; %s keeps the values to retry with "
			 "`tcptune rollback`", TT_JOURNAL_PATH);
		goto out;
	}
	j.state = APPLY_STATE_ROLLED_BACK;
	r = journal_store(rootfd, &j);
	if (r < 0) {
		/* everything is restored; a rerun only rewrites the same values */
		msgs_add(&tx->warnings, "%s: could not mark the journal rolled back: %s",
			 TT_JOURNAL_PATH, strerror(-r));
	}
	apply_test_hook("rollback-done", 0);
out:
	free(old);
	journal_free(&j);
	fileio_unlock(&lock);
	return oc;
}

enum apply_outcome apply_forget(int rootfd, const struct apply_opts *ao, struct apply_tx *tx)
{
	struct fileio_lock lock = { -1 };
	enum apply_outcome oc = APPLY_OK;
	char *name = NULL, *aside = NULL;
	int dfd, r, after = 0;

	*tx = (struct apply_tx){ .fragment = xstrdup(ao->fragment) };
	if (apply_take_lock(rootfd, ao, &lock, tx) < 0)
		return APPLY_FAILED;
	/*
	 * Renamed, never read: a journal too big, unreadable, a directory or
	 * a symlink is set aside like a good one, in one atomic step.
	 */
	dfd = fileio_open_parent(rootfd, TT_JOURNAL_PATH, false, &name);
	if (dfd >= 0) {
		aside = xasprintf("%s%s", name, TT_JOURNAL_FORGOTTEN + strlen(TT_JOURNAL_PATH));
		r = fileio_set_aside_at(dfd, name, aside, &after);
		(void)close(dfd);
	} else {
		r = dfd == -ENOENT ? 0 : dfd;
	}
	if (r == 0) {
		msgs_add(&tx->notes, "no journal in %s: nothing to forget", TT_JOURNAL_PATH);
		goto out;
	}
	if (r == -EEXIST) {
		msgs_add(&tx->errors, "%s: an older copy set aside, %s, is a directory with files in it: "
			 "remove it (rm -r), then run this again", TT_JOURNAL_PATH, TT_JOURNAL_FORGOTTEN);
		oc = APPLY_FAILED;
		goto out;
	}
	if (r < 0) {
		msgs_add(&tx->errors, "%s: %s", TT_JOURNAL_PATH, apply_file_error(r));
		oc = APPLY_FAILED;
		goto out;
	}
	msgs_add(&tx->notes, "%s set aside as %s: nothing else was changed, and the next apply "
		 "starts without a way back to what it recorded", TT_JOURNAL_PATH, TT_JOURNAL_FORGOTTEN);
	/* done, so no failure: but what may not last is said */
	if (after < 0)
		msgs_add(&tx->warnings, "%s: set aside, but then %s: it may be readable by others, or back "
			 "after a crash (run this again then)", TT_JOURNAL_FORGOTTEN, strerror(-after));
out:
	free(name);
	free(aside);
	fileio_unlock(&lock);
	return oc;
}
