/* profile_perms.c: who may have written a profile: root refuses one that others can change. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "profile.h"
#include "profile-internal.h"

/* The uid the kernel shows for an owner outside our user namespace. */
static uid_t overflow_uid(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/kernel/overflowuid", O_RDONLY | O_CLOEXEC);
	long long v;

	if (fd >= 0) {
		ssize_t k = read(fd, buf, sizeof(buf) - 1);

		buf[k > 0 ? k : 0] = '\0';
		(void)close(fd);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return parse_ll(buf, &v) == 0 && v >= 0 ? (uid_t)v : 65534;
}

/* Are we in a user namespace other than the initial one (uid_map not the identity)? */
static bool in_child_userns(void)
{
	char buf[128] = "";
	int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	unsigned long a = 0, b = 0, n = 0;

	if (fd < 0)
		return false;
	ssize_t k = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	buf[k > 0 ? k : 0] = '\0';
	if (sscanf(buf, "%lu %lu %lu", &a, &b, &n) != 3)
		return false;
	return !(a == 0 && b == 0 && n == 4294967295UL);
}

/*
 * An owner root may trust: root, or in a child user namespace the overflow
 * uid, which is how the kernel shows owners outside it (the host's root
 * among them: from inside we cannot tell them apart).
 */
static bool owner_trusted(uid_t uid)
{
	return uid == 0 || (uid == overflow_uid() && in_child_userns());
}

/*
 * Why root must not read `path` (fstat in st), as OpenSSH's StrictModes and
 * doas judge: writable by group or others, owned by someone other than root,
 * or below a directory that is (writable by group or others without the
 * sticky bit, or owned by another user). NULL when it is safe. Caller frees.
 */
char *profile_perms_refusal(const char *path, const struct stat *st)
{
	char *dir = profile_path_dir(path), *real, *why = NULL;

	if (st->st_mode & (S_IWGRP | S_IWOTH))
		why = xasprintf("writable by %s", st->st_mode & S_IWOTH ? "everyone" : "its group");
	else if (!owner_trusted(st->st_uid))
		why = xasprintf("owned by uid %u, not root", (unsigned)st->st_uid);
	real = why ? NULL : realpath(dir, NULL);
	if (!why && !real)
		why = xasprintf("its directory %s: %s", dir, strerror(errno));
	/* every directory up to /: whoever can rename in one of them can swap the file */
	for (bool last = false; real && !why && !last;) {
		struct stat ds;
		char *slash;

		if (stat(real, &ds) < 0)
			why = xasprintf("directory %s: %s", real, strerror(errno));
		else if ((ds.st_mode & (S_IWGRP | S_IWOTH)) && !(ds.st_mode & S_ISVTX))
			why = xasprintf("below %s, which %s can write (no sticky bit)", real,
					ds.st_mode & S_IWOTH ? "everyone" : "its group");
		else if (!owner_trusted(ds.st_uid))
			why = xasprintf("below %s, owned by uid %u, not root", real, (unsigned)ds.st_uid);
		slash = strrchr(real, '/');
		if (!slash || (slash == real && real[1] == '\0'))
			last = true;
		else
			slash[slash == real] = '\0';
	}
	free(real);
	free(dir);
	return why;
}

/*
 * Warn, as sudo and doas do for their configuration, when someone other
 * than root or us could change what tcptune is about to apply: the file
 * is writable by group or others or owned by another user, or its
 * directory lets others replace it (writable and not sticky). An owner
 * outside our user namespace shows as the overflow uid: unknowable, so no
 * warning for that.
 */
void profile_perms_check(struct loader *l, const char *path, const struct stat *st)
{
	char *dir = profile_path_dir(path);
	struct stat ds;

	if (st->st_mode & (S_IWGRP | S_IWOTH))
		msgs_add(&l->warnings, "%s: writable by %s: they can change what tcptune applies",
			 path, st->st_mode & S_IWOTH ? "everyone" : "its group");
	if (st->st_uid != 0 && st->st_uid != geteuid() && st->st_uid != overflow_uid())
		msgs_add(&l->warnings, "%s: owned by uid %u, neither root nor you: they can change what tcptune applies",
			 path, (unsigned)st->st_uid);
	if (stat(dir, &ds) == 0 && (ds.st_mode & (S_IWGRP | S_IWOTH)) && !(ds.st_mode & S_ISVTX))
		msgs_add(&l->warnings, "%s: directory %s is writable by %s: they can replace the profile",
			 path, dir, ds.st_mode & S_IWOTH ? "everyone" : "its group");
	free(dir);
}

