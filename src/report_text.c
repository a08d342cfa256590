/* report_text.c: the writer's text view: word wrap, units, paths cut in the middle, tables fitted to a terminal. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report-internal.h"
#include "util.h"

static const char *sgr_on(const struct report *r, enum style st)
{
	return output_style_on(st, r->cfg.color && st != STYLE_PLAIN);
}

static const char *sgr_off(const struct report *r, enum style st)
{
	return output_style_off(r->cfg.color && st != STYLE_PLAIN);
}


/*
 * Where a line may break: at a space, or after a dot that a letter follows
 * ("net.ipv4.tcp_rmem"), never inside a number ("10240..65535", "0.5").
 */
static bool breaks_after(const char *p)
{
	return p[0] == '.' && ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z'));
}

/* Greedy word wrap of escaped text to width columns; a word longer than that is cut. */
static char **wrap(const char *s, size_t width, size_t *ret_n)
{
	char **v = NULL;
	size_t n = 0;

	if (width < 1)
		width = 1;
	do {
		const char *p = s, *end = NULL, *next = NULL;
		size_t w = 0;

		while (*p && w < width) {
			if (*p == ' ' && p > s)
				end = next = p;
			else if (breaks_after(p))
				end = next = p + 1;
			p++;
			while (((unsigned char)*p & 0xc0) == 0x80)
				p++;
			w++;
		}
		if (!*p || *p == ' ' || breaks_after(p - 1) || !end)
			end = next = p;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = xstrndup(s, (size_t)(end - s));
		s = next;
		while (*s == ' ')
			s++;
	} while (*s);
	*ret_n = n;
	return v;
}

/* The widest piece wrap() cannot break: a column that wraps is never narrower. */
static size_t longest_word(const char *s)
{
	size_t best = 0, w = 0;

	for (; *s; s++) {
		if (((unsigned char)*s & 0xc0) == 0x80)
			continue;
		if (*s == ' ') {
			w = 0;
			continue;
		}
		w++;
		if (w > best)
			best = w;
		if (breaks_after(s))
			w = 0;
	}
	return best;
}

/* A path cut in the middle to width columns: "/etc/sysc…/90-tcptune.conf". */
static char *abbreviate(const char *s, size_t width)
{
	size_t w = report_width(s), head, skip;
	const char *p = s, *q;
	char *out;

	if (w <= width || width < 3)
		return xstrdup(s);
	head = (width - 1) / 2;
	skip = w - (width - 1);
	for (size_t i = 0; i < head; i++)
		for (p++; ((unsigned char)*p & 0xc0) == 0x80; p++)
			;
	q = p;
	for (size_t i = 0; i < skip; i++)
		for (q++; ((unsigned char)*q & 0xc0) == 0x80; q++)
			;
	out = xasprintf("%.*s\xe2\x80\xa6%s", (int)(p - s), s, q);
	return out;
}

/* One line of text: wrapped to the terminal, continuation lines indented by indent. */
void report_text_put(struct report *r, enum style st, const char *lead, size_t indent,
			const char *text)
{
	size_t n, lw = report_width(lead);
	char **lines;
	size_t width = r->cfg.width > lw + 10 ? r->cfg.width - (indent > lw ? indent : lw) : 0;

	if (!r->cfg.width || !width) {
		fprintf(r->buf, "%s%s%s%s\n", lead, sgr_on(r, st), text, sgr_off(r, st));
		return;
	}
	lines = wrap(text, width, &n);
	for (size_t i = 0; i < n; i++)
		fprintf(r->buf, "%s%*s%s%s%s\n", i ? "" : lead, i ? (int)indent : 0, "", sgr_on(r, st),
			lines[i], sgr_off(r, st));
	strv_free(lines, n);
}

void report_text(struct report *r, enum style st, const char *fmt, ...)
{
	va_list ap;
	char *s, *line;

	if (r->cfg.format != FMT_TABLE)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	r->used = true;
	/* "\n" in fmt separates lines; an empty line stays */
	line = s;
	for (;;) {
		char *nl = strchr(line, '\n'), *e;

		if (nl)
			*nl = '\0';
		e = report_escape_text(line);
		report_text_put(r, *e ? st : STYLE_PLAIN, "", 0, e);
		free(e);
		if (!nl)
			break;
		line = nl + 1;
	}
	free(s);
}

/* Bytes and seconds for a person: exact below one unit, else to one decimal. */
static char *human(enum report_type t, unsigned long long v)
{
	static const char *const bu[] = { "KiB", "MiB", "GiB", "TiB" };
	unsigned long long d = v;
	int i = -1;

	/* exact multiples only: a unit never hides a digit */
	if (t == REPORT_BYTES) {
		while (d >= 1024 && i < 3 && d % 1024 == 0)
			d /= 1024, i++;
		return i < 0 ? xasprintf("%llu B", v) : xasprintf("%llu %s", d, bu[i]);
	}
	if (v >= 3600 && v % 3600 == 0)
		return xasprintf("%llu h", v / 3600);
	if (v >= 60 && v % 60 == 0)
		return xasprintf("%llu min", v / 60);
	return xasprintf("%llu s", v);
}

/* Each number of a value ("4096 131072 33554432") in units, on a terminal unless raw. */
char *report_text_units(const struct report *r, enum report_type t, const char *s)
{
	char *out, *copy, *tok, *save = NULL;

	if (!s || !r->cfg.width || r->cfg.raw || (t != REPORT_BYTES && t != REPORT_SECONDS))
		return report_escape_text(s ? s : "-");
	out = xstrdup("");
	copy = xstrdup(s);
	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		char *end, *h, *e;
		unsigned long long v;

		errno = 0;
		v = strtoull(tok, &end, 10);
		h = tok[0] >= '0' && tok[0] <= '9' && !*end && !errno ? human(t, v) : report_escape_text(tok);
		e = xasprintf("%s%s%s", out, *out ? " " : "", h);
		free(out);
		free(h);
		out = e;
	}
	free(copy);
	return out;
}

/* The text of a typed value as a person reads it. */
char *report_text_shown(const struct report *r, enum report_type t, const char *s, long long i,
		   unsigned long long u, double d)
{
	switch (t) {
	case REPORT_STRING:
	case REPORT_PATH:
		return report_escape_text(s ? s : "-");
	case REPORT_INT:
		return xasprintf("%lld", i);
	case REPORT_UINT:
		return xasprintf("%llu", u);
	case REPORT_BOOL:
		return xstrdup(u ? "yes" : "no");
	case REPORT_BYTES:
	case REPORT_SECONDS:
		return r->cfg.width && !r->cfg.raw ? human(t, u) : xasprintf("%llu", u);
	case REPORT_REAL:
		return xasprintf("%.1f", d);
	}
	return xstrdup("");
}


void report_verbatim(struct report *r, const char *key, const char *text)
{
	report_json_add(r, key, r->cfg.format == FMT_JSON ? report_json_text(text) : NULL);
	if (r->cfg.format != FMT_TABLE)
		return;
	r->used = true;
	if (!r->cfg.width || r->cfg.width < 20) {
		fputs(text, r->buf);
		return;
	}
	/* on a terminal a long comment wraps into more comment lines: still a valid file */
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n"), n;
		char *line = xstrndup(p, len), **v;

		if (line[0] == '#' && report_width(line) > r->cfg.width) {
			v = wrap(line + 1 + (line[1] == ' '), r->cfg.width - 2, &n);
			for (size_t i = 0; i < n; i++)
				fprintf(r->buf, "# %s\n", v[i]);
			strv_free(v, n);
		} else {
			fprintf(r->buf, "%s%s", line, p[len] ? "\n" : "");
		}
		free(line);
		p += len + (p[len] == '\n');
	}
}

static int rank_cmp(const void *a, const void *b, void *arg)
{
	const int *rank = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	if (rank[x] != rank[y])
		return rank[x] < rank[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Rows too wide for the terminal even when shrunk: one block per row, "HEADER  value" lines. */
static void table_vertical(struct report *r, const struct rtable *t, const size_t *order, size_t n)
{
	size_t pad = 0;

	for (size_t c = 0; c < t->ncols; c++)
		if (t->cols[c].header && report_width(t->cols[c].header) > pad)
			pad = report_width(t->cols[c].header);
	for (size_t k = 0; k < n; k++) {
		size_t row = order[k];

		if (k)
			fputc('\n', r->buf);
		for (size_t c = 0; c < t->ncols; c++) {
			size_t i = row * t->ncols + c;
			char *lead;

			if (!t->cols[c].header)
				continue;
			lead = xasprintf("%-*s  ", (int)pad, t->cols[c].header);
			report_text_put(r, t->st[i], lead, pad + 2, t->text[i]);
			free(lead);
		}
	}
}

/* Shrink wrapping and path columns, widest first, until the table fits; false when it cannot. */
static bool fit(const struct rtable *t, const size_t *order, size_t nrows, size_t *w, size_t width)
{
	size_t total = 0, vis = 0, *floor = xcalloc(t->ncols, sizeof(*floor));
	bool ok = true;

	for (size_t c = 0; c < t->ncols; c++) {
		if (!t->cols[c].header)
			continue;
		floor[c] = report_width(t->cols[c].header);
		if (t->cols[c].type == REPORT_PATH && floor[c] < 12)
			floor[c] = 12;
		for (size_t k = 0; (t->cols[c].flags & REPORT_WRAP) && k < nrows; k++) {
			size_t lw = longest_word(t->text[order[k] * t->ncols + c]);
			if (lw > floor[c])
				floor[c] = lw;
		}
	}

	for (size_t c = 0; c < t->ncols; c++)
		if (t->cols[c].header) {
			total += w[c];
			vis++;
		}
	total += vis ? 2 * (vis - 1) : 0;
	while (total > width) {
		size_t best = t->ncols;

		for (size_t c = 0; c < t->ncols; c++) {
			bool can = t->cols[c].header &&
				   ((t->cols[c].flags & REPORT_WRAP) || t->cols[c].type == REPORT_PATH);

			if (can && w[c] > floor[c] && (best == t->ncols || w[c] > w[best]))
				best = c;
		}
		if (best == t->ncols) {
			ok = false;
			break;
		}
		w[best]--;
		total--;
	}
	free(floor);
	return ok;
}

void report_text_table(struct report *r, const struct rtable *t)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w)), *order = xcalloc(t->nrows + 1, sizeof(*order));
	size_t n = 0, last = 0;

	for (size_t row = 0; row < t->nrows; row++)
		if (!t->hidden[row])
			order[n++] = row;
	if (r->cfg.width)
		qsort_r(order, n, sizeof(*order), rank_cmp, t->rank);
	for (size_t c = 0; c < t->ncols; c++) {
		if (!t->cols[c].header)
			continue;
		last = c;
		w[c] = report_width(t->cols[c].header);
		for (size_t k = 0; k < n; k++) {
			size_t cw = report_width(t->text[order[k] * t->ncols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
	}
	if (r->cfg.width && !fit(t, order, n, w, r->cfg.width)) {
		table_vertical(r, t, order, n);
		goto out;
	}
	for (size_t c = 0; c < t->ncols; c++)
		if (t->cols[c].header)
			fprintf(r->buf, "%s%s%s%*s", sgr_on(r, STYLE_BOLD), t->cols[c].header,
				sgr_off(r, STYLE_BOLD),
				c == last ? 0 : (int)(w[c] - report_width(t->cols[c].header) + 2), "");
	fputc('\n', r->buf);
	for (size_t k = 0; k < n; k++) {
		char **lines[64] = { 0 };
		size_t nl[64] = { 0 }, height = 1;

		for (size_t c = 0; c < t->ncols && c < 64; c++) {
			const char *s = t->text[order[k] * t->ncols + c];

			if (!t->cols[c].header)
				continue;
			if (report_width(s) <= w[c]) {
				lines[c] = xcalloc(1, sizeof(char *));
				lines[c][0] = xstrdup(s);
				nl[c] = 1;
			} else if ((t->cols[c].flags & REPORT_WRAP) || strchr(s, ' ')) {
				/* words wrap; a path (no space) is cut in the middle */
				lines[c] = wrap(s, w[c], &nl[c]);
			} else {
				lines[c] = xcalloc(1, sizeof(char *));
				lines[c][0] = abbreviate(s, w[c]);
				nl[c] = 1;
			}
			if (nl[c] > height)
				height = nl[c];
		}
		for (size_t h = 0; h < height; h++) {
			size_t pend = 0;

			for (size_t c = 0; c < t->ncols && c < 64; c++) {
				const char *s = h < nl[c] ? lines[c][h] : "";
				enum style st = t->st[order[k] * t->ncols + c];

				if (!t->cols[c].header)
					continue;
				if (*s) {
					fprintf(r->buf, "%*s%s%s%s", (int)pend, "", sgr_on(r, st), s, sgr_off(r, st));
					pend = 0;
				}
				pend += w[c] - report_width(s) + 2;
			}
			fputc('\n', r->buf);
		}
		for (size_t c = 0; c < t->ncols && c < 64; c++)
			strv_free(lines[c], nl[c]);
	}
out:
	free(order);
	free(w);
}
