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

/*
 * Are we in a user namespace other than the initial one (uid_map not the
 * identity)? 1 or 0; -errno when uid_map cannot be read: then nobody can
 * say whether an overflow-uid owner is root, and a guess would be a lie.
 */
static int in_child_userns(void)
{
	char buf[128] = "";
	int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	unsigned long a = 0, b = 0, n = 0;
	ssize_t k;

	/* a kernel without user namespaces has no uid_map: the initial one */
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	k = read(fd, buf, sizeof(buf) - 1);
	if (k < 0) {
		int r = -errno;

		(void)close(fd);
		return r;
	}
	(void)close(fd);
	buf[k] = '\0';
	if (sscanf(buf, "%lu %lu %lu", &a, &b, &n) != 3)
		return 0;
	return !(a == 0 && b == 0 && n == 4294967295UL);
}

/*
 * An owner root may trust: root, or in a child user namespace the overflow
 * uid, which is how the kernel shows owners outside it (the host's root
 * among them: from inside we cannot tell them apart). 1 or 0, or -errno
 * when /proc/self/uid_map cannot be read.
 */
static int owner_trusted(uid_t uid)
{
	if (uid == 0)
		return 1;
	if (uid != overflow_uid())
		return 0;
	return in_child_userns();
}

/* The refusal for an owner that is not trusted, or the error that left it unknown. */
static int owner_refusal(uid_t uid, const char *below, char **ret_why)
{
	int t = owner_trusted(uid);

	if (t < 0)
		*ret_why = xasprintf("reading /proc/self/uid_map failed: %s; whether %s%s (uid %u) is "
				     "root cannot be told", strerror(-t), below ? "the owner of " : "its owner",
				     below ? below : "", (unsigned)uid);
	else if (!t && below)
		*ret_why = xasprintf("below %s, owned by uid %u, not root", below, (unsigned)uid);
	else if (!t)
		*ret_why = xasprintf("owned by uid %u, not root", (unsigned)uid);
	return t < 0 ? t : 0;
}

/*
 * Why root must not read `path` (fstat in st), as OpenSSH's StrictModes and
 * doas judge: writable by group or others, owned by someone other than root,
 * or below a directory that is (writable by group or others without the
 * sticky bit, or owned by another user). 0 with *ret_why NULL when it is
 * safe, 0 with the reason, or -errno with the read that failed. Caller frees.
 */
int profile_perms_refusal(const char *path, const struct stat *st, char **ret_why)
{
	char *dir = profile_path_dir(path), *real, *why = NULL;
	int r = 0;

	if (st->st_mode & (S_IWGRP | S_IWOTH))
		why = xasprintf("writable by %s", st->st_mode & S_IWOTH ? "everyone" : "its group");
	else
		r = owner_refusal(st->st_uid, NULL, &why);
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
		else
			r = owner_refusal(ds.st_uid, real, &why);
		slash = strrchr(real, '/');
		if (!slash || (slash == real && real[1] == '\0'))
			last = true;
		else
			slash[slash == real] = '\0';
	}
	free(real);
	free(dir);
	*ret_why = why;
	return r;
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

