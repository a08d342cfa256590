/* strindex.c: a string -> index map (open addressing, FNV-1a). */
#include <stdlib.h>
#include <string.h>
#include "strindex.h"
#include "util.h"

static size_t str_hash(const char *s)
{
	size_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static size_t *strindex_slot(const struct strindex *x, const char *key, bool *ret_found)
{
	size_t i = str_hash(key) & (x->cap - 1);

	while (x->keys[i] && strcmp(x->keys[i], key))
		i = (i + 1) & (x->cap - 1);
	*ret_found = x->keys[i] != NULL;
	return &x->vals[i];
}

/* The value stored for key, or (size_t)-1. */
size_t strindex_get(const struct strindex *x, const char *key)
{
	bool found;
	size_t *v;

	if (!x->cap)
		return (size_t)-1;
	v = strindex_slot(x, key, &found);
	return found ? *v : (size_t)-1;
}

/* Set key (borrowed, must outlive the map or be replaced) to val. */
void strindex_put(struct strindex *x, const char *key, size_t val)
{
	bool found;
	size_t *v;

	if ((x->n + 1) * 2 > x->cap) {
		struct strindex bigger = { .cap = x->cap ? x->cap * 2 : 64 };

		bigger.keys = xcalloc(bigger.cap, sizeof(*bigger.keys));
		bigger.vals = xcalloc(bigger.cap, sizeof(*bigger.vals));
		for (size_t i = 0; i < x->cap; i++)
			if (x->keys[i])
				strindex_put(&bigger, x->keys[i], x->vals[i]);
		free(x->keys);
		free(x->vals);
		*x = bigger;
	}
	v = strindex_slot(x, key, &found);
	if (!found) {
		x->keys[v - x->vals] = key;
		x->n++;
	}
	x->keys[v - x->vals] = key;
	*v = val;
}

void strindex_free(struct strindex *x)
{
	free(x->keys);
	free(x->vals);
	memset(x, 0, sizeof(*x));
}
