/* SPDX-License-Identifier: ISC */
/* output.c: the older table and JSON helpers that `sockets` still uses (report.c is the writer). */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"
#include "report.h"
#include "util.h"

/* The writer's escaping (report.c): one implementation for every view. */
char *output_escape(const char *s)
{
	return report_escape_text(s);
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
		w[i] = report_width(t->headers[i]);
	for (size_t i = 0; i < t->ncells; i++)
		if (report_width(t->cells[i].text) > w[i % t->ncols])
			w[i % t->ncols] = report_width(t->cells[i].text);
	for (size_t i = 0; i < t->ncols; i++)
		fprintf(f, "%s%s%s%*s", output_style_on(STYLE_BOLD, color), t->headers[i],
			output_style_off(color),
			i + 1 < t->ncols ? (int)(w[i] - report_width(t->headers[i]) + 2) : 0, "");
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
			fprintf(f, "%*s", (int)(w[col] - report_width(c->text) + 2), "");
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

static size_t json_docs;
static bool json_lines;

void output_json_lines(bool on)
{
	json_lines = on;
}

bool output_json_lines_on(void)
{
	return json_lines;
}

size_t output_json_count(void)
{
	return json_docs;
}

int output_json(FILE *f, json_t *doc)
{
	json_t *out = json_object();
	int r;

	json_docs++;
	json_object_set_new(out, "tcptune", json_string(PACKAGE_VERSION));
	json_object_update(out, doc);
	json_decref(doc);
	r = json_dumpf(out, f, (json_lines ? JSON_COMPACT : JSON_INDENT(2)) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(out);
	/* a reader of the lines gets each one as it is written */
	if (json_lines && fflush(f) != 0)
		r = -1;
	return r;
}

char *output_prom_label(const char *s)
{
	return report_escape_prom(s);
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
