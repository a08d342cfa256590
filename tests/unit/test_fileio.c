/* SPDX-License-Identifier: ISC */
/* test_fileio.c: unit tests for src/fileio.c, with write/fsync/renameat/openat failing on demand. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testlib.h"
#include "fileio.h"
#include "util.h"

/* --- fault injection: the N-th call (1-based) of a wrapped function fails with err --- */
struct fault {
	int nth;        /* 0: never */
	int err;
	int calls;
};
static struct fault f_write, f_fsync, f_renameat, f_openat;
static size_t write_chunk;          /* > 0: short writes of at most this many bytes */

static void faults_reset(void)
{
	memset(&f_write, 0, sizeof(f_write));
	memset(&f_fsync, 0, sizeof(f_fsync));
	memset(&f_renameat, 0, sizeof(f_renameat));
	memset(&f_openat, 0, sizeof(f_openat));
	write_chunk = 0;
}

static bool fault_hit(struct fault *f)
{
	f->calls++;
	if (f->nth && f->calls == f->nth) {
		errno = f->err;
		return true;
	}
	return false;
}

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (fault_hit(&f_write))
		return -1;
	if (write_chunk && n > write_chunk)
		n = write_chunk;
	return __real_write(fd, buf, n);
}

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
	if (fault_hit(&f_fsync))
		return -1;
	return __real_fsync(fd);
}

int __real_renameat(int a, const char *b, int c, const char *d);
int __wrap_renameat(int a, const char *b, int c, const char *d);
int __wrap_renameat(int a, const char *b, int c, const char *d)
{
	if (fault_hit(&f_renameat))
		return -1;
	return __real_renameat(a, b, c, d);
}

int __real_openat(int dirfd, const char *path, int flags, ...);
int __wrap_openat(int dirfd, const char *path, int flags, ...);
int __wrap_openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = (flags & (O_CREAT | __O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	if (fault_hit(&f_openat))
		return -1;
	return __real_openat(dirfd, path, flags, mode);
}

/*
 * With _FORTIFY_SOURCE (Debian's build flags), the library calls
 * __openat_2 for three-argument opens: watch that door too.
 */
int __wrap___openat_2(int dirfd, const char *path, int flags);
int __wrap___openat_2(int dirfd, const char *path, int flags)
{
	return __wrap_openat(dirfd, path, flags);
}

/* --- helpers --- */
static char *root;
static int rootfd = -1;

static int setup(void **state)
{
	(void)state;
	faults_reset();
	(void)umask(022);
	root = tl_mkroot(NULL);
	rootfd = tl_rootfd(root);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	faults_reset();
	(void)close(rootfd);
	tl_rmroot(root);
	root = NULL;
	return 0;
}

/* Entries in <root>/<rel>, for "no temp file left behind". */
static int count_entries(const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel);
	DIR *d = opendir(p);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	free(p);
	return n;
}

static mode_t mode_of(const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel);
	struct stat st;

	assert_int_equal(lstat(p, &st), 0);
	free(p);
	return st.st_mode;
}

static void symlink_in_root(const char *target, const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel);

	assert_int_equal(symlink(target, p), 0);
	free(p);
}

/* --- open_dir --- */
static void test_open_dir_creates(void **state)
{
	struct stat st;
	int fd;

	(void)state;
	fd = fileio_open_dir(rootfd, "/var/lib/tcptune", false);
	assert_int_equal(fd, -ENOENT);
	fd = fileio_open_dir(rootfd, "/var/lib/tcptune", true);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	(void)close(fd);
	/* "//var/./lib/" is the same directory */
	fd = fileio_open_dir(rootfd, "//var/./lib/", false);
	assert_true(fd >= 0);
	(void)close(fd);
	assert_int_equal(fileio_open_dir(rootfd, "/var/../etc", true), -EINVAL);
}

static void test_open_dir_refuses_symlink(void **state)
{
	char *outside = tl_mkroot(NULL);
	int fd;

	(void)state;
	tl_write(root, "var/keep", "");
	/* a symlink to a directory outside the root, and one back inside it */
	symlink_in_root(outside, "var/lib");
	fd = fileio_open_dir(rootfd, "/var/lib/tcptune", true);
	assert_true(fd == -ELOOP || fd == -ENOTDIR);
	symlink_in_root("/var", "run");
	fd = fileio_open_dir(rootfd, "/run/lock", true);
	assert_true(fd == -ELOOP || fd == -ENOTDIR);
	/* nothing was created through the links */
	char *p = xasprintf("%s/tcptune", outside);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
	tl_rmroot(outside);
}

static void test_open_parent(void **state)
{
	char *name = NULL;
	int fd;

	(void)state;
	fd = fileio_open_parent(rootfd, "/etc/sysctl.d/90-tcptune.conf", true, &name);
	assert_true(fd >= 0);
	assert_string_equal(name, "90-tcptune.conf");
	free(name);
	(void)close(fd);
	assert_int_equal(fileio_open_parent(rootfd, "/etc/sysctl.d/", true, &name), -EINVAL);
	assert_int_equal(fileio_open_parent(rootfd, "/etc/..", true, &name), -EINVAL);
}

/* --- replace --- */
static int etc_dir(void)
{
	int fd = fileio_open_dir(rootfd, "/etc/sysctl.d", true);

	assert_true(fd >= 0);
	return fd;
}

static void test_replace_new_and_existing(void **state)
{
	struct stat a, b;
	int dfd = etc_dir();
	char *text;

	(void)state;
	assert_int_equal(fileio_replace_at(dfd, "x.conf", "one\n", 4, 0644), 0);
	text = tl_read(root, "etc/sysctl.d/x.conf");
	assert_string_equal(text, "one\n");
	free(text);
	assert_int_equal(mode_of("etc/sysctl.d/x.conf") & 07777, 0644);
	assert_int_equal(fstatat(dfd, "x.conf", &a, 0), 0);

	assert_int_equal(fileio_replace_at(dfd, "x.conf", "two two\n", 8, 0600), 0);
	text = tl_read(root, "etc/sysctl.d/x.conf");
	assert_string_equal(text, "two two\n");
	free(text);
	assert_int_equal(mode_of("etc/sysctl.d/x.conf") & 07777, 0600);
	/* a new inode renamed over the old one, not the old one rewritten */
	assert_int_equal(fstatat(dfd, "x.conf", &b, 0), 0);
	assert_true(a.st_ino != b.st_ino);
	/* empty content is a valid file */
	assert_int_equal(fileio_replace_at(dfd, "x.conf", "", 0, 0644), 0);
	text = tl_read(root, "etc/sysctl.d/x.conf");
	assert_string_equal(text, "");
	free(text);
	assert_int_equal(count_entries("etc/sysctl.d"), 1);
	(void)close(dfd);
}

static void test_replace_short_writes(void **state)
{
	int dfd = etc_dir();
	const char *data = "net.ipv4.tcp_keepalive_time = 200\nnet.core.somaxconn = 4096\n";
	char *text;

	(void)state;
	write_chunk = 3;
	assert_int_equal(fileio_replace_at(dfd, "x.conf", data, strlen(data), 0644), 0);
	assert_true(f_write.calls > 10);
	text = tl_read(root, "etc/sysctl.d/x.conf");
	assert_string_equal(text, data);
	free(text);
	(void)close(dfd);
}

static void test_replace_refuses_symlink(void **state)
{
	int dfd = etc_dir();
	char *text;

	(void)state;
	tl_write(root, "etc/passwd", "root:x:0:0\n");
	symlink_in_root("../passwd", "etc/sysctl.d/x.conf");
	assert_int_equal(fileio_replace_at(dfd, "x.conf", "evil\n", 5, 0644), -ELOOP);
	text = tl_read(root, "etc/passwd");
	assert_string_equal(text, "root:x:0:0\n");
	free(text);
	assert_true(S_ISLNK(mode_of("etc/sysctl.d/x.conf")));
	assert_int_equal(count_entries("etc/sysctl.d"), 1);

	tl_write(root, "etc/sysctl.d/dir.conf/keep", "");
	assert_int_equal(fileio_replace_at(dfd, "dir.conf", "x\n", 2, 0644), -EISDIR);
	(void)close(dfd);
}

/* Every fault leaves the old file as it was and no temp file behind. */
static void replace_fault(struct fault *f, int nth, int err)
{
	int dfd = etc_dir();
	char *text;

	tl_write(root, "etc/sysctl.d/x.conf", "old\n");
	f->nth = nth;
	f->err = err;
	assert_int_equal(fileio_replace_at(dfd, "x.conf", "new\n", 4, 0644), -err);
	assert_true(f->calls >= nth);
	text = tl_read(root, "etc/sysctl.d/x.conf");
	assert_string_equal(text, "old\n");
	free(text);
	assert_int_equal(count_entries("etc/sysctl.d"), 1);
	(void)close(dfd);
}

static void test_replace_write_fails(void **state)
{
	(void)state;
	replace_fault(&f_write, 1, ENOSPC);
}

static void test_replace_short_then_fail(void **state)
{
	(void)state;
	write_chunk = 1;
	replace_fault(&f_write, 3, EIO);
}

static void test_replace_fsync_fails(void **state)
{
	(void)state;
	replace_fault(&f_fsync, 1, EIO);
}

static void test_replace_rename_fails(void **state)
{
	(void)state;
	replace_fault(&f_renameat, 1, EXDEV);
}

static void test_replace_open_fails(void **state)
{
	int dfd = etc_dir();
	char *text;

	(void)state;
	/* count from here: the first openat is the temp file's */

	tl_write(root, "etc/sysctl.d/x.conf", "old\n");
	f_openat.calls = 0;
	f_openat.nth = 1;
	f_openat.err = EACCES;
	assert_int_equal(fileio_replace_at(dfd, "x.conf", "new\n", 4, 0644), -EACCES);
	text = tl_read(root, "etc/sysctl.d/x.conf");
	assert_string_equal(text, "old\n");
	free(text);
	assert_int_equal(count_entries("etc/sysctl.d"), 1);
	(void)close(dfd);
}

static void test_replace_dir_fsync_fails(void **state)
{
	int dfd = etc_dir();
	char *text;

	(void)state;
	/* fsync #1 is the file, #2 the directory: the rename happened, the caller must know */
	f_fsync.nth = 2;
	f_fsync.err = EIO;
	assert_int_equal(fileio_replace_at(dfd, "x.conf", "new\n", 4, 0644), -EIO);
	assert_int_equal(f_fsync.calls, 2);
	text = tl_read(root, "etc/sysctl.d/x.conf");
	assert_string_equal(text, "new\n");
	free(text);
	assert_int_equal(count_entries("etc/sysctl.d"), 1);
	(void)close(dfd);
}

static void test_remove_temps(void **state)
{
	int dfd = etc_dir();
	char *t;

	(void)state;
	tl_write(root, "etc/sysctl.d/.x.conf.0123456789abcdef", "half");
	tl_write(root, "etc/sysctl.d/.x.conf.fedcba9876543210", "half");
	tl_write(root, "etc/sysctl.d/.x.conf.0123", "not ours");
	tl_write(root, "etc/sysctl.d/.y.conf.0123456789abcdef", "other file");
	tl_write(root, "etc/sysctl.d/x.conf", "keep");
	assert_int_equal(fileio_remove_temps(dfd, "x.conf"), 2);
	assert_int_equal(count_entries("etc/sysctl.d"), 3);
	t = tl_read(root, "etc/sysctl.d/x.conf");
	assert_string_equal(t, "keep");
	free(t);
	assert_int_equal(fileio_remove_temps(dfd, "x.conf"), 0);
	(void)close(dfd);
}

/* --- read / unlink --- */
static void test_read(void **state)
{
	int dfd = etc_dir();
	char *data = NULL, *p;
	size_t len = 0;

	(void)state;
	assert_int_equal(fileio_read_at(dfd, "none.conf", &data, &len), -ENOENT);
	tl_write(root, "etc/sysctl.d/a.conf", "a = 1\n");
	assert_int_equal(fileio_read_at(dfd, "a.conf", &data, &len), 0);
	assert_int_equal(len, 6);
	assert_string_equal(data, "a = 1\n");
	free(data);

	symlink_in_root("a.conf", "etc/sysctl.d/l.conf");
	assert_int_equal(fileio_read_at(dfd, "l.conf", &data, &len), -ELOOP);

	p = xasprintf("%s/etc/sysctl.d/fifo.conf", root);
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	assert_int_equal(fileio_read_at(dfd, "fifo.conf", &data, &len), -EINVAL);

	/* one byte over the limit */
	p = xasprintf("%s/etc/sysctl.d/big.conf", root);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	for (size_t i = 0; i <= FILEIO_READ_MAX; i++)
		putc('x', f);
	fclose(f);
	free(p);
	assert_int_equal(fileio_read_at(dfd, "big.conf", &data, &len), -EFBIG);
	(void)close(dfd);
}

static void test_unlink(void **state)
{
	int dfd = etc_dir();
	char *text;

	(void)state;
	tl_write(root, "etc/sysctl.d/a.conf", "a = 1\n");
	assert_int_equal(fileio_unlink_at(dfd, "a.conf"), 0);
	assert_null(tl_read(root, "etc/sysctl.d/a.conf"));
	assert_int_equal(fileio_unlink_at(dfd, "a.conf"), 0);

	tl_write(root, "etc/keep", "keep\n");
	symlink_in_root("../keep", "etc/sysctl.d/l.conf");
	assert_int_equal(fileio_unlink_at(dfd, "l.conf"), -ELOOP);
	assert_true(S_ISLNK(mode_of("etc/sysctl.d/l.conf")));
	text = tl_read(root, "etc/keep");
	assert_string_equal(text, "keep\n");
	free(text);
	(void)close(dfd);
}

/* --- lock --- */
static void test_lock_same_process(void **state)
{
	struct fileio_lock a, b;
	pid_t holder = -1;
	char *text, *want;

	(void)state;
	assert_int_equal(fileio_lock(rootfd, "/run/lock/tcptune.lock", 0, &a, &holder), 0);
	assert_true(a.fd >= 0);
	text = tl_read(root, "run/lock/tcptune.lock");
	want = xasprintf("%ld\n", (long)getpid());
	assert_string_equal(text, want);
	free(text);
	free(want);
	assert_int_equal(mode_of("run/lock/tcptune.lock") & 07777, 0600);

	/* flock conflicts between open file descriptions, even in one process */
	assert_int_equal(fileio_lock(rootfd, "/run/lock/tcptune.lock", 200, &b, &holder),
			 -EWOULDBLOCK);
	assert_int_equal(b.fd, -1);
	assert_int_equal(holder, getpid());
	fileio_unlock(&a);
	assert_int_equal(a.fd, -1);
	fileio_unlock(&a);
	assert_int_equal(fileio_lock(rootfd, "/run/lock/tcptune.lock", 0, &b, &holder), 0);
	fileio_unlock(&b);
}

static void test_lock_other_process(void **state)
{
	struct fileio_lock l;
	pid_t child, holder = 0;
	int p[2], st;
	char c;

	(void)state;
	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct fileio_lock cl;
		if (fileio_lock(rootfd, "/run/lock/tcptune.lock", 0, &cl, NULL) < 0)
			_exit(1);
		(void)__real_write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	(void)close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(fileio_lock(rootfd, "/run/lock/tcptune.lock", 100, &l, &holder),
			 -EWOULDBLOCK);
	assert_int_equal(holder, child);
	/* the lock dies with its holder: a waiter gets it within its timeout */
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_int_equal(fileio_lock(rootfd, "/run/lock/tcptune.lock", 1000, &l, &holder), 0);
	fileio_unlock(&l);
	(void)close(p[0]);
}

/*
 * The holder is named by the kernel, not by the file: a waiter that looks
 * while the file is empty (the holder took the lock and has not written its
 * PID yet) or holds a stale PID still names the process that holds it.
 */
static void test_lock_names_holder_not_file(void **state)
{
	struct fileio_lock l;
	pid_t child, holder = 0;
	int p[2], st;
	char c;

	(void)state;
	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct fileio_lock cl;
		if (fileio_lock(rootfd, "/run/lock/tcptune.lock", 0, &cl, NULL) < 0)
			_exit(1);
		(void)__real_write(p[1], "x", 1);
		alarm(20); /* never outlive a failed assertion in the parent */
		pause();
		_exit(0);
	}
	(void)close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	tl_write(root, "run/lock/tcptune.lock", "");
	assert_int_equal(fileio_lock(rootfd, "/run/lock/tcptune.lock", 0, &l, &holder), -EWOULDBLOCK);
	assert_int_equal(holder, child);
	tl_write(root, "run/lock/tcptune.lock", "1\n");
	assert_int_equal(fileio_lock(rootfd, "/run/lock/tcptune.lock", 60, &l, &holder), -EWOULDBLOCK);
	assert_int_equal(holder, child);
	assert_int_equal(kill(child, SIGKILL), 0);
	assert_int_equal(waitpid(child, &st, 0), child);
	(void)close(p[0]);
}

/* A hard link planted in place of the lock must not get its target written. */
static void test_lock_refuses_hard_link(void **state)
{
	struct fileio_lock l;
	char *a, *b, *text;

	(void)state;
	tl_write(root, "etc/shadow", "secret\n");
	tl_write(root, "run/lock/.keep", "");
	a = xasprintf("%s/etc/shadow", root);
	b = xasprintf("%s/run/lock/tcptune.lock", root);
	assert_int_equal(chmod(a, 0600), 0);
	assert_int_equal(link(a, b), 0);
	assert_int_equal(fileio_lock(rootfd, "/run/lock/tcptune.lock", 0, &l, NULL), -EMLINK);
	assert_int_equal(l.fd, -1);
	text = tl_read(root, "etc/shadow");
	assert_string_equal(text, "secret\n");
	free(text);
	free(a);
	free(b);
}

/* A lock file left 0644 by an older version is narrowed to 0600. */
static void test_lock_narrows_mode(void **state)
{
	struct fileio_lock l;
	char *p;

	(void)state;
	tl_write(root, "run/lock/tcptune.lock", "123\n");
	p = xasprintf("%s/run/lock/tcptune.lock", root);
	assert_int_equal(chmod(p, 0644), 0);
	free(p);
	assert_int_equal(fileio_lock(rootfd, "/run/lock/tcptune.lock", 0, &l, NULL), 0);
	assert_int_equal(mode_of("run/lock/tcptune.lock") & 07777, 0600);
	fileio_unlock(&l);
}

static void test_lock_refuses_symlink(void **state)
{
	struct fileio_lock l;
	char *text;

	(void)state;
	tl_write(root, "etc/shadow", "secret\n");
	tl_write(root, "run/lock/.keep", "");
	symlink_in_root("../../etc/shadow", "run/lock/tcptune.lock");
	assert_int_equal(fileio_lock(rootfd, "/run/lock/tcptune.lock", 0, &l, NULL), -ELOOP);
	assert_int_equal(l.fd, -1);
	text = tl_read(root, "etc/shadow");
	assert_string_equal(text, "secret\n");
	free(text);
}

static void test_lock_refuses_foreign_owner(void **state)
{
	struct fileio_lock l;
	char *p;

	(void)state;
	if (geteuid() != 0)
		tl_skip("chown needs root");
	tl_write(root, "run/lock/tcptune.lock", "");
	p = xasprintf("%s/run/lock/tcptune.lock", root);
	assert_int_equal(chown(p, 65534, 65534), 0);
	free(p);
	assert_int_equal(fileio_lock(rootfd, "/run/lock/tcptune.lock", 0, &l, NULL), -EPERM);
	assert_int_equal(l.fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_dir_creates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_dir_refuses_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_new_and_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_short_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_refuses_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_write_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_short_then_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_fsync_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_rename_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_open_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_dir_fsync_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_temps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_same_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_other_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_names_holder_not_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_refuses_hard_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_narrows_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_refuses_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_refuses_foreign_owner, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
