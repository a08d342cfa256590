/* bootcalc.c: the boot value of keys the kernel computes at boot, where its formula is known. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bootcalc.h"
#include "util.h"

#define MiB (1024LL * 1024)

/* The size of the TCP established hash, from tcp_ehash_entries; 0 when unknown. */
static long long ehash_entries(const struct procsys *ps)
{
	char *v = NULL;
	long long n = 0;

	if (procsys_read(ps, "net.ipv4.tcp_ehash_entries", &v) < 0)
		return 0;
	if (parse_ll(v, &n) < 0)
		n = 0;
	free(v);
	/* negative in a netns that shares init_net's hash (proc_tcp_ehash_entries()) */
	return n < 0 ? -n : n;
}

/*
 * MemTotal of <root>/proc/meminfo in pages, or 0. A machine with high
 * memory (32-bit) is refused: nr_free_buffer_pages() leaves it out.
 */
static long long memtotal_pages(const struct procsys *ps, long long page)
{
	char *text = NULL, *p;
	size_t len;
	long long kb = 0, high = 0;
	int fd = openat(ps->sysfd, "../meminfo", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	if (read_all(fd, 1 << 20, &text, &len) < 0)
		text = NULL;
	close(fd);
	if (!text)
		return 0;
	p = strstr(text, "MemTotal:");
	if (p && sscanf(p, "MemTotal: %lld kB", &kb) != 1)
		kb = 0;
	p = strstr(text, "HighTotal:");
	if (p && sscanf(p, "HighTotal: %lld kB", &high) != 1)
		high = 0;
	free(text);
	return high > 0 || kb <= 0 ? 0 : kb * 1024 / page;
}

/* Linux major.minor of kernel.osrelease as major * 1000 + minor, or 0. */
static int kernel_version(const struct procsys *ps)
{
	char *v = NULL;
	int major = 0, minor = 0;

	if (procsys_read(ps, "kernel.osrelease", &v) < 0)
		return 0;
	if (sscanf(v, "%d.%d", &major, &minor) != 2)
		major = minor = 0;
	free(v);
	return major * 1000 + minor;
}

static long long max_ll(long long a, long long b)
{
	return a > b ? a : b;
}

static long long min_ll(long long a, long long b)
{
	return a < b ? a : b;
}

/*
 * The formulas, in the kernel's words (Linux 6.18; the same since the
 * versions named), each a function of the free buffer pages F (or, for
 * file-max, of the pages left after the early boot reserve):
 *
 * net/ipv4/tcp.c tcp_init_mem():
 *	limit = max(nr_free_buffer_pages() / 16, 128);
 *	tcp_mem = { limit / 4 * 3, limit, limit / 4 * 3 * 2 }
 * net/ipv4/tcp.c tcp_init(), since 4.20 (a337531b942b: tcp_rmem[1] 131072)
 * and 6.16 ("tcp: increase tcp_rmem[2] to 32 MB"; 6 MiB before):
 *	limit = nr_free_buffer_pages() << (PAGE_SHIFT - 7);
 *	tcp_wmem = { PAGE_SIZE, 16384, max(64 KiB, min(4 MiB, limit)) }
 *	tcp_rmem = { PAGE_SIZE, 131072, max(131072, min(32 MiB, limit)) }
 * fs/file_table.c files_maxfiles_init():
 *	memreserve = min((totalram_pages() - nr_free_pages()) * 3 / 2, totalram_pages() - 1);
 *	file-max = max((totalram_pages() - memreserve) * (PAGE_SIZE / 1024) / 10, NR_FILE = 8192)
 *
 * nr_free_buffer_pages() at boot (managed pages below ZONE_MOVABLE less
 * their high watermarks, before init memory and the initrd are freed) and
 * nr_free_pages() early in start_kernel() cannot be read afterwards.
 * MemTotal is their upper bound; they are taken to be at most
 * BOOTCALC_TOLERANCE_PCT below it (measured on Linux 6.18, 24 GiB: tcp_mem
 * 0.5 % and file-max 0.1 % below the MemTotal value). Both ends are
 * computed: audit judges a rule only where both ends agree.
 */
static char *mem_formula(const char *key, long long f, long long page, int version,
			 const char **ret_how)
{
	long long limit = f * page / 128;

	if (!strcmp(key, "net.ipv4.tcp_mem")) {
		long long l = max_ll(f / 16, 128);

		*ret_how = "tcp_init_mem(): free pages / 16, x3/4 and x3/2";
		return xasprintf("%lld %lld %lld", l / 4 * 3, l, l / 4 * 3 * 2);
	}
	if (!strcmp(key, "fs.file-max")) {
		*ret_how = "files_maxfiles_init(): memory in KiB / 10";
		return xasprintf("%lld", max_ll(f * (page / 1024) / 10, 8192));
	}
	if (!strcmp(key, "net.ipv4.tcp_wmem")) {
		*ret_how = "tcp_init(): max(64 KiB, min(4 MiB, free memory / 128))";
		return xasprintf("%lld 16384 %lld", page, max_ll(65536, min_ll(4 * MiB, limit)));
	}
	if (!strcmp(key, "net.ipv4.tcp_rmem") && version >= 4020) {
		bool big = version >= 6016;

		*ret_how = big ? "tcp_init(): max(131072, min(32 MiB, free memory / 128))"
			       : "tcp_init(): max(131072, min(6 MiB, free memory / 128))";
		return xasprintf("%lld 131072 %lld", page,
				 max_ll(131072, min_ll((big ? 32 : 6) * MiB, limit)));
	}
	return NULL;
}

/*
 * tcp_sk_init() (net/ipv4/tcp_ipv4.c) sets tcp_max_tw_buckets = ehash
 * entries / 2 and tcp_max_syn_backlog = max(128, entries / 128); tcp_init()
 * sets tcp_max_orphans = entries / 2. The hash is sized at boot from memory
 * (or thash_entries=): the same memory and command line give the same value.
 */
static int hash_formula(const struct procsys *ps, const char *key, struct bootcalc *ret)
{
	long long n;

	if (strcmp(key, "net.ipv4.tcp_max_tw_buckets") && strcmp(key, "net.ipv4.tcp_max_syn_backlog") &&
	    strcmp(key, "net.ipv4.tcp_max_orphans"))
		return -ENOENT;
	n = ehash_entries(ps);
	if (n == 0)
		return -ENOENT;
	if (!strcmp(key, "net.ipv4.tcp_max_syn_backlog")) {
		ret->value = xasprintf("%lld", max_ll(n / 128, 128));
		ret->how = "max(128, tcp_ehash_entries / 128)";
	} else {
		ret->value = xasprintf("%lld", n / 2);
		ret->how = "tcp_ehash_entries / 2";
	}
	ret->lo = xstrdup(ret->value);
	ret->hi = xstrdup(ret->value);
	return 0;
}

int bootcalc_run(const struct procsys *ps, const char *key, struct bootcalc *ret)
{
	long long page = sysconf(_SC_PAGESIZE), total;
	int version;

	*ret = (struct bootcalc){ 0 };
	if (!ps || ps->sysfd < 0)
		return -ENOENT;
	if (hash_formula(ps, key, ret) == 0)
		return 0;
	if (strcmp(key, "net.ipv4.tcp_mem") && strcmp(key, "fs.file-max") &&
	    strcmp(key, "net.ipv4.tcp_wmem") && strcmp(key, "net.ipv4.tcp_rmem"))
		return -ENOENT;
	if (page < 1024)
		return -ENOENT;
	total = memtotal_pages(ps, page);
	version = kernel_version(ps);
	if (total == 0)
		return -ENOENT;
	ret->hi = mem_formula(key, total, page, version, &ret->how);
	if (!ret->hi)
		return -ENOENT;
	ret->lo = mem_formula(key, total * (100 - BOOTCALC_TOLERANCE_PCT) / 100, page, version, &ret->how);
	ret->value = xstrdup(ret->hi);
	ret->estimate = !value_equal(ret->lo, ret->hi);
	return 0;
}

void bootcalc_free(struct bootcalc *b)
{
	if (!b)
		return;
	free(b->value);
	free(b->lo);
	free(b->hi);
	*b = (struct bootcalc){ 0 };
}
