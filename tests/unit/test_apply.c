/* SPDX-License-Identifier: ISC */
/* test_apply.c: unit tests for src/apply.c: render, plan, apply, rollback, faults and crashes on a fixture root. */
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
#include "apply.h"
#include "fileio.h"
#include "tcptune.h"
#include "util.h"

/* --- fault injection ------------------------------------------------------- */

/*
 * A write() whose data starts with `prefix` (its nth such call) stores
 * `store` instead (NULL: nothing) and fails with err (0: reports success),
 * as the kernel does when it keeps part of a vector or clamps a value.
 */
struct wrule {
	const char *prefix;
	int nth;
	const char *store;
	int err;
	int hits;
};
static struct wrule wrules[4];
static int fail_renameat_nth, renameat_calls, fail_fsync_nth, fsync_calls;
static bool fail_memstream;
/* the fclose of the last memstream fails (the stream's flush at its end: ENOMEM) */
static bool fail_memstream_close;
static FILE *last_memstream;
/* after a write() whose data starts with this, the next read() fails with EIO */
static const char *fail_read_after;
static bool fail_next_read;

static void faults_reset(void)
{
	memset(wrules, 0, sizeof(wrules));
	fail_renameat_nth = renameat_calls = fail_fsync_nth = fsync_calls = 0;
	fail_memstream = false;
	fail_memstream_close = false;
	fail_read_after = NULL;
	fail_next_read = false;
}

static void fail_write(const char *prefix, int nth, const char *store, int err)
{
	for (size_t i = 0; i < 4; i++)
		if (!wrules[i].prefix) {
			wrules[i] = (struct wrule){ prefix, nth, store, err, 0 };
			return;
		}
	fail_msg("too many write rules");
}

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (fail_read_after && n >= strlen(fail_read_after) &&
	    memcmp(buf, fail_read_after, strlen(fail_read_after)) == 0) {
		fail_read_after = NULL;
		fail_next_read = true;
	}
	for (size_t i = 0; i < 4; i++) {
		struct wrule *w = &wrules[i];
		size_t pl = w->prefix ? strlen(w->prefix) : 0;

		if (!w->prefix || n < pl || memcmp(buf, w->prefix, pl) != 0)
			continue;
		if (++w->hits != w->nth)
			continue;
		if (w->store)
			(void)__real_write(fd, w->store, strlen(w->store));
		if (w->err) {
			errno = w->err;
			return -1;
		}
		return (ssize_t)n;
	}
	return __real_write(fd, buf, n);
}

ssize_t __real_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n);
ssize_t __wrap_read(int fd, void *buf, size_t n)
{
	if (fail_next_read) {
		fail_next_read = false;
		errno = EIO;
		return -1;
	}
	return __real_read(fd, buf, n);
}

int __real_renameat(int a, const char *b, int c, const char *d);
int __wrap_renameat(int a, const char *b, int c, const char *d);
int __wrap_renameat(int a, const char *b, int c, const char *d)
{
	if (++renameat_calls == fail_renameat_nth) {
		errno = EIO;
		return -1;
	}
	return __real_renameat(a, b, c, d);
}

FILE *__real_open_memstream(char **ptr, size_t *size);
FILE *__wrap_open_memstream(char **ptr, size_t *size);
FILE *__wrap_open_memstream(char **ptr, size_t *size)
{
	if (fail_memstream) {
		errno = ENOMEM;
		return NULL;
	}
	return last_memstream = __real_open_memstream(ptr, size);
}

int __real_fclose(FILE *f);
int __wrap_fclose(FILE *f);
int __wrap_fclose(FILE *f)
{
	if (fail_memstream_close && f && f == last_memstream) {
		last_memstream = NULL;
		(void)__real_fclose(f);
		errno = ENOMEM;
		return EOF;
	}
	if (f == last_memstream)
		last_memstream = NULL;
	return __real_fclose(f);
}

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
	if (++fsync_calls == fail_fsync_nth) {
		errno = EIO;
		return -1;
	}
	return __real_fsync(fd);
}

/* --- fixture ---------------------------------------------------------------- */

#define FRAG "/etc/sysctl.d/90-tcptune.conf"
#define FRAG_REL "etc/sysctl.d/90-tcptune.conf"
#define JOURNAL_REL "var/lib/tcptune/last-apply"

static char *root;
static int rootfd = -1;
static struct procsys ps = { -1 };
static struct profile_path pp;
static const struct apply_opts ao = { .fragment = FRAG, .lock_timeout_ms = 200 };

static int setup(void **state)
{
	char *dirs[] = { (char *)SRCDIR "/profiles" };

	(void)state;
	faults_reset();
	root = tl_mkroot("apply-root");
	rootfd = tl_rootfd(root);
	assert_int_equal(procsys_open(rootfd, &ps), 0);
	profile_path_init(&pp, root, dirs, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	faults_reset();
	profile_path_free(&pp);
	procsys_close(&ps);
	(void)close(rootfd);
	tl_rmroot(root);
	return 0;
}

static void load(const char *name, struct profile *p)
{
	struct msgs m = { 0 };
	char *names[] = { (char *)name };
	int r = profile_load(&pp, &ps, names, 1, p, &m);

	for (size_t i = 0; i < m.n; i++)
		print_error("profile: %s\n", m.v[i]);
	assert_int_equal(r, 0);
	msgs_free(&m);
}

static char *live(const char *key)
{
	char *v = NULL;

	assert_int_equal(procsys_read(&ps, key, &v), 0);
	return v;
}

static void assert_live(const char *key, const char *want)
{
	char *v = live(key);

	if (!value_equal(v, want))
		fail_msg("%s is '%s', expected '%s'", key, v, want);
	free(v);
}

static bool has_msg(const struct msgs *m, const char *needle)
{
	for (size_t i = 0; i < m->n; i++)
		if (strstr(m->v[i], needle))
			return true;
	return false;
}

/* crawler on apply-root: what the fixture holds and what apply sets */
static const char *const keys[] = {
	"fs.file-max", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_max_tw_buckets",
	"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_tw_reuse",
};
static const char *const olds[] = { "524288", "32768 60999", "60", "75", "9", "7200", "8192", "1", "2" };
static const char *const news[] = { "1048576", "10240 65535", "30", "15", "3", "200", "65536", "0", "1" };
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

enum whole { ALL_OLD, ALL_NEW, MIXED };

/* Is the fixture all before crawler (fragment absent), all after it, or mixed? */
static enum whole whole_state(const char *new_frag)
{
	size_t nold = 0, nnew = 0;
	char *frag = tl_read(root, FRAG_REL);

	for (size_t i = 0; i < NKEYS; i++) {
		char *v = live(keys[i]);
		nold += value_equal(v, olds[i]);
		nnew += value_equal(v, news[i]);
		free(v);
	}
	bool frag_old = !frag, frag_new = frag && strcmp(frag, new_frag) == 0;
	free(frag);
	if (nold == NKEYS && frag_old)
		return ALL_OLD;
	if (nnew == NKEYS && frag_new)
		return ALL_NEW;
	return MIXED;
}

static char *crawler_fragment(void)
{
	struct profile p = { 0 };
	char *text;

	load("crawler", &p);
	assert_int_equal(apply_render_for(rootfd, &p, &ps, ao.fragment, &text), 0);
	profile_free(&p);
	return text;
}

static void assert_all_old(void)
{
	char *nf = crawler_fragment();

	assert_int_equal(whole_state(nf), ALL_OLD);
	free(nf);
}

static void assert_all_new(void)
{
	char *nf = crawler_fragment();

	assert_int_equal(whole_state(nf), ALL_NEW);
	free(nf);
}

static enum apply_outcome run_crawler(struct apply_tx *tx)
{
	struct profile p = { 0 };
	enum apply_outcome r;

	load("crawler", &p);
	r = apply_run(rootfd, &ps, &p, &ao, tx);
	profile_free(&p);
	return r;
}

static enum apply_outcome rollback(struct apply_tx *tx)
{
	return apply_rollback(rootfd, &ps, &ao, false, tx);
}

static enum apply_state journal_state(void)
{
	struct apply_last l;

	assert_int_equal(apply_last_read(rootfd, &l, NULL), 0);
	enum apply_state s = l.state;
	apply_last_free(&l);
	return s;
}

/* --- render and plan -------------------------------------------------------- */

static void test_render(void **state)
{
	struct profile p = { 0 };
	char *a, *b;

	(void)state;
	load("crawler", &p);
	a = apply_render(&p, &ps);
	b = apply_render(&p, &ps);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "# sysctl.d fragment written by tcptune for profile crawler.\n"));
	assert_non_null(strstr(a, "\n# rule: <= 200 (crawler): first probe after at most 200 s idle"));
	assert_non_null(strstr(a, "\nnet.ipv4.tcp_keepalive_time = 200\n"));
	assert_non_null(strstr(a, "\nnet.ipv4.ip_local_port_range = 10240 65535\n"));
	/* optional: "-" so that boot ignores a kernel without it */
	assert_non_null(strstr(a, "\n# rule: >= 1048576 (baseline; optional): "));
	/* optional and computed at boot: the kernel's value stays, nothing baked in */
	assert_non_null(strstr(a, "\n# fs.file-max: not pinned: optional, and the kernel computes it at boot\n"));
	assert_null(strstr(a, "fs.file-max ="));
	/* a min rule the kernel default satisfies pins nothing; a max rule it breaks pins the bound */
	assert_non_null(strstr(a, "\n# net.core.somaxconn: not pinned: the boot value 4096 already "
				  "satisfies the rule\n"));
	assert_non_null(strstr(a, "\nnet.ipv4.tcp_fin_timeout = 30\n"));
	assert_null(strstr(a, "\t"));
	free(a);
	free(b);
	profile_free(&p);

	/* a note cannot break out of its comment line */
	tl_write(root, "p/evil.conf",
		 "sysctl = { net = { ipv4 = { tcp_keepalive_time = { value = 300; "
		 "note = \"x\\nnet.ipv4.tcp_syncookies = 0\\r\"; }; }; }; };\n");
	char *path = xasprintf("%s/p/evil.conf", root);
	load(path, &p);
	a = apply_render(&p, &ps);
	assert_null(strstr(a, "\nnet.ipv4.tcp_syncookies"));
	assert_non_null(strstr(a, "x net.ipv4.tcp_syncookies = 0 \n"));
	free(a);
	free(path);
	profile_free(&p);
}

/* A stream that fails, or a live value that cannot be read, is no fragment: never an empty or bound-pinning one. */
static void test_render_fails(void **state)
{
	struct profile p = { 0 };
	struct apply_tx tx;
	char *path;

	(void)state;
	load("crawler", &p);
	fail_memstream = true;
	assert_null(apply_render(&p, &ps));
	assert_int_equal(run_crawler(&tx), APPLY_FAILED);
	assert_true(has_msg(&tx.errors, "cannot render the fragment"));
	apply_tx_free(&tx);
	fail_memstream = false;
	assert_all_old();
	/* the stream opens, but its last flush (at fclose) fails: no fragment either */
	fail_memstream_close = true;
	assert_null(apply_render(&p, &ps));
	assert_int_equal(run_crawler(&tx), APPLY_FAILED);
	assert_true(has_msg(&tx.errors, "cannot render the fragment"));
	apply_tx_free(&tx);
	fail_memstream_close = false;
	assert_all_old();
	assert_null(tl_read(root, FRAG_REL));
	/* fs.file-max (min 1048576) that cannot be read: no "fs.file-max = 1048576" */
	path = xasprintf("%s/proc/sys/fs/file-max", root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_null(apply_render(&p, &ps));
	assert_int_equal(run_crawler(&tx), APPLY_FAILED);
	apply_tx_free(&tx);
	assert_null(tl_read(root, FRAG_REL));
	assert_int_equal(rmdir(path), 0);
	free(path);
	profile_free(&p);
}

/* /run/sysctl.d is read at boot, but /run is emptied first: not persisted. */
static void test_plan_run_fragment(void **state)
{
	struct apply_opts ro = ao;
	struct profile p = { 0 };
	struct apply_tx tx;

	(void)state;
	ro.fragment = "/run/sysctl.d/90-tcptune.conf";
	load("crawler", &p);
	assert_int_equal(apply_plan(rootfd, &ps, &p, &ro, &tx), APPLY_OK);
	assert_true(has_msg(&tx.warnings, "emptied at every boot"));
	apply_tx_free(&tx);
	assert_int_equal(apply_plan(rootfd, &ps, &p, &ao, &tx), APPLY_OK);
	assert_false(has_msg(&tx.warnings, "emptied at every boot"));
	apply_tx_free(&tx);
	profile_free(&p);
}

static void test_plan_touches_nothing(void **state)
{
	struct apply_tx tx;
	struct profile p = { 0 };
	struct stat st;

	(void)state;
	load("crawler", &p);
	assert_int_equal(apply_plan(rootfd, &ps, &p, &ao, &tx), APPLY_OK);
	assert_int_equal(tx.n_set, NKEYS);
	assert_true(tx.frag_changes);
	assert_null(tx.frag_old);
	for (size_t i = 0, j = 0; i < tx.n_keys; i++) {
		if (tx.keys[i].action != APPLY_SET)
			continue;
		assert_string_equal(tx.keys[i].key, keys[j]);
		assert_true(value_equal(tx.keys[i].before, olds[j]));
		assert_string_equal(tx.keys[i].after, news[j]);
		j++;
	}
	assert_true(has_msg(&tx.notes, "per network namespace"));
	apply_tx_free(&tx);
	profile_free(&p);
	assert_all_old();
	char *p1 = xasprintf("%s/var", root), *p2 = xasprintf("%s/run", root);
	assert_int_equal(stat(p1, &st), -1);
	assert_int_equal(stat(p2, &st), -1);
	free(p1);
	free(p2);
}

static void test_plan_boot_override(void **state)
{
	struct apply_tx tx;
	struct profile p = { 0 };

	(void)state;
	tl_write(root, "etc/sysctl.d/99-local.conf", "# later file wins\nnet.ipv4.tcp_keepalive_time = 7200\n");
	/* same value: no warning */
	tl_write(root, "etc/sysctl.conf", "net.ipv4.tcp_tw_reuse = 1\n");
	load("crawler", &p);
	assert_int_equal(apply_plan(rootfd, &ps, &p, &ao, &tx), APPLY_OK);
	/* a boot conflict, with the file:line and a fragment name that wins */
	const struct boot_conflict *b = bootfix_lookup(&tx.conflicts, "net.ipv4.tcp_keepalive_time");
	assert_non_null(b);
	assert_string_equal(b->file, "/etc/sysctl.d/99-local.conf");
	assert_int_equal(b->line, 2);
	assert_string_equal(b->value, "7200");
	assert_false(b->procps);
	assert_string_equal(tx.conflicts.winning_fragment, "/etc/sysctl.d/99-zz-tcptune.conf");
	assert_null(bootfix_lookup(&tx.conflicts, "net.ipv4.tcp_tw_reuse"));
	apply_tx_free(&tx);

	/* a conflicting name after 99-zz-tcptune.conf: the winner sorts after it */
	tl_write(root, "etc/sysctl.d/zzz-local.conf", "net.ipv4.tcp_keepalive_time = 7200\n");
	assert_int_equal(apply_plan(rootfd, &ps, &p, &ao, &tx), APPLY_OK);
	assert_string_equal(tx.conflicts.winning_fragment, "/etc/sysctl.d/zzz-local.zz-tcptune.conf");
	apply_tx_free(&tx);
	char *zz = xasprintf("%s/etc/sysctl.d/zzz-local.conf", root);
	assert_int_equal(unlink(zz), 0);
	free(zz);

	/* /etc/sysctl.conf: procps reads it last; no fragment name wins there */
	tl_write(root, "etc/sysctl.conf", "net.ipv4.tcp_tw_reuse = 0\n");
	assert_int_equal(apply_plan(rootfd, &ps, &p, &ao, &tx), APPLY_OK);
	b = bootfix_lookup(&tx.conflicts, "net.ipv4.tcp_tw_reuse");
	assert_non_null(b);
	assert_true(b->procps);
	assert_string_equal(b->file, "/etc/sysctl.conf");
	apply_tx_free(&tx);
	tl_write(root, "etc/sysctl.conf", "net.ipv4.tcp_tw_reuse = 1\n");

	struct apply_opts other = ao;
	other.fragment = "/etc/tcptune.conf";
	assert_int_equal(apply_plan(rootfd, &ps, &p, &other, &tx), APPLY_OK);
	assert_true(has_msg(&tx.warnings, "/etc/tcptune.conf is not read at boot"));
	apply_tx_free(&tx);
	profile_free(&p);
}

static void test_plan_missing_and_scope(void **state)
{
	struct apply_tx tx;
	struct profile p = { 0 };
	char *path;

	(void)state;
	/* optional fs.file-max missing: skipped with a note */
	path = xasprintf("%s/proc/sys/fs/file-max", root);
	assert_int_equal(unlink(path), 0);
	free(path);
	load("crawler", &p);
	assert_int_equal(apply_plan(rootfd, &ps, &p, &ao, &tx), APPLY_OK);
	assert_int_equal(tx.keys[0].action, APPLY_SKIP_MISSING);
	assert_true(has_msg(&tx.notes, "fs.file-max: skipped: optional"));
	apply_tx_free(&tx);
	profile_free(&p);

	/* non-optional key missing: refused, nothing touched */
	tl_write(root, "p/need.conf", "sysctl = { net = { ipv4 = { tcp_fastopen = 1; }; }; };\n");
	path = xasprintf("%s/p/need.conf", root);
	load(path, &p);
	free(path);
	assert_int_equal(apply_run(rootfd, &ps, &p, &ao, &tx), APPLY_INVALID);
	assert_true(has_msg(&tx.errors, "net.ipv4.tcp_fastopen: this kernel does not have the key"));
	assert_null(tl_read(root, FRAG_REL));
	assert_null(tl_read(root, JOURNAL_REL));
	apply_tx_free(&tx);
	profile_free(&p);
}

static void test_child_netns_skips_host_keys(void **state)
{
	struct apply_tx tx;
	char *path;

	(void)state;
	/* tcp_mem hidden: this /proc/sys belongs to a child network namespace */
	path = xasprintf("%s/proc/sys/net/ipv4/tcp_mem", root);
	assert_int_equal(unlink(path), 0);
	free(path);
	assert_int_equal(run_crawler(&tx), APPLY_OK);
	assert_true(tx.child_netns);
	assert_int_equal(tx.keys[0].action, APPLY_SKIP_SCOPE);
	assert_true(has_msg(&tx.notes, "fs.file-max: skipped: host-wide (global)"));
	assert_false(has_msg(&tx.notes, "per network namespace:"));
	apply_tx_free(&tx);
	assert_live("fs.file-max", "524288");
	assert_live("net.ipv4.tcp_keepalive_time", "200");
}

/* --- apply and rollback ------------------------------------------------------ */

static void test_apply_again_rollback(void **state)
{
	struct apply_tx tx;
	struct stat a, b;
	char *p, *j1, *j2;

	(void)state;
	assert_int_equal(run_crawler(&tx), APPLY_OK);
	assert_true(tx.changed);
	apply_tx_free(&tx);
	assert_all_new();
	assert_int_equal(journal_state(), APPLY_STATE_COMPLETE);
	j1 = tl_read(root, JOURNAL_REL);
	assert_non_null(strstr(j1, "\"fragment_before_b64\": null"));

	p = xasprintf("%s/%s", root, FRAG_REL);
	assert_int_equal(stat(p, &a), 0);
	assert_int_equal(a.st_mode & 07777, 0644);
	assert_int_equal(run_crawler(&tx), APPLY_OK);
	assert_false(tx.changed);
	assert_false(tx.frag_changes);
	assert_int_equal(tx.n_set, 0);
	apply_tx_free(&tx);
	assert_int_equal(stat(p, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_true(a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec);
	j2 = tl_read(root, JOURNAL_REL);
	assert_string_equal(j1, j2);
	free(j1);
	free(j2);
	free(p);

	assert_int_equal(rollback(&tx), APPLY_OK);
	assert_true(tx.changed);
	assert_int_equal(tx.n_set, NKEYS);
	apply_tx_free(&tx);
	assert_all_old();
	assert_int_equal(journal_state(), APPLY_STATE_ROLLED_BACK);

	/* idempotent */
	assert_int_equal(rollback(&tx), APPLY_OK);
	assert_false(tx.changed);
	assert_true(has_msg(&tx.notes, "already rolled back"));
	apply_tx_free(&tx);
	assert_all_old();
}

/* A writer killed between creating its temp file and renaming it leaves the temp: the next apply removes it. */
static void test_apply_removes_stale_temps(void **state)
{
	struct apply_tx tx;
	char *t;

	(void)state;
	tl_write(root, "etc/sysctl.d/.90-tcptune.conf.00112233aabbccdd", "half written");
	tl_write(root, "var/lib/tcptune/.last-apply.00112233aabbccdd", "{");
	assert_int_equal(run_crawler(&tx), APPLY_OK);
	apply_tx_free(&tx);
	assert_null(tl_read(root, "etc/sysctl.d/.90-tcptune.conf.00112233aabbccdd"));
	assert_null(tl_read(root, "var/lib/tcptune/.last-apply.00112233aabbccdd"));
	t = tl_read(root, "etc/sysctl.d/10-defaults.conf");
	assert_non_null(t);
	free(t);
}

static void test_rollback_nothing(void **state)
{
	struct apply_tx tx;

	(void)state;
	assert_int_equal(rollback(&tx), APPLY_INVALID);
	assert_true(has_msg(&tx.errors, "nothing to roll back"));
	apply_tx_free(&tx);
	assert_int_equal(journal_state(), APPLY_STATE_NONE);

	tl_write(root, JOURNAL_REL, "{ not json");
	assert_int_equal(rollback(&tx), APPLY_INVALID);
	apply_tx_free(&tx);
	/* an unreadable journal stops apply too: it may be the only way back */
	assert_int_equal(run_crawler(&tx), APPLY_FAILED);
	assert_true(has_msg(&tx.errors, "`tcptune rollback --forget`"));
	apply_tx_free(&tx);
	assert_all_old();
	/* the documented way out: set it aside (kept), then apply works */
	assert_int_equal(apply_forget(rootfd, &ao, &tx), APPLY_OK);
	apply_tx_free(&tx);
	char *kept = tl_read(root, JOURNAL_REL ".forgotten");
	assert_string_equal(kept, "{ not json");
	free(kept);
	assert_int_equal(journal_state(), APPLY_STATE_NONE);
	assert_int_equal(run_crawler(&tx), APPLY_OK);
	apply_tx_free(&tx);
	assert_all_new();
}

static void test_rollback_restores_old_fragment(void **state)
{
	static const char old[] = "# admin's own, latin-1: caf\xe9\nnet.ipv4.tcp_fin_timeout = 45\n";
	struct apply_tx tx;
	struct stat st;
	char *p, *back;

	(void)state;
	tl_write(root, FRAG_REL, old);
	p = xasprintf("%s/%s", root, FRAG_REL);
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(run_crawler(&tx), APPLY_OK);
	apply_tx_free(&tx);
	back = tl_read(root, JOURNAL_REL);
	assert_non_null(strstr(back, "\"fragment_before_b64\""));
	free(back);
	assert_int_equal(rollback(&tx), APPLY_OK);
	apply_tx_free(&tx);
	back = tl_read(root, FRAG_REL);
	assert_string_equal(back, old);
	free(back);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(p);
	assert_live("net.ipv4.tcp_keepalive_time", "7200");
}

static void write_bytes(const char *rel, const char *data, size_t len, mode_t mode)
{
	char *p = xasprintf("%s/%s", root, rel);
	int fd;

	tl_write(root, rel, "");
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
	free(p);
}

static void assert_bytes(const char *rel, const char *data, size_t len, mode_t mode)
{
	char *p = xasprintf("%s/%s", root, rel), *got = NULL;
	size_t n = 0;
	struct stat st;
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(read_all(fd, 1 << 20, &got, &n), 0);
	assert_int_equal(fstat(fd, &st), 0);
	(void)close(fd);
	assert_int_equal(n, len);
	assert_memory_equal(got, data, len);
	assert_int_equal(st.st_mode & 07777, mode);
	free(got);
	free(p);
}

/* A NUL-padded fragment after a power cut, CRLF, bytes that are not UTF-8, mode 0600: all round-trip. */
static void test_rollback_any_bytes(void **state)
{
	static const char old1[] = "net.ipv4.tcp_fin_timeout = 45\r\n\0\0\0\0\0\0";
	static const char old2[] = "net.ipv4.tcp_fin_timeout = 45\r\n# caf\xe9 \xff\xfe\n\0\0";
	static const char *const olds_[] = { old1, old2 };
	static const size_t lens[] = { sizeof(old1) - 1, sizeof(old2) - 1 };
	struct apply_tx tx;
	struct stat st;
	char *p;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		write_bytes(FRAG_REL, olds_[i], lens[i], 0600);
		assert_int_equal(run_crawler(&tx), APPLY_OK);
		apply_tx_free(&tx);
		/* the journal is readable (audit, doctor) and root's alone: it holds a 0600 file's bytes */
		assert_int_equal(journal_state(), APPLY_STATE_COMPLETE);
		p = xasprintf("%s/%s", root, JOURNAL_REL);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		free(p);
		/* a later apply reads it too */
		assert_int_equal(run_crawler(&tx), APPLY_OK);
		apply_tx_free(&tx);
		assert_int_equal(rollback(&tx), APPLY_OK);
		apply_tx_free(&tx);
		assert_bytes(FRAG_REL, olds_[i], lens[i], 0600);
		assert_live("net.ipv4.tcp_keepalive_time", "7200");
	}
}

/* Journals written before format 2 are still read: a NUL in a format-1 string, or hex. */
static void test_rollback_format1_journal(void **state)
{
	static const char *const frag[] = { "a = 1\n\0\0", "caf\xe9\n" };
	static const size_t len[] = { 8, 5 };
	static const char *const field[] = { "\"fragment_before\": \"a = 1\\n\\u0000\\u0000\"",
					     "\"fragment_before\": null, \"fragment_before_hex\": \"636166e90a\"" };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct apply_tx tx;
		char *j = xasprintf("{ \"format\": 1, \"state\": \"complete\", \"pid\": 1, "
				    "\"profiles\": [\"crawler\"], \"netns\": null, \"fragment\": \"%s\", %s, "
				    "\"fragment_before_mode\": 420, \"keys\": [ { \"key\": "
				    "\"net.ipv4.tcp_fin_timeout\", \"before\": \"60\", \"after\": \"30\" } ] }\n",
				    FRAG, field[i]);

		tl_write(root, JOURNAL_REL, j);
		free(j);
		tl_write(root, "proc/sys/net/ipv4/tcp_fin_timeout", "30\n");
		tl_write(root, FRAG_REL, "written by the apply\n");
		assert_int_equal(rollback(&tx), APPLY_OK);
		apply_tx_free(&tx);
		assert_bytes(FRAG_REL, frag[i], len[i], 0644);
		assert_live("net.ipv4.tcp_fin_timeout", "60");
	}
}

/* A key that disappears after the apply (interface removed, module unloaded) has nothing to restore. */
static void test_rollback_gone_key(void **state)
{
	struct apply_tx tx;
	char *p;

	(void)state;
	assert_int_equal(run_crawler(&tx), APPLY_OK);
	apply_tx_free(&tx);
	p = xasprintf("%s/proc/sys/net/ipv4/tcp_fin_timeout", root);
	assert_int_equal(unlink(p), 0);
	free(p);
	assert_int_equal(apply_rollback(rootfd, &ps, &ao, true, &tx), APPLY_OK);
	assert_true(has_msg(&tx.notes, "net.ipv4.tcp_fin_timeout: gone since the apply"));
	apply_tx_free(&tx);
	assert_int_equal(rollback(&tx), APPLY_OK);
	assert_true(has_msg(&tx.notes, "net.ipv4.tcp_fin_timeout: gone since the apply"));
	assert_int_equal(tx.n_set, NKEYS - 1);
	apply_tx_free(&tx);
	assert_int_equal(journal_state(), APPLY_STATE_ROLLED_BACK);
	assert_live("net.ipv4.tcp_keepalive_time", "7200");
}

/* The same in the recovery of an interrupted apply: the next apply goes ahead. */
static void test_recover_gone_key(void **state)
{
	struct apply_tx tx;
	char *j = xasprintf("{ \"format\": 2, \"state\": \"incomplete\", \"pid\": 1, "
			    "\"profiles\": [\"crawler\"], \"netns\": null, \"fragment\": \"%s\", "
			    "\"fragment_before_b64\": null, \"fragment_before_mode\": 420, \"keys\": [ "
			    "{ \"key\": \"net.ipv4.conf.veth0.rp_filter\", \"before\": \"0\", \"after\": \"2\" }, "
			    "{ \"key\": \"net.ipv4.tcp_keepalive_time\", \"before\": \"7200\", \"after\": \"300\" } ] }\n",
			    FRAG);

	(void)state;
	tl_write(root, JOURNAL_REL, j);
	free(j);
	tl_write(root, "proc/sys/net/ipv4/tcp_keepalive_time", "300\n");
	assert_int_equal(run_crawler(&tx), APPLY_OK);
	assert_true(tx.recovered);
	assert_true(has_msg(&tx.notes, "net.ipv4.conf.veth0.rp_filter: gone since the apply"));
	apply_tx_free(&tx);
	assert_all_new();
	assert_int_equal(rollback(&tx), APPLY_OK);
	apply_tx_free(&tx);
	assert_all_old();
}

/* --- faults: every one leaves everything as before --------------------------------- */

static void expect_restored(enum apply_outcome oc, struct apply_tx *tx, const char *msg)
{
	assert_int_equal(oc, APPLY_FAILED);
	assert_false(tx->changed);
	assert_int_equal(tx->unrestored.n, 0);
	if (msg && !has_msg(&tx->errors, msg))
		fail_msg("no error containing '%s' (%zu errors, first: %s)", msg, tx->errors.n,
			 tx->errors.n ? tx->errors.v[0] : "-");
	apply_tx_free(tx);
	faults_reset();
	assert_all_old();
}

static void test_fault_journal_rename(void **state)
{
	struct apply_tx tx;

	(void)state;
	fail_renameat_nth = 1;
	expect_restored(run_crawler(&tx), &tx, "cannot write the journal");
	assert_null(tl_read(root, JOURNAL_REL));
}

/* EIO from the directory's fsync, after the journal's rename: the previous apply's way back survives. */
static void test_fault_journal_after_rename(void **state)
{
	struct apply_tx tx;
	char *j0, *j1;

	(void)state;
	assert_int_equal(run_crawler(&tx), APPLY_OK);
	apply_tx_free(&tx);
	j0 = tl_read(root, JOURNAL_REL);
	tl_write(root, "proc/sys/net/ipv4/tcp_keepalive_time", "7000\n");
	/* fsyncs: the journal's temp file, then its directory after the rename */
	faults_reset();
	fail_fsync_nth = 2;
	assert_int_equal(run_crawler(&tx), APPLY_FAILED);
	assert_true(has_msg(&tx.errors, "cannot write the journal"));
	apply_tx_free(&tx);
	faults_reset();
	j1 = tl_read(root, JOURNAL_REL);
	assert_string_equal(j0, j1);
	free(j0);
	free(j1);
	assert_live("net.ipv4.tcp_keepalive_time", "7000");
	/* and the same when a rollback cannot mark the journal: still "complete", not "rolling-back" */
	faults_reset();
	fail_fsync_nth = 2;
	j0 = tl_read(root, JOURNAL_REL);
	/* --force: tcp_keepalive_time was changed by hand above */
	struct apply_opts fo = ao;
	fo.force = true;
	assert_int_equal(apply_rollback(rootfd, &ps, &fo, false, &tx), APPLY_FAILED);
	apply_tx_free(&tx);
	j1 = tl_read(root, JOURNAL_REL);
	assert_string_equal(j0, j1);
	free(j0);
	free(j1);
	assert_int_equal(journal_state(), APPLY_STATE_COMPLETE);
}

static void test_fault_fragment_rename(void **state)
{
	struct apply_tx tx;

	(void)state;
	fail_renameat_nth = 2;
	expect_restored(run_crawler(&tx), &tx, FRAG ": Input/output error");
	/* the journal of this failed apply is gone again */
	assert_null(tl_read(root, JOURNAL_REL));
}

static void test_fault_fragment_symlink(void **state)
{
	struct apply_tx tx;
	char *p, *t;

	(void)state;
	tl_write(root, "etc/other", "keep\n");
	p = xasprintf("%s/%s", root, FRAG_REL);
	assert_int_equal(symlink("../other", p), 0);
	free(p);
	assert_int_equal(run_crawler(&tx), APPLY_FAILED);
	apply_tx_free(&tx);
	t = tl_read(root, "etc/other");
	assert_string_equal(t, "keep\n");
	free(t);
	for (size_t i = 0; i < NKEYS; i++)
		assert_live(keys[i], olds[i]);
}

static void test_fault_key_refused_keeps_previous_journal(void **state)
{
	struct apply_tx tx;
	struct profile p = { 0 };
	char *j1, *j2;

	(void)state;
	/* a previous complete apply whose journal must survive the failed one */
	tl_write(root, "p/prev.conf", "sysctl = { net = { ipv4 = { tcp_syncookies = 2; }; }; };\n");
	char *path = xasprintf("%s/p/prev.conf", root);
	load(path, &p);
	free(path);
	assert_int_equal(apply_run(rootfd, &ps, &p, &ao, &tx), APPLY_OK);
	apply_tx_free(&tx);
	profile_free(&p);
	j1 = tl_read(root, JOURNAL_REL);
	char *prevfrag = tl_read(root, FRAG_REL);

	/* the 6th key (tcp_keepalive_time) is refused: EINVAL, nothing stored */
	fail_write("200\n", 1, NULL, EINVAL);
	assert_int_equal(run_crawler(&tx), APPLY_FAILED);
	assert_true(has_msg(&tx.errors, "net.ipv4.tcp_keepalive_time: writing 200: Invalid argument"));
	apply_tx_free(&tx);
	faults_reset();
	for (size_t i = 0; i < NKEYS; i++)
		assert_live(keys[i], olds[i]);
	char *f = tl_read(root, FRAG_REL);
	assert_string_equal(f, prevfrag);
	free(f);
	free(prevfrag);
	j2 = tl_read(root, JOURNAL_REL);
	assert_string_equal(j1, j2);
	free(j1);
	free(j2);
	/* and rollback still undoes the earlier apply */
	assert_int_equal(rollback(&tx), APPLY_OK);
	apply_tx_free(&tx);
	assert_live("net.ipv4.tcp_syncookies", "1");
	assert_null(tl_read(root, FRAG_REL));
}

static void test_fault_partial_vector(void **state)
{
	struct apply_tx tx;

	(void)state;
	/* the kernel keeps the first number and refuses the rest */
	fail_write("10240 65535\n", 1, "10240 60999\n", EINVAL);
	expect_restored(run_crawler(&tx), &tx, "net.ipv4.ip_local_port_range: writing 10240 65535");
}

static void test_fault_silent_mismatch(void **state)
{
	struct apply_tx tx;

	(void)state;
	/* reports success but keeps something else: only the read-back sees it */
	fail_write("65536\n", 1, "32768\n", 0);
	expect_restored(run_crawler(&tx), &tx,
			"net.ipv4.tcp_max_tw_buckets: wrote 65536, the kernel kept 32768");
}

static void test_fault_mark_complete(void **state)
{
	struct apply_tx tx;

	(void)state;
	/* fsyncs: journal file+dir, fragment file+dir, then the "complete" journal file */
	fail_fsync_nth = 5;
	expect_restored(run_crawler(&tx), &tx, "cannot mark the journal complete");
}

static void test_fault_restore_fails(void **state)
{
	struct apply_tx tx;
	char *advice;
	struct apply_last l;

	(void)state;
	/* keepalive_time refused, and putting the port range back is refused too */
	fail_write("200\n", 1, NULL, EINVAL);
	fail_write("32768 60999\n", 1, NULL, EPERM);
	assert_int_equal(run_crawler(&tx), APPLY_BROKEN);
	assert_int_equal(tx.unrestored.n, 1);
	assert_true(has_msg(&tx.unrestored, "net.ipv4.ip_local_port_range: is 10240 65535, was 32768 60999"));
	apply_tx_free(&tx);
	faults_reset();
	/* everything else is back */
	for (size_t i = 0; i < NKEYS; i++)
		if (i != 1)
			assert_live(keys[i], olds[i]);
	assert_null(tl_read(root, FRAG_REL));
	/* the journal tells audit and the admin, and rollback finishes the job */
	assert_int_equal(apply_last_read(rootfd, &l, NULL), 0);
	assert_int_equal(l.state, APPLY_STATE_INCOMPLETE);
	advice = apply_last_advice(&l);
	assert_non_null(strstr(advice, "run `tcptune rollback`"));
	free(advice);
	apply_last_free(&l);
	assert_int_equal(rollback(&tx), APPLY_OK);
	assert_true(has_msg(&tx.warnings, "did not finish"));
	apply_tx_free(&tx);
	assert_all_old();
}

/*
 * A restore whose write succeeds but whose read-back fails once: the value
 * is back, and the outcome says so (failed and restored, exit 3), not
 * "could not restore" (exit 4). Once in an apply's undo, once in a rollback
 * of an interrupted apply.
 */
static void test_restore_readback_fails(void **state)
{
	enum apply_outcome oc;
	struct apply_tx tx;

	(void)state;
	/* keepalive_time refused; putting tcp_fin_timeout back, its read-back fails */
	fail_write("200\n", 1, NULL, EINVAL);
	fail_read_after = "60\n";
	oc = run_crawler(&tx);
	assert_null(fail_read_after);
	for (size_t i = 0; i < tx.unrestored.n; i++)
		print_error("unrestored: %s\n", tx.unrestored.v[i]);
	assert_int_equal(oc, APPLY_FAILED);
	assert_int_equal(tx.unrestored.n, 0);
	apply_tx_free(&tx);
	faults_reset();
	assert_all_old();

	/* an interrupted apply (the port range could not be put back), then rollback */
	fail_write("200\n", 1, NULL, EINVAL);
	fail_write("32768 60999\n", 1, NULL, EPERM);
	assert_int_equal(run_crawler(&tx), APPLY_BROKEN);
	apply_tx_free(&tx);
	faults_reset();
	assert_int_equal(journal_state(), APPLY_STATE_INCOMPLETE);
	fail_read_after = "32768 60999\n";
	oc = rollback(&tx);
	assert_null(fail_read_after);
	for (size_t i = 0; i < tx.unrestored.n; i++)
		print_error("unrestored: %s\n", tx.unrestored.v[i]);
	assert_int_equal(oc, APPLY_OK);
	apply_tx_free(&tx);
	faults_reset();
	assert_all_old();
	assert_int_equal(journal_state(), APPLY_STATE_ROLLED_BACK);
}

static void test_rollback_fault(void **state)
{
	struct apply_tx tx;

	(void)state;
	assert_int_equal(run_crawler(&tx), APPLY_OK);
	apply_tx_free(&tx);
	fail_write("7200\n", 1, NULL, EPERM);
	/* all or nothing: what was restored is put back, and the journal still says "complete" */
	assert_int_equal(rollback(&tx), APPLY_FAILED);
	assert_true(has_msg(&tx.errors, "net.ipv4.tcp_keepalive_time: is 200, was 7200"));
	assert_int_equal(tx.unrestored.n, 0);
	apply_tx_free(&tx);
	faults_reset();
	assert_all_new();
	assert_int_equal(journal_state(), APPLY_STATE_COMPLETE);
	assert_int_equal(rollback(&tx), APPLY_OK);
	apply_tx_free(&tx);
	assert_all_old();
}

static void test_lock_busy(void **state)
{
	struct fileio_lock l;
	struct apply_tx tx;
	char *want;

	(void)state;
	assert_int_equal(fileio_lock(rootfd, TT_LOCK_PATH, 0, &l, NULL), 0);
	assert_int_equal(run_crawler(&tx), APPLY_FAILED);
	want = xasprintf("another tcptune (pid %ld)", (long)getpid());
	assert_true(has_msg(&tx.errors, want));
	free(want);
	apply_tx_free(&tx);
	assert_int_equal(rollback(&tx), APPLY_FAILED);
	apply_tx_free(&tx);
	fileio_unlock(&l);
	assert_all_old();
}

/* A lock held by another user's process is named as such (root's lock file, opened before the drop). */
static void test_lock_other_user(void **state)
{
	struct fileio_lock l;
	struct apply_tx tx;
	int up[2], down[2];
	char c = 0, *want;
	pid_t pid;
	int st;

	(void)state;
	if (geteuid() != 0)
		skip();  /* CI runs as root: a skip fails it there */
	assert_int_equal(pipe(up), 0);
	assert_int_equal(pipe(down), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* EOF on down: the test is over, whatever became of it (and never hang make check) */
		(void)close(up[0]);
		(void)close(down[1]);
		(void)alarm(60);
		/* the record lock stays with the process across the uid change */
		if (fileio_lock(rootfd, TT_LOCK_PATH, 0, &l, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0 || write(up[1], "x", 1) != 1)
			_exit(1);
		(void)read(down[0], &c, 1);  /* the parent closes down: done */
		_exit(0);
	}
	(void)close(up[1]);
	(void)close(down[0]);
	assert_int_equal(read(up[0], &c, 1), 1);
	(void)close(up[0]);
	assert_int_equal(run_crawler(&tx), APPLY_FAILED);
	want = xasprintf("held by pid %ld of another user (uid 65534)", (long)pid);
	assert_true(has_msg(&tx.errors, want));
	free(want);
	apply_tx_free(&tx);
	(void)close(down[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_all_old();
}

/* --- crashes: SIGKILL at every step, then rollback or apply again ------------------- */

#ifdef TCPTUNE_TEST_HOOKS
static void crash_child(const char *at, bool roll)
{
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct apply_tx tx;
		setenv("TCPTUNE_TEST_CRASH_AT", at, 1);
		if (roll)
			(void)rollback(&tx);
		else
			(void)run_crawler(&tx);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		fail_msg("crash point %s was not reached", at);
}

static const char *const apply_steps[] = {
	"lock", "journal", "fragment", "key:1", "key:2", "key:3", "key:4", "key:5",
	"key:6", "key:7", "key:8", "key:9", "complete", "done",
};
#define NSTEPS (sizeof(apply_steps) / sizeof(apply_steps[0]))

static void test_crash_matrix(void **state)
{
	size_t mixed = 0, runs = 0;
	char *nf = crawler_fragment();

	(void)state;
	for (size_t i = 0; i < NSTEPS; i++) {
		for (int then = 0; then < 2; then++) {
			struct apply_tx tx;

			teardown(NULL);
			setup(NULL);
			crash_child(apply_steps[i], false);
			if (then == 0) {
				/* rollback: all old (killed before the journal: nothing to roll back) */
				enum apply_outcome oc = rollback(&tx);
				char *j = tl_read(root, JOURNAL_REL);
				assert_true(oc == APPLY_OK || (oc == APPLY_INVALID && !j));
				free(j);
				apply_tx_free(&tx);
				mixed += whole_state(nf) != ALL_OLD;
			} else {
				/* apply again: all new, and its rollback still reaches the old state */
				assert_int_equal(run_crawler(&tx), APPLY_OK);
				apply_tx_free(&tx);
				mixed += whole_state(nf) != ALL_NEW;
				assert_int_equal(rollback(&tx), APPLY_OK);
				apply_tx_free(&tx);
				mixed += whole_state(nf) != ALL_OLD;
			}
			runs++;
		}
	}
	print_message("crash matrix: %zu runs, %zu mixed\n", runs, mixed);
	assert_int_equal(mixed, 0);
	free(nf);
}

static void test_crash_rollback(void **state)
{
	static const char *const steps[] = {
		"rollback-journal", "rollback-fragment", "rollback-key:1", "rollback-key:5",
		"rollback-key:9", "rollback-done",
	};
	char *nf = crawler_fragment();
	size_t mixed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		for (int then = 0; then < 2; then++) {
			struct apply_tx tx;

			teardown(NULL);
			setup(NULL);
			assert_int_equal(run_crawler(&tx), APPLY_OK);
			apply_tx_free(&tx);
			crash_child(steps[i], true);
			if (then == 0) {
				assert_int_equal(rollback(&tx), APPLY_OK);
				apply_tx_free(&tx);
				mixed += whole_state(nf) != ALL_OLD;
			} else {
				assert_int_equal(run_crawler(&tx), APPLY_OK);
				apply_tx_free(&tx);
				mixed += whole_state(nf) != ALL_NEW;
			}
		}
	}
	assert_int_equal(mixed, 0);
	free(nf);
}

/* An apply killed mid-way, then the next one killed while it restores: still whole. */
static void test_crash_during_recovery(void **state)
{
	static const char *const steps[] = { "recover-fragment", "recover-key:1", "recover-key:4" };
	char *nf = crawler_fragment();
	size_t mixed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		for (int then = 0; then < 2; then++) {
			struct apply_tx tx;

			teardown(NULL);
			setup(NULL);
			crash_child("key:5", false);
			crash_child(steps[i], false);
			assert_int_equal(journal_state(), APPLY_STATE_INCOMPLETE);
			if (then == 0) {
				assert_int_equal(rollback(&tx), APPLY_OK);
				apply_tx_free(&tx);
				mixed += whole_state(nf) != ALL_OLD;
			} else {
				assert_int_equal(run_crawler(&tx), APPLY_OK);
				assert_true(tx.recovered);
				apply_tx_free(&tx);
				mixed += whole_state(nf) != ALL_NEW;
				assert_int_equal(rollback(&tx), APPLY_OK);
				apply_tx_free(&tx);
				mixed += whole_state(nf) != ALL_OLD;
			}
		}
	}
	assert_int_equal(mixed, 0);
	free(nf);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_render, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_run_fragment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_touches_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_boot_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_missing_and_scope, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_netns_skips_host_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_again_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_removes_stale_temps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_restores_old_fragment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_any_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_format1_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_gone_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_gone_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_journal_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_journal_after_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_fragment_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_fragment_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_key_refused_keeps_previous_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_partial_vector, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_silent_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_mark_complete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_restore_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_readback_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_other_user, setup, teardown),
#ifdef TCPTUNE_TEST_HOOKS	/* the crash points exist only in test builds */
		cmocka_unit_test_setup_teardown(test_crash_matrix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_during_recovery, setup, teardown),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
