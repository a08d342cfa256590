/* test_bootcalc.c: the kernel's boot formulas from a fixture's meminfo, release and hash size. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bootcalc.h"
#include "testlib.h"
#include "util.h"

struct fix {
	char *root;
	int rootfd;
	struct procsys ps;
};

static struct fix *setup(const char *memtotal_kb, const char *release, const char *extra)
{
	struct fix *f = calloc(1, sizeof(*f));
	char *mi = NULL;

	f->root = tl_mkroot(NULL);
	tl_write(f->root, "proc/sys/net/ipv4/tcp_ehash_entries", "-65536\n");
	if (memtotal_kb) {
		mi = xasprintf("MemTotal:       %s kB\nMemFree:         1000 kB\n%s", memtotal_kb,
			       extra ? extra : "");
		tl_write(f->root, "proc/meminfo", mi);
	}
	if (release)
		tl_write(f->root, "proc/sys/kernel/osrelease", release);
	f->rootfd = tl_rootfd(f->root);
	assert_int_equal(procsys_open(f->rootfd, &f->ps), 0);
	free(mi);
	return f;
}

static void done(struct fix *f)
{
	procsys_close(&f->ps);
	close(f->rootfd);
	tl_rmroot(f->root);
	free(f);
}

/* value, lo and hi of key; "" for lo and hi when exact */
static void expect(struct fix *f, const char *key, const char *lo, const char *hi, const char *how)
{
	struct bootcalc b;

	assert_int_equal(bootcalc_run(&f->ps, key, &b), 0);
	assert_string_equal(b.value, hi);
	assert_string_equal(b.hi, hi);
	assert_string_equal(b.lo, lo);
	assert_int_equal(b.estimate, strcmp(lo, hi) != 0);
	assert_non_null(strstr(b.how, how));
	bootcalc_free(&b);
}

static void test_hash(void **state)
{
	struct fix *f = setup(NULL, NULL, NULL);
	struct bootcalc b;

	(void)state;
	/* tcp_sk_init(), tcp_init(): exact, from the hash size (negative in a child netns) */
	expect(f, "net.ipv4.tcp_max_tw_buckets", "32768", "32768", "tcp_ehash_entries / 2");
	expect(f, "net.ipv4.tcp_max_orphans", "32768", "32768", "tcp_ehash_entries / 2");
	expect(f, "net.ipv4.tcp_max_syn_backlog", "512", "512", "max(128, ");
	/* no meminfo: the memory formulas have no input */
	assert_int_equal(bootcalc_run(&f->ps, "net.ipv4.tcp_mem", &b), -ENOENT);
	assert_int_equal(bootcalc_run(&f->ps, "fs.file-max", &b), -ENOENT);
	assert_int_equal(bootcalc_run(&f->ps, "net.ipv4.tcp_keepalive_time", &b), -ENOENT);
	done(f);
}

static void test_memory(void **state)
{
	long long page = sysconf(_SC_PAGESIZE);
	/* 8 GiB: T pages, free at boot between 95 % of T and T */
	long long t = 8LL * 1024 * 1024 * 1024 / page, l = t * 95 / 100;
	struct fix *f = setup("8388608", "6.18.44-fc\n", NULL);
	char *lo, *hi, *p;

	(void)state;
	/* tcp_init_mem(): limit = free / 16; low = limit / 4 * 3; high = 2 * low */
	hi = xasprintf("%lld %lld %lld", t / 16 / 4 * 3, t / 16, t / 16 / 4 * 3 * 2);
	lo = xasprintf("%lld %lld %lld", l / 16 / 4 * 3, l / 16, l / 16 / 4 * 3 * 2);
	expect(f, "net.ipv4.tcp_mem", lo, hi, "tcp_init_mem()");
	free(lo);
	free(hi);
	/* files_maxfiles_init(): pages * KiB per page / 10 */
	hi = xasprintf("%lld", t * (page / 1024) / 10);
	lo = xasprintf("%lld", l * (page / 1024) / 10);
	expect(f, "fs.file-max", lo, hi, "files_maxfiles_init()");
	free(lo);
	free(hi);
	/* tcp_init(): 8 GiB / 128 is past both caps: exact */
	p = xasprintf("%lld 131072 33554432", page);
	expect(f, "net.ipv4.tcp_rmem", p, p, "32 MiB");
	free(p);
	p = xasprintf("%lld 16384 4194304", page);
	expect(f, "net.ipv4.tcp_wmem", p, p, "4 MiB");
	free(p);
	done(f);
}

static void test_versions(void **state)
{
	long long page = sysconf(_SC_PAGESIZE);
	struct fix *f = setup("8388608", "6.1.0-27-amd64\n", NULL);
	struct bootcalc b;
	char *p;

	(void)state;
	/* before 6.16 tcp_rmem[2] was capped at 6 MiB */
	p = xasprintf("%lld 131072 6291456", page);
	expect(f, "net.ipv4.tcp_rmem", p, p, "6 MiB");
	free(p);
	done(f);
	/* before 4.20 tcp_rmem[1] was 87380: not modelled */
	f = setup("8388608", "4.19.0\n", NULL);
	assert_int_equal(bootcalc_run(&f->ps, "net.ipv4.tcp_rmem", &b), -ENOENT);
	done(f);
	/* no release: the cap is unknown */
	f = setup("8388608", NULL, NULL);
	assert_int_equal(bootcalc_run(&f->ps, "net.ipv4.tcp_rmem", &b), -ENOENT);
	assert_int_equal(bootcalc_run(&f->ps, "net.ipv4.tcp_wmem", &b), 0);
	bootcalc_free(&b);
	done(f);
}

static void test_small_and_highmem(void **state)
{
	long long page = sysconf(_SC_PAGESIZE);
	/* 256 MiB: free memory / 128 is below the 4 MiB cap, so the tolerance shows */
	long long t = 256LL * 1024 * 1024 / page, l = t * 95 / 100;
	struct fix *f = setup("262144", "6.18.0\n", NULL);
	struct bootcalc b;
	char *lo, *hi;

	(void)state;
	hi = xasprintf("%lld 16384 %lld", page, t * page / 128);
	lo = xasprintf("%lld 16384 %lld", page, l * page / 128);
	expect(f, "net.ipv4.tcp_wmem", lo, hi, "tcp_init()");
	free(lo);
	free(hi);
	done(f);
	/* 32-bit high memory is not in nr_free_buffer_pages(): refuse to guess */
	f = setup("8388608", "6.18.0\n", "HighTotal:     7340032 kB\n");
	assert_int_equal(bootcalc_run(&f->ps, "net.ipv4.tcp_mem", &b), -ENOENT);
	assert_int_equal(bootcalc_run(&f->ps, "fs.file-max", &b), -ENOENT);
	done(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_small_and_highmem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
