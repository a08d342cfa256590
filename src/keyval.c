/* keyval.c: sysctl key names and value token lists. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "keyval.h"
#include "util.h"

static bool key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool key_valid(const char *key)
{
	bool start = true;

	if (!key || !*key)
		return false;
	for (const char *p = key; *p; p++) {
		if (*p == '.') {
			if (start)
				return false;	/* empty component: "..", leading '.' */
			start = true;
		} else if (key_char(*p)) {
			start = false;
		} else {
			return false;
		}
	}
	return !start;
}

int key_normalize(const char *in, char **ret_key)
{
	const char *sep = strpbrk(in, "./");
	char *k = xstrdup(in);

	/* sysctl.d(5): if the first separator is a slash, dots are literal. */
	if (sep && *sep == '/')
		for (char *p = k; *p; p++)
			*p = *p == '/' ? '.' : *p == '.' ? '/' : *p;
	if (!key_valid(k)) {
		free(k);
		return -EINVAL;
	}
	*ret_key = k;
	return 0;
}

size_t value_split(const char *text, char ***ret_tokens)
{
	char **v = NULL;
	size_t n = 0;
	const char *p = text;

	for (;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = xstrndup(s, (size_t)(p - s));
	}
	*ret_tokens = v;
	return n;
}

char *value_normalize(const char *text)
{
	char **tok;
	size_t n = value_split(text, &tok), len = 1;

	for (size_t i = 0; i < n; i++)
		len += strlen(tok[i]) + 1;
	char *out = xmalloc(len), *q = out;
	for (size_t i = 0; i < n; i++) {
		if (i)
			*q++ = ' ';
		q = stpcpy(q, tok[i]);
	}
	*q = '\0';
	strv_free(tok, n);
	return out;
}

bool value_equal(const char *a, const char *b)
{
	char *na = value_normalize(a), *nb = value_normalize(b);
	bool eq = strcmp(na, nb) == 0;

	free(na);
	free(nb);
	return eq;
}

