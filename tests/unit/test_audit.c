/* SPDX-License-Identifier: ISC */
/* test_audit.c: statuses from live values, the boot view and the catalogue. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "audit.h"
#include "testlib.h"

struct fix {
	char *root;
	int rootfd;
	struct procsys ps;
	struct bootview bv;
	struct profile p;
	struct audit a;
};

static const char profile_text[] =
	"sysctl = { net = {\n"
	"  ipv4 = {\n"
	"    tcp_keepalive_time = 200;\n"
	"    tcp_tw_reuse = 1;\n"
	"    tcp_fin_timeout = { max = 30; };\n"
	"    tcp_fastopen = 1;\n"
	"    tcp_ecn = { value = 1; optional = true; };\n"
	"    tcp_syncookies = 1;\n"
	"    tcp_mem = { min = [ 1, 1, 1 ]; };\n"
	"    tcp_max_tw_buckets = { min = 200000; };\n"
	"    tcp_max_syn_backlog = { min = 1024; };\n"
	"  };\n"
	"  core = { somaxconn = { min = 4096; }; };\n"
	"}; };\n";

static void write_host(const char *root, bool child)
{
	tl_write(root, "proc/sys/net/ipv4/tcp_keepalive_time", "200\n");
	tl_write(root, "proc/sys/net/ipv4/tcp_tw_reuse", "1\n");
	tl_write(root, "proc/sys/net/ipv4/tcp_fin_timeout", "60\n");
	tl_write(root, "proc/sys/net/core/somaxconn", "4096\n");
	if (!child)
		tl_write(root, "proc/sys/net/ipv4/tcp_mem", "1\t2\t3\n");
	/* a directory where a value should be: read() fails with EISDIR */
	tl_write(root, "proc/sys/net/ipv4/tcp_syncookies/x", "");
	/* tcp_sk_init(): tw buckets = hash / 2, syn backlog = max(128, hash / 128) */
	tl_write(root, "proc/sys/net/ipv4/tcp_ehash_entries", child ? "-262144\n" : "262144\n");
	tl_write(root, "proc/sys/net/ipv4/tcp_max_tw_buckets", "200000\n");
	tl_write(root, "proc/sys/net/ipv4/tcp_max_syn_backlog", "2048\n");
	tl_write(root, "etc/sysctl.d/80-t.conf", "# test\nnet.ipv4.tcp_tw_reuse = 0\n");
	tl_write(root, "etc/sysctl.conf", "net.ipv4.tcp_keepalive_time = 300\n");
	tl_write(root, "p/t.conf", profile_text);
}

static struct fix *run(bool child)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct msgs errors = { 0 };
	char *file;

	f->root = tl_mkroot(NULL);
	write_host(f->root, child);
	f->rootfd = tl_rootfd(f->root);
	assert_int_equal(procsys_open(f->rootfd, &f->ps), 0);
	assert_int_equal(sysctld_load(f->rootfd, NULL, NULL, &f->bv), 0);
	file = xasprintf("%s/p/t.conf", f->root);
	assert_int_equal(profile_load(NULL, NULL, &file, 1, &f->p, &errors), 0);
	assert_int_equal(errors.n, 0);
	free(file);
	audit_run(&f->p, &f->ps, &f->bv, &f->a);
	return f;
}

static void done(struct fix *f)
{
	audit_free(&f->a);
	profile_free(&f->p);
	sysctld_free(&f->bv);
	procsys_close(&f->ps);
	close(f->rootfd);
	tl_rmroot(f->root);
	free(f);
}

static const struct finding *find(const struct fix *f, const char *key)
{
	for (size_t i = 0; i < f->a.n; i++)
		if (!strcmp(f->a.f[i].rule->key, key))
			return &f->a.f[i];
	fail_msg("no finding for %s", key);
	return NULL;
}

static void test_statuses(void **state)
{
	struct fix *f = run(false);
	const struct finding *x;

	(void)state;
	assert_false(f->a.child_netns);
	assert_false(f->a.compliant);

	/* live ok, no sysctl.d line: boot is the kernel default, which breaks it */
	x = find(f, "net.ipv4.tcp_keepalive_time");
	assert_int_equal(x->status, AUDIT_BOOT_DRIFT);
	assert_string_equal(x->live, "200");
	assert_string_equal(x->boot, "7200");
	assert_string_equal(x->boot_source, "kernel default");
	/* procps also reads /etc/sysctl.conf and ends elsewhere: say so */
	assert_string_equal(x->procps_boot, "300");
	assert_string_equal(x->procps_source, "/etc/sysctl.conf:1");

	x = find(f, "net.ipv4.tcp_tw_reuse");
	assert_int_equal(x->status, AUDIT_BOOT_DRIFT);
	assert_string_equal(x->boot, "0");
	assert_string_equal(x->boot_source, "/etc/sysctl.d/80-t.conf:2");
	assert_null(x->procps_source);	/* procps agrees */

	x = find(f, "net.ipv4.tcp_fin_timeout");
	assert_int_equal(x->status, AUDIT_DRIFT);
	assert_string_equal(x->expected, "<= 30");

	x = find(f, "net.ipv4.tcp_fastopen");
	assert_int_equal(x->status, AUDIT_MISSING);
	assert_int_equal(x->err, -ENOENT);
	assert_null(x->live);

	x = find(f, "net.ipv4.tcp_syncookies");
	assert_int_equal(x->status, AUDIT_UNREADABLE);

	x = find(f, "net.core.somaxconn");
	assert_int_equal(x->status, AUDIT_OK);

	x = find(f, "net.ipv4.tcp_mem");
	/* computed at boot: unknown, not guessed, and not ok either */
	assert_int_equal(x->status, AUDIT_BOOT_UNKNOWN);
	assert_string_equal(x->live, "1 2 3");
	assert_null(x->boot);
	assert_non_null(strstr(x->reason, "no sysctl.d file sets it"));
	assert_non_null(strstr(x->reason, "computed at boot"));

	/* a known formula: computed from the hash size and judged */
	x = find(f, "net.ipv4.tcp_max_tw_buckets");
	assert_int_equal(x->status, AUDIT_BOOT_DRIFT);
	assert_string_equal(x->boot, "131072");
	assert_string_equal(x->boot_source, "computed: tcp_ehash_entries / 2");
	x = find(f, "net.ipv4.tcp_max_syn_backlog");
	assert_int_equal(x->status, AUDIT_OK);
	assert_string_equal(x->boot, "2048");
	assert_string_equal(x->boot_source, "computed: max(128, tcp_ehash_entries / 128)");
	done(f);
}

static void test_child_netns(void **state)
{
	struct fix *f = run(true);

	(void)state;
	assert_true(f->a.child_netns);
	assert_int_equal(find(f, "net.ipv4.tcp_mem")->status, AUDIT_NOT_IN_NETNS);
	done(f);
}

static void test_compliance(void **state)
{
	char *root = tl_mkroot(NULL);
	int rootfd;
	struct procsys ps;
	struct bootview bv;
	struct profile p;
	struct audit a;
	struct msgs errors = { 0 };
	char *file;

	(void)state;
	tl_write(root, "proc/sys/net/ipv4/tcp_mem", "1 2 3\n");
	tl_write(root, "proc/sys/net/ipv4/tcp_keepalive_time", "200\n");
	tl_write(root, "etc/sysctl.d/90-tcptune.conf", "net.ipv4.tcp_keepalive_time=200\n");
	/* an optional key the kernel lacks does not break compliance */
	tl_write(root, "t.conf", "sysctl = { net = { ipv4 = { tcp_keepalive_time = 200;"
				 " tcp_ecn = { value = 1; optional = true; }; }; }; };\n");
	rootfd = tl_rootfd(root);
	assert_int_equal(procsys_open(rootfd, &ps), 0);
	assert_int_equal(sysctld_load(rootfd, NULL, NULL, &bv), 0);
	file = xasprintf("%s/t.conf", root);
	assert_int_equal(profile_load(NULL, NULL, &file, 1, &p, &errors), 0);
	audit_run(&p, &ps, &bv, &a);
	assert_true(a.compliant);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.f[0].rule->key, "net.ipv4.tcp_ecn");
	assert_int_equal(a.f[0].status, AUDIT_MISSING);
	assert_int_equal(a.f[1].status, AUDIT_OK);
	assert_string_equal(a.f[1].boot_source, "/etc/sysctl.d/90-tcptune.conf:1");
	audit_free(&a);
	profile_free(&p);
	sysctld_free(&bv);
	procsys_close(&ps);
	close(rootfd);
	free(file);
	tl_rmroot(root);
}

static const char journal_fmt[] =
	"{ \"format\": 2, \"state\": \"complete\", \"pid\": 1, \"profiles\": [ \"t\" ], \"netns\": null,%s\n"
	"  \"sources\": [], \"fragment\": \"/etc/sysctl.d/90-tcptune.conf\", \"keys\": [],\n"
	"  \"originals\": [ { \"key\": \"net.ipv4.tcp_tw_reuse\", \"value\": \"2\" },\n"
	"    { \"key\": \"net.ipv4.tcp_fin_timeout\", \"value\": \"60\" },\n"
	"    { \"key\": \"net.ipv4.tcp_keepalive_time\", \"value\": \"7200\" },\n"
	"    { \"key\": \"net.ipv4.tcp_congestion_control\", \"value\": \"cubic\" },\n"
	"    { \"key\": \"net.ipv4.tcp_ecn\", \"value\": \"2\" } ] }\n";

/*
 * Computed boot values known within a tolerance are judged only where both
 * ends agree; keys an earlier apply set that no profile names are audited
 * against their boot value.
 */
static void test_ranges_and_stale(void **state)
{
	long long page = sysconf(_SC_PAGESIZE);
	long long t = 8LL << 30, lo = t / page * 95 / 100 * (page / 1024) / 10;
	char *root = tl_mkroot(NULL), *file, *text, *wmem;
	int rootfd;
	struct procsys ps;
	struct bootview bv;
	struct profile p;
	struct audit a;
	struct msgs errors = { 0 };
	const struct finding *x;
	const char *how;
	char wmem_boot[64];

	(void)state;
	(void)snprintf(wmem_boot, sizeof(wmem_boot), "%lld 16384 4194304", page);
	tl_write(root, "proc/meminfo", "MemTotal:        8388608 kB\n");
	tl_write(root, "proc/sys/kernel/osrelease", "6.18.0\n");
	tl_write(root, "proc/sys/fs/file-max", "838860\n");
	wmem = xasprintf("%lld 16384 8388608\n", page);
	tl_write(root, "proc/sys/net/ipv4/tcp_wmem", wmem);
	tl_write(root, "proc/sys/net/ipv4/tcp_keepalive_time", "200\n");
	tl_write(root, "proc/sys/net/ipv4/tcp_tw_reuse", "1\n");
	tl_write(root, "proc/sys/net/ipv4/tcp_fin_timeout", "60\n");
	tl_write(root, "proc/sys/net/ipv4/tcp_congestion_control", "bbr\n");
	text = xasprintf("sysctl = { net = { ipv4 = { tcp_keepalive_time = 200;\n"
			 "  tcp_wmem = { min = [ 4096, 16384, 8388608 ]; }; }; };\n"
			 "  fs = { file-max = { min = %lld; }; }; };\n", lo + 1000);
	tl_write(root, "t.conf", text);
	free(text);
	text = xasprintf(journal_fmt, "");
	tl_write(root, "var/lib/tcptune/last-apply", text);
	free(text);
	rootfd = tl_rootfd(root);
	assert_int_equal(procsys_open(rootfd, &ps), 0);
	assert_int_equal(sysctld_load(rootfd, NULL, NULL, &bv), 0);
	file = xasprintf("%s/t.conf", root);
	assert_int_equal(profile_load(NULL, NULL, &file, 1, &p, &errors), 0);
	audit_run(&p, &ps, &bv, &a);
	assert_int_equal(a.n, 3);

	/* file-max: the rule's bound lies inside what the formula allows */
	x = &a.f[0];
	assert_string_equal(x->rule->key, "fs.file-max");
	assert_int_equal(x->status, AUDIT_BOOT_UNKNOWN);
	assert_false(x->compliant);
	assert_non_null(strstr(x->boot_source, "computed within 5%: files_maxfiles_init()"));
	assert_non_null(strstr(x->reason, "known only within 5% of MemTotal"));
	/* tcp_wmem: 8 GiB is past the 4 MiB cap, so the boot value is exact, and too small */
	x = &a.f[2];
	assert_string_equal(x->rule->key, "net.ipv4.tcp_wmem");
	assert_int_equal(x->status, AUDIT_BOOT_DRIFT);
	assert_null(x->boot_lo);
	assert_non_null(strstr(x->boot, " 16384 4194304"));
	assert_non_null(strstr(x->boot_source, "computed: tcp_init()"));

	/* apply pins the bound where the boot value is only an estimate */
	assert_int_equal(audit_computed_boot(&ps, "fs.file-max", &text, &how), -ENOENT);
	assert_int_equal(audit_computed_boot(&ps, "net.ipv4.tcp_wmem", &text, &how), 0);
	assert_string_equal(text, wmem_boot);
	free(text);

	/* tw_reuse: live 1, boot 2; congestion control: boot unknown and not as before */
	assert_int_equal(audit_stale(&a, rootfd, &p, &ps, &bv), 0);
	assert_int_equal(a.n, 5);
	assert_false(a.compliant);
	x = &a.f[3];
	assert_string_equal(x->rule->key, "net.ipv4.tcp_tw_reuse");
	assert_true(x->stale);
	assert_int_equal(x->status, AUDIT_BOOT_DRIFT);
	assert_false(x->compliant);
	assert_string_equal(x->original, "2");
	assert_string_equal(x->boot, "2");
	assert_string_equal(x->expected, "2");
	assert_non_null(strstr(x->reason, "no profile names it now: live 1, the next boot sets 2"));
	x = &a.f[4];
	assert_string_equal(x->rule->key, "net.ipv4.tcp_congestion_control");
	assert_int_equal(x->status, AUDIT_BOOT_UNKNOWN);
	assert_non_null(strstr(x->reason, "cubic before tcptune first set it"));
	audit_free(&a);

	/* a journal from another network namespace says nothing about this one */
	text = xasprintf(journal_fmt, " \"netns_dev\": 1, \"netns_ino\": 1,");
	tl_write(root, "var/lib/tcptune/last-apply", text);
	free(text);
	audit_run(&p, &ps, &bv, &a);
	assert_int_equal(audit_stale(&a, rootfd, &p, &ps, &bv), 0);
	assert_int_equal(a.n, 3);
	audit_free(&a);

	profile_free(&p);
	sysctld_free(&bv);
	procsys_close(&ps);
	close(rootfd);
	free(file);
	free(wmem);
	tl_rmroot(root);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(audit_status_name(AUDIT_OK), "ok");
	assert_string_equal(audit_status_name(AUDIT_BOOT_DRIFT), "boot-drift");
	assert_string_equal(audit_status_name(AUDIT_NOT_IN_NETNS), "not-in-netns");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statuses),
		cmocka_unit_test(test_child_netns),
		cmocka_unit_test(test_compliance),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_ranges_and_stale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
