/* SPDX-License-Identifier: ISC */
/* test_sysctld.c: unit tests for src/sysctld.c; the expected values were checked against systemd 252 and procps 4.0.2. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testlib.h"
#include "sysctld.h"
#include "util.h"

struct fx {
	char *root;
	int rootfd;
	struct bootview bv;
};

static int setup_empty(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->root = tl_mkroot(NULL);
	f->rootfd = tl_rootfd(f->root);
	*state = f;
	return 0;
}

static int setup_basic(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->root = tl_mkroot("root-basic");
	f->rootfd = tl_rootfd(f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sysctld_free(&f->bv);
	(void)close(f->rootfd);
	tl_rmroot(f->root);
	free(f);
	return 0;
}

static void load(struct fx *f, const char *ov_path, const char *ov_text)
{
	sysctld_free(&f->bv);
	assert_int_equal(sysctld_load(f->rootfd, ov_path, ov_text, &f->bv), 0);
}

static void link_at(const struct fx *f, const char *target, const char *rel)
{
	char *p = xasprintf("%s/%s", f->root, rel);

	(void)unlink(p);
	if (symlink(target, p) < 0)
		fail_msg("symlink %s: %s", p, strerror(errno));
	free(p);
}

static void rm_at(const struct fx *f, const char *rel)
{
	char *p = xasprintf("%s/%s", f->root, rel);

	if (unlink(p) < 0)
		fail_msg("unlink %s: %s", p, strerror(errno));
	free(p);
}

/* Assert the systemd winner for key: value, file and line (value NULL: nothing sets it). */
static void assert_sd(const struct bootview *bv, const char *key, const char *value,
		      const char *file, unsigned line)
{
	const struct sysctl_assign *a = sysctld_find(bv, key);

	if (!value) {
		if (a)
			fail_msg("%s: expected unset, got %s from %s:%u", key, a->value, a->file, a->line);
		return;
	}
	if (!a)
		fail_msg("%s: expected %s, got nothing", key, value);
	assert_string_equal(a->value, value);
	if (file) {
		assert_string_equal(a->file, file);
		assert_int_equal(a->line, line);
	}
}

static void assert_pp(const struct bootview *bv, const char *key, const char *value,
		      const char *file, unsigned line)
{
	const struct sysctl_assign *a = sysctld_find_procps(bv, key);

	if (!value) {
		if (a)
			fail_msg("%s: expected unset (procps), got %s from %s:%u", key, a->value, a->file, a->line);
		return;
	}
	if (!a)
		fail_msg("%s: expected %s (procps), got nothing", key, value);
	assert_string_equal(a->value, value);
	if (file) {
		assert_string_equal(a->file, file);
		assert_int_equal(a->line, line);
	}
}

static bool has_warning(const struct bootview *bv, const char *needle)
{
	for (size_t i = 0; i < bv->warnings.n; i++)
		if (strstr(bv->warnings.v[i], needle))
			return true;
	return false;
}

static void assert_files(char **v, size_t n, const char *const *want, size_t n_want)
{
	if (n != n_want) {
		for (size_t i = 0; i < n; i++)
			print_message("file %zu: %s\n", i, v[i]);
		fail_msg("%zu files, expected %zu", n, n_want);
	}
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v[i], want[i]);
}

/* --- the shared fixture, as the audit tests see it --- */

static void test_fixture_root_basic(void **state)
{
	struct fx *f = *state;
	static const char *const sd_files[] = {
		"/etc/sysctl.d/30-tcp-vendor.conf",
		"/usr/lib/sysctl.d/50-default.conf",
		"/usr/lib/sysctl.d/50-pid-max.conf",
		"/etc/sysctl.d/60-keepalive.conf",
		"/etc/sysctl.d/70-local.conf",
	};
	static const char *const pp_files[] = {
		"/etc/sysctl.d/30-tcp-vendor.conf",
		"/usr/lib/sysctl.d/50-default.conf",
		"/usr/lib/sysctl.d/50-pid-max.conf",
		"/etc/sysctl.d/60-keepalive.conf",
		"/etc/sysctl.d/70-local.conf",
		"/etc/sysctl.conf",
	};
	const struct sysctl_assign *a;

	load(f, NULL, NULL);
	for (size_t i = 0; i < f->bv.warnings.n; i++)
		print_message("warning: %s\n", f->bv.warnings.v[i]);
	assert_int_equal(f->bv.warnings.n, 0);
	assert_files(f->bv.files, f->bv.n_files, sd_files, 5);
	assert_files(f->bv.pp_files, f->bv.n_pp_files, pp_files, 6);

	assert_sd(&f->bv, "net.ipv4.tcp_keepalive_time", "600", "/etc/sysctl.d/60-keepalive.conf", 3);
	assert_pp(&f->bv, "net.ipv4.tcp_keepalive_time", "600", "/etc/sysctl.d/60-keepalive.conf", 3);
	/* /etc/sysctl.d/30-tcp-vendor.conf masks the vendor's file of that name */
	assert_sd(&f->bv, "net.ipv4.tcp_max_syn_backlog", "4096", "/etc/sysctl.d/30-tcp-vendor.conf", 2);
	/* only procps reads /etc/sysctl.conf; systemd never sets tcp_fin_timeout here */
	assert_sd(&f->bv, "net.ipv4.tcp_fin_timeout", NULL, NULL, 0);
	assert_pp(&f->bv, "net.ipv4.tcp_fin_timeout", "30", "/etc/sysctl.conf", 9);
	/* later file wins across directories: /etc 70- over /usr/lib 50- */
	assert_sd(&f->bv, "fs.protected_regular", "2", "/etc/sysctl.d/70-local.conf", 8);
	assert_sd(&f->bv, "net.core.default_qdisc", "fq_codel", "/usr/lib/sysctl.d/50-default.conf", 13);
	a = sysctld_find(&f->bv, "net.netfilter.nf_conntrack_max");
	assert_non_null(a);
	assert_true(a->ignore_failure);
	assert_string_equal(a->value, "262144");
	assert_int_equal(a->line, 5);
	a = sysctld_find(&f->bv, "net.core.somaxconn");
	assert_non_null(a);
	assert_false(a->ignore_failure);
	/* the vendor's glob, its explicit default, and the exclusion of "all" */
	assert_sd(&f->bv, "net.ipv4.conf.default.rp_filter", "2", "/usr/lib/sysctl.d/50-default.conf", 8);
	assert_sd(&f->bv, "net.ipv4.conf.eth0.rp_filter", "2", "/usr/lib/sysctl.d/50-default.conf", 9);
	a = sysctld_find(&f->bv, "net.ipv4.conf.lo.rp_filter");
	assert_non_null(a);
	assert_true(a->glob);
	assert_string_equal(a->key, "net.ipv4.conf.*.rp_filter");
	assert_sd(&f->bv, "net.ipv4.conf.all.rp_filter", NULL, NULL, 0);
	/* the README in /etc/sysctl.d is not a .conf file */
	assert_sd(&f->bv, "net.ipv4.tcp_sack", NULL, NULL, 0);
	assert_null(sysctld_find(&f->bv, "not a key"));
}

/* --- directories, names, masking --- */

static void test_dir_precedence(void **state)
{
	struct fx *f = *state;
	static const char *const dirs[] = {
		"etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d", "lib/sysctl.d",
	};

	/* the same name in all five directories; each one masks those after it */
	for (size_t i = 0; i < 5; i++) {
		char *rel = xasprintf("%s/50-x.conf", dirs[i]);
		char *text = xasprintf("net.ipv4.tcp_keepalive_time = %zu\n", 100 + i);
		tl_write(f->root, rel, text);
		free(rel);
		free(text);
	}
	for (size_t i = 0; i < 5; i++) {
		char *file = xasprintf("/%s/50-x.conf", dirs[i]);
		char *want = xasprintf("%zu", 100 + i);

		load(f, NULL, NULL);
		assert_int_equal(f->bv.n_files, 1);
		assert_string_equal(f->bv.files[0], file);
		assert_sd(&f->bv, "net.ipv4.tcp_keepalive_time", want, file, 1);
		assert_pp(&f->bv, "net.ipv4.tcp_keepalive_time", want, file, 1);
		assert_int_equal(f->bv.n_all, 1);
		rm_at(f, file + 1);
		free(file);
		free(want);
	}
	load(f, NULL, NULL);
	assert_int_equal(f->bv.n_files, 0);
	assert_int_equal(f->bv.warnings.n, 0);
}

static void test_merged_usr(void **state)
{
	struct fx *f = *state;

	/* Debian 12: /lib -> usr/lib; systemd resolves /lib/sysctl.d and drops the duplicate */
	tl_write(f->root, "usr/lib/sysctl.d/50-x.conf", "net.ipv4.tcp_sack = 1\n");
	link_at(f, "usr/lib", "lib");
	load(f, NULL, NULL);
	assert_int_equal(f->bv.n_files, 1);
	assert_string_equal(f->bv.files[0], "/usr/lib/sysctl.d/50-x.conf");
	assert_int_equal(f->bv.n_pp_files, 1);
	assert_int_equal(f->bv.n_all, 1);
	assert_int_equal(f->bv.n_pp, 1);
}

static void test_devnull_and_empty_mask(void **state)
{
	struct fx *f = *state;

	tl_write(f->root, "usr/lib/sysctl.d/50-a.conf", "net.ipv4.tcp_sack = 0\n");
	tl_write(f->root, "usr/lib/sysctl.d/50-b.conf", "net.ipv4.tcp_timestamps = 0\n");
	tl_write(f->root, "usr/lib/sysctl.d/50-c.conf", "net.ipv4.tcp_ecn = 1\n");
	load(f, NULL, NULL);
	assert_sd(&f->bv, "net.ipv4.tcp_sack", "0", "/usr/lib/sysctl.d/50-a.conf", 1);

	/* /dev/null names the host's device even under --root: never opened, read as empty */
	tl_write(f->root, "etc/sysctl.d/.keep", "");
	link_at(f, "/dev/null", "etc/sysctl.d/50-a.conf");
	/* an empty file masks the same way */
	tl_write(f->root, "run/sysctl.d/50-b.conf", "");
	/* and so does a dangling link: both tools skip it silently */
	link_at(f, "/nowhere/50-c.conf", "etc/sysctl.d/50-c.conf");
	load(f, NULL, NULL);
	assert_sd(&f->bv, "net.ipv4.tcp_sack", NULL, NULL, 0);
	assert_pp(&f->bv, "net.ipv4.tcp_sack", NULL, NULL, 0);
	assert_sd(&f->bv, "net.ipv4.tcp_timestamps", NULL, NULL, 0);
	assert_pp(&f->bv, "net.ipv4.tcp_timestamps", NULL, NULL, 0);
	assert_sd(&f->bv, "net.ipv4.tcp_ecn", NULL, NULL, 0);
	assert_int_equal(f->bv.n_all, 0);
	assert_int_equal(f->bv.n_files, 3);
	assert_string_equal(f->bv.files[0], "/etc/sysctl.d/50-a.conf");
	assert_string_equal(f->bv.files[1], "/run/sysctl.d/50-b.conf");
	assert_string_equal(f->bv.files[2], "/etc/sysctl.d/50-c.conf");
	assert_int_equal(f->bv.warnings.n, 0);
}

static void test_lexical_order_across_dirs(void **state)
{
	struct fx *f = *state;
	static const char *const want[] = {
		"/usr/lib/sysctl.d/10-a.conf",
		"/run/sysctl.d/15-c.conf",
		"/etc/sysctl.d/20-b.conf",
		"/usr/local/lib/sysctl.d/20-c.conf",
		"/usr/lib/sysctl.d/90-z.conf",
	};

	tl_write(f->root, "usr/lib/sysctl.d/10-a.conf", "net.ipv4.tcp_fin_timeout = 1\nnet.ipv4.tcp_sack = 1\n");
	tl_write(f->root, "etc/sysctl.d/20-b.conf", "net.ipv4.tcp_fin_timeout = 2\n");
	tl_write(f->root, "run/sysctl.d/15-c.conf", "net.ipv4.tcp_fin_timeout = 3\n");
	tl_write(f->root, "usr/local/lib/sysctl.d/20-c.conf", "net.ipv4.tcp_sack = 0\n");
	tl_write(f->root, "usr/lib/sysctl.d/90-z.conf", "net.ipv4.tcp_ecn = 1\n");
	tl_write(f->root, "usr/lib/sysctl.d/20-b.conf", "net.ipv4.tcp_ecn = 0\n");	/* masked by /etc */
	tl_write(f->root, "usr/lib/sysctl.d/notes.txt", "net.ipv4.tcp_ecn = 2\n");
	load(f, NULL, NULL);
	assert_files(f->bv.files, f->bv.n_files, want, 5);
	/* a file from /usr/lib sorts after one from /etc and wins */
	assert_sd(&f->bv, "net.ipv4.tcp_fin_timeout", "2", "/etc/sysctl.d/20-b.conf", 1);
	assert_sd(&f->bv, "net.ipv4.tcp_sack", "0", "/usr/local/lib/sysctl.d/20-c.conf", 1);
	assert_sd(&f->bv, "net.ipv4.tcp_ecn", "1", "/usr/lib/sysctl.d/90-z.conf", 1);
	assert_pp(&f->bv, "net.ipv4.tcp_ecn", "1", "/usr/lib/sysctl.d/90-z.conf", 1);
	/* all: every assignment in the order read */
	assert_int_equal(f->bv.n_all, 6);
	assert_string_equal(f->bv.all[0].file, "/usr/lib/sysctl.d/10-a.conf");
	assert_int_equal(f->bv.all[1].line, 2);
	assert_string_equal(f->bv.all[2].value, "3");
	assert_string_equal(f->bv.all[3].file, "/etc/sysctl.d/20-b.conf");
	assert_string_equal(f->bv.all[5].key, "net.ipv4.tcp_ecn");
}

static void test_later_wins_and_ignore_failure(void **state)
{
	struct fx *f = *state;

	tl_write(f->root, "etc/sysctl.d/10-a.conf",
		 "net.ipv4.tcp_rmem = 4096\t87380   6291456\n"
		 "-net.ipv4.tcp_wmem = 4096 16384 4194304\n"
		 "net.ipv4.tcp_rmem = 4096 131072 6291456\n");
	tl_write(f->root, "etc/sysctl.d/20-b.conf",
		 "net.ipv4.tcp_wmem = 4096 16384 4194304\n"
		 "net.ipv4.tcp_keepalive_time=  1200 \n");
	load(f, NULL, NULL);
	assert_sd(&f->bv, "net.ipv4.tcp_rmem", "4096 131072 6291456", "/etc/sysctl.d/10-a.conf", 3);
	assert_pp(&f->bv, "net.ipv4.tcp_rmem", "4096 131072 6291456", "/etc/sysctl.d/10-a.conf", 3);
	/* the same value again: systemd keeps the entry and ORs "ignore failure"; we name the last line */
	const struct sysctl_assign *a = sysctld_find(&f->bv, "net.ipv4.tcp_wmem");
	assert_non_null(a);
	assert_string_equal(a->file, "/etc/sysctl.d/20-b.conf");
	assert_true(a->ignore_failure);
	a = sysctld_find_procps(&f->bv, "net.ipv4.tcp_wmem");
	assert_non_null(a);
	assert_false(a->ignore_failure);
	assert_true(f->bv.pp[1].ignore_failure);
	assert_sd(&f->bv, "net.ipv4.tcp_keepalive_time", "1200", "/etc/sysctl.d/20-b.conf", 2);
	assert_int_equal(f->bv.warnings.n, 0);
}

static void test_slash_form_keys(void **state)
{
	struct fx *f = *state;

	tl_write(f->root, "etc/sysctl.d/10-a.conf",
		 "net/ipv4/tcp_keepalive_time = 300\n"
		 "/net/ipv4/tcp_sack = 0\n"
		 "net.ipv4..tcp_ecn. = 1\n"
		 "net.ipv4.conf.eth0/100.rp_filter = 1\n");
	tl_write(f->root, "etc/sysctl.d/20-b.conf", "net.ipv4.tcp_keepalive_time = 300\n");
	load(f, NULL, NULL);
	assert_sd(&f->bv, "net.ipv4.tcp_sack", "0", "/etc/sysctl.d/10-a.conf", 2);
	assert_sd(&f->bv, "net.ipv4.tcp_ecn", "1", "/etc/sysctl.d/10-a.conf", 3);
	assert_pp(&f->bv, "net.ipv4.tcp_sack", "0", "/etc/sysctl.d/10-a.conf", 2);
	/* procps does not simplify: its path ends in '/' and names no file */
	assert_pp(&f->bv, "net.ipv4.tcp_ecn", NULL, NULL, 0);
	assert_true(has_warning(&f->bv, "/etc/sysctl.d/10-a.conf:3: trailing separator"));
	/* both spellings are one key: one table entry, the later line reported */
	assert_sd(&f->bv, "net.ipv4.tcp_keepalive_time", "300", "/etc/sysctl.d/20-b.conf", 1);
	for (size_t i = 0; i < f->bv.n_sd; i++)
		assert_string_not_equal(f->bv.sd[i].key, "net/ipv4/tcp_keepalive_time");
	assert_int_equal(f->bv.n_sd, 3);
	/* a dotted interface name (VLAN) is valid for systemd but not a key we can name */
	assert_true(has_warning(&f->bv, "/etc/sysctl.d/10-a.conf:4: 'net.ipv4.conf.eth0/100.rp_filter'"));
}

/*
 * The glob and exclusion rules, on the exact files that were run through
 * systemd-sysctl 252.38 and sysctl 4.0.2 in a private namespace with a
 * tmpfs /proc/sys holding all, eth0, eth1 and lo; the expected values are
 * what the two binaries wrote.
 */
static void test_globs_as_the_tools_do(void **state)
{
	struct fx *f = *state;

	tl_write(f->root, "usr/lib/sysctl.d/10-z.conf",
		 "net.ipv4.conf.*.rp_filter = 2\n"
		 "net.ipv4.conf.e*.rp_filter = 3\n"
		 "net.ipv4.conf.*.accept_redirects = 4\n"
		 "net.ipv4.conf.e*.accept_redirects = 5\n"
		 "net.ipv4.tcp_syncookies = 1\n");
	tl_write(f->root, "etc/sysctl.d/20-a.conf",
		 "  net.ipv4.conf.*.rp_filter   =   2  \n"
		 "net.ipv4.conf.*.accept_redirects = 6\n"
		 "-net.ipv4.conf.l*\n"
		 "net/ipv4/conf/eth1/rp_filter = 8\n");
	tl_write(f->root, "etc/sysctl.d/30-b.conf",
		 "net.ipv4.conf.lo.forwarding = 1\n"
		 "-net.ipv4.conf.lo.forwarding\n"
		 "net.ipv4.conf.*.forwarding = 0\n");
	load(f, NULL, NULL);
	assert_int_equal(f->bv.warnings.n, 0);

	/* "*" = 2 came back with the same value: it keeps its place, before "e*" = 3 */
	assert_sd(&f->bv, "net.ipv4.conf.eth0.rp_filter", "3", "/usr/lib/sysctl.d/10-z.conf", 2);
	assert_sd(&f->bv, "net.ipv4.conf.lo.rp_filter", "2", "/etc/sysctl.d/20-a.conf", 1);
	assert_sd(&f->bv, "net.ipv4.conf.all.rp_filter", "2", NULL, 0);
	/* an explicit key is never overridden by a glob, earlier or later */
	assert_sd(&f->bv, "net.ipv4.conf.eth1.rp_filter", "8", "/etc/sysctl.d/20-a.conf", 4);
	/* "*" = 6 is a new value: it moves to the end and beats "e*" = 5 */
	assert_sd(&f->bv, "net.ipv4.conf.eth0.accept_redirects", "6", "/etc/sysctl.d/20-a.conf", 2);
	assert_sd(&f->bv, "net.ipv4.conf.eth1.accept_redirects", "6", NULL, 0);
	/* "-key" without '=' cancels the earlier assignment and keeps globs off the key */
	assert_sd(&f->bv, "net.ipv4.conf.lo.forwarding", NULL, NULL, 0);
	assert_sd(&f->bv, "net.ipv4.conf.eth0.forwarding", "0", "/etc/sysctl.d/30-b.conf", 3);
	/* a glob never matches across a dot */
	assert_sd(&f->bv, "net.ipv4.conf.eth0.rp_filter.x", NULL, NULL, 0);

	/* procps writes every glob line in order, so the last line matching wins */
	assert_pp(&f->bv, "net.ipv4.conf.eth0.rp_filter", "2", "/etc/sysctl.d/20-a.conf", 1);
	assert_pp(&f->bv, "net.ipv4.conf.eth1.rp_filter", "8", "/etc/sysctl.d/20-a.conf", 4);
	assert_pp(&f->bv, "net.ipv4.conf.eth0.accept_redirects", "6", "/etc/sysctl.d/20-a.conf", 2);
	/* 4.0.2 ignores glob exclusions ("-net.ipv4.conf.l*"), as systemd does */
	assert_pp(&f->bv, "net.ipv4.conf.lo.accept_redirects", "6", NULL, 0);
	/* and "-key" does not cancel an explicit assignment there, it only stops globs */
	assert_pp(&f->bv, "net.ipv4.conf.lo.forwarding", "1", "/etc/sysctl.d/30-b.conf", 1);
	assert_pp(&f->bv, "net.ipv4.conf.eth0.forwarding", "0", NULL, 0);
	assert_sd(&f->bv, "net.ipv4.tcp_syncookies", "1", NULL, 0);
}

static void test_exclusion_cancels_pattern(void **state)
{
	struct fx *f = *state;

	tl_write(f->root, "etc/sysctl.d/20-a.conf",
		 "net.ipv4.conf.*.rp_filter = 2\n"
		 "net.ipv4.conf.*.accept_redirects = 3\n"
		 "-net.ipv4.conf.lo.*\n"
		 "-net/ipv4/conf/eth0/rp_filter\n"
		 "-net.ipv4.conf.*.accept_redirects\n");
	load(f, NULL, NULL);
	assert_sd(&f->bv, "net.ipv4.conf.lo.rp_filter", "2", NULL, 0);
	assert_sd(&f->bv, "net.ipv4.conf.eth0.rp_filter", NULL, NULL, 0);
	assert_sd(&f->bv, "net.ipv4.conf.all.accept_redirects", NULL, NULL, 0);
	assert_pp(&f->bv, "net.ipv4.conf.eth0.rp_filter", NULL, NULL, 0);
	assert_pp(&f->bv, "net.ipv4.conf.all.accept_redirects", "3", NULL, 0);
	assert_int_equal(f->bv.n_pp_excl, 3);
}

/*
 * procps compares unsimplified paths as strings: a doubled or leading
 * separator spells a path no other line matches (sysctl 4.0.2 set
 * tcp_sack=7, tcp_ecn=4, eth0 rp_filter=9 and no tcp_fastopen here; systemd 1,
 * unset, 3 and 5).
 */
static void test_procps_odd_spellings(void **state)
{
	struct fx *f = *state;

	tl_write(f->root, "etc/sysctl.d/10-a.conf",
		 "net.ipv4.tcp_sack = 1\n"
		 "net..ipv4.tcp_s*ck = 7\n"
		 "-net.ipv4.tcp_ecn\n"
		 ".net.ipv4.tcp_e?n = 4\n"
		 "net..ipv4.conf.eth0.rp_filter = 3\n"
		 "net.ipv4.conf.*.rp_filter = 9\n"
		 "net.ipv4.tcp_f*open. = 5\n"
		 "net.ipv4.conf.l*.rp_filter. = 6\n");
	load(f, NULL, NULL);
	assert_sd(&f->bv, "net.ipv4.tcp_sack", "1", "/etc/sysctl.d/10-a.conf", 1);
	assert_pp(&f->bv, "net.ipv4.tcp_sack", "7", "/etc/sysctl.d/10-a.conf", 2);
	assert_sd(&f->bv, "net.ipv4.tcp_ecn", NULL, NULL, 0);
	assert_pp(&f->bv, "net.ipv4.tcp_ecn", "4", "/etc/sysctl.d/10-a.conf", 4);
	assert_sd(&f->bv, "net.ipv4.conf.eth0.rp_filter", "3", "/etc/sysctl.d/10-a.conf", 5);
	assert_pp(&f->bv, "net.ipv4.conf.eth0.rp_filter", "9", "/etc/sysctl.d/10-a.conf", 6);
	/* a trailing separator: glob() then matches only directories in that component */
	assert_sd(&f->bv, "net.ipv4.tcp_fastopen", "5", "/etc/sysctl.d/10-a.conf", 7);
	assert_pp(&f->bv, "net.ipv4.tcp_fastopen", NULL, NULL, 0);
	assert_true(has_warning(&f->bv, "/etc/sysctl.d/10-a.conf:7: trailing separator"));
	/* but stats a literal last component: both tools set lo */
	assert_sd(&f->bv, "net.ipv4.conf.lo.rp_filter", "6", "/etc/sysctl.d/10-a.conf", 8);
	assert_pp(&f->bv, "net.ipv4.conf.lo.rp_filter", "6", "/etc/sysctl.d/10-a.conf", 8);
	assert_int_equal(f->bv.warnings.n, 1);
	assert_true(f->bv.pp[1].odd_spelling);
	assert_false(f->bv.pp[0].odd_spelling);
}

static void test_comments_and_garbage(void **state)
{
	struct fx *f = *state;

	tl_write(f->root, "etc/sysctl.d/20-a.conf",
		 "# comment\n"
		 "; another = comment\n"
		 "   # indented = comment\n"
		 "garbage line here\n"
		 "\n"
		 "\t\n"
		 "Net.ipv4.tcp_fin_timeout = 5\n"
		 "- net.ipv4.tcp_syncookies = 1\n"
		 "!net.ipv4.tcp_sack = 0\n"
		 "net.ipv4.tcp_ecn = 1 # not a comment\n"
		 " = 3\n"
		 "net.ipv4.tcp_fin_timeout=\n"
		 "x");
	load(f, NULL, NULL);
	assert_true(has_warning(&f->bv, "/etc/sysctl.d/20-a.conf:4: line is not an assignment, ignored: garbage line here"));
	assert_true(has_warning(&f->bv, "/etc/sysctl.d/20-a.conf:7: 'Net.ipv4.tcp_fin_timeout'"));
	assert_true(has_warning(&f->bv, "/etc/sysctl.d/20-a.conf:8: space after '-'"));
	assert_true(has_warning(&f->bv, "/etc/sysctl.d/20-a.conf:9: '!net.ipv4.tcp_sack'"));
	assert_true(has_warning(&f->bv, "/etc/sysctl.d/20-a.conf:11: ''"));
	assert_true(has_warning(&f->bv, "/etc/sysctl.d/20-a.conf:13: line is not an assignment, ignored: x"));
	assert_int_equal(f->bv.warnings.n, 6);
	/* "- key": systemd strips the space, procps keeps it and the key names nothing */
	assert_sd(&f->bv, "net.ipv4.tcp_syncookies", "1", "/etc/sysctl.d/20-a.conf", 8);
	assert_pp(&f->bv, "net.ipv4.tcp_syncookies", NULL, NULL, 0);
	/* both write "1 # not a comment" (and the kernel refuses it) */
	assert_sd(&f->bv, "net.ipv4.tcp_ecn", "1 # not a comment", "/etc/sysctl.d/20-a.conf", 10);
	/* an empty value is a value */
	assert_sd(&f->bv, "net.ipv4.tcp_fin_timeout", "", "/etc/sysctl.d/20-a.conf", 12);
	assert_null(sysctld_find(&f->bv, "net.ipv4.tcp_sack"));
}

/* systemd's read_line() ends a line at CR and NUL too; procps's getline() only at LF. */
static void test_line_ends(void **state)
{
	struct fx *f = *state;
	static const char nul[] = "net.ipv4.conf.all.rp_filter = 1\0net.ipv4.conf.eth0.rp_filter = 2\n";
	char *path = xasprintf("%s/etc/sysctl.d/30-nul.conf", f->root);
	FILE *fp;

	tl_write(f->root, "etc/sysctl.d/10-crlf.conf", "net.ipv4.tcp_sack = 1\r\nnet.ipv4.tcp_ecn = 2\r\n");
	tl_write(f->root, "etc/sysctl.d/20-cr.conf", "net.ipv4.tcp_fastopen = 3\rnet.ipv4.conf.lo.rp_filter = 2\n");
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, fp), sizeof(nul) - 1);
	assert_int_equal(fclose(fp), 0);
	load(f, NULL, NULL);
	assert_sd(&f->bv, "net.ipv4.tcp_ecn", "2", "/etc/sysctl.d/10-crlf.conf", 2);
	assert_pp(&f->bv, "net.ipv4.tcp_ecn", "2", "/etc/sysctl.d/10-crlf.conf", 2);
	assert_sd(&f->bv, "net.ipv4.tcp_fastopen", "3", "/etc/sysctl.d/20-cr.conf", 1);
	assert_sd(&f->bv, "net.ipv4.conf.lo.rp_filter", "2", "/etc/sysctl.d/20-cr.conf", 2);
	assert_pp(&f->bv, "net.ipv4.tcp_fastopen", "3 net.ipv4.conf.lo.rp_filter = 2", NULL, 0);
	assert_pp(&f->bv, "net.ipv4.conf.lo.rp_filter", NULL, NULL, 0);
	assert_sd(&f->bv, "net.ipv4.conf.all.rp_filter", "1", "/etc/sysctl.d/30-nul.conf", 1);
	assert_sd(&f->bv, "net.ipv4.conf.eth0.rp_filter", "2", "/etc/sysctl.d/30-nul.conf", 2);
	assert_pp(&f->bv, "net.ipv4.conf.all.rp_filter", "1", NULL, 0);
	assert_pp(&f->bv, "net.ipv4.conf.eth0.rp_filter", NULL, NULL, 0);
	assert_int_equal(f->bv.warnings.n, 0);
	free(path);
}

static void test_hidden_dirs_and_odd_files(void **state)
{
	struct fx *f = *state;
	char *fifo = xasprintf("%s/etc/sysctl.d/40-fifo.conf", f->root);

	tl_write(f->root, "etc/sysctl.d/.hidden.conf", "net.ipv4.tcp_fin_timeout = 44\n");
	tl_write(f->root, "etc/sysctl.d/55-dir.conf/x", "net.ipv4.tcp_fin_timeout = 55\n");
	assert_int_equal(mkfifo(fifo, 0644), 0);
	load(f, NULL, NULL);
	/* systemd skips dot files, procps reads them */
	assert_sd(&f->bv, "net.ipv4.tcp_fin_timeout", NULL, NULL, 0);
	assert_pp(&f->bv, "net.ipv4.tcp_fin_timeout", "44", "/etc/sysctl.d/.hidden.conf", 1);
	assert_string_equal(f->bv.pp_files[0], "/etc/sysctl.d/.hidden.conf");
	assert_int_equal(f->bv.n_files, 2);
	/* a FIFO is not opened for reading (no hang), a directory fails as it does for systemd */
	assert_true(has_warning(&f->bv, "/etc/sysctl.d/40-fifo.conf: Invalid argument"));
	assert_true(has_warning(&f->bv, "/etc/sysctl.d/55-dir.conf: Is a directory"));
	free(fifo);
}

/* --- /etc/sysctl.conf --- */

static void test_debian_99_sysctl_link(void **state)
{
	struct fx *f = *state;

	/* root-basic has no link: only procps reads sysctl.conf (see the fixture test) */
	link_at(f, "../sysctl.conf", "etc/sysctl.d/99-sysctl.conf");
	load(f, NULL, NULL);
	assert_sd(&f->bv, "net.ipv4.tcp_fin_timeout", "30", "/etc/sysctl.d/99-sysctl.conf", 9);
	assert_string_equal(f->bv.files[f->bv.n_files - 1], "/etc/sysctl.d/99-sysctl.conf");
	/* procps reads it twice, through the link and as itself, last */
	assert_pp(&f->bv, "net.ipv4.tcp_fin_timeout", "30", "/etc/sysctl.conf", 9);
	assert_int_equal(f->bv.n_pp_files, 7);
	/* an absolute link resolves below the root, not on the host */
	link_at(f, "/etc/sysctl.conf", "etc/sysctl.d/99-sysctl.conf");
	load(f, NULL, NULL);
	assert_sd(&f->bv, "net.ipv4.tcp_fin_timeout", "30", "/etc/sysctl.d/99-sysctl.conf", 9);
	/* a /dev/null /etc/sysctl.conf is not a regular file: procps skips it */
	link_at(f, "/dev/null", "etc/sysctl.conf");
	load(f, NULL, NULL);
	assert_pp(&f->bv, "net.ipv4.tcp_fin_timeout", NULL, NULL, 0);
	assert_int_equal(f->bv.n_pp_files, 6);
}

static void test_symlink_escaping_root(void **state)
{
	struct fx *f = *state;
	char *outside = tl_mkroot(NULL), *abs, *rel;

	tl_write(outside, "evil.conf", "net.ipv4.tcp_keepalive_time = 1\nnet.ipv4.tcp_sack = 0\n");
	abs = xasprintf("%s/evil.conf", outside);
	rel = xasprintf("../../../../../../../../../..%s/evil.conf", outside);
	link_at(f, abs, "etc/sysctl.d/80-abs.conf");
	link_at(f, rel, "etc/sysctl.d/81-rel.conf");
	link_at(f, outside, "etc/sysctl.d/82-dir.conf");
	load(f, NULL, NULL);
	assert_sd(&f->bv, "net.ipv4.tcp_keepalive_time", "600", "/etc/sysctl.d/60-keepalive.conf", 3);
	assert_pp(&f->bv, "net.ipv4.tcp_keepalive_time", "600", NULL, 0);
	assert_null(sysctld_find(&f->bv, "net.ipv4.tcp_sack"));
	assert_null(sysctld_find_procps(&f->bv, "net.ipv4.tcp_sack"));
	/* the host's /etc/sysctl.d must not leak in either */
	tl_write(f->root, "run/.keep", "");
	link_at(f, "/etc/sysctl.d", "run/sysctl.d");
	load(f, NULL, NULL);
	for (size_t i = 0; i < f->bv.n_files; i++)
		assert_null(strstr(f->bv.files[i], "/run/"));
	assert_null(sysctld_find(&f->bv, "net.ipv4.tcp_sack"));
	free(abs);
	free(rel);
	tl_rmroot(outside);
}

/* --- overlay: the boot view with a new fragment --- */

static void test_overlay(void **state)
{
	struct fx *f = *state;
	static const char *const with_frag[] = {
		"/etc/sysctl.d/30-tcp-vendor.conf",
		"/usr/lib/sysctl.d/50-default.conf",
		"/usr/lib/sysctl.d/50-pid-max.conf",
		"/etc/sysctl.d/60-keepalive.conf",
		"/etc/sysctl.d/70-local.conf",
		"/etc/sysctl.d/90-tcptune.conf",
	};

	/* a new file */
	load(f, "/etc/sysctl.d/90-tcptune.conf", "net.ipv4.tcp_keepalive_time = 200\nnet.core.somaxconn = 8192\n");
	assert_files(f->bv.files, f->bv.n_files, with_frag, 6);
	assert_sd(&f->bv, "net.ipv4.tcp_keepalive_time", "200", "/etc/sysctl.d/90-tcptune.conf", 1);
	assert_sd(&f->bv, "net.core.somaxconn", "8192", "/etc/sysctl.d/90-tcptune.conf", 2);
	assert_pp(&f->bv, "net.ipv4.tcp_keepalive_time", "200", "/etc/sysctl.d/90-tcptune.conf", 1);
	/* the disk is untouched */
	char *disk = tl_read(f->root, "etc/sysctl.d/90-tcptune.conf");
	assert_null(disk);

	/* a fragment that sorts before a file setting the same key loses: say so */
	load(f, "/etc/sysctl.d/10-tcptune.conf", "net.ipv4.tcp_keepalive_time = 200\n");
	assert_sd(&f->bv, "net.ipv4.tcp_keepalive_time", "600", "/etc/sysctl.d/60-keepalive.conf", 3);

	/* replace an existing file */
	load(f, "/etc/sysctl.d/60-keepalive.conf", "net.ipv4.tcp_keepalive_time = 300\n");
	assert_sd(&f->bv, "net.ipv4.tcp_keepalive_time", "300", "/etc/sysctl.d/60-keepalive.conf", 1);
	assert_int_equal(f->bv.n_files, 5);

	/* remove it */
	load(f, "/etc/sysctl.d/60-keepalive.conf", NULL);
	assert_sd(&f->bv, "net.ipv4.tcp_keepalive_time", NULL, NULL, 0);
	assert_int_equal(f->bv.n_files, 4);

	/* removing the /etc file unmasks the vendor's file of the same name */
	load(f, "/etc/sysctl.d/30-tcp-vendor.conf", NULL);
	assert_sd(&f->bv, "net.ipv4.tcp_max_syn_backlog", "8192", "/usr/lib/sysctl.d/30-tcp-vendor.conf", 3);
	assert_sd(&f->bv, "net.ipv4.tcp_fin_timeout", "15", "/usr/lib/sysctl.d/30-tcp-vendor.conf", 2);

	/* removing a file that does not exist changes nothing */
	load(f, "/etc/sysctl.d/90-tcptune.conf", NULL);
	assert_int_equal(f->bv.n_files, 5);

	/* a directory that does not exist yet */
	load(f, "/run/sysctl.d/95-x.conf", "net.ipv4.tcp_sack = 1\n");
	assert_sd(&f->bv, "net.ipv4.tcp_sack", "1", "/run/sysctl.d/95-x.conf", 1);

	/* outside the searched directories nobody reads it */
	load(f, "/etc/tcptune/90-tcptune.conf", "net.ipv4.tcp_sack = 1\n");
	assert_null(sysctld_find(&f->bv, "net.ipv4.tcp_sack"));

	/* /etc/sysctl.conf, also where it is reached through the Debian link */
	link_at(f, "../sysctl.conf", "etc/sysctl.d/99-sysctl.conf");
	load(f, "/etc/sysctl.conf", "net.ipv4.tcp_fin_timeout = 25\n");
	assert_sd(&f->bv, "net.ipv4.tcp_fin_timeout", "25", "/etc/sysctl.d/99-sysctl.conf", 1);
	assert_pp(&f->bv, "net.ipv4.tcp_fin_timeout", "25", "/etc/sysctl.conf", 1);
	load(f, "/etc/sysctl.conf", NULL);
	assert_sd(&f->bv, "net.ipv4.tcp_fin_timeout", NULL, NULL, 0);
	assert_pp(&f->bv, "net.ipv4.tcp_fin_timeout", NULL, NULL, 0);

	sysctld_free(&f->bv);
	assert_int_equal(sysctld_load(f->rootfd, "relative/x.conf", "", &f->bv), -EINVAL);
}

static void test_bad_root(void **state)
{
	struct bootview bv;

	(void)state;
	assert_int_equal(sysctld_load(-1, NULL, NULL, &bv), -EBADF);
	assert_int_equal(bv.n_all, 0);
	sysctld_free(&bv);
	sysctld_free(NULL);
	assert_null(sysctld_find(NULL, "net.ipv4.tcp_sack"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fixture_root_basic, setup_basic, teardown),
		cmocka_unit_test_setup_teardown(test_dir_precedence, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_merged_usr, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_devnull_and_empty_mask, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_lexical_order_across_dirs, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_later_wins_and_ignore_failure, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_slash_form_keys, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_globs_as_the_tools_do, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_exclusion_cancels_pattern, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_procps_odd_spellings, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_comments_and_garbage, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_line_ends, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_hidden_dirs_and_odd_files, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_debian_99_sysctl_link, setup_basic, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_escaping_root, setup_basic, teardown),
		cmocka_unit_test_setup_teardown(test_overlay, setup_basic, teardown),
		cmocka_unit_test(test_bad_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
