/* strindex.h: a string -> index map (open addressing, FNV-1a). */
#pragma once
#include <stddef.h>

/*
 * A string -> index map (open addressing, FNV-1a), so that finding a key,
 * a file or a name already seen costs O(1), not a scan: 80,000 lines or
 * 20,000 files took 5 to 30 s with scans. Keys are borrowed.
 */
struct strindex {
	const char **keys;
	size_t *vals;
	size_t cap, n;
};

/* The value stored for key, or (size_t)-1. */
size_t strindex_get(const struct strindex *x, const char *key);
/* Set key (borrowed, must outlive the map or be replaced) to val. */
void strindex_put(struct strindex *x, const char *key, size_t val);
void strindex_free(struct strindex *x);
