/* SPDX-License-Identifier: ISC */
/* test_output.c: escaping for a terminal. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
