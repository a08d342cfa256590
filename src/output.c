/* SPDX-License-Identifier: ISC */
/* output.c: escaping and colour for messages on stderr (report*.c is the writer of stdout). */
#include <stdbool.h>
#include "output.h"
#include "report.h"

/* The writer's escaping (report.c): one implementation for every view. */
char *output_escape(const char *s)
{
	return report_escape_text(s);
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
