/* report_escape.c: the writer's escaping, one function per format, and the width of escaped text. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "report.h"
#include "util.h"

/* Length of the valid UTF-8 sequence at s, or 0; C1 controls count as invalid unless c1_ok. */
static size_t utf8_len(const unsigned char *s, bool c1_ok)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond Unicode, and C1 controls */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || (!c1_ok && cp >= 0x80 && cp < 0xa0))
		return 0;
	return n;
}

/*
 * The step every format shares: the n bytes of a valid sequence at *p as
 * they are, or (n == 0) the byte as \xHH (\\xHH when the backslash itself
 * must be escaped). Returns the end of what was written to q; *p moves
 * past what was read.
 */
static char *put_seq(char *q, const unsigned char **p, size_t n, bool double_backslash)
{
	if (n == 0)
		return q + sprintf(q, double_backslash ? "\\\\x%02x" : "\\x%02x", *(*p)++);
	memcpy(q, *p, n);
	*p += n;
	return q + n;
}

char *report_escape_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char *out = xmalloc(strlen((const char *)p) * 4 + 1), *q = out;

	while (*p) {
		size_t n = utf8_len(p, false);

		if (*p == '\\') {
			q = stpcpy(q, "\\\\");
			p++;
		} else {
			/* a control character (n == 1, below space or DEL) is escaped too */
			q = put_seq(q, &p, n == 1 && (*p < 0x20 || *p == 0x7f) ? 0 : n, false);
		}
	}
	*q = '\0';
	return out;
}

char *report_escape_json(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(strlen(s) * 4 + 1), *q = out;

	/* jansson refuses invalid UTF-8 (the field would vanish): each bad byte becomes \xHH */
	while (*p)
		q = put_seq(q, &p, utf8_len(p, true), false);
	*q = '\0';
	return out;
}

char *report_escape_prom(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(strlen(s) * 5 + 1), *q = out;

	while (*p) {
		if (*p == '\\' || *p == '"') {
			*q++ = '\\';
			*q++ = (char)*p++;
		} else if (*p == '\n') {
			q = stpcpy(q, "\\n");
			p++;
		} else {
			/* the format is UTF-8 only (a collector drops the file): a bad byte as \\xHH */
			q = put_seq(q, &p, utf8_len(p, true), true);
		}
	}
	*q = '\0';
	return out;
}

size_t report_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}
