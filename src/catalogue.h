/* SPDX-License-Identifier: ISC */
/* catalogue.h: the sysctl keys tcptune knows, with sane ranges and facts. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum cat_type {
	CAT_INT,        /* one integer */
	CAT_VEC,        /* `arity` integers */
	CAT_STR,        /* one word (congestion control, qdisc) */
};

enum cat_scope {
	SCOPE_NETNS,        /* per network namespace; new ones start at the kernel default */
	SCOPE_NETNS_COPY,   /* per netns, but copied from the creator at netns creation */
	SCOPE_HOST,         /* host-wide; absent in a child netns (ENOENT) */
	SCOPE_HOST_RO,      /* host-wide; read-only in a child netns (EACCES on write) */
	SCOPE_GLOBAL,       /* not namespaced at all (fs.*): root in a netns changes the host */
};

struct catentry {
	const char *key;        /* canonical dotted name */
	enum cat_type type;
	unsigned arity;         /* 1 for CAT_INT and CAT_STR */
	long long min, max;     /* sane range of each integer (not just the kernel's) */
	const char *dflt;       /* kernel default as /proc/sys prints it (space-separated), NULL when computed at boot */
	const char *dflt_note;  /* how the default is derived when it is computed, or NULL */
	enum cat_scope scope;
	const char *since;      /* first kernel with the key, or NULL when older than 4.9 */
	const char *meaning;    /* one line */
	const char *caveat;     /* one line, or NULL */
	const char *source;     /* where the facts come from (kernel file, function) */
	/*
	 * A key whose value the first number of this one may not be below:
	 * the kernel checks it on every write of either key (EINVAL), so
	 * plan checks the pair and apply orders their writes. Or NULL.
	 */
	const char *floor_key;
};

enum cat_unit { UNIT_NONE, UNIT_BYTES, UNIT_SECONDS };

const struct catentry *catalogue_find(const char *key);
/* What the key's numbers count, for views that show units. */
enum cat_unit catalogue_unit(const char *key);
const struct catentry *catalogue_all(size_t *ret_n);
const char *catalogue_scope_name(enum cat_scope s);
const char *catalogue_type_name(enum cat_type t);
/*
 * The catalogue key closest to `key` within a small edit distance, or NULL.
 * Used for "did you mean".
 */
const char *catalogue_suggest(const char *key);
/*
 * For a key the kernel no longer has, why it went and what to use
 * instead; NULL for any other key.
 */
const char *catalogue_removed(const char *key);
/*
 * Check a normalized value against the entry: type, arity, range.
 * 0, or -EINVAL with a message in err ("must be 1..32767", ...).
 */
/*
 * For a key whose value is a set (ip_local_reserved_ports: ports and
 * ranges), the value as the kernel prints it: merged, sorted, "a-b" ranges.
 * NULL for any other key or a value that does not parse. Caller frees.
 */
char *catalogue_canonical(const struct catentry *e, const char *value);
/* Is value one the kernel takes for e? 0, or -EINVAL with why in m (may be NULL). */
struct msgs;
int catalogue_check(const struct catentry *e, const char *value, struct msgs *m);
