/* SPDX-License-Identifier: ISC */
/* fuzz.h: what every fuzz target shares: the entry points and a scratch root. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* The libFuzzer interface; driver.c calls the same functions for AFL++ and replays. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input as a NUL-terminated string (an embedded NUL ends it early). Caller frees. */
char *fuzz_str(const uint8_t *data, size_t size);
/*
 * A private directory tree for the whole run, removed at exit. files is a
 * NULL-terminated list of path, content pairs; directories are made as
 * needed. Returns the directory; aborts on failure (a broken harness must
 * not look like a clean run).
 */
char *fuzz_mkroot(const char *const *files);
/* Write a whole file below dir, replacing it; aborts on failure. */
void fuzz_write(const char *dir, const char *rel, const void *data, size_t size);
