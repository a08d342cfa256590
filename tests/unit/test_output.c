/* SPDX-License-Identifier: ISC */
/* test_output.c: escaping, tables, JSON and Prometheus text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "output.h"
#include "testlib.h"
#include "util.h"

static void check_escape(const char *in, const char *want)
{
	char *e = output_escape(in);
	assert_string_equal(e, want);
	free(e);
}

static void test_escape(void **state)
{
	(void)state;
	check_escape("crawler", "crawler");
	check_escape("\033[31mred", "\\x1b[31mred");
	check_escape("a\nb\tc", "a\\x0ab\\x09c");
	check_escape("back\\slash", "back\\\\slash");
	check_escape("caf\xc3\xa9", "caf\xc3\xa9");            /* valid UTF-8 kept */
	check_escape("bad\xc3(", "bad\\xc3(");                 /* truncated sequence */
	check_escape("\xc0\xaf", "\\xc0\\xaf");                /* overlong '/' */
	check_escape("\xc2\x9b" "2J", "\\xc2\\x9b2J");         /* C1 CSI */
	check_escape("\x7f", "\\x7f");
	check_escape(NULL, "");
}

static char *render(struct table *t, bool color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	table_print(t, f, color);
	fclose(f);
	return buf;
}

static void test_table(void **state)
{
	static const char *const head[] = { "KEY", "STATUS" };
	struct table *t = table_new(2, head);
	char *out;

	(void)state;
	table_cell(t, STYLE_PLAIN, "net.ipv4.tcp_tw_reuse");
	table_cell(t, STYLE_GOOD, "ok");
	table_cell(t, STYLE_PLAIN, "x\033]0;pwned\007");
	table_cell(t, STYLE_BAD, NULL);
	out = render(t, false);
	assert_string_equal(out,
			    "KEY                    STATUS\n"
			    "net.ipv4.tcp_tw_reuse  ok\n"
			    "x\\x1b]0;pwned\\x07      -\n");
	free(out);
	out = render(t, true);
	assert_non_null(strstr(out, "\033[32mok\033[0m"));
	assert_null(strstr(out, "\033]0;"));
	free(out);
	table_free(t);
	table_free(NULL);
}

static void test_json(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *doc = json_object();

	(void)state;
	json_object_set_new(doc, "comm", json_string("a\033b"));
	output_json(f, doc);
	fclose(f);
	assert_non_null(strstr(buf, "\"tcptune\": \"" PACKAGE_VERSION "\""));
	assert_true(strstr(buf, "tcptune") < strstr(buf, "comm"));
	assert_non_null(strstr(buf, "\"a\\u001Bb\""));
	assert_int_equal(buf[len - 1], '\n');
	free(buf);
}

static void test_prom(void **state)
{
	char *l = output_prom_label("a\"b\\c\nd");

	(void)state;
	assert_string_equal(l, "a\\\"b\\\\c\\nd");
	free(l);
	/* invalid UTF-8 must not reach the exposition (a collector drops the file): \\xHH */
	l = output_prom_label("caf\xe9-\xc3\xa9\xff");
	assert_string_equal(l, "caf\\\\xe9-\xc3\xa9\\\\xff");
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_prom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
