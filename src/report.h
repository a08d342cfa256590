/* report.h: one writer for the table, the JSON document and the Prometheus text of a result. */
#pragma once
#include <stdbool.h>
#include <stdio.h>
#include "output.h"
#include "tcptune.h"

/*
 * A command walks its result once, one call per field; the writer keeps
 * the table (or key/value form), the JSON document and the Prometheus
 * samples that the chosen format needs, escapes each for its format, and
 * writes everything in report_finish(). Callers never escape and never
 * write stdout. Modelled on iproute2's print_*(PRINT_ANY, key, fmt, v) and
 * systemd's Table (typed cells, JSON field names, hidden columns).
 */
enum report_type {
	REPORT_STRING,    /* untrusted text: escaped for each format */
	REPORT_INT,
	REPORT_UINT,
	REPORT_BOOL,      /* text: yes/no */
	REPORT_BYTES,     /* unsigned; text on a terminal: "32 MiB" unless raw */
	REPORT_SECONDS,   /* unsigned; text on a terminal: "2 h 0 min" unless raw */
	REPORT_PATH,      /* text: abbreviated in the middle when the terminal is narrow */
	REPORT_REAL,
};

enum {
	REPORT_WRAP = 1,          /* text wraps at word boundaries to fit the terminal */
	REPORT_OMIT_NULL = 2,     /* JSON: leave the member out when the value is NULL */
	REPORT_PROM_VALUE = 4,    /* Prometheus: this column is the sample's value */
	REPORT_PROM_TEXT = 8,     /* Prometheus: the label escaped as the table shows it first (a process name) */
};

struct report_col {
	const char *header;   /* table heading; NULL: hidden from the text view */
	const char *json;     /* JSON member name; NULL: not in JSON */
	const char *prom;     /* Prometheus label name; NULL: not a label */
	enum report_type type;
	unsigned flags;
};

struct report_cfg {
	enum format format;
	bool color;           /* SGR codes in the text view */
	unsigned width;       /* terminal columns to fit; 0 when not a terminal (full output) */
	bool raw;             /* exact numbers, no units, even on a terminal */
	const char *output;   /* --output FILE, replaced atomically; NULL for stdout */
};

struct report;

/* A writer to f (stdout, or a temporary beside cfg->output); NULL with errno set. */
struct report *report_new(FILE *f, const struct report_cfg *cfg);
enum format report_format(const struct report *r);
void report_set_raw(struct report *r, bool raw);
/* Whether the text view fits a terminal (sorted, wrapped, units): the tty look. */
bool report_on_tty(const struct report *r);
/* "stdout" or the --output FILE, for messages. */
const char *report_where(const struct report *r);

/*
 * --watch: a sample ends with report_next(), which writes it (the text so
 * far, or the document as one compact line when lines is set) and starts
 * the next; report_redraw() makes the text that follows replace the screen
 * on a terminal.
 */
void report_set_lines(struct report *r, bool lines);
int report_next(struct report *r);
void report_redraw(struct report *r);

/* JSON structure: a member named key of the open object, or an element of the open array. */
void report_object_begin(struct report *r, const char *key);
void report_object_end(struct report *r);
void report_array_begin(struct report *r, const char *key);
void report_array_end(struct report *r);
/*
 * A member of the top-level object that is an array written as it is
 * walked: each element goes out when it ends instead of staying in the
 * document (200,000 remotes). The bytes are those of an ordinary array;
 * with report_set_lines() it is one.
 */
void report_stream_begin(struct report *r, const char *key);
void report_stream_end(struct report *r);

/*
 * Fields. JSON: member key (an element when the open container is an
 * array). Text: "  label  value" in the key/value form when label is not
 * NULL; a NULL label keeps the field out of the text view.
 */
void report_str(struct report *r, const char *key, const char *label, const char *v);
void report_int(struct report *r, const char *key, const char *label, long long v);
void report_uint(struct report *r, const char *key, const char *label, unsigned long long v);
void report_bool(struct report *r, const char *key, const char *label, bool v);
void report_real(struct report *r, const char *key, const char *label, double v);
void report_null(struct report *r, const char *key, const char *label);
/* A string array member: one call for a list of strings. */
void report_strv(struct report *r, const char *key, char *const *v, size_t n);

/*
 * A file's content that the text view must show byte for byte (render's
 * fragment: what apply writes, to be redirected into a file). JSON: member key.
 */
void report_verbatim(struct report *r, const char *key, const char *text);

/*
 * The vertical key/value form (explain, doctor): a heading line in style
 * st, then one line per labelled field, labels padded to pad columns.
 * JSON: an object named key (an element of the open array when key is NULL).
 */
void report_kv_begin(struct report *r, const char *key, enum style st, const char *heading,
		     int pad);
void report_kv_end(struct report *r);

/* A line of the text view only (the table's summary, notes); untrusted parts are escaped here. */
void report_text(struct report *r, enum style st, const char *fmt, ...) TT_PRINTF(3, 4);

/*
 * A table: columns, then rows of exactly ncols cells. JSON: an array of
 * objects named key (NULL: not in JSON). Prometheus: when metric is set,
 * one sample per row, labelled by the columns with a prom name.
 */
void report_table_begin(struct report *r, const char *key, const struct report_col *cols,
			size_t ncols);
/* Keep the whole table out of the text view (its JSON and samples stay). */
void report_table_text(struct report *r, bool shown);
void report_table_metric(struct report *r, const char *metric, const char *help);
/* A constant label for every sample of the table, placed before the at-th label of the row. */
void report_table_label(struct report *r, size_t at, const char *name, const char *value);
/* rank orders rows on a terminal (lower first, stable); text_hidden keeps the row out of the table. */
void report_row(struct report *r, int rank, bool text_hidden);
void report_cell_str(struct report *r, enum style st, const char *v);
/* JSON gets v, the text view shows `shown` (a placeholder for NULL, say). */
void report_cell_alt(struct report *r, enum style st, const char *v, const char *shown);
/* A value whose numbers are bytes or seconds (unit): shown in units on a terminal unless raw. */
void report_cell_units(struct report *r, enum style st, enum report_type unit, const char *v,
		       const char *shown);
/* A list: a JSON array (null when empty), the text joined by ", ". */
void report_cell_strv(struct report *r, enum style st, char *const *v, size_t n);
void report_cell_int(struct report *r, enum style st, long long v);
void report_cell_uint(struct report *r, enum style st, unsigned long long v);
void report_cell_bool(struct report *r, enum style st, bool v);
void report_table_end(struct report *r);

/* Prometheus only: a metric's header, and one sample (labels as name, value pairs, then NULL). */
void report_metric(struct report *r, const char *name, const char *type, const char *help);
void report_sample(struct report *r, const char *name, double value, ...) __attribute__((sentinel));

/* The "error" (when message is not NULL) and "exit" members of the document. */
void report_exit(struct report *r, int code, const char *message);
/* Whether the command put anything into the report. */
bool report_used(const struct report *r);

/* Write what the text view holds so far (keeps stdout in step with messages on stderr). */
int report_flush(struct report *r);
/*
 * Write the rest, flush and check: 0, or -errno (ENOSPC, EPIPE, EIO, a
 * short write, ENOMEM while building JSON). With --output, the temporary
 * replaces FILE only when commit is true and all went well. Frees r.
 */
int report_finish(struct report *r, bool commit);

/* Escaping, one function per format (the writer's own; exposed for tests and output.c). */
char *report_escape_text(const char *s);      /* control, DEL, C1, invalid UTF-8 -> \xHH; \ -> \\ */
char *report_escape_json(const char *s);      /* valid UTF-8 kept; invalid bytes -> text \xHH */
char *report_escape_prom(const char *s);      /* \\, \", \n; invalid bytes -> \\xHH */
/* Display columns of escaped text (one per code point). */
size_t report_width(const char *s);
