/* report_table.c: the writer's tables: columns, rows and typed cells, fed to every format. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "report-internal.h"
#include "util.h"

void report_table_begin(struct report *r, const char *key, const struct report_col *cols,
			size_t ncols)
{
	struct rtable *t = xcalloc(1, sizeof(*t));

	t->cols = xcalloc(ncols, sizeof(*cols));
	memcpy(t->cols, cols, ncols * sizeof(*cols));
	t->ncols = ncols;
	r->t = t;
	r->used = true;
	if (key)
		report_array_begin(r, key);
	else
		report_json_push(r, NULL, r->cfg.format == FMT_JSON ? json_array() : NULL, true);
}

void report_table_text(struct report *r, bool shown)
{
	r->t->text_off = !shown;
}

void report_table_metric(struct report *r, const char *metric, const char *help)
{
	r->t->metric = xstrdup(metric);
	report_metric(r, metric, "gauge", help);
}

void report_table_label(struct report *r, size_t at, const char *name, const char *value)
{
	struct rtable *t = r->t;

	t->fixed = xreallocarray(t->fixed, t->nfixed + 3, sizeof(char *));
	t->fixed[t->nfixed++] = xstrdup(name);
	t->fixed[t->nfixed++] = xstrdup(value);
	t->fixed[t->nfixed++] = xasprintf("%zu", at);
}

static void row_end(struct report *r)
{
	struct rtable *t = r->t;

	if (!t->row_open)
		return;
	while (t->col < t->ncols)
		report_cell_str(r, STYLE_PLAIN, NULL);
	t->row_open = false;
	report_json_pop(r);
	if (r->cfg.format == FMT_PROMETHEUS && t->metric) {
		char **l = xcalloc(t->nlabels + t->nfixed, sizeof(char *));
		size_t n = 0, row = 0;

		for (size_t i = 0; i <= t->nlabels / 2; i++) {
			for (size_t j = 0; j < t->nfixed; j += 3)
				if ((size_t)atoi(t->fixed[j + 2]) == i) {
					l[n++] = t->fixed[j];
					l[n++] = t->fixed[j + 1];
				}
			if (row < t->nlabels) {
				l[n++] = t->labels[row++];
				l[n++] = t->labels[row++];
			}
		}
		report_prom_line(r, t->metric, l, n, t->value);
		free(l);
	}
	strv_free(t->labels, t->nlabels);
	t->labels = NULL;
	t->nlabels = 0;
}

void report_row(struct report *r, int rank, bool text_hidden)
{
	struct rtable *t = r->t;
	size_t n;

	row_end(r);
	n = ++t->nrows;
	t->text = xreallocarray(t->text, n * t->ncols, sizeof(char *));
	t->st = xreallocarray(t->st, n * t->ncols, sizeof(*t->st));
	t->rank = xreallocarray(t->rank, n, sizeof(int));
	t->hidden = xreallocarray(t->hidden, n, sizeof(bool));
	t->rank[n - 1] = rank;
	t->hidden[n - 1] = text_hidden;
	t->col = 0;
	t->row_open = true;
	t->value = 0;
	report_object_begin(r, NULL);
}

/* One cell: j for JSON (stolen), text for the table (taken), lv the label's raw value. */
static void cell(struct report *r, enum style st, json_t *j, char *text, const char *lv, double v)
{
	struct rtable *t = r->t;
	const struct report_col *c;
	size_t i;

	if (!t->row_open)
		report_row(r, 0, false);
	if (t->col >= t->ncols)
		abort();
	c = &t->cols[t->col];
	i = (t->nrows - 1) * t->ncols + t->col++;
	if (c->json && !(json_is_null(j) && (c->flags & REPORT_OMIT_NULL)))
		report_json_add(r, c->json, j);
	else
		json_decref(j);
	t->text[i] = text;
	t->st[i] = st;
	if (c->prom && r->cfg.format == FMT_PROMETHEUS) {
		t->labels = xreallocarray(t->labels, t->nlabels + 2, sizeof(char *));
		t->labels[t->nlabels++] = xstrdup(c->prom);
		t->labels[t->nlabels++] = c->flags & REPORT_PROM_TEXT ? report_escape_text(lv) : xstrdup(lv ? lv : "");
	}
	if (c->flags & REPORT_PROM_VALUE)
		t->value = v;
}

static const struct report_col *cur(struct report *r)
{
	if (!r->t->row_open)
		report_row(r, 0, false);
	return &r->t->cols[r->t->col];
}

void report_cell_alt(struct report *r, enum style st, const char *v, const char *alt)
{
	enum report_type ty = cur(r)->type;

	cell(r, st, r->cfg.format == FMT_JSON ? report_json_text(v) : NULL, report_text_shown(r, ty, alt, 0, 0, 0), v, 0);
}

void report_cell_units(struct report *r, enum style st, enum report_type unit, const char *v,
		       const char *alt)
{
	(void)cur(r);
	cell(r, st, r->cfg.format == FMT_JSON ? report_json_text(v) : NULL, report_text_units(r, unit, alt), v, 0);
}

void report_cell_str(struct report *r, enum style st, const char *v)
{
	report_cell_alt(r, st, v, v);
}

void report_cell_strv(struct report *r, enum style st, char *const *v, size_t n)
{
	json_t *j = NULL;
	char *text = xstrdup("");

	if (r->cfg.format == FMT_JSON && n) {
		j = json_array();
		for (size_t i = 0; j && i < n; i++)
			if (json_array_append_new(j, report_json_text(v[i])) < 0)
				r->oom = true;
	} else if (r->cfg.format == FMT_JSON) {
		j = json_null();
	}
	for (size_t i = 0; i < n; i++) {
		char *e = report_escape_text(v[i]), *t = xasprintf("%s%s%s", text, i ? ", " : "", e);

		free(e);
		free(text);
		text = t;
	}
	(void)cur(r);
	cell(r, st, j, text, NULL, 0);
}

void report_cell_int(struct report *r, enum style st, long long v)
{
	char *lv = xasprintf("%lld", v);

	cell(r, st, r->cfg.format == FMT_JSON ? json_integer(v) : NULL,
	     report_text_shown(r, cur(r)->type, NULL, v, (unsigned long long)v, (double)v), lv, (double)v);
	free(lv);
}

void report_cell_uint(struct report *r, enum style st, unsigned long long v)
{
	char *lv = xasprintf("%llu", v);
	json_t *j = NULL;

	if (r->cfg.format == FMT_JSON)
		j = v > INT64_MAX ? json_sprintf("%llu", v) : json_integer((json_int_t)v);
	cell(r, st, j, report_text_shown(r, cur(r)->type, NULL, (long long)v, v, (double)v), lv, (double)v);
	free(lv);
}

void report_cell_bool(struct report *r, enum style st, bool v)
{
	cell(r, st, r->cfg.format == FMT_JSON ? json_boolean(v) : NULL, xstrdup(v ? "yes" : "no"),
	     v ? "true" : "false", v);
}

void report_table_end(struct report *r)
{
	struct rtable *t = r->t;

	row_end(r);
	report_json_pop(r);
	if (r->cfg.format == FMT_TABLE && !t->text_off)
		report_text_table(r, t);
	strv_free(t->text, t->nrows * t->ncols);
	strv_free(t->fixed, t->nfixed);
	free(t->st);
	free(t->rank);
	free(t->hidden);
	free(t->metric);
	free(t->cols);
	free(t);
	r->t = NULL;
}
