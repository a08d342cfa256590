/* SPDX-License-Identifier: ISC */
/* testlib.c: fixture roots in mkdtemp for the unit tests. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testlib.h"
#include "util.h"

static void run(const char *cmd)
{
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static char *quote(const char *s)
{
	/* Fixture and temp paths are ours: refuse a single quote rather than escape it. */
	if (strchr(s, '\''))
		fail_msg("quote in path: %s", s);
	return xasprintf("'%s'", s);
}

char *tl_mkroot(const char *fixture)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/tcptune-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");

	if (!mkdtemp(tmpl))
		fail_msg("mkdtemp: %s", strerror(errno));
	if (fixture) {
		char *src = xasprintf("%s/tests/data/%s/.", SRCDIR, fixture);
		char *qs = quote(src), *qd = quote(tmpl);
		char *cmd = xasprintf("cp -R %s %s", qs, qd);
		run(cmd);
		/* dist tarballs and CI clones may leave the copy read-only */
		free(cmd);
		cmd = xasprintf("chmod -R u+w %s", qd);
		run(cmd);
		free(cmd);
		free(qs);
		free(qd);
		free(src);
	}
	return tmpl;
}

void tl_rmroot(char *root)
{
	if (!root)
		return;
	char *q = quote(root);
	char *cmd = xasprintf("chmod -R u+w %s 2>/dev/null; rm -rf %s", q, q);
	run(cmd);
	free(cmd);
	free(q);
	free(root);
}

static void mkparents(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
}

void tl_write(const char *root, const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", root, rel);
	FILE *f;

	mkparents(path);
	f = fopen(path, "w");
	if (!f)
		fail_msg("fopen %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	free(path);
}

char *tl_read(const char *root, const char *rel)
{
	char *path = xasprintf("%s/%s", root, rel);
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	free(path);
	if (!f)
		return NULL;
	FILE *m = open_memstream(&buf, &len);
	int c;
	while ((c = getc(f)) != EOF)
		putc(c, m);
	fclose(m);
	fclose(f);
	return buf;
}

int tl_rootfd(const char *root)
{
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		fail_msg("open %s: %s", root, strerror(errno));
	return fd;
}
