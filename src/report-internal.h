/* report-internal.h: the writer's state, shared by the report*.c files (report.h is the interface). */
#pragma once
#include <jansson.h>
#include "report.h"

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
	bool lines;               /* --watch: one compact document a line, written by report_next() */
	char *stream_key;         /* the top-level array written one element at a time, or NULL */
	json_t *stream;           /* that array (the document holds it, empty) while it is open */
	size_t stream_n;          /* its elements written so far */
};

/* report.c: write n bytes to the sink; the first error sticks */
int report_sink(struct report *r, const char *s, size_t n);
/* report.c: write what the buffer holds, in every format */
int report_drain(struct report *r);

/* report_json.c: the document and the containers open in it */
json_t *report_json_text(const char *s);
void report_json_add(struct report *r, const char *key, json_t *v);
void report_json_push(struct report *r, const char *key, json_t *c, bool detached);
void report_json_pop(struct report *r);
int report_json_write(struct report *r);
/* The document as it stands, "tcptune" first: indented, or one line with --watch; NULL on ENOMEM. */
char *report_json_dump(struct report *r);

/* report_stream.c: the streamed array (report_stream_begin) */
void report_stream_pop(struct report *r);
int report_stream_rest(struct report *r, const char *doc);

/* report_text.c: the text view (wrap, units, the table fitted to a terminal) */
void report_text_put(struct report *r, enum style st, const char *lead, size_t indent, const char *text);
char *report_text_units(const struct report *r, enum report_type t, const char *s);
char *report_text_shown(const struct report *r, enum report_type t, const char *s, long long i,
			unsigned long long u, double d);
void report_text_table(struct report *r, const struct rtable *t);

/* report_prom.c: one sample line */
void report_prom_line(struct report *r, const char *name, char **labels, size_t n, double v);
