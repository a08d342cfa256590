/* SPDX-License-Identifier: ISC */
/*
 * fuzz_journal.c: the journal reader and its checks. The input is the whole
 * journal (TT_JOURNAL_PATH in a scratch root), read as audit, doctor and
 * rollback read it. What is accepted must be what rollback may act on: a
 * known state, an absolute fragment path, and every recorded key and value
 * passing the checks of journal_check.h (an uncatalogued key only with the
 * opt-in recorded). The fragment check must refuse any path with a ".."
 * component. Everything is freed, so a leak fails the run.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "apply.h"
#include "fuzz.h"
#include "journal_check.h"
#include "tcptune.h"
#include "util.h"

static char *dir;
static int rootfd = -1;

static const char *const files[] = {
	&TT_JOURNAL_PATH[1], "{}\n",
	NULL,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir = fuzz_mkroot(files);
	rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		perror(dir);
		abort();
	}
	return 0;
}

static void must(bool ok, const char *what, const char *detail)
{
	if (!ok) {
		fprintf(stderr, "fuzz_journal: %s: %s\n", what, detail ? detail : "(null)");
		abort();
	}
}

static void check_fragment(const char *path)
{
	char *why = journal_check_fragment(path, TT_FRAGMENT_DEFAULT);

	/* accepted: the default fragment, spelled with at most extra '/' and "." */
	if (!why)
		must(strstr(path, "/..") == NULL && strstr(path, "sysctl.d") != NULL,
		     "fragment accepted", path);
	free(why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct apply_last last;
	struct msgs m = { 0 };

	if (size > 1 << 16)
		return 0;
	fuzz_write(dir, &TT_JOURNAL_PATH[1], data, size);
	if (apply_last_read(rootfd, &last, &m) < 0) {
		must(m.n == 1 && m.v[0][0] != '\0', "refused without a message", "");
		msgs_free(&m);
		return 0;
	}
	if (last.state != APPLY_STATE_NONE) {
		char *advice = apply_last_advice(&last);

		must(last.state <= APPLY_STATE_ROLLED_BACK, "state", apply_state_name(last.state));
		must(last.fragment && last.fragment[0] == '/', "fragment not absolute", last.fragment);
		check_fragment(last.fragment);
		for (size_t i = 0; i < last.n_originals; i++) {
			const struct apply_orig *o = &last.originals[i];
			char *why = journal_check_key(o->key, true);

			must(!why, "accepted key", o->key);
			why = journal_check_value(o->value, strlen(o->value));
			must(!why, "accepted value", o->value);
		}
		for (size_t i = 0; i < last.n_sources; i++)
			must(last.sources[i].path && last.sources[i].path[0] == '/', "source path",
			     last.sources[i].path);
		free(advice);
	}
	apply_last_free(&last);
	/* the input as a fragment path, too: the checks must not take ".." */
	char *s = fuzz_str(data, size);
	if (s[0] == '/')
		check_fragment(s);
	free(s);
	return 0;
}
