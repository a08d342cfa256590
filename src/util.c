/* SPDX-License-Identifier: ISC */
/* util.c: allocation, message lists, number parsing, reading a file, "did you mean". */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
/*
 * libconfig 1.5's parser leaks a string token's buffer on some syntax
 * errors (bison without %destructor): a bad profile must still exit 2
 * under --enable-sanitizers, not with LeakSanitizer's status. Every
 * program links util.o, so LeakSanitizer asks here.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}
#endif

static void *oom(void)
{
	fputs("tcptune: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	return p ? p : oom();
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	return p ? p : oom();
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	return p ? p : oom();
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return oom();
	return xrealloc(p, n * size);
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	return p ? p : oom();
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	return p ? p : oom();
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = oom();
	va_end(ap);
	return s;
}

void strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

char **strv_dup(char *const *v, size_t n)
{
	char **d = xcalloc(n + 1, sizeof(*d));

	for (size_t i = 0; i < n; i++)
		d[i] = xstrdup(v[i]);
	return d;
}

void msgs_addv(struct msgs *m, const char *fmt, va_list ap)
{
	char *s;

	if (!m)
		return;
	if (vasprintf(&s, fmt, ap) < 0)
		s = oom();
	m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
	m->v[m->n++] = s;
}

void msgs_add(struct msgs *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msgs_addv(m, fmt, ap);
	va_end(ap);
}

void msgs_free(struct msgs *m)
{
	strv_free(m->v, m->n);
	m->v = NULL;
	m->n = 0;
}

const char *msgs_last(const struct msgs *m)
{
	return m->n ? m->v[m->n - 1] : "";
}

bool str_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int parse_ll(const char *s, long long *ret)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	*ret = v;
	return 0;
}

bool errno_is_io(int r)
{
	return r == -EIO || r == -ESTALE || r == -EREMOTEIO || r == -ETIMEDOUT || r == -EBADMSG ||
	       r == -EUCLEAN || r == -ENOLINK || r == -ENOMEM;
}

size_t edit_distance_max(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b), small[64], *row, d;

	/* each extra character costs one edit: no table needed */
	if ((la > lb ? la - lb : lb - la) > max)
		return max + 1;
	row = lb < sizeof(small) / sizeof(small[0]) ? small : xcalloc(lb + 1, sizeof(*row));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0], low;

		row[0] = low = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
			if (best < low)
				low = best;
		}
		/* a row never gets cheaper further down: past max, it stays past */
		if (low > max) {
			row[lb] = max + 1;
			break;
		}
	}
	d = row[lb] > max ? max + 1 : row[lb];
	if (row != small)
		free(row);
	return d;
}

size_t edit_distance(const char *a, const char *b)
{
	return edit_distance_max(a, b, (size_t)-2);
}

size_t edit_near(const char *word, const char *cand)
{
	size_t len = strlen(word), max, d;

	/* edit_close(): at most 3 edits and well under half the word */
	if (len == 0)
		return (size_t)-1;
	max = (len - 1) / 2 < 3 ? (len - 1) / 2 : 3;
	d = edit_distance_max(word, cand, max);
	return d <= max ? d : (size_t)-1;
}

int read_all(int fd, size_t max, char **ret_buf, size_t *ret_len)
{
	size_t len = 0, cap = max < 4096 ? max + 1 : 4096;
	char *buf = xmalloc(cap + 1);

	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap > max) {
				free(buf);
				return -EFBIG;
			}
			cap = cap > max / 2 ? max + 1 : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;
			free(buf);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

bool edit_close(size_t d, size_t len)
{
	return d <= 3 && d * 2 < len;
}

const char *suggest_word(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	char *lw = xstrdup(word);

	for (char *q = lw; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	for (size_t i = 0; i < n; i++) {
		char *lc = xstrdup(cands[i]);
		size_t d;

		for (char *q = lc; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		d = edit_near(lw, lc);
		free(lc);
		if (d < best_d) {
			best = cands[i];
			best_d = d;
		}
	}
	free(lw);
	return best;
}
