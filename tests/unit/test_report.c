/* test_report.c: the writer: escaping per format, fitting a terminal, and a sink that fails. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "report.h"
#include "testlib.h"
#include "util.h"

/* Untrusted text as it reaches the writer: a backslash, controls, an escape sequence, invalid UTF-8. */
#define NASTY "a\\b\x01\033[31m\n\"q\"\xff\xc3("

static const struct report_col cols[] = {
	{ "KEY", "key", "key", REPORT_STRING, 0 },
	{ "VALUE", "value", NULL, REPORT_STRING, REPORT_WRAP },
	{ NULL, "ok", NULL, REPORT_BOOL, REPORT_PROM_VALUE },
};

/* One walk, as a command makes it: a table of two rows, a field, a line of text. */
static void walk(struct report *r)
{
	report_str(r, "name", "name", NASTY);
	report_table_begin(r, "rows", cols, 3);
	report_table_metric(r, "t_ok", "help.");
	report_row(r, 0, false);
	report_cell_str(r, STYLE_PLAIN, NASTY);
	report_cell_str(r, STYLE_PLAIN, "plain");
	report_cell_bool(r, STYLE_PLAIN, true);
	report_row(r, 0, false);
	report_cell_str(r, STYLE_PLAIN, "k2");
	report_cell_str(r, STYLE_PLAIN, NULL);
	report_cell_bool(r, STYLE_PLAIN, false);
	report_table_end(r);
	report_text(r, STYLE_PLAIN, "said: %s", NASTY);
}

static char *run(enum format fmt, unsigned width)
{
	struct report_cfg cfg = { .format = fmt, .width = width };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct report *r = report_new(f, &cfg);

	assert_non_null(r);
	walk(r);
	assert_int_equal(report_finish(r, true), 0);
	fclose(f);
	return buf;
}

static void test_text(void **state)
{
	char *out = run(FMT_TABLE, 0);

	(void)state;
	/* no raw control byte, backslash doubled, invalid bytes as \xHH */
	for (const char *p = out; *p; p++)
		assert_true(*p == '\n' || ((unsigned char)*p >= 0x20 && *p != 0x7f));
	assert_non_null(strstr(out, "name a\\\\b\\x01\\x1b[31m\\x0a\"q\"\\xff\\xc3("));
	assert_non_null(strstr(out, "said: a\\\\b\\x01"));
	assert_non_null(strstr(out, "KEY"));
	assert_non_null(strstr(out, "k2"));
	assert_null(strstr(out, "yes"));	/* the hidden column stays hidden */
	free(out);
}

static void test_json(void **state)
{
	char *out = run(FMT_JSON, 0);
	json_error_t err;
	json_t *doc = json_loads(out, 0, &err), *rows;

	(void)state;
	assert_non_null(doc);
	/* one document: the text is JSON's own escaping of the raw string, invalid bytes as \xHH, nothing vanished */
	assert_string_equal(json_string_value(json_object_get(doc, "name")),
			    "a\\b\x01\033[31m\n\"q\"\\xff\\xc3(");
	rows = json_object_get(doc, "rows");
	assert_int_equal(json_array_size(rows), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "key")),
			    "a\\b\x01\033[31m\n\"q\"\\xff\\xc3(");
	assert_true(json_is_true(json_object_get(json_array_get(rows, 0), "ok")));
	assert_true(json_is_null(json_object_get(json_array_get(rows, 1), "value")));
	assert_non_null(json_object_get(doc, "tcptune"));
	assert_null(strstr(out, "said"));	/* text lines are not JSON */
	json_decref(doc);
	free(out);
}

static void test_prom(void **state)
{
	char *out = run(FMT_PROMETHEUS, 0);

	(void)state;
	assert_string_equal(out, "# HELP t_ok help.\n# TYPE t_ok gauge\n"
				 "t_ok{key=\"a\\\\b\x01\033[31m\\n\\\"q\\\"\\\\xff\\\\xc3(\"} 1\n"
				 "t_ok{key=\"k2\"} 0\n");
	free(out);
}

/* A sink that takes one byte: every format reports the failure instead of exit 0. */
static void test_full_sink(void **state)
{
	(void)state;
	for (int fmt = FMT_TABLE; fmt <= FMT_PROMETHEUS; fmt++) {
		struct report_cfg cfg = { .format = (enum format)fmt };
		char buf[1];
		FILE *f = fmemopen(buf, sizeof(buf), "w");
		struct report *r;

		assert_non_null(f);
		setvbuf(f, NULL, _IONBF, 0);
		r = report_new(f, &cfg);
		walk(r);
		assert_true(report_finish(r, true) < 0);
		fclose(f);
	}
}

/* On a narrow terminal no line is wider than it, and no number is cut. */
static void test_fit(void **state)
{
	struct report_cfg cfg = { .format = FMT_TABLE, .width = 30 };
	static const struct report_col c2[] = {
		{ "KEY", "key", NULL, REPORT_STRING, REPORT_WRAP },
		{ "SIZE", "size", NULL, REPORT_STRING, REPORT_WRAP },
		{ "FILE", "file", NULL, REPORT_PATH, 0 },
	};
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct report *r = report_new(f, &cfg);

	(void)state;
	report_table_begin(r, NULL, c2, 3);
	report_row(r, 1, false);
	report_cell_str(r, STYLE_PLAIN, "net.ipv4.tcp_slow_start_after_idle");
	report_cell_units(r, STYLE_PLAIN, REPORT_BYTES, "4096 131072 33554432", "4096 131072 33554432");
	report_cell_str(r, STYLE_PLAIN, "/etc/sysctl.d/60-keepalive.conf:3");
	report_row(r, 0, false);
	report_cell_str(r, STYLE_PLAIN, "first");
	report_cell_str(r, STYLE_PLAIN, "1234567");
	report_cell_str(r, STYLE_PLAIN, "/x");
	report_table_end(r);
	report_text(r, STYLE_PLAIN, "a long line of advice that a narrow terminal must wrap at words");
	assert_int_equal(report_finish(r, true), 0);
	fclose(f);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		assert_true(report_width(line) <= 30);
	free(buf);

	/* the same again: ranked rows first, bytes in units, and --raw keeps exact numbers */
	for (int raw = 0; raw < 2; raw++) {
		buf = NULL;
		f = open_memstream(&buf, &len);
		r = report_new(f, &(struct report_cfg){ .format = FMT_TABLE, .width = 80, .raw = raw });
		report_table_begin(r, NULL, c2, 3);
		report_row(r, 1, false);
		report_cell_str(r, STYLE_PLAIN, "second");
		report_cell_units(r, STYLE_PLAIN, REPORT_BYTES, "33554432", "33554432");
		report_cell_str(r, STYLE_PLAIN, "/x");
		report_row(r, 0, false);
		report_cell_str(r, STYLE_PLAIN, "first");
		report_cell_units(r, STYLE_PLAIN, REPORT_SECONDS, "7200", "7200");
		report_cell_str(r, STYLE_PLAIN, "/y");
		report_table_end(r);
		assert_int_equal(report_finish(r, true), 0);
		fclose(f);
		assert_true(strstr(buf, "first") < strstr(buf, "second"));
		assert_non_null(strstr(buf, raw ? "33554432" : "32 MiB"));
		assert_non_null(strstr(buf, raw ? "7200" : "2 h"));
		free(buf);
	}
}

static void test_error_document(void **state)
{
	struct report_cfg cfg = { .format = FMT_JSON };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct report *r = report_new(f, &cfg);
	json_t *doc, *e;

	(void)state;
	report_exit(r, 2, "/etc/x.conf:7: net.ipv4.tcp_rmem: bad \xff value");
	assert_int_equal(report_finish(r, false), 0);
	fclose(f);
	doc = json_loads(buf, 0, NULL);
	assert_non_null(doc);
	e = json_object_get(doc, "error");
	assert_string_equal(json_string_value(json_object_get(e, "file")), "/etc/x.conf");
	assert_int_equal(json_integer_value(json_object_get(e, "line")), 7);
	assert_string_equal(json_string_value(json_object_get(e, "key")), "net.ipv4.tcp_rmem");
	assert_non_null(strstr(json_string_value(json_object_get(e, "message")), "bad \\xff value"));
	assert_int_equal(json_integer_value(json_object_get(doc, "exit")), 2);
	json_decref(doc);
	free(buf);
}

/* A document with n elements in "rows", before and after members; streamed or held. */
static char *rows_doc(bool stream, size_t n, long *ret_before_finish)
{
	struct report_cfg cfg = { .format = FMT_JSON };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct report *r = report_new(f, &cfg);

	report_uint(r, "total", NULL, n);
	if (stream)
		report_stream_begin(r, "rows");
	else
		report_array_begin(r, "rows");
	for (size_t i = 0; i < n; i++) {
		report_object_begin(r, NULL);
		report_str(r, "name", NULL, i % 2 ? NASTY : "plain row");
		report_uint(r, "n", NULL, i);
		report_object_begin(r, "states");
		report_uint(r, "ESTABLISHED", NULL, i * 3);
		report_object_end(r);
		report_object_end(r);
	}
	if (stream)
		report_stream_end(r);
	else
		report_array_end(r);
	report_str(r, "after", NULL, "the rest");
	fflush(f);
	*ret_before_finish = ftell(f);
	assert_int_equal(report_finish(r, true), 0);
	fclose(f);
	return buf;
}

/* A streamed array: the bytes of the held one, but out before the end (200k remotes). */
static void test_stream(void **state)
{
	long early, held_early;

	(void)state;
	for (size_t n = 0; n < 3; n++) {
		char *a = rows_doc(true, n, &early), *b = rows_doc(false, n, &held_early);

		assert_string_equal(a, b);
		free(a);
		free(b);
	}
	{
		char *a = rows_doc(true, 5000, &early), *b = rows_doc(false, 5000, &held_early);

		assert_string_equal(a, b);
		assert_int_equal(held_early, 0);
		/* written as walked: all but the last chunk is out before report_finish() */
		assert_true(early > (long)strlen(a) - 70000);
		free(a);
		free(b);
	}
}

/* --watch -o json: each sample one compact document on its own line, written by report_next(). */
static void test_lines(void **state)
{
	struct report_cfg cfg = { .format = FMT_JSON };
	char *buf = NULL, *nl;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct report *r = report_new(f, &cfg);

	(void)state;
	report_set_lines(r, true);
	for (int i = 0; i < 2; i++) {
		report_stream_begin(r, "rows");
		report_object_begin(r, NULL);
		report_int(r, "i", NULL, i);
		report_object_end(r);
		report_stream_end(r);
		assert_int_equal(report_next(r), 0);
		fflush(f);
		assert_int_equal(buf[len - 1], '\n');
	}
	assert_int_equal(report_finish(r, true), 0);
	fclose(f);
	nl = strchr(buf, '\n');
	assert_non_null(nl);
	assert_string_equal(nl + 1, "{\"tcptune\":\"" PACKAGE_VERSION "\",\"rows\":[{\"i\":1}]}\n");
	free(buf);
}

/* A label that is a process name: its control characters escaped as the table shows them. */
static void test_prom_text(void **state)
{
	static const struct report_col k[] = {
		{ NULL, NULL, "comm", REPORT_STRING, REPORT_PROM_TEXT },
		{ NULL, NULL, NULL, REPORT_UINT, REPORT_PROM_VALUE },
	};
	struct report_cfg cfg = { .format = FMT_PROMETHEUS };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct report *r = report_new(f, &cfg);

	(void)state;
	report_table_begin(r, NULL, k, 2);
	report_table_metric(r, "t_cw", "help.");
	report_row(r, 0, false);
	report_cell_str(r, STYLE_PLAIN, "a\033]0;x\007\\\"\xff");
	report_cell_uint(r, STYLE_PLAIN, 6);
	report_table_end(r);
	assert_int_equal(report_finish(r, true), 0);
	fclose(f);
	assert_string_equal(buf, "# HELP t_cw help.\n# TYPE t_cw gauge\n"
				 "t_cw{comm=\"a\\\\x1b]0;x\\\\x07\\\\\\\\\\\"\\\\xff\"} 6\n");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_prom),
		cmocka_unit_test(test_full_sink),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_error_document),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_prom_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
