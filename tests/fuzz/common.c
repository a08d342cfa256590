/* SPDX-License-Identifier: ISC */
/* common.c: scratch roots and strings for the fuzz targets. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz.h"
#include "util.h"

static char *roots[8];
static size_t n_roots;

char *fuzz_str(const uint8_t *data, size_t size)
{
	return xstrndup((const char *)data, size);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)remove(path);
	return 0;
}

static void cleanup(void)
{
	for (size_t i = 0; i < n_roots; i++) {
		(void)nftw(roots[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(roots[i]);
	}
	n_roots = 0;
}

static void mkparents(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			perror(path);
			abort();
		}
		*p = '/';
	}
}

void fuzz_write(const char *dir, const char *rel, const void *data, size_t size)
{
	char *path = xasprintf("%s/%s", dir, rel);
	int fd;

	mkparents(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size)) {
		perror(path);
		abort();
	}
	(void)close(fd);
	free(path);
}

char *fuzz_mkroot(const char *const *files)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/tcptune-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");

	if (!mkdtemp(dir) || n_roots == sizeof(roots) / sizeof(roots[0])) {
		perror("mkdtemp");
		abort();
	}
	if (n_roots == 0)
		(void)atexit(cleanup);
	roots[n_roots++] = dir;
	for (size_t i = 0; files && files[i]; i += 2)
		fuzz_write(dir, files[i], files[i + 1], strlen(files[i + 1]));
	return dir;
}
