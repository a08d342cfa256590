/* journal_check.h: what a journal may name before rollback or crash recovery trusts it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* The longest value a journal may hold: /proc/sys takes at most a page per write. */
#define JOURNAL_VALUE_MAX 4096

/*
 * Why a key recorded in the journal cannot be one a profile set, or NULL
 * when it can: a dotted sysctl name of [a-z0-9_-] components (no '/', no
 * "..", no empty component), below net. or in the catalogue, or any other
 * key only when the journal records allow_uncatalogued (the profile opted
 * in). Caller frees.
 */
char *journal_check_key(const char *key, bool allow_uncatalogued);

/*
 * Why a recorded value (len bytes, as stored) is not one a sysctl takes,
 * or NULL: at most JOURNAL_VALUE_MAX bytes, no NUL, no control character
 * other than white space. Caller frees.
 */
char *journal_check_value(const char *value, size_t len);

/*
 * Every key and value the parsed journal `o` (a json_t) names, in "keys"
 * (key, before, after) and "originals" (key, value): NULL when all pass,
 * else the first failure, naming its field ("keys[2].key"). Caller frees.
 */
char *journal_check_json(const void *o);

/*
 * Why rollback may not write the journal's fragment path, or NULL: it must
 * be the file this run's apply writes (`expected`: the default
 * /etc/sysctl.d/90-tcptune.conf or --fragment), or a NAME.conf directly in
 * /etc/sysctl.d (an earlier apply's --fragment there: rollback needs no
 * --fragment for it). Paths are compared after collapsing "//" and dropping
 * "." components; a ".." component or a relative path is refused outright.
 * So a journal can make rollback write only a sysctl.d fragment or the one
 * file the admin names. Caller frees.
 */
char *journal_check_fragment(const char *recorded, const char *expected);

/*
 * Why the journal file `path` below rootfd may have been written by someone
 * other than root, or NULL: it must be a regular file owned by root (or by
 * us, in a fixture root) and writable by no one else (0600 as written;
 * 0644 from older versions).
 * Caller frees.
 */
char *journal_check_file(int rootfd, const char *path);

/*
 * Open a file a journal names (a profile or @include it recorded) to read
 * it: never through a symlink, only a regular file, and as root only one
 * that profiles may be loaded from (profile_perms_refusal(): owned by root,
 * not writable by others, no directory others can write above it). The fd,
 * or -errno with the reason in m (-EPERM: refused).
 */
struct msgs;
int journal_open_source(const char *path, struct msgs *m);
