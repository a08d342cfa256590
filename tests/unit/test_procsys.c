/* SPDX-License-Identifier: ISC */
/* test_procsys.c: unit tests for src/procsys.c on fixture roots, with write()/openat() watched. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testlib.h"
#include "procsys.h"
#include "util.h"

/* --- write(): count the calls, keep the last buffer, fail on demand --- */
static int write_calls;
static char write_buf[256];
static int write_err;           /* != 0: fail with this errno */
static ssize_t write_short;     /* > 0: pretend only this many bytes went */

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	write_calls++;
	snprintf(write_buf, sizeof(write_buf), "%.*s", (int)n, (const char *)buf);
	if (write_err) {
		errno = write_err;
		return -1;
	}
	if (write_short > 0 && (size_t)write_short < n)
		n = (size_t)write_short;
	return __real_write(fd, buf, n);
}

/* --- openat(): fail opens for writing with this errno --- */
static int openat_wr_err;

int __real_openat(int dirfd, const char *path, int flags, ...);
int __wrap_openat(int dirfd, const char *path, int flags, ...);
int __wrap_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & O_CREAT) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (openat_wr_err && (flags & O_ACCMODE) == O_WRONLY) {
		errno = openat_wr_err;
		return -1;
	}
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

struct fx {
	char *root;
	int rootfd;
	struct procsys ps;
};

static int setup_basic(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->root = tl_mkroot("root-basic");
	f->rootfd = tl_rootfd(f->root);
	assert_int_equal(procsys_open(f->rootfd, &f->ps), 0);
	write_calls = 0;
	write_err = 0;
	write_short = 0;
	openat_wr_err = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	procsys_close(&f->ps);
	(void)close(f->rootfd);
	tl_rmroot(f->root);
	free(f);
	return 0;
}

static void assert_read(const struct procsys *ps, const char *key, const char *want)
{
	char *v = NULL;

	assert_int_equal(procsys_read(ps, key, &v), 0);
	assert_string_equal(v, want);
	free(v);
}

static void test_read_scalar_and_vectors(void **state)
{
	struct fx *f = *state;

	assert_read(&f->ps, "net.ipv4.tcp_keepalive_time", "600");
	/* the kernel prints vectors TAB-separated; we hand out single spaces */
	assert_read(&f->ps, "net.ipv4.tcp_mem", "93399 124534 186798");
	assert_read(&f->ps, "net.ipv4.tcp_rmem", "4096 131072 33554432");
	assert_read(&f->ps, "net.ipv4.ip_local_port_range", "32768 60999");
	assert_read(&f->ps, "net.ipv4.ip_local_reserved_ports", "");
	assert_read(&f->ps, "fs.file-max", "9223372036854775807");
	assert_read(&f->ps, "net.core.default_qdisc", "fq_codel");
}

static void test_read_long_value(void **state)
{
	struct fx *f = *state;
	size_t cap = 64 * 1024, len = 0;
	char *text = xmalloc(cap), *want = xmalloc(cap), *v = NULL;

	/* longer than one page: the value must come back whole */
	for (int i = 0; len < 20000; i++)
		len += (size_t)snprintf(text + len, cap - len, "%d%s", 1000 + i, i % 7 ? "\t" : ",");
	text[len - 1] = '\n';
	tl_write(f->root, "proc/sys/net/ipv4/ip_local_reserved_ports", text);
	text[len - 1] = '\0';
	strcpy(want, text);
	for (char *p = want; *p; p++)
		if (*p == '\t')
			*p = ' ';
	assert_int_equal(procsys_read(&f->ps, "net.ipv4.ip_local_reserved_ports", &v), 0);
	assert_int_equal(strlen(v), strlen(want));
	assert_string_equal(v, want);
	free(v);
	free(text);
	free(want);
}

static void test_read_missing(void **state)
{
	struct fx *f = *state;
	char *v = NULL;

	assert_int_equal(procsys_read(&f->ps, "net.ipv4.tcp_tw_recycle", &v), -ENOENT);
	assert_int_equal(procsys_read(&f->ps, "net.ipv9.tcp_sack", &v), -ENOENT);
	/* a directory is not a key */
	assert_int_equal(procsys_read(&f->ps, "net.ipv4", &v), -EISDIR);
	/* a file where a directory is expected */
	assert_int_equal(procsys_read(&f->ps, "net.ipv4.tcp_sack.x", &v), -ENOTDIR);
	assert_null(v);
}

static void test_bad_keys(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"", ".", "..", "/", "a..b", "net.ipv4.", ".net.ipv4.tcp_sack",
		"net/ipv4/tcp_sack", "net.ipv4.tcp sack", "net.ipv4.TCP_SACK",
		"net.ipv4.tcp_sack\n", "net.ipv4.*", "../../etc/passwd",
		"net.ipv4.tcp_sack ", "net.ipv4.tcp_sack=1",
	};
	char **names = NULL;
	size_t n = 0;
	char *v = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(procsys_read(&f->ps, bad[i], &v), -EINVAL);
		assert_int_equal(procsys_write(&f->ps, bad[i], "1"), -EINVAL);
		assert_int_equal(procsys_stat(&f->ps, bad[i]), -EINVAL);
		if (*bad[i])
			assert_int_equal(procsys_list(&f->ps, bad[i], &names, &n), -EINVAL);
	}
	assert_null(v);
	assert_int_equal(write_calls, 0);
	/* a newline in the value would be a second write as far as the kernel cares */
	assert_int_equal(procsys_write(&f->ps, "net.ipv4.tcp_sack", "1\n0"), -EINVAL);
	assert_int_equal(write_calls, 0);
}

static void test_symlink_leaf_not_followed(void **state)
{
	struct fx *f = *state;
	char *target = xasprintf("%s/secret", f->root), *link;
	char *v = NULL, *after;

	tl_write(f->root, "secret", "TOPSECRET\n");
	link = xasprintf("%s/proc/sys/net/ipv4/tcp_evil", f->root);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(procsys_read(&f->ps, "net.ipv4.tcp_evil", &v), -ELOOP);
	assert_null(v);
	assert_int_equal(procsys_write(&f->ps, "net.ipv4.tcp_evil", "1"), -ELOOP);
	assert_int_equal(procsys_stat(&f->ps, "net.ipv4.tcp_evil"), -ELOOP);
	assert_int_equal(write_calls, 0);
	after = tl_read(f->root, "secret");
	assert_string_equal(after, "TOPSECRET\n");
	free(after);
	/* a relative link the same */
	(void)unlink(link);
	assert_int_equal(symlink("../../../../secret", link), 0);
	assert_int_equal(procsys_read(&f->ps, "net.ipv4.tcp_evil", &v), -ELOOP);
	assert_null(v);
	free(link);
	free(target);
}

static void test_symlink_component_not_followed(void **state)
{
	struct fx *f = *state;
	char *dir = xasprintf("%s/elsewhere", f->root), *link;
	char **names = NULL;
	size_t n = 0;
	char *v = NULL;
	int r;

	tl_write(f->root, "elsewhere/tcp_sack", "SECRET\n");
	link = xasprintf("%s/proc/sys/net/evil", f->root);
	assert_int_equal(symlink(dir, link), 0);
	r = procsys_read(&f->ps, "net.evil.tcp_sack", &v);
	assert_true(r == -ELOOP || r == -ENOTDIR);
	assert_null(v);
	r = procsys_write(&f->ps, "net.evil.tcp_sack", "1");
	assert_true(r == -ELOOP || r == -ENOTDIR);
	r = procsys_list(&f->ps, "net.evil", &names, &n);
	assert_true(r == -ELOOP || r == -ENOTDIR);
	assert_int_equal(write_calls, 0);
	free(link);
	free(dir);
}

static void test_proc_symlink_refused(void **state)
{
	char *root = tl_mkroot(NULL), *real, *link;
	struct procsys ps;
	int fd, r;

	(void)state;
	tl_write(root, "real/sys/net/ipv4/tcp_sack", "1\n");
	real = xasprintf("%s/real", root);
	link = xasprintf("%s/proc", root);
	assert_int_equal(symlink(real, link), 0);
	fd = tl_rootfd(root);
	r = procsys_open(fd, &ps);
	assert_true(r == -ELOOP || r == -ENOTDIR);
	assert_int_equal(ps.sysfd, -1);
	(void)close(fd);
	free(real);
	free(link);
	tl_rmroot(root);
}

static void test_open_missing(void **state)
{
	char *root = tl_mkroot(NULL);
	struct procsys ps;
	int fd = tl_rootfd(root);

	(void)state;
	assert_int_equal(procsys_open(fd, &ps), -ENOENT);
	procsys_close(&ps);	/* harmless on a failed open */
	(void)close(fd);
	tl_rmroot(root);
}

static void test_write_single_write(void **state)
{
	struct fx *f = *state;
	char *after;

	assert_int_equal(procsys_write(&f->ps, "net.ipv4.tcp_keepalive_time", "200"), 0);
	assert_int_equal(write_calls, 1);
	assert_string_equal(write_buf, "200\n");
	after = tl_read(f->root, "proc/sys/net/ipv4/tcp_keepalive_time");
	assert_string_equal(after, "200\n");
	free(after);

	/* a vector goes out whole, in the same single write() */
	assert_int_equal(procsys_write(&f->ps, "net.ipv4.tcp_rmem", "4096 262144 16777216"), 0);
	assert_int_equal(write_calls, 2);
	assert_string_equal(write_buf, "4096 262144 16777216\n");
	after = tl_read(f->root, "proc/sys/net/ipv4/tcp_rmem");
	assert_string_equal(after, "4096 262144 16777216\n");
	free(after);
}

static void test_write_errors(void **state)
{
	struct fx *f = *state;
	char *after;

	/* short write: no second write() (the kernel would ignore it) */
	write_short = 2;
	assert_int_equal(procsys_write(&f->ps, "net.ipv4.tcp_keepalive_time", "200"), -EIO);
	assert_int_equal(write_calls, 1);
	write_short = 0;

	/* errors of write() come back as they are: range, unknown cc, netns policy */
	write_err = EINVAL;
	assert_int_equal(procsys_write(&f->ps, "net.ipv4.tcp_tw_reuse", "7"), -EINVAL);
	write_err = ENOENT;
	assert_int_equal(procsys_write(&f->ps, "net.ipv4.tcp_congestion_control", "nope"), -ENOENT);
	write_err = EPERM;
	assert_int_equal(procsys_write(&f->ps, "net.ipv4.tcp_congestion_control", "bbr"), -EPERM);
	assert_int_equal(write_calls, 4);
	write_err = 0;
	after = tl_read(f->root, "proc/sys/net/ipv4/tcp_tw_reuse");
	assert_string_equal(after, "2\n");
	free(after);

	/* and those of open(): a 0444 file, a key the kernel lacks */
	openat_wr_err = EACCES;
	assert_int_equal(procsys_write(&f->ps, "net.core.rmem_max", "4194304"), -EACCES);
	openat_wr_err = 0;
	assert_int_equal(procsys_write(&f->ps, "net.ipv4.tcp_tw_recycle", "1"), -ENOENT);
	assert_int_equal(procsys_write(&f->ps, "net.ipv4", "1"), -EISDIR);
	assert_int_equal(write_calls, 4);
}

static void test_stat(void **state)
{
	struct fx *f = *state;

	assert_int_equal(procsys_stat(&f->ps, "net.ipv4.tcp_mem"), 0);
	assert_int_equal(procsys_stat(&f->ps, "fs.nr_open"), 0);
	assert_int_equal(procsys_stat(&f->ps, "net.ipv4.tcp_tw_recycle"), -ENOENT);
	assert_int_equal(procsys_stat(&f->ps, "net.nope.tcp_sack"), -ENOENT);
	assert_int_equal(procsys_stat(&f->ps, "net.ipv4"), -EISDIR);
}

static void test_list(void **state)
{
	struct fx *f = *state;
	static const char *const core[] = {
		"default_qdisc", "netdev_max_backlog", "rmem_default", "rmem_max",
		"somaxconn", "wmem_default", "wmem_max",
	};
	char **names = NULL;
	size_t n = 0;

	assert_int_equal(procsys_list(&f->ps, "net.core", &names, &n), 0);
	assert_int_equal(n, sizeof(core) / sizeof(core[0]));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(names[i], core[i]);
	assert_null(names[n]);
	strv_free(names, n);

	assert_int_equal(procsys_list(&f->ps, "net.ipv4", &names, &n), 0);
	assert_int_equal(n, 35);	/* 34 keys and conf/ */
	assert_string_equal(names[0], "conf");
	assert_string_equal(names[1], "ip_local_port_range");
	assert_string_equal(names[n - 1], "tcp_wmem");
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(names[i - 1], names[i]) < 0);
	strv_free(names, n);

	assert_int_equal(procsys_list(&f->ps, NULL, &names, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "fs");
	assert_string_equal(names[1], "kernel");
	assert_string_equal(names[2], "net");
	strv_free(names, n);

	names = NULL;
	assert_int_equal(procsys_list(&f->ps, "net.nope", &names, &n), -ENOENT);
	assert_int_equal(procsys_list(&f->ps, "net.ipv4.tcp_mem", &names, &n), -ENOTDIR);
	assert_null(names);
}

static void test_child_netns(void **state)
{
	struct fx *f = *state;
	char *root = tl_mkroot("root-child"), *empty = tl_mkroot(NULL);
	struct procsys ps;
	int fd;

	assert_false(procsys_in_child_netns(&f->ps));

	fd = tl_rootfd(root);
	assert_int_equal(procsys_open(fd, &ps), 0);
	assert_true(procsys_in_child_netns(&ps));
	assert_int_equal(procsys_stat(&ps, "net.ipv4.tcp_mem"), -ENOENT);
	assert_int_equal(procsys_stat(&ps, "net.core.somaxconn"), 0);
	procsys_close(&ps);
	(void)close(fd);

	/* no net.ipv4 at all (no IPv4, or not a /proc): not a child netns */
	tl_write(empty, "proc/sys/kernel/sysrq", "16\n");
	fd = tl_rootfd(empty);
	assert_int_equal(procsys_open(fd, &ps), 0);
	assert_false(procsys_in_child_netns(&ps));
	procsys_close(&ps);
	(void)close(fd);
	tl_rmroot(root);
	tl_rmroot(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_scalar_and_vectors, setup_basic, teardown),
		cmocka_unit_test_setup_teardown(test_read_long_value, setup_basic, teardown),
		cmocka_unit_test_setup_teardown(test_read_missing, setup_basic, teardown),
		cmocka_unit_test_setup_teardown(test_bad_keys, setup_basic, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_leaf_not_followed, setup_basic, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_component_not_followed, setup_basic, teardown),
		cmocka_unit_test(test_proc_symlink_refused),
		cmocka_unit_test(test_open_missing),
		cmocka_unit_test_setup_teardown(test_write_single_write, setup_basic, teardown),
		cmocka_unit_test_setup_teardown(test_write_errors, setup_basic, teardown),
		cmocka_unit_test_setup_teardown(test_stat, setup_basic, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup_basic, teardown),
		cmocka_unit_test_setup_teardown(test_child_netns, setup_basic, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
