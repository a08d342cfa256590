/* SPDX-License-Identifier: ISC */
/* profile.h: libconfig profiles, inheritance, merging and rules. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "catalogue.h"
#include "procsys.h"
#include "util.h"

struct rule {
	char *key;                    /* canonical dotted name */
	const struct catentry *cat;   /* NULL: not catalogued, compared as tokens */
	char *value;                  /* exact value (normalized), or NULL */
	char *min, *max;              /* normalized token lists compared element-wise, or NULL */
	char **one_of;                /* normalized values, or NULL */
	char *covers;                 /* "lo hi": a range key passes when it contains lo..hi; or NULL */
	size_t n_one_of;
	bool optional;
	char *note;                   /* or NULL */
	char *profile;                /* name of the profile that set this rule */
	char *file;                   /* file and line of the setting */
	unsigned line;
};

struct profile {
	char **names;                 /* as given, in order */
	size_t n_names;
	char *description;            /* of the last named profile, or NULL */
	char **files;                 /* every file read, parents first */
	size_t n_files;
	/* the files that say allow_uncatalogued = true; (keys outside net.* and the catalogue) */
	char **allow_uncatalogued;
	size_t n_allow_uncatalogued;
	struct rule *rules;           /* merged, sorted by key */
	size_t n_rules;
	/*
	 * "file: text" for a profile others could change (writable by group
	 * or others, owned by another user, in a directory others can write
	 * to); they do not fail the load and are kept when it fails.
	 */
	struct msgs warnings;
};

/* Where names are looked up: --profile-dir…, $TCPTUNE_PROFILE_PATH, /etc/tcptune/profiles, datadir. */
struct profile_path {
	char **dirs;
	size_t n;
};

struct profile_info {
	char *name;
	char *file;
	char *description;           /* or NULL */
	char *inherits;              /* comma-separated, or NULL */
	bool shadowed;               /* an earlier directory has the same name */
};

/*
 * Build the search path. root is the --root directory ("/" normally):
 * /etc/tcptune/profiles is taken below it, the datadir is not.
 */
void profile_path_init(struct profile_path *pp, const char *root, char *const *dirs, size_t n_dirs);
void profile_path_free(struct profile_path *pp);
/* "DIR, DIR, DIR" or "(empty profile path)", for messages; caller frees. */
char *profile_path_text(const struct profile_path *pp);

/*
 * Load and merge profiles left to right (later wins per key). A NAME with a
 * '/' or ending in ".conf" is a file. ps may be NULL (no live check; keys not
 * in the catalogue are then accepted). Every error goes to errors as
 * "file:line: key: text"; returns 0, or -EINVAL when any error was found,
 * or the -errno of a read that failed for the storage's sake (-EIO, ...)
 * when one did (then only ret->warnings is left in ret: profile_free() it
 * either way).
 */
int profile_load(const struct profile_path *pp, const struct procsys *ps,
		 char *const *names, size_t n, struct profile *ret, struct msgs *errors);
void profile_free(struct profile *p);

int profile_list(const struct profile_path *pp, struct profile_info **ret, size_t *ret_n,
		 struct msgs *warnings);
void profile_info_free(struct profile_info *v, size_t n);

/*
 * Why root must refuse the profile file `path` (st: its fstat): writable by
 * group or others, not owned by root, or below a directory others can write
 * without the sticky bit or that another user owns. 0 with *ret_why NULL
 * when it is safe; 0 with the reason; -errno with the read that failed
 * (/proc/self/uid_map: who owns the file is unknown) in *ret_why. Caller frees.
 */
struct stat;
int profile_perms_refusal(const char *path, const struct stat *st, char **ret_why);

/* "200", ">= 4096", "<= 30", "1024..4096", "one of bbr cubic", "covers 10240..65535". Caller frees. */
char *rule_describe(const struct rule *r);
/*
 * A key outside the network scope: neither in the catalogue nor below net.
 * (kernel.*, vm.*, uncatalogued fs.*); a profile must opt in to set one.
 */
bool rule_out_of_scope(const struct rule *r);
/* Does a normalized live value satisfy the rule? */
bool rule_check(const struct rule *r, const char *value);
/*
 * The value apply would set given the live one: the exact value; for min/max
 * the live value when inside, else the nearest bound (element-wise); for
 * one_of the live value when listed, else the first. live may be NULL.
 */
char *rule_target(const struct rule *r, const char *live);
