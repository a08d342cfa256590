/* SPDX-License-Identifier: ISC */
/* output.c: tables, JSON and Prometheus text from the same data; escaping. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"
#include "util.h"

/* Length of the valid UTF-8 sequence at s, or 0; C1 controls count as invalid unless c1_ok. */
static size_t utf8_len_c1(const unsigned char *s, bool c1_ok)
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

static size_t utf8_len(const unsigned char *s)
{
	return utf8_len_c1(s, false);
}

char *output_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char *out = xmalloc(strlen((const char *)p) * 4 + 1), *q = out;

	while (*p) {
		size_t n = utf8_len(p);
		if (*p == '\\') {
			q = stpcpy(q, "\\\\");
			p++;
		} else if (n == 1 && *p >= 0x20 && *p != 0x7f) {
			*q++ = (char)*p++;
		} else if (n > 1) {
			memcpy(q, p, n);
			q += n;
			p += n;
		} else {
			q += sprintf(q, "\\x%02x", *p++);
		}
	}
	*q = '\0';
	return out;
}

/* Display width: one column per code point (no wide characters in our tables). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

struct cell {
	char *text;
	enum style st;
};

struct table {
	size_t ncols;
	char **headers;
	struct cell *cells;
	size_t ncells;
};

struct table *table_new(size_t ncols, const char *const *headers)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	t->headers = xcalloc(ncols, sizeof(char *));
	for (size_t i = 0; i < ncols; i++)
		t->headers[i] = xstrdup(headers[i]);
	return t;
}

void table_row(struct table *t)
{
	/* Rows are implicit: every ncols cells form one. Pad a short row. */
	while (t->ncells % t->ncols)
		table_cell(t, STYLE_PLAIN, "");
}

void table_cell(struct table *t, enum style st, const char *text)
{
	t->cells = xreallocarray(t->cells, t->ncells + 1, sizeof(*t->cells));
	t->cells[t->ncells++] = (struct cell){ output_escape(text ? text : "-"), st };
}

void table_cellf(struct table *t, enum style st, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	table_cell(t, st, s ? s : "");
	free(s);
}

void table_print(const struct table *t, FILE *f, bool color)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w));

	for (size_t i = 0; i < t->ncols; i++)
		w[i] = width(t->headers[i]);
	for (size_t i = 0; i < t->ncells; i++)
		if (width(t->cells[i].text) > w[i % t->ncols])
			w[i % t->ncols] = width(t->cells[i].text);
	for (size_t i = 0; i < t->ncols; i++)
		fprintf(f, "%s%s%s%*s", output_style_on(STYLE_BOLD, color), t->headers[i],
			output_style_off(color),
			i + 1 < t->ncols ? (int)(w[i] - width(t->headers[i]) + 2) : 0, "");
	fputc('\n', f);
	for (size_t i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];
		size_t col = i % t->ncols;
		bool last = col + 1 == t->ncols;

		bool styled = color && c->st != STYLE_PLAIN;

		fprintf(f, "%s%s%s", output_style_on(c->st, styled), c->text, output_style_off(styled));
		if (last)
			fputc('\n', f);
		else
			fprintf(f, "%*s", (int)(w[col] - width(c->text) + 2), "");
	}
	free(w);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	strv_free(t->headers, t->ncols);
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i].text);
	free(t->cells);
	free(t);
}

json_t *output_json_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out, *q;
	json_t *j;

	if (!s)
		return json_null();
	out = q = xmalloc(strlen(s) * 4 + 1);
	while (*p) {
		size_t n = utf8_len_c1(p, true);

		if (n) {
			memcpy(q, p, n);
			q += n;
			p += n;
		} else {
			q += sprintf(q, "\\x%02x", *p++);
		}
	}
	*q = '\0';
	j = json_string(out);
	free(out);
	return j;
}

static size_t json_docs;

size_t output_json_count(void)
{
	return json_docs;
}

/*
 * "file:line: key: text", "file:line: text", "key: text" or "text": the
 * shape of tcptune's error messages, taken apart for the JSON error object.
 */
static json_t *error_object(const char *msg)
{
	json_t *e = json_object();
	const char *p = msg, *colon;
	char *file = NULL, *key = NULL;
	long line = 0;

	colon = strstr(p, ": ");
	if (colon && colon > p) {
		const char *c2 = colon;
		while (c2 > p && c2[-1] >= '0' && c2[-1] <= '9')
			c2--;
		if (c2 < colon && c2 > p && c2[-1] == ':' && (p[0] == '/' || p[0] == '.')) {
			file = strndup(p, (size_t)(c2 - 1 - p));
			line = strtol(c2, NULL, 10);
			p = colon + 2;
			colon = strstr(p, ": ");
		}
	}
	if (colon && colon > p && strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == (size_t)(colon - p) &&
	    memchr(p, '.', (size_t)(colon - p)))
		key = strndup(p, (size_t)(colon - p));
	json_object_set_new(e, "message", output_json_text(msg));
	json_object_set_new(e, "file", file ? output_json_text(file) : json_null());
	json_object_set_new(e, "line", line ? json_integer(line) : json_null());
	json_object_set_new(e, "key", key ? json_string(key) : json_null());
	free(file);
	free(key);
	return e;
}

int output_json_error(FILE *f, const char *message, int exit_code)
{
	json_t *doc = json_object();

	json_object_set_new(doc, "error", error_object(message ? message : "failed"));
	json_object_set_new(doc, "exit", json_integer(exit_code));
	return output_json(f, doc);
}

void output_json_add_error(json_t *doc, const char *message, int exit_code)
{
	if (message)
		json_object_set_new(doc, "error", error_object(message));
	json_object_set_new(doc, "exit", json_integer(exit_code));
}

int output_json(FILE *f, json_t *doc)
{
	json_t *out = json_object();
	int r;

	json_docs++;
	json_object_set_new(out, "tcptune", json_string(PACKAGE_VERSION));
	json_object_update(out, doc);
	json_decref(doc);
	r = json_dumpf(out, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(out);
	return r;
}

char *output_prom_label(const char *s)
{
	char *out = xmalloc(strlen(s) * 5 + 1), *q = out;

	while (*s) {
		size_t n = utf8_len_c1((const unsigned char *)s, true);

		if (*s == '\\' || *s == '"') {
			*q++ = '\\';
			*q++ = *s++;
		} else if (*s == '\n') {
			q = stpcpy(q, "\\n");
			s++;
		} else if (n == 0) {
			/* the format is UTF-8 only (a collector drops the file): an invalid byte
			 * becomes the text \xHH, its backslash escaped as the format wants */
			q += sprintf(q, "\\\\x%02x", (unsigned char)*s++);
		} else {
			memcpy(q, s, n);
			q += n;
			s += n;
		}
	}
	*q = '\0';
	return out;
}

void output_prom_header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

const char *output_style_on(enum style st, bool color)
{
	static const char *const sgr[] = {
		[STYLE_PLAIN] = "", [STYLE_GOOD] = "\033[32m", [STYLE_WARN] = "\033[33m",
		[STYLE_BAD] = "\033[1;31m", [STYLE_DIM] = "\033[2m", [STYLE_BOLD] = "\033[1m",
	};
	return color ? sgr[st] : "";
}

const char *output_style_off(bool color)
{
	return color ? "\033[0m" : "";
}
