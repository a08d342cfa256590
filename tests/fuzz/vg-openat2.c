/* SPDX-License-Identifier: ISC */
/*
 * vg-openat2.c: an LD_PRELOAD for `make check-valgrind` only. Valgrind
 * before 3.21 answers openat2() (syscall 437) with ENOSYS, so the boot
 * view cannot load under it. This serves openat2(RESOLVE_IN_ROOT) with
 * openat() one component at a time: symlinks are read and resolved inside
 * the root and ".." stops at it, as the kernel does. Never in the program.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_DEPTH 64

/* Close the directories walked; returns -1 with errno e. */
static int fail(int *stack, int n, int e)
{
	while (n > 0)
		(void)close(stack[--n]);
	errno = e;
	return -1;
}

/* Close the directories walked and return fd, errno as open left it. */
static int done(int *stack, int n, int fd)
{
	int e = errno;

	(void)fail(stack, n, e);
	return fd;
}

static int in_root(int rootfd, const char *path, unsigned long long flags)
{
	int stack[MAX_DEPTH], n = 0, links = 0;
	char buf[8192], *rest, *comp;

	if (strlen(path) >= sizeof(buf) / 2) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	rest = buf;
	for (;;) {
		int cur = n ? stack[n - 1] : rootfd, fd;
		struct stat st;

		while (*rest == '/')
			rest++;
		if (!*rest) {
			/* the path named a directory (or the root): open it as asked */
			fd = openat(cur, ".", (int)flags);
			return done(stack, n, fd);
		}
		comp = rest;
		rest += strcspn(rest, "/");
		bool last = !*rest;
		if (*rest)
			*rest++ = '\0';
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			if (n)
				(void)close(stack[--n]);
			continue;
		}
		if (fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (last && errno == ENOENT && (flags & O_CREAT))
				goto open_last;
			return fail(stack, n, errno);
		}
		if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
			char target[4096], tmp[8192];
			ssize_t k = readlinkat(cur, comp, target, sizeof(target) - 1);

			if (k < 0 || ++links > 40)
				return fail(stack, n, k < 0 ? errno : ELOOP);
			target[k] = '\0';
			if (snprintf(tmp, sizeof(tmp), "%s%s%s", target, *rest ? "/" : "", rest) >= (int)sizeof(tmp))
				return fail(stack, n, ENAMETOOLONG);
			strcpy(buf, tmp);
			rest = buf;
			if (target[0] == '/') {
				(void)fail(stack, n, 0);
				n = 0;
			}
			continue;
		}
		if (last) {
open_last:
			fd = openat(cur, comp, (int)flags | O_NOFOLLOW, 0644);
			return done(stack, n, fd);
		}
		if (n == MAX_DEPTH)
			return fail(stack, n, ENAMETOOLONG);
		fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return fail(stack, n, errno);
		stack[n++] = fd;
	}
}

long syscall(long nr, ...)
{
	static long (*real)(long, ...);
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_openat2) {
		const struct open_how *how = (const struct open_how *)a[2];

		if (!(how->resolve & RESOLVE_IN_ROOT)) {
			errno = ENOSYS;
			return -1;
		}
		return in_root((int)a[0], (const char *)a[1], how->flags);
	}
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
