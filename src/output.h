/* SPDX-License-Identifier: ISC */
/* output.h: escaping and colour for messages on stderr (report.h is the writer of stdout). */
#pragma once
#include <stdbool.h>

enum style { STYLE_PLAIN, STYLE_GOOD, STYLE_WARN, STYLE_BAD, STYLE_DIM, STYLE_BOLD };

/*
 * Escape untrusted text for a terminal: control characters, DEL, C1 and
 * invalid UTF-8 become \xHH (backslash becomes \\). Caller frees.
 */
char *output_escape(const char *s);

/* Colour a short string for a message on stderr or stdout. */
const char *output_style_on(enum style st, bool color);
const char *output_style_off(bool color);
