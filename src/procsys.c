/* SPDX-License-Identifier: ISC */
/* procsys.c: read and write /proc/sys below a root directory, one openat() per key component. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "procsys.h"
#include "util.h"

#define DIR_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* Kernel values are at most a few pages; a fixture file beyond this is not one. */
#define PROCSYS_VALUE_MAX (1u << 20)

int procsys_open(int rootfd, struct procsys *ret)
{
	int procfd, sysfd;

	ret->sysfd = -1;
	procfd = openat(rootfd, "proc", DIR_FLAGS);
	if (procfd < 0)
		return -errno;
	sysfd = openat(procfd, "sys", DIR_FLAGS);
	if (sysfd < 0) {
		int r = -errno;
		(void)close(procfd);
		return r;
	}
	(void)close(procfd);
	ret->sysfd = sysfd;
	return 0;
}

void procsys_close(struct procsys *ps)
{
	if (!ps || ps->sysfd < 0)
		return;
	(void)close(ps->sysfd);
	ps->sysfd = -1;
}

/*
 * Copy component [s, e) of a key into name. sysctl.d's slash form writes a
 * literal '.' (a VLAN "eth0.100") as '/' inside a dotted key; key_valid()
 * refuses '/' today, so this only matters if it is ever relaxed.
 */
static char *component(const char *s, const char *e)
{
	char *name = xstrndup(s, (size_t)(e - s));

	for (char *p = name; *p; p++)
		if (*p == '/')
			*p = '.';
	return name;
}

/*
 * Open every directory component of a dotted path below sysfd, never
 * following a symlink; return the last directory's fd and, if ret_leaf is
 * not NULL, the leaf name (otherwise the whole path is taken as directories).
 */
static int walk(const struct procsys *ps, const char *key, char **ret_leaf, int *ret_dirfd)
{
	const char *s = key, *dot;
	int dirfd;

	if (ps->sysfd < 0)
		return -EBADF;
	if (!key_valid(key))
		return -EINVAL;
	dirfd = fcntl(ps->sysfd, F_DUPFD_CLOEXEC, 3);
	if (dirfd < 0)
		return -errno;
	for (;;) {
		dot = strchr(s, '.');
		if (!dot && ret_leaf) {
			*ret_leaf = component(s, s + strlen(s));
			*ret_dirfd = dirfd;
			return 0;
		}
		char *name = component(s, dot ? dot : s + strlen(s));
		int fd = openat(dirfd, name, DIR_FLAGS);
		int r = -errno;
		free(name);
		(void)close(dirfd);
		if (fd < 0)
			return r;
		dirfd = fd;
		if (!dot) {
			*ret_dirfd = dirfd;
			return 0;
		}
		s = dot + 1;
	}
}

/* Open the leaf file of key; refuse symlinks and anything but a regular file. */
static int open_leaf(const struct procsys *ps, const char *key, int flags)
{
	char *leaf;
	int dirfd, fd, r;
	struct stat st;

	r = walk(ps, key, &leaf, &dirfd);
	if (r < 0)
		return r;
	/* O_NONBLOCK: a FIFO planted in a fixture root must not hang us. */
	fd = openat(dirfd, leaf, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	r = fd < 0 ? -errno : 0;
	free(leaf);
	(void)close(dirfd);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	return fd;
}

int procsys_read(const struct procsys *ps, const char *key, char **ret_value)
{
	size_t len;
	char *buf;
	int fd, r;

	fd = open_leaf(ps, key, O_RDONLY);
	if (fd < 0)
		return fd;
	r = read_all(fd, PROCSYS_VALUE_MAX, &buf, &len);
	(void)close(fd);
	if (r < 0)
		return r;
	/* A NUL inside the text would silently truncate the value: not a sysctl. */
	if (strlen(buf) != len) {
		free(buf);
		return -EINVAL;
	}
	*ret_value = value_normalize(buf);
	free(buf);
	return 0;
}

int procsys_write(const struct procsys *ps, const char *key, const char *value)
{
	char *text;
	size_t len;
	ssize_t n;
	int fd, r = 0;

	if (!value || strchr(value, '\n'))
		return -EINVAL;
	fd = open_leaf(ps, key, O_WRONLY);
	if (fd < 0)
		return fd;
	text = xasprintf("%s\n", value);
	len = strlen(text);
	/*
	 * One write() at offset 0: with kernel.sysctl_writes_strict=1 a
	 * second write() is ignored and still reports success, so a retry
	 * after a short write would lie. No retry on EINTR either.
	 */
	n = write(fd, text, len);
	if (n < 0)
		r = -errno;
	else if ((size_t)n != len)
		r = -EIO;
	free(text);
	if (close(fd) < 0 && r == 0 && errno != EINTR)
		r = -errno;
	return r;
}

int procsys_stat(const struct procsys *ps, const char *key)
{
	struct stat st;
	char *leaf;
	int dirfd, r;

	r = walk(ps, key, &leaf, &dirfd);
	if (r < 0)
		return r;
	r = fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	free(leaf);
	(void)close(dirfd);
	if (r < 0)
		return r;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	return S_ISREG(st.st_mode) ? 0 : -EINVAL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int procsys_list(const struct procsys *ps, const char *prefix, char ***ret_names, size_t *ret_n)
{
	char **v = NULL;
	size_t n = 0;
	int pathfd, fd, r;
	DIR *d;

	if (!prefix || !*prefix) {
		if (ps->sysfd < 0)
			return -EBADF;
		pathfd = fcntl(ps->sysfd, F_DUPFD_CLOEXEC, 3);
		if (pathfd < 0)
			return -errno;
	} else {
		r = walk(ps, prefix, NULL, &pathfd);
		if (r < 0)
			return r;
	}
	/* fdopendir() needs a readable fd; "." below an O_PATH fd gives one. */
	fd = openat(pathfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = -errno;
	(void)close(pathfd);
	if (fd < 0)
		return r;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		(void)close(fd);
		return r;
	}
	for (;;) {
		struct dirent *de;

		errno = 0;
		de = readdir(d);
		if (!de) {
			r = -errno;
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = xstrdup(de->d_name);
		v[n] = NULL;
	}
	(void)closedir(d);
	if (r < 0) {
		strv_free(v, n);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	else
		v = xcalloc(1, sizeof(*v));
	*ret_names = v;
	*ret_n = n;
	return 0;
}

bool procsys_in_child_netns(const struct procsys *ps)
{
	int dirfd;

	if (walk(ps, "net.ipv4", NULL, &dirfd) < 0)
		return false;
	struct stat st;
	bool child = fstatat(dirfd, "tcp_mem", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
	(void)close(dirfd);
	return child;
}
