/* SPDX-License-Identifier: ISC */
/* apply.h: the transaction: lock, journal, fragment, live writes, read-back, roll back. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "bootfix.h"
#include "profile.h"
#include "procsys.h"
#include "provenance.h"
#include "util.h"

#define TT_LOCK_PATH        "/run/lock/tcptune.lock"
#define TT_JOURNAL_PATH     "/var/lib/tcptune/last-apply"

enum apply_action {
	APPLY_SET,           /* live differs from the target: write it */
	APPLY_KEEP,          /* live already holds the target */
	APPLY_SKIP_MISSING,  /* optional key the kernel lacks */
	APPLY_SKIP_SCOPE,    /* host-wide key seen from a child network namespace */
	APPLY_SKIP_GONE,     /* rollback: the key is gone (interface removed, module unloaded) */
};

struct apply_key {
	char *key;
	const struct rule *rule;   /* NULL in a rollback */
	char *before;              /* live value now; NULL when the kernel lacks it */
	char *after;               /* the value to set */
	enum apply_action action;
	bool touched;              /* a write was attempted: restore it on failure */
};

/* What plan, apply, rollback and forget return: their one answer (the why is in tx->errors). */
enum apply_outcome {
	APPLY_OK = 0,      /* done (or nothing to do) */
	APPLY_INVALID,     /* bad input (profile, journal, option): nothing touched */
	APPLY_FAILED,      /* failed; everything is as before */
	APPLY_BROKEN,      /* failed; `unrestored` says what is left */
	APPLY_REFUSED,     /* rollback: hand edits since the apply, no --force; nothing touched */
};

struct apply_orig {
	char *key;
	char *value;
};

/* One plan, apply or rollback: what it would do, did, and what went wrong. */
struct apply_tx {
	char **profiles;
	size_t n_profiles;
	char *fragment;              /* path as the admin sees it */
	char *frag_old;              /* current bytes; NULL when absent */
	size_t frag_old_len;
	unsigned frag_old_mode;
	char *frag_new;              /* bytes to leave; NULL: the file is to be absent */
	size_t frag_new_len;
	unsigned frag_new_mode;
	bool frag_changes;
	struct apply_key *keys;
	size_t n_keys;
	size_t n_set;                /* keys with APPLY_SET */
	struct provenance *sources;  /* every profile and @include file read */
	size_t n_sources;
	/*
	 * Every key tcptune has set (this apply and the earlier ones in this
	 * namespace, until a journal is forgotten) with its live value before
	 * tcptune first set it: what a key the profiles drop goes back to.
	 */
	struct apply_orig *originals;
	size_t n_originals;
	size_t n_stale;              /* keys the profiles dropped, restored (or kept) */
	struct msgs edits;           /* rollback: changes made by hand since the apply */
	bool child_netns;
	bool allow_uncatalogued;     /* a profile opted in to keys outside the network scope */
	bool changed;                /* the system was changed (apply/rollback) */
	bool recovered;              /* an interrupted transaction was completed first */
	struct msgs errors;          /* why it failed or was refused */
	struct msgs unrestored;      /* APPLY_BROKEN: "KEY: is X, was Y (why)" */
	struct msgs warnings;        /* boot overrides, interrupted transactions */
	struct msgs notes;           /* skipped keys, namespace scope */
	/* plan: keys that a later sysctl.d file (or /etc/sysctl.conf) sets at boot over the fragment */
	struct boot_conflicts conflicts;
};

struct apply_opts {
	const char *fragment;        /* absolute, below root */
	const char *netns;           /* --netns as given, recorded in the journal; or NULL */
	unsigned lock_timeout_ms;
	bool keep_stale;             /* --keep-stale: leave keys the profiles dropped as they are */
	bool force;                  /* rollback --force: undo hand edits made since the apply too */
};

/*
 * The sysctl.d fragment for a merged profile: a header naming the profiles,
 * then per key a comment (rule, profile, note) and "key = value". min/max
 * and one_of rules give the value apply would set for the live value in
 * ps (ps may be NULL: no live values). No timestamp: the same profiles and
 * live values give the same bytes. Caller frees. NULL with errno when a
 * live value cannot be read (other than a missing key) or the stream fails.
 */
char *apply_render(const struct profile *p, const struct procsys *ps);
/*
 * The same with bv, the boot view without the fragment, deciding what needs
 * pinning (see render_target() in fragment.c); apply_render() is bv == NULL:
 * kernel defaults only.
 */
struct bootview;
char *apply_render_boot(const struct profile *p, const struct procsys *ps, const struct bootview *bv);
/* What apply writes to fragment below rootfd: 0 or -errno. Caller frees *ret. */
int apply_render_for(int rootfd, const struct profile *p, const struct procsys *ps,
		     const char *fragment, char **ret);

/*
 * What apply would do, touching nothing: live values, targets, the
 * fragment's old and new bytes, boot overrides. APPLY_OK; APPLY_INVALID
 * (a non-optional key the kernel lacks, a value the kernel would refuse)
 * or APPLY_FAILED (a read failed), with tx->errors saying why.
 */
enum apply_outcome apply_plan(int rootfd, const struct procsys *ps, const struct profile *p,
			      const struct apply_opts *ao, struct apply_tx *ret);

/*
 * The transaction (DESIGN.md "Apply"): lock, finish an interrupted one,
 * plan, journal, fragment, each live write read back; on failure restore
 * all in reverse. The outcome; unless APPLY_OK, tx->errors and (APPLY_BROKEN)
 * tx->unrestored say why and what is left, the errno text included.
 */
enum apply_outcome apply_run(int rootfd, const struct procsys *ps, const struct profile *p,
			     const struct apply_opts *ao, struct apply_tx *ret);

/*
 * Undo the last apply from its journal (also completes an interrupted
 * one). dry_run: plan only, no lock, nothing written. Idempotent: an
 * apply already rolled back changes nothing. The outcome, as apply_run():
 * APPLY_INVALID when there is no journal or it cannot be used here,
 * APPLY_REFUSED for hand edits without --force.
 */
enum apply_outcome apply_rollback(int rootfd, const struct procsys *ps, const struct apply_opts *ao,
				  bool dry_run, struct apply_tx *ret);

/*
 * rollback --forget: set the journal aside (TT_JOURNAL_PATH ".forgotten"),
 * whatever its state or content, touching nothing else: renamed, never
 * read, so a file of any size, a symlink or a directory goes aside too.
 * The way out when the journal cannot be used: its namespace is gone, or
 * it is unreadable.
 */
enum apply_outcome apply_forget(int rootfd, const struct apply_opts *ao, struct apply_tx *tx);

void apply_tx_free(struct apply_tx *tx);

/* What the journal says about the last apply (for audit and doctor). */
enum apply_state {
	APPLY_STATE_NONE,          /* no journal */
	APPLY_STATE_INCOMPLETE,    /* an apply died or could not restore: run rollback */
	APPLY_STATE_COMPLETE,
	APPLY_STATE_ROLLING_BACK,  /* a rollback died: run rollback again */
	APPLY_STATE_ROLLED_BACK,
};

struct apply_last {
	enum apply_state state;
	char **profiles;
	size_t n_profiles;
	char *fragment;
	long long pid;             /* of the process that wrote it */
	struct provenance *sources; /* the files the apply read; none in format-1 journals */
	size_t n_sources;
	struct apply_orig *originals; /* every key tcptune set, with its value before */
	size_t n_originals;
	bool here;                 /* made in the network namespace we are in now */
};

/* 0 (state NONE when there is no journal), or -errno with one message in m (may be NULL). */
int apply_last_read(int rootfd, struct apply_last *ret, struct msgs *m);
void apply_last_free(struct apply_last *l);
const char *apply_state_name(enum apply_state s);
/*
 * For an interrupted transaction, one sentence telling the admin what
 * happened and what to run; NULL otherwise. Caller frees.
 */
char *apply_last_advice(const struct apply_last *l);
