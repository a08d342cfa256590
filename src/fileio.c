/* SPDX-License-Identifier: ISC */
/* fileio.c: atomic file replacement, whole-file reads and lock files below a root directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "fileio.h"
#include "util.h"

#define DIR_OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

int fileio_open_dir(int rootfd, const char *path, bool create)
{
	char *copy = xstrdup(path), *save = NULL;
	int fd, r = 0;

	/* mode is passed even without O_CREAT so a fortified openat() needs no check */
	fd = openat(rootfd, ".", DIR_OPEN_FLAGS & ~O_NOFOLLOW, 0);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int next;

		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			r = -EINVAL;
			goto out;
		}
		next = openat(fd, c, DIR_OPEN_FLAGS, 0);
		if (next < 0 && errno == ENOENT && create) {
			/* someone else may create it at the same time: EEXIST is fine */
			if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST) {
				r = -errno;
				goto out;
			}
			next = openat(fd, c, DIR_OPEN_FLAGS, 0);
		}
		if (next < 0) {
			r = -errno;
			goto out;
		}
		(void)close(fd);
		fd = next;
	}
out:
	free(copy);
	if (r < 0) {
		if (fd >= 0)
			(void)close(fd);
		return r;
	}
	return fd;
}

int fileio_open_parent(int rootfd, const char *path, bool create, char **ret_name)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	char *dir;
	int fd;

	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	dir = slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
	fd = fileio_open_dir(rootfd, *dir ? dir : "/", create);
	free(dir);
	if (fd < 0)
		return fd;
	*ret_name = xstrdup(name);
	return fd;
}

/* A symlink or a non-regular file where we keep our own files is someone else's doing. */
static int check_target(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return 1;
}

int fileio_read_at(int dirfd, const char *name, char **ret_data, size_t *ret_len)
{
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: a FIFO in place of the file must not hang us */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	else
		r = read_all(fd, FILEIO_READ_MAX, ret_data, ret_len);
	(void)close(fd);
	return r;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync a directory given any fd for it (an O_PATH fd cannot be fsynced itself). */
static int fsync_dir(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	(void)close(fd);
	return r;
}

/* An unpredictable temp name next to the target: ".NAME.XXXXXXXXXXXXXXXX". */
static char *temp_name(const char *name)
{
	unsigned long long rnd = 0;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		struct timespec ts;

		/* no entropy yet (early boot): O_EXCL still keeps us safe */
		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		rnd ^= (unsigned long long)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^
		       (unsigned long long)getpid() << 32;
	}
	return xasprintf(".%s.%016llx", name, rnd);
}

int fileio_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	char *tmp = NULL;
	int fd = -1, r;

	r = check_target(dirfd, name);
	if (r < 0)
		return r;
	for (int tries = 0; tries < 16 && fd < 0; tries++) {
		free(tmp);
		tmp = temp_name(name);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST) {
			r = -errno;
			free(tmp);
			return r;
		}
	}
	if (fd < 0) {
		free(tmp);
		return -EEXIST;
	}
	r = write_all(fd, data, len);
	if (r < 0)
		goto fail;
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		goto fail;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = -errno;
		goto fail;
	}
	free(tmp);
	/* the rename is only durable once the directory is on disk */
	return fsync_dir(dirfd);
fail:
	if (fd >= 0)
		(void)close(fd);
	(void)unlinkat(dirfd, tmp, 0);
	free(tmp);
	return r;
}

static bool is_temp_of(const char *entry, const char *name)
{
	size_t n = strlen(name);

	if (entry[0] != '.' || strncmp(entry + 1, name, n) != 0 || entry[n + 1] != '.')
		return false;
	entry += n + 2;
	if (strlen(entry) != 16)
		return false;
	for (; *entry; entry++)
		if (!((*entry >= '0' && *entry <= '9') || (*entry >= 'a' && *entry <= 'f')))
			return false;
	return true;
}

int fileio_remove_temps(int dirfd, const char *name)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), n = 0;
	struct dirent *e;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		(void)close(fd);
		return r;
	}
	while ((e = readdir(d)))
		if (is_temp_of(e->d_name, name) && unlinkat(dirfd, e->d_name, 0) == 0)
			n++;
	(void)closedir(d);
	return n;
}

int fileio_unlink_at(int dirfd, const char *name)
{
	int r = check_target(dirfd, name);

	if (r <= 0)
		return r;
	if (unlinkat(dirfd, name, 0) < 0)
		return errno == ENOENT ? 0 : -errno;
	return fsync_dir(dirfd);
}

int fileio_set_aside_at(int dirfd, const char *name, const char *aside, int *ret_after)
{
	struct stat st;
	int r;

	*ret_after = 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (renameat(dirfd, name, dirfd, aside) < 0) {
		/*
		 * The older copy set aside goes when it is in the way: a file
		 * (a directory cannot replace it) or an empty directory. One
		 * with entries stays: -EEXIST, the caller says to remove it.
		 */
		if (errno == ENOTDIR)
			r = unlinkat(dirfd, aside, 0);
		else if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST)
			r = unlinkat(dirfd, aside, AT_REMOVEDIR);
		else
			return -errno;
		if (r < 0)
			return errno == ENOTEMPTY || errno == EEXIST ? -EEXIST : -errno;
		if (renameat(dirfd, name, dirfd, aside) < 0)
			return -errno;
	}
	/*
	 * Set aside now, whatever follows: a failure after the rename is the
	 * caller's to tell. What was readable by others (a journal of 0644
	 * days) is no longer.
	 */
	if (S_ISREG(st.st_mode) && (st.st_mode & 077) && fchmodat(dirfd, aside, 0600, 0) < 0)
		*ret_after = -errno;
	r = fsync_dir(dirfd);
	if (r < 0 && !*ret_after)
		*ret_after = r;
	return 1;
}

/*
 * Who holds the lock, asked of the kernel: the POSIX record lock that every
 * holder takes before its flock carries the holder's PID, with no window in
 * which a waiter could read an empty or stale file. 0 when the lock is free
 * again, -1 when it is held by a process we cannot name (in another PID
 * namespace: the kernel reports 0 there), else the PID.
 */
static pid_t lock_holder(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_GETLK, &fl) < 0)
		return -1;
	if (fl.l_type == F_UNLCK)
		return 0;
	return fl.l_pid > 0 ? fl.l_pid : -1;
}

/* The PID in the file: only for a holder in this very process (POSIX locks do not conflict there). */
static pid_t lock_file_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long long pid;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (parse_ll(buf, &pid) < 0 || pid <= 0 || pid > 0x7fffffff)
		return -1;
	return (pid_t)pid;
}

#ifdef TCPTUNE_TEST_HOOKS
/* Test builds: TCPTUNE_TEST_LOCK_PAUSE_MS holds the lock that long before we write our PID. */
static void lock_test_pause(void)
{
	const char *v = getenv("TCPTUNE_TEST_LOCK_PAUSE_MS");
	long long ms;

	if (!v || parse_ll(v, &ms) < 0 || ms <= 0)
		return;
	(void)fprintf(stderr, "tcptune: test hook: lock taken, pausing %lld ms before writing the pid\n", ms);
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	(void)nanosleep(&ts, NULL);
}
#else
static void lock_test_pause(void)
{
}
#endif

/*
 * Open the lock file: created 0600, never through a symlink, and only a
 * regular file that we own with a single link (a hard link planted in a
 * world-writable /run/lock would otherwise make us write into its target).
 */
static int lock_open(int rootfd, const char *path)
{
	struct stat st;
	char *name;
	int dirfd, fd, r;

	dirfd = fileio_open_parent(rootfd, path, true, &name);
	if (dirfd < 0)
		return dirfd;
	r = check_target(dirfd, name);
	fd = r < 0 ? -1 : openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0600);
	if (r >= 0 && fd < 0)
		r = -errno;
	free(name);
	(void)close(dirfd);
	if (fd < 0)
		return r;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	/* /run/lock is often world-writable: a lock another user owns, they can hold forever */
	else if (st.st_uid != geteuid())
		r = -EPERM;
	else if (st.st_nlink != 1)
		r = -EMLINK;
	else if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0)
		r = -errno;
	else
		return fd;
	(void)close(fd);
	return r;
}

/* Both locks, without waiting: 0, -EWOULDBLOCK with *ret_holder set, or -errno. */
static int lock_try(int fd, pid_t *ret_holder)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	/*
	 * The POSIX lock first: it names us to every other process from the
	 * moment we hold it. The flock after it excludes other open files in
	 * this process too, and tcptune versions that only knew flock.
	 */
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		if (errno != EAGAIN && errno != EACCES)
			return -errno;
		*ret_holder = lock_holder(fd);
		return -EWOULDBLOCK;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK)
		return -errno;
	*ret_holder = lock_file_pid(fd);
	return -EWOULDBLOCK;
}

int fileio_lock(int rootfd, const char *path, unsigned timeout_ms, struct fileio_lock *ret,
		pid_t *ret_holder)
{
	const long step_ms = 50;
	long waited = 0;
	char pidbuf[32];
	pid_t holder = 0;
	bool retried = false;
	int fd, r, len;

	ret->fd = -1;
	if (ret_holder)
		*ret_holder = 0;
	fd = lock_open(rootfd, path);
	if (fd < 0)
		return fd;
	for (;;) {
		r = lock_try(fd, &holder);
		if (r == 0)
			break;
		if (r == -EINTR)
			continue;
		if (r != -EWOULDBLOCK)
			goto fail;
		/* released between our try and our question: try again at once, once */
		if (holder == 0 && !retried) {
			retried = true;
			continue;
		}
		if (waited >= (long)timeout_ms) {
			if (ret_holder)
				*ret_holder = holder == 0 ? -1 : holder;
			goto fail;
		}
		struct timespec ts = { 0, step_ms * 1000000L };
		(void)nanosleep(&ts, NULL);
		waited += step_ms;
		retried = false;
	}
	lock_test_pause();
	/* For people and scripts looking at the file: written whole before the old tail is cut, never empty. */
	len = snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());
	if (pwrite(fd, pidbuf, (size_t)len, 0) != len || ftruncate(fd, len) < 0) {
		r = errno ? -errno : -EIO;
		goto fail;
	}
	ret->fd = fd;
	return 0;
fail:
	(void)close(fd);
	return r;
}

void fileio_unlock(struct fileio_lock *l)
{
	if (!l || l->fd < 0)
		return;
	/* closing drops both locks; the stale PID left behind is harmless: waiters ask the kernel */
	(void)close(l->fd);
	l->fd = -1;
}
