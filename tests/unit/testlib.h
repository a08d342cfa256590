/* SPDX-License-Identifier: ISC */
/* testlib.h: fixture roots in mkdtemp for the unit tests. */
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* A fresh root in mkdtemp; with fixture != NULL, a copy of tests/data/<fixture>. */
char *tl_mkroot(const char *fixture);
/* rm -rf the root and free the string. */
void tl_rmroot(char *root);
/* Write (creating parent directories) <root>/<rel> with the text. */
void tl_write(const char *root, const char *rel, const char *text);
/* Read <root>/<rel> whole; NULL when it does not exist. Caller frees. */
char *tl_read(const char *root, const char *rel);
/* Open root as a directory fd (O_PATH). */
int tl_rootfd(const char *root);

/*
 * cmocka 1.1's TAP output reports skip() as "not ok", which the TAP driver
 * counts as a failure: where the environment lacks something (root, a
 * fixture), say why and return.
 */
#define tl_skip(why) do { print_message("# skipped: %s\n", why); return; } while (0)
