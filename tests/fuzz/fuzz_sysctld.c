/* SPDX-License-Identifier: ISC */
/*
 * fuzz_sysctld.c: the sysctl.d reader. The input is the text of one
 * sysctl.d file, fed through sysctld_load()'s overlay (no file written),
 * in a scratch root that also holds vendor files, a /etc/sysctl.conf and
 * a masking /dev/null link. The selector byte picks which file the text
 * stands for; then the winner of every key it set is looked up.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"
#include "sysctld.h"
#include "util.h"

static int rootfd = -1;

static const char *const files[] = {
	"usr/lib/sysctl.d/50-default.conf",
	"net.ipv4.tcp_keepalive_time = 7200\n-net.ipv4.conf.*.rp_filter = 2\nnet.ipv4.conf.all.rp_filter=1\n",
	"usr/lib/sysctl.d/30-tcp.conf", "net/ipv4/tcp_fin_timeout = 60\nnet.core.somaxconn=1024\n",
	"etc/sysctl.d/60-keepalive.conf", "; comment\n# comment\n net.ipv4.tcp_keepalive_probes= 9 \n",
	"run/sysctl.d/70-run.conf", "-net.ipv4.tcp_tw_reuse = 1\nnet.ipv4.tcp_rmem = 4096\t131072 6291456\n",
	"etc/sysctl.conf", "net.ipv4.tcp_keepalive_time=600\nnet.ipv4.ip_local_port_range = 10240 65535\n",
	"proc/sys/net/ipv4/conf/all/rp_filter", "0\n",
	"proc/sys/net/ipv4/conf/lo/rp_filter", "0\n",
	"proc/sys/net/ipv4/tcp_keepalive_time", "7200\n",
	NULL,
};

static const char *const overlays[] = {
	"/etc/sysctl.d/90-tcptune.conf",     /* the fragment apply writes */
	"/etc/sysctl.d/60-keepalive.conf",   /* replaces an existing file */
	"/usr/lib/sysctl.d/30-tcp.conf",     /* a vendor file */
	"/etc/sysctl.conf",                  /* procps reads it last */
	"/run/sysctl.d/10-early.conf",
	"/etc/sysctl.d/10-masked.conf",      /* a /dev/null link masks it */
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *dir = fuzz_mkroot(files), *link;

	link = xasprintf("%s/etc/sysctl.d/10-masked.conf", dir);
	if (symlink("/dev/null", link) < 0) {
		perror(link);
		abort();
	}
	free(link);
	rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		perror(dir);
		abort();
	}
	return 0;
}

static void lookup(const struct bootview *bv, const char *key)
{
	const struct sysctl_assign *a = sysctld_find(bv, key), *b = sysctld_find_procps(bv, key);

	if ((a && (!a->key || !a->file)) || (b && (!b->key || !b->file || !b->value))) {
		fprintf(stderr, "fuzz_sysctld: incomplete winner for %s\n", key);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bootview bv;
	char *text;
	const char *ov;

	if (size < 1 || size > 1 << 20)
		return 0;
	ov = overlays[data[0] % (sizeof(overlays) / sizeof(overlays[0]))];
	text = fuzz_str(data + 1, size - 1);
	/* a selector with the top bit set: the file does not exist */
	if (sysctld_load(rootfd, ov, data[0] & 0x80 ? NULL : text, &bv) < 0) {
		fprintf(stderr, "fuzz_sysctld: sysctld_load failed on a good root\n");
		abort();
	}
	for (size_t i = 0; i < bv.n_all; i++)
		if (key_valid(bv.all[i].key))
			lookup(&bv, bv.all[i].key);
	for (size_t i = 0; i < bv.n_pp && i < 64; i++)
		if (key_valid(bv.pp[i].key))
			lookup(&bv, bv.pp[i].key);
	lookup(&bv, "net.ipv4.conf.all.rp_filter");
	lookup(&bv, "net.ipv4.tcp_keepalive_time");
	sysctld_free(&bv);
	free(text);
	return 0;
}
