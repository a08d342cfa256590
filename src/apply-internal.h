/* apply-internal.h: what the apply family (fragment, journal, plan, constraints, apply, rollback) shares; not for commands. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "apply.h"
#include "fileio.h"

/* where `rollback --forget` keeps a journal it sets aside */
#define TT_JOURNAL_FORGOTTEN TT_JOURNAL_PATH ".forgotten"

struct jkey {
	char *key, *before, *after;
};

struct journal {
	enum apply_state state;
	long long pid;
	char **profiles;
	size_t n_profiles;
	char *netns;            /* --netns as given, or NULL */
	bool has_ns;            /* the namespace's identity is known (format 2) */
	unsigned long long ns_dev, ns_ino;   /* of its nsfs file */
	unsigned long long ns_cookie;        /* SO_NETNS_COOKIE, or 0 */
	char *fragment;
	char *frag_before;      /* NULL: absent */
	size_t frag_before_len;
	unsigned frag_before_mode;
	char *frag_after;       /* what the apply left; NULL: absent or not recorded */
	size_t frag_after_len;
	bool has_after;         /* frag_after is known (journals since format 2) */
	bool allow_uncatalogued; /* the profile opted in to keys outside the network scope */
	struct jkey *keys;
	size_t n_keys;
	struct provenance *sources;
	size_t n_sources;
	struct apply_orig *originals;
	size_t n_originals;
};

/* apply.c: the files below rootfd, test hooks, the transaction's steps. */
void apply_test_hook(const char *step, size_t n);
int apply_read_file(int rootfd, const char *path, char **ret, size_t *ret_len, unsigned *ret_mode);
void apply_remove_temps(int rootfd, const char *path);
int apply_put_file(int rootfd, const char *path, const char *data, size_t len, unsigned mode);
const char *apply_file_error(int r);
bool apply_same_bytes(const char *a, size_t la, const char *b, size_t lb);
bool apply_file_holds(int rootfd, const char *path, const char *data, size_t len, unsigned mode);
char *apply_join(char *const *v, size_t n);
struct apply_key *apply_add_key(struct apply_tx *tx, const char *key);
int apply_set_live(const struct procsys *ps, const char *key, const char *value, char **ret_seen);
int apply_put_back(int rootfd, struct apply_tx *tx, const char *data, size_t len, unsigned mode);
void apply_note_gone(struct apply_tx *tx, const char *key);
int apply_take_lock(int rootfd, const struct apply_opts *ao, struct fileio_lock *l, struct apply_tx *tx);
void journal_put_back(int rootfd, const char *old, size_t old_len, struct apply_tx *tx);

/* journal.c */
void journal_free(struct journal *j);
bool journal_interrupted(enum apply_state s);
/* 0 (*found false: no journal), or -errno (-EBADMSG: refused) with one message in m */
int journal_load(int rootfd, struct journal *j, bool *found, struct msgs *m);
int journal_store(int rootfd, const struct journal *j);
void journal_origs_free(struct apply_orig *v, size_t n);
void journal_origs_add(struct apply_orig **v, size_t *n, const char *key, const char *value);
bool journal_same_netns(const struct journal *j, const struct apply_opts *ao);
int journal_check_netns(const struct journal *j, const struct apply_opts *ao, const char *what,
			struct apply_tx *tx);

/* constraints.c: each adds its errors, warnings or notes to tx */
int constraints_floors(const struct procsys *ps, struct apply_tx *tx);
void constraints_order(struct apply_tx *tx);
int constraints_cc(const struct procsys *ps, struct apply_tx *tx);
void constraints_ports(int rootfd, const struct procsys *ps, struct apply_tx *tx);

/* rollback.c: restore the state a journal recorded (rollback, and apply's recovery) */
int apply_fragment_ok(const struct journal *j, const struct apply_opts *ao, struct apply_tx *tx);
int apply_undo(int rootfd, const struct procsys *ps, struct apply_tx *tx, bool frag_touched);
enum apply_outcome rollback_restore(int rootfd, const struct procsys *ps, struct journal *j,
				    struct apply_tx *tx, bool dry_run);
