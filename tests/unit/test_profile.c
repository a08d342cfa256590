/* SPDX-License-Identifier: ISC */
/* test_profile.c: unit tests for src/profile.c: loading, validation messages, merging, rules, listing. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testlib.h"
#include "profile.h"

/*
 * The race of issue 12: swap an @include for a FIFO (or a huge file) right
 * after tcptune has opened and checked it. When swap_after_open names a
 * path, the first open of it is followed by that swap.
 */
static const char *swap_after_open;
static bool swap_to_fifo;
int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;
	int fd;

	va_start(ap, flags);
	mode = (flags & (O_CREAT | __O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
	va_end(ap);
	fd = __real_open(path, flags, mode);
	if (fd >= 0 && swap_after_open && strcmp(path, swap_after_open) == 0) {
		swap_after_open = NULL;
		(void)unlink(path);
		if (swap_to_fifo) {
			(void)mkfifo(path, 0644);
		} else {
			FILE *f = fopen(path, "w");
			for (int i = 0; f && i < 3 * 1024 * 1024 / 64; i++)
				fputs("#                                                              \n", f);
			if (f)
				(void)fclose(f);
		}
	}
	return fd;
}

int __wrap___open_2(const char *path, int flags);
int __wrap___open_2(const char *path, int flags)
{
	return __wrap_open(path, flags);
}

/* When set, read() fails with EIO: a disk error under the loader. */
static bool fail_read;
ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n)
{
	if (fail_read) {
		errno = EIO;
		return -1;
	}
	return __real_read(fd, buf, n);
}

/*
 * A copy of the profiles and fixtures this test reads, 0644 in 0755
 * directories of ours: the checkout's modes (a umask of 002 makes them
 * group-writable) must not decide what a run as root accepts.
 */
static char *src;

static int copy_sources(void **state)
{
	char *cmd;
	int r;

	(void)state;
	src = tl_mkroot(NULL);
	cmd = xasprintf("mkdir -p '%s/tests/data' && cp -R '%s/profiles' '%s/' && "
			"cp -R '%s/tests/data/profiles-bad' '%s/tests/data/profiles-good' "
			"'%s/tests/data/root-basic' '%s/tests/data/' && chmod -R u+w,go-w '%s'",
			src, SRCDIR, src, SRCDIR, SRCDIR, SRCDIR, src, src);
	r = system(cmd);
	free(cmd);
	return r == 0 ? 0 : -1;
}

static int remove_sources(void **state)
{
	(void)state;
	tl_rmroot(src);
	return 0;
}

static const char *const shipped[] = { "baseline", "crawler", "web-server", "high-bandwidth" };

/* A profile path of one directory, without the environment or PROFILEDIR. */
static struct profile_path path_of(const char *dir)
{
	struct profile_path pp = { .dirs = xcalloc(1, sizeof(char *)), .n = 1 };

	pp.dirs[0] = xstrdup(dir);
	return pp;
}

static void dump(const struct msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		print_message("# msg[%zu]: %s\n", i, m->v[i]);
}

/* Exactly this message must be among the errors. */
static void expect_msg(const struct msgs *m, const char *want)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i], want) == 0)
			return;
	dump(m);
	fail_msg("missing message: %s", want);
}

/* A message starting with prefix and containing part. */
static void expect_msg_part(const struct msgs *m, const char *prefix, const char *part)
{
	for (size_t i = 0; i < m->n; i++)
		if (strncmp(m->v[i], prefix, strlen(prefix)) == 0 && strstr(m->v[i], part))
			return;
	dump(m);
	fail_msg("missing message: %s...%s", prefix, part);
}

static void expect_count(const struct msgs *m, size_t n)
{
	if (m->n != n) {
		dump(m);
		fail_msg("%zu messages, expected %zu", m->n, n);
	}
}

static const struct rule *find_rule(const struct profile *p, const char *key)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (strcmp(p->rules[i].key, key) == 0)
			return &p->rules[i];
	return NULL;
}

/* Load one file written into a fresh directory; the caller frees everything. */
struct fx {
	char *root;
	char *file;
	struct profile_path pp;
	struct profile p;
	struct msgs errors;
	int r;
};

static void fx_load(struct fx *f, const char *text, const struct procsys *ps)
{
	char *name;

	memset(f, 0, sizeof(*f));
	f->root = tl_mkroot(NULL);
	tl_write(f->root, "p/t.conf", text);
	f->file = xasprintf("%s/p/t.conf", f->root);
	name = xasprintf("%s/p", f->root);
	f->pp = path_of(name);
	free(name);
	char *names[] = { "t" };
	f->r = profile_load(&f->pp, ps, names, 1, &f->p, &f->errors);
}

static void fx_free(struct fx *f)
{
	profile_free(&f->p);
	msgs_free(&f->errors);
	profile_path_free(&f->pp);
	free(f->file);
	tl_rmroot(f->root);
}

/* "FILE:LINE: " for the fixture file. */
static char *at(const struct fx *f, unsigned line, const char *rest)
{
	return xasprintf("%s:%u: %s", f->file, line, rest);
}

static void expect_at(const struct fx *f, unsigned line, const char *rest)
{
	char *want = at(f, line, rest);

	expect_msg(&f->errors, want);
	free(want);
}

static const struct catentry *cat_of_type(enum cat_type t)
{
	size_t n;
	const struct catentry *all = catalogue_all(&n);

	for (size_t i = 0; i < n; i++)
		if (all[i].type == t)
			return &all[i];
	return NULL;
}

/* ---- search path ---- */

static void test_path_init(void **state)
{
	struct profile_path pp;
	char *dirs[] = { "/cli/a", "/cli/b" };

	(void)state;
	assert_int_equal(setenv("TCPTUNE_PROFILE_PATH", "/env/x::/env/y:/cli/a:", 1), 0);
	profile_path_init(&pp, "/srv/img/", dirs, 2);
	assert_int_equal(pp.n, 6);
	assert_string_equal(pp.dirs[0], "/cli/a");
	assert_string_equal(pp.dirs[1], "/cli/b");
	assert_string_equal(pp.dirs[2], "/env/x");
	assert_string_equal(pp.dirs[3], "/env/y");
	assert_string_equal(pp.dirs[4], "/srv/img/etc/tcptune/profiles");
	assert_string_equal(pp.dirs[5], PROFILEDIR);
	profile_path_free(&pp);

	assert_int_equal(unsetenv("TCPTUNE_PROFILE_PATH"), 0);
	profile_path_init(&pp, "/", NULL, 0);
	assert_int_equal(pp.n, 2);
	assert_string_equal(pp.dirs[0], "/etc/tcptune/profiles");
	assert_string_equal(pp.dirs[1], PROFILEDIR);
	profile_path_free(&pp);
	assert_null(pp.dirs);
}

/* ---- shipped profiles ---- */

static void test_shipped_valid(void **state)
{
	char *dir = xasprintf("%s/profiles", src);
	struct profile_path pp = path_of(dir);

	(void)state;
	for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
		struct profile p;
		struct msgs errors = { 0 };
		char *names[] = { (char *)shipped[i] };
		int r = profile_load(&pp, NULL, names, 1, &p, &errors);

			expect_count(&errors, 0);
		assert_int_equal(r, 0);
		assert_non_null(p.description);
		assert_true(p.n_rules > 3);
		for (size_t j = 0; j < p.n_rules; j++) {
			assert_non_null(p.rules[j].note);
			/* shipped keys are typed and range-checked, never compared as bare text */
			if (!p.rules[j].cat)
				fail_msg("%s: %s is not in the catalogue", shipped[i], p.rules[j].key);
			assert_true(p.rules[j].line > 0);
			if (j)
				assert_true(strcmp(p.rules[j - 1].key, p.rules[j].key) < 0);
		}
		profile_free(&p);
		msgs_free(&errors);
	}
	profile_path_free(&pp);
	free(dir);
}

static void test_shipped_crawler(void **state)
{
	char *dir = xasprintf("%s/profiles", src);
	struct profile_path pp = path_of(dir);
	struct profile p;
	struct msgs errors = { 0 };
	char *names[] = { "crawler" };
	const struct rule *r;

	(void)state;
	assert_int_equal(profile_load(&pp, NULL, names, 1, &p, &errors), 0);
	assert_int_equal(p.n_files, 2);
	assert_true(strstr(p.files[0], "/baseline.conf") != NULL);
	assert_true(strstr(p.files[1], "/crawler.conf") != NULL);
	/* "at least this": a stricter keepalive and a wider port range pass */
	r = find_rule(&p, "net.ipv4.tcp_keepalive_time");
	assert_non_null(r);
	assert_string_equal(r->max, "200");
	assert_true(rule_check(r, "60"));
	assert_false(rule_check(r, "7200"));
	assert_string_equal(r->profile, "crawler");
	r = find_rule(&p, "net.ipv4.ip_local_port_range");
	assert_non_null(r);
	assert_string_equal(r->covers, "10240 65535");
	assert_true(rule_check(r, "1024 65535"));
	assert_false(rule_check(r, "32768 60999"));
	char *t = rule_target(r, "1024 65535");
	assert_string_equal(t, "1024 65535");
	free(t);
	t = rule_target(r, "32768 60999");
	assert_string_equal(t, "10240 65535");
	free(t);
	t = rule_target(r, "20000 65535");
	assert_string_equal(t, "10240 65535");
	free(t);
	t = rule_describe(r);
	assert_string_equal(t, "covers 10240..65535");
	free(t);
	r = find_rule(&p, "net.ipv4.tcp_syncookies");
	assert_non_null(r);
	assert_string_equal(r->profile, "baseline");
	/* crawler overrides baseline's bound */
	r = find_rule(&p, "net.ipv4.tcp_max_tw_buckets");
	assert_non_null(r);
	assert_string_equal(r->min, "65536");
	assert_string_equal(r->profile, "crawler");
	r = find_rule(&p, "fs.file-max");
	assert_non_null(r);
	assert_true(r->optional);
	profile_free(&p);
	msgs_free(&errors);
	profile_path_free(&pp);
	free(dir);
}

/* With a fixture /proc/sys, every uncatalogued key must exist there. */
static void test_shipped_with_root(void **state)
{
	char *fixture = xasprintf("%s/tests/data/root-basic", src);
	char *dir = xasprintf("%s/profiles", src);
	struct profile_path pp = path_of(dir);
	struct procsys ps;
	struct stat st;
	char *root;
	int fd;

	(void)state;
	if (stat(fixture, &st) < 0) {
		free(fixture);
		free(dir);
		profile_path_free(&pp);
		tl_skip("no root-basic fixture");
	}
	root = tl_mkroot("root-basic");
	fd = tl_rootfd(root);
	assert_int_equal(procsys_open(fd, &ps), 0);
	for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
		struct profile p;
		struct msgs errors = { 0 };
		char *names[] = { (char *)shipped[i] };
		int r = profile_load(&pp, &ps, names, 1, &p, &errors);

			expect_count(&errors, 0);
		assert_int_equal(r, 0);
		profile_free(&p);
		msgs_free(&errors);
	}

	/* a typo gets a suggestion once /proc/sys is consulted */
	struct profile p;
	struct msgs errors = { 0 };
	char *bad = xasprintf("%s/tests/data/profiles-bad/unknown-key.conf", src);
	char *want = xasprintf("%s:3: net.ipv4.tcp_keepalive_tme: unknown key (not in the catalogue, "
			       "not in /proc/sys); did you mean net.ipv4.tcp_keepalive_time?", bad);
	char *names[] = { bad };
	assert_int_equal(profile_load(&pp, &ps, names, 1, &p, &errors), -EINVAL);
	profile_free(&p);	/* the warnings are left in it on failure too */
	expect_msg(&errors, want);
	expect_count(&errors, 1);
	msgs_free(&errors);
	free(want);
	free(bad);
	procsys_close(&ps);
	(void)close(fd);
	tl_rmroot(root);
	profile_path_free(&pp);
	free(dir);
	free(fixture);
}

/* ---- syntax and top level ---- */

static void test_syntax_error(void **state)
{
	struct fx f;

	(void)state;
	fx_load(&f, "description = \"x\";\n"
		    "sysctl = {\n"
		    "  net = { ipv4 = { tcp_keepalive_time = = 200; }; };\n"
		    "};\n", NULL);
	assert_int_equal(f.r, -EINVAL);
	expect_count(&f.errors, 1);
	expect_at(&f, 3, "syntax error");
	assert_int_equal(f.p.n_rules, 0);
	assert_null(f.p.rules);
	fx_free(&f);
}

static void test_duplicate_key(void **state)
{
	struct fx f;

	(void)state;
	fx_load(&f, "sysctl = { net = { ipv4 = {\n"
		    "  tcp_keepalive_time = 200;\n"
		    "  tcp_keepalive_time = 300;\n"
		    "}; }; };\n", NULL);
	assert_int_equal(f.r, -EINVAL);
	expect_count(&f.errors, 1);
	expect_at(&f, 3, "duplicate setting name");
	fx_free(&f);
}

static void test_top_level(void **state)
{
	struct fx f;

	(void)state;
	fx_load(&f, "description = 5;\n"
		    "inherits = 7;\n"
		    "sysctl = 1;\n"
		    "descripton = \"typo\";\n", NULL);
	assert_int_equal(f.r, -EINVAL);
	expect_count(&f.errors, 4);
	expect_at(&f, 1, "description: must be a string, not a number");
	expect_at(&f, 2, "inherits: must be a profile name or a list of names, not a number");
	expect_at(&f, 3, "sysctl: must be a group: sysctl = { net = { ... }; };");
	expect_at(&f, 4, "descripton: unknown top-level setting (expected description, inherits, "
			"allow_uncatalogued, sysctl)");
	fx_free(&f);
}

/* ---- key and value validation ---- */

static void test_many_errors(void **state)
{
	struct fx f;

	(void)state;
	fx_load(&f, "description = \"bad\";\n"                                  /* 1 */
		    "sysctl = {\n"                                              /* 2 */
		    "  net = {\n"                                               /* 3 */
		    "    ipv4 = {\n"                                            /* 4 */
		    "      tcp_keepalive_time = \"200\";\n"                     /* 5 */
		    "      tcp_rmem = { min = [ 4096, 131072, 8388608 ];\n"     /* 6 */
		    "                   max = [ 4096, 131072, 4194304 ]; };\n"  /* 7 */
		    "      tcp_wmem = { value = [ 4096, 16384, 4194304 ]; min = [ 4096, 16384, 4194304 ]; };\n" /* 8 */
		    "      ip_local_port_range = { one_of = [ ]; };\n"          /* 9 */
		    "      Tcp_Upper = 1;\n"                                    /* 10 */
		    "      tcp_float = 1.5;\n"                                  /* 11 */
		    "      tcp_bool = true;\n"                                  /* 12 */
		    "    };\n"                                                  /* 13 */
		    "    core = { somaxconn = { min = 4096;\n"                  /* 14 */
		    "                           maximum = 5;\n"                 /* 15 */
		    "                           optional = 1;\n"                /* 16 */
		    "                           note = 5; }; };\n"              /* 17 */
		    "  };\n"                                                    /* 18 */
		    "};\n", NULL);
	assert_int_equal(f.r, -EINVAL);
	expect_at(&f, 5, "net.ipv4.tcp_keepalive_time: must be an integer, not a string");
	expect_at(&f, 6, "net.ipv4.tcp_rmem: min 4096 131072 8388608 is greater than max 4096 131072 4194304");
	expect_at(&f, 8, "net.ipv4.tcp_wmem: value cannot be combined with min, max, one_of or covers");
	expect_at(&f, 9, "net.ipv4.ip_local_port_range: one_of: must not be empty");
	expect_at(&f, 10, "net.ipv4.Tcp_Upper: invalid key name: use lower-case letters, digits, '_' and '-'");
	expect_at(&f, 11, "net.ipv4.tcp_float: must be an integer, a string or a list, not a fraction");
	expect_at(&f, 12, "net.ipv4.tcp_bool: must be an integer, a string or a list, not true/false");
	expect_at(&f, 15, "net.core.somaxconn: unknown rule field \"maximum\" "
			  "(expected value, min, max, one_of, covers, optional, note)");
	expect_at(&f, 16, "net.core.somaxconn: optional: must be true or false, not a number");
	expect_at(&f, 17, "net.core.somaxconn: note: must be a string, not a number");
	expect_count(&f.errors, 10);
	fx_free(&f);
}

static void test_range_and_arity(void **state)
{
	struct fx f;
	char *p;

	(void)state;
	fx_load(&f, "sysctl = { net = {\n"
		    "  ipv4 = { tcp_keepalive_time = 0;\n"                          /* 2 */
		    "           ip_local_port_range = 1024;\n"                      /* 3 */
		    "           tcp_rmem = { min = [ 4096, 0, 1 ]; };\n"            /* 4 */
		    "           tcp_wmem = { one_of = ( [ 4096, 16384, 4194304 ], 99999999999 ); }; };\n" /* 5 */
		    "  core = { somaxconn = [ 1, 2 ]; };\n"                         /* 6 */
		    "}; };\n", NULL);
	assert_int_equal(f.r, -EINVAL);
	/* the words come from catalogue_check(); file:line and key are ours */
	p = at(&f, 2, "net.ipv4.tcp_keepalive_time: ");
	expect_msg_part(&f.errors, p, "0");
	free(p);
	p = at(&f, 3, "net.ipv4.ip_local_port_range: ");
	expect_msg_part(&f.errors, p, "2");
	free(p);
	p = at(&f, 4, "net.ipv4.tcp_rmem: min: ");
	expect_msg_part(&f.errors, p, "0");
	free(p);
	p = at(&f, 5, "net.ipv4.tcp_wmem: one_of: ");
	expect_msg_part(&f.errors, p, "");
	free(p);
	expect_at(&f, 6, "net.core.somaxconn: must be an integer, not a list");
	expect_count(&f.errors, 5);
	fx_free(&f);
}

static void test_string_key(void **state)
{
	const struct catentry *c = cat_of_type(CAT_STR);
	struct fx f;
	char *text, *key, *last, *want;

	(void)state;
	if (!c)
		tl_skip("key not in the catalogue");
	/* build the nesting for the catalogued key, e.g. net.ipv4.tcp_congestion_control */
	key = xstrdup(c->key);
	last = strrchr(key, '.');
	*last++ = '\0';
	char *open_ = xstrdup(""), *close_ = xstrdup("");
	for (char *save = NULL, *t = strtok_r(key, ".", &save); t; t = strtok_r(NULL, ".", &save)) {
		char *o = xasprintf("%s%s = { ", open_, t), *cl = xasprintf("%s }; ", close_);
		free(open_);
		free(close_);
		open_ = o;
		close_ = cl;
	}
	text = xasprintf("sysctl = {\n%s\n"
			 "%s = { min = 1; };\n"          /* 3 */
			 "%s\n};\n", open_, last, close_);
	fx_load(&f, text, NULL);
	assert_int_equal(f.r, -EINVAL);
	want = xasprintf("%s: min: a string key has no order: use value or one_of", c->key);
	expect_at(&f, 3, want);
	expect_count(&f.errors, 1);
	fx_free(&f);
	free(want);
	free(text);

	text = xasprintf("sysctl = {\n%s\n%s = 5;\n%s\n};\n", open_, last, close_);
	fx_load(&f, text, NULL);
	want = xasprintf("%s: must be a string, not a number", c->key);
	expect_at(&f, 3, want);
	fx_free(&f);
	free(want);
	free(text);
	free(open_);
	free(close_);
	free(key);
}

/*
 * covers is "low high" for every key, catalogued or not: one number, three,
 * a string or low > high would give a target its own check calls drift.
 */
static void test_covers_shape(void **state)
{
	struct fx f;

	(void)state;
	fx_load(&f, "sysctl = { net = { ipv4 = {\n"
		    "  tcp_x_range = { covers = 2; };\n"                    /* 2: not catalogued */
		    "  tcp_y_range = { covers = [ 1, 2, 3 ]; };\n"          /* 3 */
		    "  tcp_z_range = { covers = \"a b\"; };\n"             /* 4 */
		    "  tcp_w_range = { covers = [ 9, 1 ]; };\n"             /* 5 */
		    "  ip_local_port_range = { covers = [ 60000, 1024 ]; };\n" /* 6: catalogued */
		    "  tcp_v_range = { covers = [ 1, 9 ]; };\n"             /* 7: fine */
		    "}; }; };\n", NULL);
	assert_int_equal(f.r, -EINVAL);
	expect_at(&f, 2, "net.ipv4.tcp_x_range: covers: must be two integers, low and high, not 2");
	expect_at(&f, 3, "net.ipv4.tcp_y_range: covers: must be two integers, low and high, not 1 2 3");
	expect_at(&f, 4, "net.ipv4.tcp_z_range: covers: must be two integers, low and high, not a b");
	expect_at(&f, 5, "net.ipv4.tcp_w_range: covers: low 9 is above high 1");
	expect_at(&f, 6, "net.ipv4.ip_local_port_range: covers: low port 60000 is above high port 1024");
	expect_count(&f.errors, 5);
	fx_free(&f);
}

static void test_rule_group_shape(void **state)
{
	struct fx f;

	(void)state;
	fx_load(&f, "sysctl = { net = { core = {\n"
		    "  somaxconn = { note = \"only a note\"; };\n"          /* 2 */
		    "  netdev_max_backlog = { min = 1000; tcp_x = 2; };\n"     /* 3 */
		    "  rmem_max = { one_of = [ 212992, 4194304 ]; max = 33554432; };\n"       /* 4 */
		    "  wmem_max = { one_of = 5; };\n"                       /* 5 */
		    "}; ipv4 = {\n"                                           /* 6 */
		    "  tcp_keepalive_time = { maximum = 30; };\n"          /* 7: catalogued, so a rule */
		    "}; }; };\n", NULL);
	assert_int_equal(f.r, -EINVAL);
	expect_at(&f, 2, "net.core.somaxconn: a rule needs value, min, max, one_of or covers");
	expect_at(&f, 3, "net.core.netdev_max_backlog: unknown rule field \"tcp_x\" "
			 "(expected value, min, max, one_of, covers, optional, note)");
	expect_at(&f, 4, "net.core.rmem_max: one_of cannot be combined with min, max or covers");
	expect_at(&f, 5, "net.core.wmem_max: one_of: must be a list of values, not a number");
	expect_at(&f, 7, "net.ipv4.tcp_keepalive_time: unknown rule field \"maximum\" "
			 "(expected value, min, max, one_of, covers, optional, note)");
	expect_at(&f, 7, "net.ipv4.tcp_keepalive_time: a rule needs value, min, max, one_of or covers");
	expect_count(&f.errors, 6);
	fx_free(&f);
}

static void test_values_normalized(void **state)
{
	struct fx f;
	const struct rule *r;

	(void)state;
	fx_load(&f, "description = \"n\";\n"
		    "sysctl = { net = { ipv4 = {\n"
		    "  tcp_x_str = \"  a \\t b  \";\n"
		    "  tcp_x_vec = [ 1, 2, 3 ];\n"
		    "  tcp_x_list = ( 1, \"x\" );\n"
		    "  tcp_x_big = 5000000000;\n"
		    "  tcp_x_neg = -3000000000;\n"
		    "  tcp_x_hex = 0xFFFFFFFF;\n"
		    "  tcp_x_l = 7L;\n"
		    "  tcp_x_max = 9223372036854775807;\n"
		    "  tcp_x_one = { one_of = ( [ 1, 2 ], \"3  4\" ); optional = true; };\n"
		    "}; };\n"
		    "  fs = { file-max = { min = 1048576; }; };\n"
		    "};\n", NULL);
	expect_count(&f.errors, 0);
	assert_int_equal(f.r, 0);
	assert_string_equal(find_rule(&f.p, "net.ipv4.tcp_x_str")->value, "a b");
	assert_string_equal(find_rule(&f.p, "net.ipv4.tcp_x_vec")->value, "1 2 3");
	assert_string_equal(find_rule(&f.p, "net.ipv4.tcp_x_list")->value, "1 x");
	assert_string_equal(find_rule(&f.p, "net.ipv4.tcp_x_big")->value, "5000000000");
	assert_string_equal(find_rule(&f.p, "net.ipv4.tcp_x_neg")->value, "-3000000000");
	assert_string_equal(find_rule(&f.p, "net.ipv4.tcp_x_hex")->value, "4294967295");
	assert_string_equal(find_rule(&f.p, "net.ipv4.tcp_x_l")->value, "7");
	assert_string_equal(find_rule(&f.p, "net.ipv4.tcp_x_max")->value, "9223372036854775807");
	r = find_rule(&f.p, "net.ipv4.tcp_x_one");
	assert_int_equal(r->n_one_of, 2);
	assert_string_equal(r->one_of[0], "1 2");
	assert_string_equal(r->one_of[1], "3 4");
	assert_true(r->optional);
	r = find_rule(&f.p, "fs.file-max");
	assert_string_equal(r->min, "1048576");
	assert_null(r->value);
	assert_int_equal(r->line, 13);
	assert_string_equal(r->file, f.file);
	assert_string_equal(r->profile, "t");
	assert_null(r->note);
	assert_string_equal(f.p.description, "n");
	fx_free(&f);
}

static void test_int_overflow(void **state)
{
	struct fx f;

	(void)state;
	fx_load(&f, "sysctl = { net = { ipv4 = {\n"
		    "  tcp_x = 99999999999999999999;\n"
		    "}; }; };\n", NULL);
	assert_int_equal(f.r, -EINVAL);
	expect_count(&f.errors, 1);
	expect_at(&f, 2, "integer outside the signed 64-bit range");
	fx_free(&f);

	/* 0xFFFFFFFFFFFFFFFF fits 64 bits but libconfig would take it as -1 */
	fx_load(&f, "sysctl = { net = { core = {\n"
		    "  somaxconn = 0xFFFFFFFFFFFFFFFF;\n"
		    "  netdev_max_backlog = 0x7FFFFFFF;\n"
		    "}; }; };\n", NULL);
	assert_int_equal(f.r, -EINVAL);
	expect_count(&f.errors, 1);
	expect_at(&f, 2, "integer outside the signed 64-bit range");
	fx_free(&f);

	/* an escape sequence in a value would reach terminals and sysctl.d */
	fx_load(&f, "sysctl = { net = { ipv4 = {\n"
		    "  tcp_x = \"a\\x1b[2Jb\";\n"
		    "  tcp_y = ( \"ok\", \"\\f\" );\n"
		    "}; }; };\n", NULL);
	assert_int_equal(f.r, -EINVAL);
	expect_at(&f, 2, "net.ipv4.tcp_x: control character in value");
	expect_at(&f, 3, "net.ipv4.tcp_y: control character in value");
	expect_count(&f.errors, 2);
	fx_free(&f);
}

/* With /proc/sys: unknown keys, "did you mean", directories, optional. */
static void test_unknown_keys(void **state)
{
	char *root = tl_mkroot(NULL);
	struct procsys ps;
	struct fx f;
	int fd;

	(void)state;
	tl_write(root, "proc/sys/net/ipv4/tcp_keepalive_time", "7200\n");
	tl_write(root, "proc/sys/net/ipv4/tcp_frobnicate", "1\n");
	tl_write(root, "proc/sys/net/core/somaxconn", "4096\n");
	tl_write(root, "proc/sys/net/ipv4/tcp_uncatalogued", "1\n");
	fd = tl_rootfd(root);
	assert_int_equal(procsys_open(fd, &ps), 0);
	fx_load(&f, "sysctl = { net = {\n"
		    "  ipv4 = { tcp_keepalive_tme = 200;\n"              /* 2 */
		    "           tcp_frobnicat = 1;\n"                    /* 3 */
		    "           tcp_frobnicate = { value = 7; };\n"      /* 4: on the kernel: fine */
		    "           tcp_zzzzzzzzzzzzzzzzzzzz = 1;\n"         /* 5 */
		    "           tcp_yyyyyyyyyyyyyyyyyyyy = { value = 1; optional = true; };\n" /* 6: fine */
		    "           tcp_uncatalogued = { maximum = 3; }; };\n" /* 7: a file, so a rule */
		    "  core = 5;\n"                                      /* 8 */
		    "}; };\n", &ps);
	assert_int_equal(f.r, -EINVAL);
	expect_at(&f, 2, "net.ipv4.tcp_keepalive_tme: unknown key (not in the catalogue, not in /proc/sys); "
			 "did you mean net.ipv4.tcp_keepalive_time?");
	expect_at(&f, 3, "net.ipv4.tcp_frobnicat: unknown key (not in the catalogue, not in /proc/sys); "
			 "did you mean net.ipv4.tcp_frobnicate?");
	expect_at(&f, 5, "net.ipv4.tcp_zzzzzzzzzzzzzzzzzzzz: unknown key (not in the catalogue, not in /proc/sys)");
	expect_at(&f, 8, "net.core: a /proc/sys directory, not a key");
	expect_at(&f, 7, "net.ipv4.tcp_uncatalogued: unknown rule field \"maximum\" "
			 "(expected value, min, max, one_of, covers, optional, note)");
	expect_count(&f.errors, 6);
	fx_free(&f);

	/* the same keys without a /proc/sys are accepted untyped */
	fx_load(&f, "sysctl = { net = { ipv4 = { tcp_keepalive_tme = 200; tcp_frobnicat = \"x\"; }; }; };\n",
		NULL);
	assert_int_equal(f.r, 0);
	assert_int_equal(f.p.n_rules, 2);
	assert_null(f.p.rules[0].cat);
	assert_string_equal(f.p.rules[1].key, "net.ipv4.tcp_keepalive_tme");
	fx_free(&f);

	procsys_close(&ps);
	(void)close(fd);
	tl_rmroot(root);
}

/* ---- files, names, inheritance ---- */

static void test_inheritance(void **state)
{
	char *root = tl_mkroot(NULL), *dir = xasprintf("%s/p", root);
	struct profile_path pp = path_of(dir);
	struct profile p;
	struct msgs errors = { 0 };
	const struct rule *r;

	(void)state;
	tl_write(root, "p/a.conf", "description = \"A\";\n"
				   "sysctl = { net = { ipv4 = { tcp_x1 = 1; tcp_x2 = 1; tcp_x3 = 1; }; }; };\n");
	tl_write(root, "p/b.conf", "inherits = \"a\";\n"
				   "sysctl = { net = { ipv4 = { tcp_x2 = 2; }; }; };\n");
	tl_write(root, "p/c.conf", "inherits = \"a\";\n"
				   "sysctl = { net = { ipv4 = { tcp_x3 = 3; }; }; };\n");
	/* diamond: a is read once, before b and c; c is later so wins over b */
	tl_write(root, "p/d.conf", "description = \"D\";\n"
				   "inherits = [ \"b\", \"c\" ];\n"
				   "sysctl = { net = { ipv4 = {\n"
				   "  tcp_x4 = { value = 4; note = \"d\"; };\n"
				   "}; }; };\n");
	char *names[] = { "d" };
	assert_int_equal(profile_load(&pp, NULL, names, 1, &p, &errors), 0);
	assert_int_equal(p.n_files, 4);
	assert_true(strstr(p.files[0], "/a.conf") && strstr(p.files[1], "/b.conf") &&
		    strstr(p.files[2], "/c.conf") && strstr(p.files[3], "/d.conf"));
	assert_int_equal(p.n_rules, 4);
	assert_string_equal(find_rule(&p, "net.ipv4.tcp_x1")->profile, "a");
	assert_string_equal(find_rule(&p, "net.ipv4.tcp_x2")->value, "2");
	assert_string_equal(find_rule(&p, "net.ipv4.tcp_x3")->value, "3");
	r = find_rule(&p, "net.ipv4.tcp_x4");
	assert_string_equal(r->profile, "d");
	assert_int_equal(r->line, 4);
	assert_string_equal(r->note, "d");
	assert_string_equal(p.description, "D");
	assert_int_equal(p.n_names, 1);
	assert_string_equal(p.names[0], "d");
	profile_free(&p);

	/* several names: later wins per key; description of the last one */
	char *two[] = { "c", "b" };
	assert_int_equal(profile_load(&pp, NULL, two, 2, &p, &errors), 0);
	assert_string_equal(find_rule(&p, "net.ipv4.tcp_x2")->value, "2");
	assert_string_equal(find_rule(&p, "net.ipv4.tcp_x3")->value, "3");
	assert_int_equal(p.n_files, 3);
	assert_null(p.description);
	profile_free(&p);

	/* a file path, and inherits by path relative to the inheriting file */
	tl_write(root, "elsewhere/sub/e.conf", "inherits = \"../f.conf\";\n"
					       "sysctl = { net = { ipv4 = { tcp_x1 = 9; }; }; };\n");
	tl_write(root, "elsewhere/f.conf", "sysctl = { net = { ipv4 = { tcp_x1 = 8; tcp_x5 = 5; }; }; };\n");
	char *path = xasprintf("%s/elsewhere/sub/e.conf", root);
	char *three[] = { path, "a" };
	assert_int_equal(profile_load(&pp, NULL, three, 2, &p, &errors), 0);
	assert_string_equal(find_rule(&p, "net.ipv4.tcp_x1")->value, "1");
	assert_string_equal(find_rule(&p, "net.ipv4.tcp_x5")->profile, "f");
	assert_string_equal(p.description, "A");
	profile_free(&p);

	/* a name merged already as a parent is not merged again, but its description counts */
	char *again[] = { "d", "a" };
	assert_int_equal(profile_load(&pp, NULL, again, 2, &p, &errors), 0);
	assert_int_equal(p.n_files, 4);
	assert_string_equal(find_rule(&p, "net.ipv4.tcp_x2")->value, "2");
	assert_string_equal(p.description, "A");
	profile_free(&p);

	expect_count(&errors, 0);
	free(path);
	profile_path_free(&pp);
	free(dir);
	tl_rmroot(root);
}

static void test_first_on_path_wins(void **state)
{
	char *root = tl_mkroot(NULL);
	struct profile_path pp = { .dirs = xcalloc(2, sizeof(char *)), .n = 2 };
	struct profile p;
	struct msgs errors = { 0 };

	(void)state;
	pp.dirs[0] = xasprintf("%s/one", root);
	pp.dirs[1] = xasprintf("%s/two", root);
	tl_write(root, "one/x.conf", "sysctl = { net = { ipv4 = { tcp_x = 1; }; }; };\n");
	tl_write(root, "two/x.conf", "sysctl = { net = { ipv4 = { tcp_x = 2; }; }; };\n");
	tl_write(root, "two/y.conf", "inherits = \"x\";\n");
	char *names[] = { "y" };
	assert_int_equal(profile_load(&pp, NULL, names, 1, &p, &errors), 0);
	assert_string_equal(p.rules[0].value, "1");
	assert_true(strstr(p.files[0], "/one/x.conf") != NULL);
	profile_free(&p);
	profile_path_free(&pp);
	tl_rmroot(root);
}

static void test_cycle(void **state)
{
	char *root = tl_mkroot(NULL), *dir = xasprintf("%s/p", root);
	struct profile_path pp = path_of(dir);
	struct profile p;
	struct msgs errors = { 0 };
	char *want;

	(void)state;
	tl_write(root, "p/crawler.conf", "description = \"c\";\ninherits = \"baseline\";\n");
	tl_write(root, "p/baseline.conf", "\ninherits = [ \"crawler\" ];\n");
	tl_write(root, "p/self.conf", "inherits = \"self\";\n");
	char *names[] = { "crawler", "self" };
	assert_int_equal(profile_load(&pp, NULL, names, 2, &p, &errors), -EINVAL);
	profile_free(&p);	/* the warnings are left in it on failure too */
	expect_count(&errors, 2);
	want = xasprintf("%s/baseline.conf:2: inherits: inheritance cycle: crawler -> baseline -> crawler", dir);
	expect_msg(&errors, want);
	free(want);
	want = xasprintf("%s/self.conf:1: inherits: inheritance cycle: self -> self", dir);
	expect_msg(&errors, want);
	free(want);
	assert_null(p.rules);
	msgs_free(&errors);
	profile_path_free(&pp);
	free(dir);
	tl_rmroot(root);
}

static void test_missing(void **state)
{
	char *root = tl_mkroot(NULL);
	struct profile_path pp = { .dirs = xcalloc(2, sizeof(char *)), .n = 2 };
	struct profile p;
	struct msgs errors = { 0 };
	char *want, *dirpath, *nofile;

	(void)state;
	pp.dirs[0] = xasprintf("%s/one", root);
	pp.dirs[1] = xasprintf("%s/two", root);
	tl_write(root, "one/child.conf", "description = \"c\";\n"
					 "inherits = [ \"nope\", \"../bad name\" ];\n");
	tl_write(root, "one/isdir.conf/x", "");
	dirpath = xasprintf("%s/one/isdir.conf", root);
	nofile = xasprintf("%s/none.conf", root);
	char *names[] = { "child", "ghost", dirpath, nofile, "bad name", "isdir" };
	assert_int_equal(profile_load(&pp, NULL, names, 6, &p, &errors), -EINVAL);
	profile_free(&p);	/* the warnings are left in it on failure too */
	want = xasprintf("%s/one/child.conf:2: inherits: nope: no such profile; looked in %s/one, %s/two; "
			 "add a directory with --profile-dir DIR or TCPTUNE_PROFILE_PATH, or name the file "
			 "(./nope.conf)", root, root, root);
	expect_msg(&errors, want);
	free(want);
	want = xasprintf("%s/one/child.conf:2: inherits: %s/one/../bad name: No such file or directory", root, root);
	expect_msg(&errors, want);
	free(want);
	want = xasprintf("ghost: no such profile; looked in %s/one, %s/two; add a directory with "
			 "--profile-dir DIR or TCPTUNE_PROFILE_PATH, or name the file (./ghost.conf)", root, root);
	expect_msg(&errors, want);
	free(want);
	want = xasprintf("%s: not a regular file", dirpath);
	expect_msg(&errors, want);
	expect_msg(&errors, want);	/* "isdir" by name finds the same directory */
	assert_int_equal(strcmp(errors.v[6], want), 0);
	free(want);
	want = xasprintf("%s: No such file or directory", nofile);
	expect_msg(&errors, want);
	free(want);
	expect_msg(&errors, "bad name: invalid profile name");
	expect_count(&errors, 7);
	msgs_free(&errors);
	free(dirpath);
	free(nofile);
	profile_path_free(&pp);
	tl_rmroot(root);
}

/*
 * A profile named by its path finds a parent beside it before the path
 * (a checkout before make install); one on the path keeps the path's
 * order, so that a local parent shadows the shipped one.
 */
static void test_parent_beside(void **state)
{
	char *root = tl_mkroot(NULL);
	struct profile_path pp = { .dirs = xcalloc(1, sizeof(char *)), .n = 1 };
	struct profile p;
	struct msgs errors = { 0 };
	char *child, *want;

	(void)state;
	pp.dirs[0] = xasprintf("%s/etc", root);
	tl_write(root, "checkout/profiles/base.conf", "sysctl = { net = { ipv4 = { tcp_x = 1; }; }; };\n");
	tl_write(root, "checkout/profiles/kid.conf", "inherits = \"base\";\n"
						    "sysctl = { net = { ipv4 = { tcp_y = 2; }; }; };\n");
	child = xasprintf("%s/checkout/profiles/kid.conf", root);
	char *names[] = { child };
	assert_int_equal(profile_load(&pp, NULL, names, 1, &p, &errors), 0);
	expect_count(&errors, 0);
	assert_string_equal(find_rule(&p, "net.ipv4.tcp_x")->value, "1");
	profile_free(&p);

	/* beside wins over the path for a file named by its path */
	tl_write(root, "etc/base.conf", "sysctl = { net = { ipv4 = { tcp_x = 7; }; }; };\n");
	assert_int_equal(profile_load(&pp, NULL, names, 1, &p, &errors), 0);
	assert_string_equal(find_rule(&p, "net.ipv4.tcp_x")->value, "1");
	profile_free(&p);

	/* a misspelt parent: where it looked, beside first, and the nearest name */
	tl_write(root, "checkout/profiles/typo.conf", "inherits = \"bas\";\n");
	free(child);
	child = xasprintf("%s/checkout/profiles/typo.conf", root);
	names[0] = child;
	assert_int_equal(profile_load(&pp, NULL, names, 1, &p, &errors), -EINVAL);
	want = xasprintf("%s:1: inherits: bas: no such profile; looked in %s/checkout/profiles (beside "
			 "the file that inherits it), %s/etc; did you mean base?", child, root, root);
	expect_msg(&errors, want);
	free(want);
	msgs_free(&errors);

	/* a bare name on the command line: did you mean, from the path */
	char *bare[] = { "bse" };
	assert_int_equal(profile_load(&pp, NULL, bare, 1, &p, &errors), -EINVAL);
	want = xasprintf("bse: no such profile; looked in %s/etc; did you mean base?", root);
	expect_msg(&errors, want);
	free(want);
	msgs_free(&errors);
	free(child);
	profile_path_free(&pp);
	tl_rmroot(root);
}

/* sysctl.conf habits: a dotted key gets the line rewritten as nested groups. */
static void test_dotted_keys(void **state)
{
	struct fx f;

	(void)state;
	fx_load(&f, "description = \"x\";\n"
		    "net.ipv4.tcp_sack = 1;\n", NULL);
	assert_int_equal(f.r, -EINVAL);
	expect_count(&f.errors, 1);
	expect_at(&f, 2, "syntax error (libconfig needs nested groups, not dotted names: write line 2 as "
			 "sysctl = { net = { ipv4 = { tcp_sack = 1; }; }; };)");
	fx_free(&f);

	/* inside the sysctl group, without the ';', a vector */
	fx_load(&f, "sysctl = {\n"
		    "  net.ipv4.tcp_rmem = 4096 87380 6291456\n"
		    "};\n", NULL);
	assert_int_equal(f.r, -EINVAL);
	expect_count(&f.errors, 1);
	expect_msg_part(&f.errors, f.file, "write line 2 as net = { ipv4 = { tcp_rmem = [ 4096, 87380, 6291456 ]; }; };)");
	fx_free(&f);
}

/* The fixture files the integration tests use: pin their messages here. */
static void test_fixtures(void **state)
{
	static const struct {
		const char *file, *msg;
	} bad[] = {
		{ "syntax.conf", ":3: syntax error" },
		{ "duplicate.conf", ":4: duplicate setting name" },
		{ "unknown-top.conf", ":2: sysctls: unknown top-level setting (expected description, inherits, "
			"allow_uncatalogued, sysctl)" },
		{ "range.conf", ":3: net.ipv4.tcp_keepalive_time: must be an integer in 1..32767, not 0" },
		{ "minmax.conf", ":3: net.core.somaxconn: min 8192 is greater than max 4096" },
		{ "conflict.conf", ":3: net.core.somaxconn: value cannot be combined with min, max, one_of or covers" },
		{ "unknown-field.conf", ":4: net.core.somaxconn: unknown rule field \"maximum\" "
					"(expected value, min, max, one_of, covers, optional, note)" },
		{ "cycle-a.conf", "" },
		{ "missing-parent.conf", ":2: inherits: no-such-parent: no such profile; looked in " },
		{ "many.conf", ":2: description: must be a string, not a number" },
		{ "many.conf", ":6: net.ipv4.tcp_keepalive_time: must be an integer, not a string" },
		{ "many.conf", ":7: net.ipv4.ip_local_port_range: needs 2 integers, got 1" },
		{ "many.conf", ":8: net.ipv4.tcp_rmem: min 4096 131072 8388608 is greater than max 4096 131072 4194304" },
		{ "many.conf", ":10: net.core.somaxconn: one_of: must not be empty" },
	};
	char *bad_dir = xasprintf("%s/tests/data/profiles-bad", src);
	char *good_dir = xasprintf("%s/tests/data/profiles-good", src);
	struct profile_path pp = path_of(bad_dir);
	struct profile p;
	struct msgs errors = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path = xasprintf("%s/%s", bad_dir, bad[i].file), *want;
		char *names[] = { path };

		assert_int_equal(profile_load(&pp, NULL, names, 1, &p, &errors), -EINVAL);
		profile_free(&p);	/* the warnings are left in it on failure too */
		want = xasprintf("%s%s", path, bad[i].msg);
		if (!*bad[i].msg) {
			free(want);
			want = xasprintf("%s/cycle-b.conf:2: inherits: inheritance cycle: "
					 "cycle-a -> cycle-b -> cycle-a", bad_dir);
		}
		expect_msg_part(&errors, want, "");
		if (strcmp(bad[i].file, "many.conf") == 0)
			expect_count(&errors, 5);
		else
			expect_count(&errors, 1);
		msgs_free(&errors);
		free(want);
		free(path);
	}
	profile_path_free(&pp);

	pp = path_of(good_dir);
	char *names[] = { "child" };
	assert_int_equal(profile_load(&pp, NULL, names, 1, &p, &errors), 0);
	expect_count(&errors, 0);
	assert_int_equal(p.n_files, 3);
	assert_int_equal(p.n_rules, 4);
	assert_string_equal(find_rule(&p, "net.ipv4.tcp_keepalive_time")->value, "200");
	assert_string_equal(find_rule(&p, "net.ipv4.tcp_keepalive_probes")->value, "5");
	assert_string_equal(find_rule(&p, "net.ipv4.tcp_keepalive_probes")->profile, "extra");
	assert_string_equal(find_rule(&p, "net.core.somaxconn")->min, "4096");
	profile_free(&p);
	profile_path_free(&pp);
	free(bad_dir);
	free(good_dir);
}

/* ---- listing ---- */

static void test_list(void **state)
{
	char *root = tl_mkroot(NULL);
	struct profile_path pp = { .dirs = xcalloc(3, sizeof(char *)), .n = 3 };
	struct profile_info *v;
	struct msgs warnings = { 0 };
	size_t n;
	char *want;

	(void)state;
	pp.dirs[0] = xasprintf("%s/one", root);
	pp.dirs[1] = xasprintf("%s/two", root);
	pp.dirs[2] = xasprintf("%s/absent", root);
	tl_write(root, "one/a.conf", "description = \"A1\";\ninherits = [ \"x\", \"y\" ];\n");
	tl_write(root, "one/broken.conf", "description = \"B\"\n\nsysctl = {\n");
	tl_write(root, "one/notes.txt", "not a profile\n");
	tl_write(root, "one/.hidden.conf", "description = \"h\";\n");
	tl_write(root, "one/dir.conf/x", "");
	tl_write(root, "two/a.conf", "description = \"A2\";\ninherits = \"z\";\n");
	tl_write(root, "two/b.conf", "sysctl = { };\n");
	assert_int_equal(profile_list(&pp, &v, &n, &warnings), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].name, "a");
	assert_string_equal(v[0].description, "A1");
	assert_string_equal(v[0].inherits, "x,y");
	assert_false(v[0].shadowed);
	want = xasprintf("%s/one/a.conf", root);
	assert_string_equal(v[0].file, want);
	free(want);
	assert_string_equal(v[1].name, "a");
	assert_string_equal(v[1].description, "A2");
	assert_string_equal(v[1].inherits, "z");
	assert_true(v[1].shadowed);
	assert_string_equal(v[2].name, "b");
	assert_null(v[2].description);
	assert_null(v[2].inherits);
	assert_false(v[2].shadowed);
	assert_string_equal(v[3].name, "broken");
	assert_null(v[3].description);
	expect_count(&warnings, 1);
	want = xasprintf("%s/one/broken.conf:4: syntax error", root);
	assert_string_equal(warnings.v[0], want);
	free(want);
	profile_info_free(v, n);
	msgs_free(&warnings);
	profile_path_free(&pp);
	tl_rmroot(root);
}

/* ---- rules ---- */

static void test_describe(void **state)
{
	char *one[] = { "bbr", "cubic" }, *vec[] = { "1 2", "3 4" };
	struct rule exact = { .value = "200" }, lo = { .min = "4096" }, hi = { .max = "30" },
		    both = { .min = "1024", .max = "4096" },
		    of = { .one_of = one, .n_one_of = 2 }, ofv = { .one_of = vec, .n_one_of = 2 };
	char *s;

	(void)state;
	s = rule_describe(&exact);
	assert_string_equal(s, "200");
	free(s);
	s = rule_describe(&lo);
	assert_string_equal(s, ">= 4096");
	free(s);
	s = rule_describe(&hi);
	assert_string_equal(s, "<= 30");
	free(s);
	s = rule_describe(&both);
	assert_string_equal(s, "1024..4096");
	free(s);
	s = rule_describe(&of);
	assert_string_equal(s, "one of bbr cubic");
	free(s);
	s = rule_describe(&ofv);
	assert_string_equal(s, "one of [1 2] [3 4]");
	free(s);
}

static void expect_target(const struct rule *r, const char *live, const char *want)
{
	char *t = rule_target(r, live);

	assert_non_null(t);
	assert_string_equal(t, want);
	/* whatever apply would set must itself pass the rule */
	assert_true(rule_check(r, t));
	free(t);
}

static void test_check_target(void **state)
{
	char *one[] = { "bbr", "cubic" };
	struct rule exact = { .value = "4096 87380 6291456" },
		    vmin = { .min = "4096 131072 33554432" },
		    range = { .min = "10", .max = "20" },
		    hi = { .max = "30" },
		    vrange = { .min = "1 10", .max = "5 50" },
		    of = { .one_of = one, .n_one_of = 2 };

	(void)state;
	/* exact: token lists, whatever the whitespace */
	assert_true(rule_check(&exact, "4096\t87380\t6291456\n"));
	assert_false(rule_check(&exact, "4096 87380"));
	assert_false(rule_check(&exact, NULL));
	expect_target(&exact, "1 2 3", "4096 87380 6291456");
	expect_target(&exact, NULL, "4096 87380 6291456");

	/* element-wise min on a vector */
	assert_false(rule_check(&vmin, "4096\t131072\t6291456"));
	assert_true(rule_check(&vmin, "8192 262144 67108864"));
	assert_false(rule_check(&vmin, "8192 262144"));
	expect_target(&vmin, "4096\t131072\t6291456", "4096 131072 33554432");
	expect_target(&vmin, "8192 100 67108864", "8192 131072 67108864");
	expect_target(&vmin, "8192 262144 67108864", "8192 262144 67108864");
	expect_target(&vmin, "1 2", "4096 131072 33554432");	/* wrong arity: the bound */

	/* clamp to the nearest bound */
	assert_true(rule_check(&range, "10"));
	assert_true(rule_check(&range, "20"));
	assert_false(rule_check(&range, "9"));
	assert_false(rule_check(&range, "21"));
	assert_false(rule_check(&range, "abc"));
	assert_false(rule_check(&range, ""));
	expect_target(&range, "5", "10");
	expect_target(&range, "25", "20");
	expect_target(&range, "15", "15");
	expect_target(&range, NULL, "10");
	expect_target(&range, "abc", "10");
	expect_target(&hi, "60", "30");
	expect_target(&hi, "-5", "-5");
	expect_target(&hi, NULL, "30");
	expect_target(&vrange, "0 100", "1 50");
	expect_target(&vrange, "3 20", "3 20");
	assert_false(rule_check(&vrange, "6 20"));

	/* one_of: live when listed, else the first */
	assert_true(rule_check(&of, "cubic"));
	assert_false(rule_check(&of, "reno"));
	expect_target(&of, "cubic\n", "cubic");
	expect_target(&of, "reno", "bbr");
	expect_target(&of, NULL, "bbr");
}

/*
 * An @include of an absolute name reads that file, as libconfig does; its
 * rules name it as written, not the profile's directory joined to it
 * ("DIR//abs", which the include fuzzer found: a file that does not exist).
 */
static void test_include_absolute(void **state)
{
	struct fx f = { 0 };
	char *inc, *text, *want;

	(void)state;
	f.root = tl_mkroot(NULL);
	tl_write(f.root, "elsewhere/inc.cfg", "sysctl = { net = { core = { somaxconn = 4096; }; }; };\n");
	inc = xasprintf("%s/elsewhere/inc.cfg", f.root);
	text = xasprintf("description = \"x\";\n@include \"%s\"\n", inc);
	tl_write(f.root, "p/t.conf", text);
	f.file = xasprintf("%s/p/t.conf", f.root);
	char *dir = xasprintf("%s/p", f.root);
	f.pp = path_of(dir);
	char *names[] = { "t" };
	f.r = profile_load(&f.pp, NULL, names, 1, &f.p, &f.errors);
	assert_int_equal(f.r, 0);
	assert_int_equal(f.p.n_rules, 1);
	assert_string_equal(f.p.rules[0].file, inc);
	assert_int_equal(f.p.rules[0].line, 1);
	fx_free(&f);
	/* and one that does not exist is named, not looked for below the directory */
	memset(&f, 0, sizeof(f));
	f.root = tl_mkroot(NULL);
	tl_write(f.root, "p/t.conf", "@include \"/nonexistent-tcptune/inc.cfg\"\n");
	tl_write(f.root, "p/nonexistent-tcptune/inc.cfg", "sysctl = { net = { core = { somaxconn = 4096; }; }; };\n");
	f.file = xasprintf("%s/p/t.conf", f.root);
	free(dir);
	dir = xasprintf("%s/p", f.root);
	f.pp = path_of(dir);
	f.r = profile_load(&f.pp, NULL, names, 1, &f.p, &f.errors);
	assert_int_equal(f.r, -EINVAL);
	want = xasprintf("%s:1: @include \"/nonexistent-tcptune/inc.cfg\"", f.file);
	expect_msg_part(&f.errors, want, "No such file");
	free(want);
	fx_free(&f);
	free(dir);
	free(text);
	free(inc);
}

/* Root refuses a profile or @include others could change (StrictModes); others get a warning. */
static void test_others_can_write(void **state)
{
	struct fx f;
	char *path;

	(void)state;
	fx_load(&f, "sysctl = { net = { core = { somaxconn = 4096; }; }; };\n", NULL);
	assert_int_equal(f.r, 0);
	expect_count(&f.errors, 0);
	fx_free(&f);

	memset(&f, 0, sizeof(f));
	f.root = tl_mkroot(NULL);
	tl_write(f.root, "p/t.conf", "@include \"inc.conf\"\nsysctl = { net = { core = { somaxconn = 4096; }; }; };\n");
	tl_write(f.root, "p/inc.conf", "description = \"x\";\n");
	path = xasprintf("%s/p/inc.conf", f.root);
	assert_int_equal(chmod(path, 0666), 0);
	f.file = xasprintf("%s/p/t.conf", f.root);
	char *dir = xasprintf("%s/p", f.root);
	f.pp = path_of(dir);
	char *names[] = { "t" };
	f.r = profile_load(&f.pp, NULL, names, 1, &f.p, &f.errors);
	if (geteuid() == 0) {
		char *want = xasprintf("%s:1: @include \"inc.conf\": %s: writable by everyone: refusing it as root, "
				       "others could change what tcptune applies", f.file, path);
		assert_int_equal(f.r, -EINVAL);
		expect_msg(&f.errors, want);
		free(want);
	} else {
		assert_int_equal(f.r, 0);
	}
	fx_free(&f);
	free(path);

	/* the profile itself, group-writable: refused as root, a warning (kept, not leaked) otherwise */
	memset(&f, 0, sizeof(f));
	f.root = tl_mkroot(NULL);
	tl_write(f.root, "p/t.conf", "sysctl = { net = { core = { somaxconn = 4096; }; }; };\n");
	f.file = xasprintf("%s/p/t.conf", f.root);
	assert_int_equal(chmod(f.file, 0664), 0);
	free(dir);
	dir = xasprintf("%s/p", f.root);
	f.pp = path_of(dir);
	f.r = profile_load(&f.pp, NULL, names, 1, &f.p, &f.errors);
	if (geteuid() == 0) {
		char *want = xasprintf("%s: writable by its group: refusing it as root, "
				       "others could change what tcptune applies", f.file);
		assert_int_equal(f.r, -EINVAL);
		expect_msg(&f.errors, want);
		free(want);
	} else {
		assert_int_equal(f.r, 0);
		assert_int_equal(f.p.warnings.n, 1);
	}
	fx_free(&f);
	free(dir);
}

/* kernel.*, vm.* and uncatalogued fs.* need an explicit opt-in; net.* and catalogued keys do not. */
static void test_uncatalogued_scope(void **state)
{
	struct fx f;

	(void)state;
	fx_load(&f, "sysctl = { kernel = { core_pattern = \"|/tmp/x %p\"; };\n"
		    "  vm = { swappiness = 10; };\n"
		    "  fs = { file-max = { min = 1048576; }; };\n"
		    "  net = { ipv4 = { conf = { all = { rp_filter = 1; }; }; }; }; };\n", NULL);
	assert_int_equal(f.r, -EINVAL);
	expect_count(&f.errors, 2);
	char *tail = xasprintf("outside the network keys tcptune knows (not in its catalogue): "
			       "to set it, put allow_uncatalogued = true; at the top of %s", f.file);
	char *want = xasprintf("kernel.core_pattern: %s", tail);
	expect_at(&f, 1, want);
	free(want);
	want = xasprintf("vm.swappiness: %s", tail);
	expect_at(&f, 2, want);
	free(want);
	free(tail);
	fx_free(&f);

	fx_load(&f, "allow_uncatalogued = true;\n"
		    "sysctl = { kernel = { core_pattern = \"core\"; }; };\n", NULL);
	assert_int_equal(f.r, 0);
	assert_int_equal(f.p.n_allow_uncatalogued, 1);
	assert_string_equal(f.p.allow_uncatalogued[0], f.file);
	assert_true(rule_out_of_scope(find_rule(&f.p, "kernel.core_pattern")));
	fx_free(&f);

	fx_load(&f, "allow_uncatalogued = 1;\n", NULL);
	expect_at(&f, 1, "allow_uncatalogued: must be true or false, not a number");
	fx_free(&f);
}

/* An @include is read through the descriptor that was checked: swapping the file after it cannot hang or grow it. */
static void test_include_read_once(void **state)
{
	(void)state;
	for (int fifo = 1; fifo >= 0; fifo--) {
		struct fx f = { 0 };
		char *inc, *dir;
		char *names[] = { "t" };

		f.root = tl_mkroot(NULL);
		tl_write(f.root, "p/t.conf", "description = \"x\";\n@include \"inc.cfg\"\n");
		tl_write(f.root, "p/inc.cfg", "sysctl = { net = { core = { somaxconn = 4096; }; }; };\n");
		f.file = xasprintf("%s/p/t.conf", f.root);
		inc = xasprintf("%s/p/inc.cfg", f.root);
		dir = xasprintf("%s/p", f.root);
		f.pp = path_of(dir);
		swap_after_open = inc;
		swap_to_fifo = fifo;
		alarm(10);	/* a libconfig that opens the FIFO again blocks: fail, do not hang */
		f.r = profile_load(&f.pp, NULL, names, 1, &f.p, &f.errors);
		alarm(0);
		dump(&f.errors);
		assert_null(swap_after_open);	/* the swap happened */
		assert_int_equal(f.r, 0);
		assert_int_equal(f.p.n_rules, 1);
		assert_string_equal(f.p.rules[0].key, "net.core.somaxconn");
		assert_string_equal(f.p.rules[0].file, inc);
		assert_int_equal(f.p.rules[0].line, 1);
		fx_free(&f);
		free(inc);
		free(dir);
	}
}

/* A 2000-deep inherits chain is refused with one clear error, not a stack overflow. */
static void test_inherit_depth(void **state)
{
	char *root = tl_mkroot(NULL), *dir = xasprintf("%s/p", root), *want;
	struct profile_path pp = path_of(dir);
	struct msgs errors = { 0 };
	struct profile p;
	char *names[] = { "c0" };

	(void)state;
	for (int i = 0; i < 2000; i++) {
		char *rel = xasprintf("p/c%d.conf", i);
		char *text = i < 1999 ? xasprintf("inherits = \"c%d\";\n", i + 1) :
			xstrdup("sysctl = { net = { core = { somaxconn = 4096; }; }; };\n");
		tl_write(root, rel, text);
		free(rel);
		free(text);
	}
	assert_int_equal(profile_load(&pp, NULL, names, 1, &p, &errors), -EINVAL);
	profile_free(&p);
	expect_count(&errors, 1);
	want = xasprintf("%s/c31.conf:1: inherits: c32: inherits nested more than 32 deep", dir);
	expect_msg(&errors, want);
	free(want);
	msgs_free(&errors);
	profile_path_free(&pp);
	free(dir);
	tl_rmroot(root);
}

/* An I/O error reading a profile is not bad input: profile_load says -EIO, not -EINVAL. */
static void test_read_error(void **state)
{
	struct fx f;

	(void)state;
	fail_read = true;
	fx_load(&f, "sysctl = { net = { core = { somaxconn = 4096; }; }; };\n", NULL);
	fail_read = false;
	assert_int_equal(f.r, -EIO);
	char *want = xasprintf("%s: Input/output error", f.file);
	expect_msg(&f.errors, want);
	free(want);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_init),
		cmocka_unit_test(test_shipped_valid),
		cmocka_unit_test(test_shipped_crawler),
		cmocka_unit_test(test_shipped_with_root),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_range_and_arity),
		cmocka_unit_test(test_string_key),
		cmocka_unit_test(test_rule_group_shape),
		cmocka_unit_test(test_covers_shape),
		cmocka_unit_test(test_values_normalized),
		cmocka_unit_test(test_int_overflow),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_inheritance),
		cmocka_unit_test(test_first_on_path_wins),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_parent_beside),
		cmocka_unit_test(test_dotted_keys),
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_check_target),
		cmocka_unit_test(test_include_absolute),
		cmocka_unit_test(test_others_can_write),
		cmocka_unit_test(test_uncatalogued_scope),
		cmocka_unit_test(test_include_read_once),
		cmocka_unit_test(test_inherit_depth),
		cmocka_unit_test(test_read_error),
	};
	return cmocka_run_group_tests(tests, copy_sources, remove_sources);
}
