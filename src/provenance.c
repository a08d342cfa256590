/* SPDX-License-Identifier: ISC */
/* provenance.c: which files an apply read (profiles and their @include files), by absolute path and SHA-256. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bytes.h"
#include "fileio.h"
#include "journal_check.h"
#include "provenance.h"

#define INCLUDE_DEPTH 10

/* Read what is there now and hash it: 0, -ENOENT, or another -errno; *ret_buf is the caller's. */
static int hash_file(const char *path, char ret[65], char **ret_buf, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), r;

	ret[0] = '\0';
	*ret_buf = NULL;
	*ret_len = 0;
	if (fd < 0)
		return -errno;
	r = read_all(fd, FILEIO_READ_MAX, ret_buf, ret_len);
	(void)close(fd);
	if (r == 0)
		bytes_sha256_hex(*ret_buf, *ret_len, ret);
	return r;
}

static bool has_path(const struct provenance *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].path, path) == 0)
			return true;
	return false;
}

static int add(const char *path, bool profile, const char *incdir, unsigned depth,
	       struct provenance **v, size_t *n, struct msgs *errors);

/*
 * The @include lines of one file, as libconfig reads them: at a line's
 * start, a quoted name. From the bytes just hashed: a second read could
 * see other bytes, or fail with nothing said.
 */
static int includes(const char *buf, size_t len, const char *incdir, unsigned depth,
		    struct provenance **v, size_t *n, struct msgs *errors)
{
	int r = 0;

	for (const char *p = buf; r == 0 && p && p < buf + len;) {
		const char *q = p + strspn(p, " \t"), *eol = memchr(p, '\n', (size_t)(buf + len - p)), *e;

		if (!eol)
			eol = buf + len;
		p = eol + 1;
		if (strncmp(q, "@include", 8) != 0 || (q[8] != ' ' && q[8] != '\t'))
			continue;
		q += 8 + strspn(q + 8, " \t");
		if (*q != '"')
			continue;
		e = memchr(q + 1, '"', (size_t)(eol - q - 1));
		if (!e)
			continue;
		char *name = xstrndup(q + 1, (size_t)(e - q - 1)), *inc = xasprintf("%s/%s", incdir, name);

		r = add(inc, false, incdir, depth + 1, v, n, errors);
		free(inc);
		free(name);
	}
	return r;
}

static int add(const char *path, bool profile, const char *incdir, unsigned depth,
	       struct provenance **v, size_t *n, struct msgs *errors)
{
	char *abs = realpath(path, NULL), *dir = NULL, *buf;
	size_t len;
	int r;

	if (!abs) {
		r = -errno;
		msgs_add(errors, "%s: %s", path, strerror(errno));
		return r;
	}
	if (depth > INCLUDE_DEPTH || has_path(*v, *n, abs)) {
		free(abs);
		return 0;
	}
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[*n] = (struct provenance){ .path = abs, .profile = profile };
	r = hash_file(abs, (*v)[*n].sha256, &buf, &len);
	(*n)++;
	if (r < 0) {
		msgs_add(errors, "%s: %s", abs, strerror(-r));
		free(buf);
		return r;
	}
	if (!incdir) {
		dir = xstrdup(abs);
		*strrchr(dir, '/') = '\0';
		if (!*dir)
			strcpy(dir, "/");
	}
	r = includes(buf, len, incdir ? incdir : dir, depth, v, n, errors);
	free(buf);
	free(dir);
	return r;
}

int provenance_collect(const struct profile *p, struct provenance **ret, size_t *ret_n,
		       struct msgs *errors)
{
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	for (size_t i = 0; i < p->n_files && r == 0; i++)
		r = add(p->files[i], true, NULL, 0, ret, ret_n, errors);
	return r;
}

void provenance_free(struct provenance *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

size_t provenance_check(const struct provenance *v, size_t n, struct msgs *ret)
{
	size_t gone = 0;

	for (size_t i = 0; i < n; i++) {
		struct msgs why = { 0 };
		char now[65] = "";
		char *buf = NULL;
		size_t len = 0;
		/* a path from the journal: opened as a profile would be, never through a link */
		int r = journal_open_source(v[i].path, &why);

		if (r >= 0) {
			int fd = r;

			r = read_all(fd, FILEIO_READ_MAX, &buf, &len);
			(void)close(fd);
			if (r == 0)
				bytes_sha256_hex(buf, len, now);
			free(buf);
		}
		if (r == -EPERM) {
			msgs_add(ret, "%s: not read: %s", v[i].path, msgs_last(&why));
			gone++;
		} else if (r == -ENOENT) {
			msgs_add(ret, "%s: vanished since the apply", v[i].path);
			gone++;
		} else if (r < 0) {
			msgs_add(ret, "%s: cannot be read since the apply: %s", v[i].path, strerror(-r));
			gone++;
		} else if (strcmp(now, v[i].sha256)) {
			msgs_add(ret, "%s: changed since the apply (SHA-256 %.12s... then, %.12s... now)",
				 v[i].path, v[i].sha256, now);
		}
		msgs_free(&why);
	}
	return gone;
}
