/* SPDX-License-Identifier: ISC */
/*
 * fuzz_include.c: @include splicing. The input is up to three files split
 * at lines "%%": a profile p/top.conf and the files p/a.cfg and p/b.cfg it
 * (or they) may @include. The profile is loaded; every rule that loads
 * must name one of the three files and a line that file has, which is what
 * the map from spliced lines back to files promises. Everything is freed,
 * so a leak fails the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "profile.h"
#include "util.h"

static char *dir;
static char *paths[3];
static unsigned n_lines[3];
static struct profile_path pp;

static const char *const files[] = {
	"p/top.conf", "@include \"a.cfg\"\n",
	"p/a.cfg", "",
	"p/b.cfg", "",
	NULL,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const rel[] = { "p/top.conf", "p/a.cfg", "p/b.cfg" };
	char *p;

	(void)argc;
	(void)argv;
	dir = fuzz_mkroot(files);
	for (int i = 0; i < 3; i++)
		paths[i] = xasprintf("%s/%s", dir, rel[i]);
	p = xasprintf("%s/p", dir);
	pp = (struct profile_path){ .dirs = xcalloc(1, sizeof(char *)), .n = 1 };
	pp.dirs[0] = p;
	return 0;
}

/* Split at "\n%%\n" into at most three parts and write them; count each part's lines. */
static void write_parts(const uint8_t *data, size_t size)
{
	static const char *const rel[] = { "p/top.conf", "p/a.cfg", "p/b.cfg" };
	size_t start = 0;

	for (int i = 0; i < 3; i++) {
		size_t end = size;

		if (i < 2) {
			for (size_t k = start; k + 3 < size; k++)
				if (!memcmp(data + k, "\n%%\n", 4)) {
					end = k + 1;
					break;
				}
		}
		if (start > size)
			start = size;
		fuzz_write(dir, rel[i], data + start, end - start);
		n_lines[i] = 1;
		for (size_t k = start; k < end; k++)
			n_lines[i] += data[k] == '\n';
		start = end + 3;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *names[] = { paths[0] };
	struct profile p;
	struct msgs errors = { 0 };

	if (size > 1 << 16)
		return 0;
	write_parts(data, size);
	if (profile_load(&pp, NULL, names, 1, &p, &errors) == 0) {
		for (size_t i = 0; i < p.n_rules; i++) {
			const struct rule *r = &p.rules[i];
			int f = -1;

			for (int k = 0; k < 3; k++)
				if (r->file && !strcmp(r->file, paths[k]))
					f = k;
			if (f < 0 || r->line < 1 || r->line > n_lines[f]) {
				fprintf(stderr, "fuzz_include: %s at %s:%u, outside the files given\n", r->key,
					r->file ? r->file : "(null)", r->line);
				abort();
			}
		}
	} else if (errors.n == 0) {
		fprintf(stderr, "fuzz_include: a refused profile without a message\n");
		abort();
	}
	profile_free(&p);
	msgs_free(&errors);
	return 0;
}
