/* SPDX-License-Identifier: ISC */
/*
 * driver.c: a plain main() for the fuzz targets, without libFuzzer: runs
 * every file named (directories recursively, in name order), or stdin. CI
 * replays the committed corpora with it under its own sanitizer build, and
 * AFL++ (afl-clang-fast) fuzzes through it: afl-fuzz ... -- ./fuzz_x @@
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz.h"
#include "util.h"

static unsigned long n_run;

static int run_fd(int fd, const char *name)
{
	size_t len = 0, cap = 4096;
	uint8_t *buf = xmalloc(cap);
	ssize_t k;

	for (;;) {
		if (len == cap)
			buf = xrealloc(buf, cap *= 2);
		k = read(fd, buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			fprintf(stderr, "%s: %s\n", name, strerror(errno));
			free(buf);
			return -1;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	/* an exact-size copy, so ASan sees a read past the input as libFuzzer would */
	uint8_t *exact = xmalloc(len ? len : 1);
	memcpy(exact, buf, len);
	free(buf);
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "running %s (%zu bytes)\n", name, len);
	(void)LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	n_run++;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path)
{
	struct stat st;
	int r = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		char **names = NULL;
		size_t n = 0;

		if (!d) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			return -1;
		}
		while ((de = readdir(d)))
			if (de->d_name[0] != '.') {
				names = xreallocarray(names, n + 1, sizeof(*names));
				names[n++] = xasprintf("%s/%s", path, de->d_name);
			}
		(void)closedir(d);
		if (n)
			qsort(names, n, sizeof(*names), name_cmp);
		for (size_t i = 0; i < n; i++)
			if (run_path(names[i]) < 0)
				r = -1;
		strv_free(names, n);
		return r;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	r = run_fd(fd, path);
	(void)close(fd);
	return r;
}

int main(int argc, char **argv)
{
	int r = 0;

	(void)LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2)
		r = run_fd(STDIN_FILENO, "<stdin>");
	for (int i = 1; i < argc; i++)
		if (run_path(argv[i]) < 0)
			r = -1;
	fprintf(stderr, "%s: %lu inputs run\n", argv[0], n_run);
	return r < 0 ? 1 : 0;
}
