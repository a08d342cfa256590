/* report.c: one writer for the table, the JSON document and the Prometheus text of a result. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <jansson.h>
#include "report.h"
#include "util.h"

#define REPORT_DEPTH 16

struct rtable {
	struct report_col *cols;
	size_t ncols;
	char **text;              /* escaped display text, nrows * ncols */
	enum style *st;
	int *rank;
	bool *hidden;
	size_t nrows, col;
	bool row_open, text_off;
	char *metric;
	char **labels;            /* name, value pairs: this row's, then the table's */
	size_t nlabels;
	char **fixed;             /* the table's constant labels: name, value, position */
	size_t nfixed;
	double value;
};

struct report {
	FILE *f;
	struct report_cfg cfg;
	char *out_tmp;            /* --output: the temporary that becomes cfg.output */
	char *mem;                /* the text view or Prometheus text not yet written */
	size_t memlen;
	FILE *buf;
	json_t *doc;
	json_t *stack[REPORT_DEPTH];
	bool detached[REPORT_DEPTH];  /* a container outside the document (a table without a key) */
	int depth;
	bool used, oom;
	int err;                  /* the first failed write: report_finish() answers with it */
	int kv_pad;
	bool in_kv;
	struct rtable *t;
	size_t prom_seen_n;
	char **prom_seen;
};

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

char *report_escape_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char *out = xmalloc(strlen((const char *)p) * 4 + 1), *q = out;

	while (*p) {
		size_t n = utf8_len(p, false);

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

char *report_escape_json(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(strlen(s) * 4 + 1), *q = out;

	/* jansson refuses invalid UTF-8 (the field would vanish): each bad byte becomes \xHH */
	while (*p) {
		size_t n = utf8_len(p, true);

		if (n) {
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

char *report_escape_prom(const char *s)
{
	char *out = xmalloc(strlen(s) * 5 + 1), *q = out;

	while (*s) {
		size_t n = utf8_len((const unsigned char *)s, true);

		if (*s == '\\' || *s == '"') {
			*q++ = '\\';
			*q++ = *s++;
		} else if (*s == '\n') {
			q = stpcpy(q, "\\n");
			s++;
		} else if (n == 0) {
			/* the format is UTF-8 only (a collector drops the file) */
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

size_t report_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static const char *sgr_on(const struct report *r, enum style st)
{
	return output_style_on(st, r->cfg.color && st != STYLE_PLAIN);
}

static const char *sgr_off(const struct report *r, enum style st)
{
	return output_style_off(r->cfg.color && st != STYLE_PLAIN);
}

struct report *report_new(FILE *f, const struct report_cfg *cfg)
{
	struct report *r = xcalloc(1, sizeof(*r));

	r->f = f;
	r->cfg = *cfg;
	if (cfg->output) {
		int fd;

		r->out_tmp = xasprintf("%s.XXXXXX", cfg->output);
		fd = mkostemp(r->out_tmp, O_CLOEXEC);
		/* stdout itself goes to the temporary: whatever writes it lands there */
		if (fd < 0 || fchmod(fd, 0644) < 0 || fflush(f) != 0 || dup2(fd, fileno(f)) < 0) {
			int e = errno;

			if (fd >= 0) {
				close(fd);
				(void)unlink(r->out_tmp);
			}
			free(r->out_tmp);
			free(r);
			errno = e;
			return NULL;
		}
		close(fd);
	}
	r->buf = open_memstream(&r->mem, &r->memlen);
	if (!r->buf)
		abort();
	if (cfg->format == FMT_JSON) {
		r->doc = json_object();
		r->stack[0] = r->doc;
		r->oom = !r->doc;
	}
	return r;
}

enum format report_format(const struct report *r)
{
	return r->cfg.format;
}

void report_set_raw(struct report *r, bool raw)
{
	r->cfg.raw = raw;
}

bool report_on_tty(const struct report *r)
{
	return r->cfg.width > 0;
}

const char *report_where(const struct report *r)
{
	return r->cfg.output ? r->cfg.output : "stdout";
}

/* --- JSON ------------------------------------------------------------- */

static json_t *jtext(const char *s)
{
	char *e;
	json_t *j;

	if (!s)
		return json_null();
	e = report_escape_json(s);
	j = json_string(e);
	free(e);
	return j;
}

/* Put v into the open container; every jansson call is checked, a failure is kept for report_finish. */
static void jadd(struct report *r, const char *key, json_t *v)
{
	json_t *top;

	if (r->cfg.format != FMT_JSON) {
		json_decref(v);
		return;
	}
	top = r->stack[r->depth];
	if (r->detached[r->depth]) {
		json_decref(v);
		return;
	}
	r->used = true;
	if (!v || !top) {
		json_decref(v);
		r->oom = true;
		return;
	}
	if (json_is_array(top)) {
		if (json_array_append_new(top, v) < 0)
			r->oom = true;
	} else if (!key) {
		json_decref(v);	/* a field of the text view only */
	} else if (json_object_set_new(top, key, v) < 0) {
		r->oom = true;
	}
}

static void jpush(struct report *r, const char *key, json_t *c, bool detached)
{
	if (r->cfg.format != FMT_JSON) {
		json_decref(c);
		return;
	}
	if (r->depth + 1 >= REPORT_DEPTH)
		abort();
	detached |= r->detached[r->depth];
	if (!detached) {
		json_incref(c);
		jadd(r, key, c);
	}
	r->stack[++r->depth] = c;
	r->detached[r->depth] = detached;
	if (!detached)
		json_decref(c);
}

static void jpop(struct report *r)
{
	if (r->cfg.format != FMT_JSON || r->depth == 0)
		return;
	if (r->detached[r->depth])
		json_decref(r->stack[r->depth]);
	r->detached[r->depth--] = false;
}

void report_object_begin(struct report *r, const char *key)
{
	jpush(r, key, r->cfg.format == FMT_JSON ? json_object() : NULL, false);
}

void report_object_end(struct report *r)
{
	jpop(r);
}

void report_array_begin(struct report *r, const char *key)
{
	jpush(r, key, r->cfg.format == FMT_JSON ? json_array() : NULL, false);
}

void report_array_end(struct report *r)
{
	jpop(r);
}

/* --- text ------------------------------------------------------------- */

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
static void put_wrapped(struct report *r, enum style st, const char *lead, size_t indent,
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
		put_wrapped(r, *e ? st : STYLE_PLAIN, "", 0, e);
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
static char *units(const struct report *r, enum report_type t, const char *s)
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
static char *shown(const struct report *r, enum report_type t, const char *s, long long i,
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

static void field(struct report *r, const char *key, const char *label, json_t *j, char *text)
{
	jadd(r, key, j);
	if (r->cfg.format == FMT_TABLE && label && text) {
		char *lead = xasprintf("%s%-*s ", r->in_kv ? "  " : "", r->kv_pad, label);

		r->used = true;
		put_wrapped(r, STYLE_PLAIN, lead, report_width(lead), text);
		free(lead);
	}
	free(text);
}

void report_str(struct report *r, const char *key, const char *label, const char *v)
{
	field(r, key, label, r->cfg.format == FMT_JSON ? jtext(v) : NULL,
	      label && v ? report_escape_text(v) : NULL);
	/* a NULL string has no line in the text view */
}

void report_int(struct report *r, const char *key, const char *label, long long v)
{
	field(r, key, label, r->cfg.format == FMT_JSON ? json_integer(v) : NULL,
	      xasprintf("%lld", v));
}

void report_uint(struct report *r, const char *key, const char *label, unsigned long long v)
{
	/* JSON integers are signed 64-bit in jansson: larger values go as their decimal text */
	json_t *j = NULL;

	if (r->cfg.format == FMT_JSON)
		j = v > INT64_MAX ? json_sprintf("%llu", v) : json_integer((json_int_t)v);
	field(r, key, label, j, xasprintf("%llu", v));
}

void report_bool(struct report *r, const char *key, const char *label, bool v)
{
	field(r, key, label, r->cfg.format == FMT_JSON ? json_boolean(v) : NULL, xstrdup(v ? "yes" : "no"));
}

void report_real(struct report *r, const char *key, const char *label, double v)
{
	if (isnan(v))
		return;
	field(r, key, label, r->cfg.format == FMT_JSON ? json_real(v) : NULL, xasprintf("%.1f", v));
}

void report_null(struct report *r, const char *key, const char *label)
{
	(void)label;
	jadd(r, key, r->cfg.format == FMT_JSON ? json_null() : NULL);
}

void report_strv(struct report *r, const char *key, char *const *v, size_t n)
{
	report_array_begin(r, key);
	for (size_t i = 0; i < n; i++)
		report_str(r, NULL, NULL, v[i]);
	report_array_end(r);
}

void report_verbatim(struct report *r, const char *key, const char *text)
{
	jadd(r, key, r->cfg.format == FMT_JSON ? jtext(text) : NULL);
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

void report_kv_begin(struct report *r, const char *key, enum style st, const char *heading,
		     int pad)
{
	report_object_begin(r, key);
	r->in_kv = true;
	r->kv_pad = pad;
	if (r->cfg.format == FMT_TABLE && heading) {
		char *e = report_escape_text(heading);

		r->used = true;
		put_wrapped(r, st, "", 0, e);
		free(e);
	}
}

void report_kv_end(struct report *r)
{
	r->in_kv = false;
	r->kv_pad = 0;
	report_object_end(r);
}

/* --- tables ----------------------------------------------------------- */

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
		jpush(r, NULL, r->cfg.format == FMT_JSON ? json_array() : NULL, true);
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

static void prom_line(struct report *r, const char *name, char **labels, size_t n, double v)
{
	fputs(name, r->buf);
	for (size_t i = 0; i < n; i += 2) {
		char *e = report_escape_prom(labels[i + 1]);

		fprintf(r->buf, "%s%s=\"%s\"", i ? "," : "{", labels[i], e);
		free(e);
	}
	if (n)
		fputc('}', r->buf);
	if (v > -1e15 && v < 1e15 && v == (double)(long long)v)
		fprintf(r->buf, " %.0f\n", v);
	else
		fprintf(r->buf, " %g\n", v);
}

/* The row just finished, as a Prometheus sample: row labels and the table's, in their places. */
static void row_end(struct report *r)
{
	struct rtable *t = r->t;

	if (!t->row_open)
		return;
	while (t->col < t->ncols)
		report_cell_str(r, STYLE_PLAIN, NULL);
	t->row_open = false;
	jpop(r);
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
		prom_line(r, t->metric, l, n, t->value);
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
		jadd(r, c->json, j);
	else
		json_decref(j);
	t->text[i] = text;
	t->st[i] = st;
	if (c->prom && r->cfg.format == FMT_PROMETHEUS) {
		t->labels = xreallocarray(t->labels, t->nlabels + 2, sizeof(char *));
		t->labels[t->nlabels++] = xstrdup(c->prom);
		t->labels[t->nlabels++] = xstrdup(lv ? lv : "");
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

	cell(r, st, r->cfg.format == FMT_JSON ? jtext(v) : NULL, shown(r, ty, alt, 0, 0, 0), v, 0);
}

void report_cell_units(struct report *r, enum style st, enum report_type unit, const char *v,
		       const char *alt)
{
	(void)cur(r);
	cell(r, st, r->cfg.format == FMT_JSON ? jtext(v) : NULL, units(r, unit, alt), v, 0);
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
			if (json_array_append_new(j, jtext(v[i])) < 0)
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
	     shown(r, cur(r)->type, NULL, v, (unsigned long long)v, (double)v), lv, (double)v);
	free(lv);
}

void report_cell_uint(struct report *r, enum style st, unsigned long long v)
{
	char *lv = xasprintf("%llu", v);
	json_t *j = NULL;

	if (r->cfg.format == FMT_JSON)
		j = v > INT64_MAX ? json_sprintf("%llu", v) : json_integer((json_int_t)v);
	cell(r, st, j, shown(r, cur(r)->type, NULL, (long long)v, v, (double)v), lv, (double)v);
	free(lv);
}

void report_cell_bool(struct report *r, enum style st, bool v)
{
	cell(r, st, r->cfg.format == FMT_JSON ? json_boolean(v) : NULL, xstrdup(v ? "yes" : "no"),
	     v ? "true" : "false", v);
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
			put_wrapped(r, t->st[i], lead, pad + 2, t->text[i]);
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

static void rtable_print(struct report *r, const struct rtable *t)
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

void report_table_end(struct report *r)
{
	struct rtable *t = r->t;

	row_end(r);
	jpop(r);
	if (r->cfg.format == FMT_TABLE && !t->text_off)
		rtable_print(r, t);
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

/* --- Prometheus ------------------------------------------------------- */

void report_metric(struct report *r, const char *name, const char *type, const char *help)
{
	if (r->cfg.format != FMT_PROMETHEUS)
		return;
	r->used = true;
	fprintf(r->buf, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void report_sample(struct report *r, const char *name, double value, ...)
{
	char *l[32];
	size_t n = 0;
	va_list ap;

	if (r->cfg.format != FMT_PROMETHEUS)
		return;
	va_start(ap, value);
	for (const char *s; n < 32 && (s = va_arg(ap, const char *));)
		l[n++] = (char *)s;
	va_end(ap);
	prom_line(r, name, l, n & ~(size_t)1, value);
}

/* --- the end ---------------------------------------------------------- */

/*
 * "file:line: key: text", "file:line: text", "key: text" or "text": the
 * shape of tcptune's error messages, taken apart for the JSON error object.
 */
static void error_object(struct report *r, const char *msg)
{
	const char *p = msg, *colon;
	char *file = NULL, *key = NULL;
	long line = 0;

	colon = strstr(p, ": ");
	if (colon && colon > p) {
		const char *c2 = colon;
		while (c2 > p && c2[-1] >= '0' && c2[-1] <= '9')
			c2--;
		if (c2 < colon && c2 > p && c2[-1] == ':' && (p[0] == '/' || p[0] == '.')) {
			file = xstrndup(p, (size_t)(c2 - 1 - p));
			line = strtol(c2, NULL, 10);
			p = colon + 2;
			colon = strstr(p, ": ");
		}
	}
	if (colon && colon > p && strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == (size_t)(colon - p) &&
	    memchr(p, '.', (size_t)(colon - p)))
		key = xstrndup(p, (size_t)(colon - p));
	report_object_begin(r, "error");
	report_str(r, "message", NULL, msg);
	report_str(r, "file", NULL, file);
	if (line)
		report_int(r, "line", NULL, line);
	else
		report_null(r, "line", NULL);
	report_str(r, "key", NULL, key);
	report_object_end(r);
	free(file);
	free(key);
}

void report_exit(struct report *r, int code, const char *message)
{
	if (r->cfg.format != FMT_JSON)
		return;
	while (r->depth > 0)
		jpop(r);
	if (message)
		error_object(r, message);
	report_int(r, "exit", NULL, code);
}

bool report_used(const struct report *r)
{
	return r->used;
}

/* Write n bytes of s to the sink; a short write is an error too, and the first error sticks. */
static int sink(struct report *r, const char *s, size_t n)
{
	if (r->err)
		return r->err;
	errno = 0;
	if ((n && fwrite(s, 1, n, r->f) != n) || fflush(r->f) != 0 || ferror(r->f))
		r->err = -(errno ? errno : EIO);
	return r->err;
}

int report_flush(struct report *r)
{
	int ret;

	if (r->cfg.format == FMT_JSON)
		return 0;
	if (fflush(r->buf) != 0)
		return -ENOMEM;
	ret = sink(r, r->mem, r->memlen);
	rewind(r->buf);
	r->memlen = 0;
	return ret;
}

static int json_write(struct report *r)
{
	json_t *out;
	char *s;
	int ret;

	if (!r->used)
		return 0;
	if (r->oom)
		return -ENOMEM;
	out = json_pack("{s:s}", "tcptune", PACKAGE_VERSION);
	if (!out || json_object_update(out, r->doc) < 0) {
		json_decref(out);
		return -ENOMEM;
	}
	s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(out);
	if (!s)
		return -ENOMEM;
	ret = sink(r, s, strlen(s));
	if (ret == 0)
		ret = sink(r, "\n", 1);
	free(s);
	return ret;
}

int report_finish(struct report *r, bool commit)
{
	int ret;

	if (r->t)
		report_table_end(r);
	ret = r->cfg.format == FMT_JSON ? json_write(r) : report_flush(r);
	if (ret == 0)
		ret = sink(r, "", 0);
	if (r->out_tmp) {
		if (ret == 0 && fsync(fileno(r->f)) < 0)
			ret = -errno;
		if (ret == 0 && commit && rename(r->out_tmp, r->cfg.output) < 0)
			ret = -errno;
		if (ret < 0 || !commit)
			(void)unlink(r->out_tmp);
		free(r->out_tmp);
	}
	fclose(r->buf);
	free(r->mem);
	json_decref(r->doc);
	free(r);
	return ret;
}
