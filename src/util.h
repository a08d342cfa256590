/* SPDX-License-Identifier: ISC */
/* util.h: allocation, message lists, number parsing, reading a file, "did you mean". */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
/* sysctl key names and value token lists, once declared here */
#include "keyval.h"

#define TT_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Allocation that cannot fail: tcptune has nothing sensible to do on OOM. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) TT_PRINTF(1, 2);
void strv_free(char **v, size_t n);
char **strv_dup(char *const *v, size_t n);

/*
 * A list of messages for the caller to print. Library code never prints;
 * it adds "file:line: key: text" here (every error, not only the first).
 */
struct msgs {
	char **v;
	size_t n;
};
/* m may be NULL: a caller that wants only the -errno. */
void msgs_add(struct msgs *m, const char *fmt, ...) TT_PRINTF(2, 3);
void msgs_addv(struct msgs *m, const char *fmt, va_list ap) TT_PRINTF(2, 0);
void msgs_free(struct msgs *m);
/* The last message added, or "" when there is none: for a caller that shows one line. */
const char *msgs_last(const struct msgs *m);

/* A non-empty string of decimal digits (a PID in /proc, say). */
bool str_digits(const char *s);
/* Strict integer parse of a whole string: 0 or -EINVAL / -ERANGE. */
int parse_ll(const char *s, long long *ret);

/*
 * Read fd to its end into a NUL-terminated buffer (the NUL is not counted
 * in *ret_len; the data may hold NULs). 0, -EFBIG past max bytes, or the
 * read's -errno; on error nothing is returned. The caller closes fd.
 */
int read_all(int fd, size_t max, char **ret_buf, size_t *ret_len);

/*
 * A read that failed because of the storage (-EIO and kin), not because of
 * what the file says: exit 3, not 2 ("bad input").
 */
bool errno_is_io(int r);

/* Damerau-less Levenshtein distance, for "did you mean". */
size_t edit_distance(const char *a, const char *b);
/* The same when it is at most max, else max + 1: far cheaper on far words. */
size_t edit_distance_max(const char *a, const char *b, size_t max);
/*
 * edit_distance(word, cand) when edit_close() to word's length, else
 * (size_t)-1: the one test every "did you mean" makes, bounded.
 */
size_t edit_near(const char *word, const char *cand);
/* Close means a few edits, and well under half the word: "foo" is not "ecn". */
bool edit_close(size_t d, size_t len);
/*
 * The candidate nearest to word by edit_distance (ignoring case), when it
 * is edit_close; NULL otherwise. The one "did you mean" rule for commands,
 * profile names, state names and option values, as for sysctl keys.
 */
const char *suggest_word(const char *word, const char *const *cands, size_t n);
