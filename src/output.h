/* SPDX-License-Identifier: ISC */
/* output.h: the older table and JSON helpers that `sockets` still uses (report.h is the writer). */
#pragma once
#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

enum style { STYLE_PLAIN, STYLE_GOOD, STYLE_WARN, STYLE_BAD, STYLE_DIM, STYLE_BOLD };

/*
 * Escape untrusted text for a terminal: control characters, DEL, C1 and
 * invalid UTF-8 become \xHH (backslash becomes \\). Caller frees.
 */
char *output_escape(const char *s);

struct table;
struct table *table_new(size_t ncols, const char *const *headers);
/* Start a row, then add exactly ncols cells. Text is copied and escaped. */
void table_row(struct table *t);
void table_cell(struct table *t, enum style st, const char *text);
void table_cellf(struct table *t, enum style st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print with columns aligned; colour only when color is true. */
void table_print(const struct table *t, FILE *f, bool color);
void table_free(struct table *t);

/*
 * Print a JSON document: adds "tcptune": VERSION as the first member,
 * indents, and ends with a newline. Steals the reference to doc.
 */
int output_json(FILE *f, json_t *doc);
/* How many documents output_json() printed (the front door adds an error document when none). */
size_t output_json_count(void);
/* --watch: one compact document a line, flushed (a stream a script reads line by line). */
void output_json_lines(bool on);
bool output_json_lines_on(void);
/*
 * A JSON string for untrusted text (file contents, paths, process names):
 * jansson refuses invalid UTF-8, so each invalid byte becomes the four
 * characters \xHH, as output_escape() writes it. NULL gives null.
 */

/* Prometheus exposition: escape a label value (\\, \", \n). Caller frees. */
char *output_prom_label(const char *s);
/* "# HELP name help\n# TYPE name type\n" */
void output_prom_header(FILE *f, const char *name, const char *type, const char *help);

/* Colour a short string for a message on stderr or stdout. */
const char *output_style_on(enum style st, bool color);
const char *output_style_off(bool color);
