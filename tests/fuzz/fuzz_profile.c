/* SPDX-License-Identifier: ISC */
/*
 * fuzz_profile.c: the profile loader. The input is written as a profile
 * file in a scratch directory that also holds parents it may inherit
 * (and itself, for cycles), then loaded, validated and merged twice:
 * without a live /proc/sys and against a small fixture one. Every rule
 * that loads is described, checked and targeted; then the directory is
 * listed. Everything is freed, so a leak fails the run.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"
#include "procsys.h"
#include "profile.h"
#include "util.h"

static char *dir, *file;
static struct procsys ps = { .sysfd = -1 };
static struct profile_path pp;

static const char *const files[] = {
	"p/base.conf",
	"description = \"fixture: a parent\";\n"
	"sysctl = { net = { ipv4 = { tcp_keepalive_time = 7200; tcp_keepalive_probes = 9; };\n"
	"  core = { somaxconn = { min = 4096; note = \"fixture\"; }; }; }; };\n",
	"p/extra.conf",
	"description = \"fixture: a second parent\";\ninherits = \"base\";\n"
	"sysctl = { net = { ipv4 = { tcp_rmem = { min = [ 4096, 87380, 4194304 ]; }; }; }; };\n",
	"p/inc.cfg", "sysctl = { net = { ipv4 = { tcp_fin_timeout = 30; }; }; };\n",
	"root/proc/sys/net/ipv4/tcp_keepalive_time", "7200\n",
	"root/proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n",
	"root/proc/sys/net/ipv4/tcp_congestion_control", "cubic\n",
	"root/proc/sys/net/ipv4/uncatalogued_knob", "1\n",
	"root/proc/sys/net/core/somaxconn", "4096\n",
	"root/proc/sys/fs/file-max", "9223372036854775807\n",
	NULL,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *root, *p;
	int fd;

	dir = fuzz_mkroot(files);
	file = xasprintf("%s/p/fuzz.conf", dir);
	root = xasprintf("%s/root", dir);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || procsys_open(fd, &ps) < 0) {
		perror(root);
		abort();
	}
	(void)close(fd);
	p = xasprintf("%s/p", dir);
	/* --profile-dir p; the root has no /etc/tcptune/profiles */
	profile_path_init(&pp, root, &p, 1);
	free(p);
	free(root);
	return 0;
}

static void use_rules(const struct profile *p)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct rule *r = &p->rules[i];
		char *d = rule_describe(r), *t = rule_target(r, NULL), *u = rule_target(r, "1 2 3");

		if (!key_valid(r->key) || !r->file || !r->profile || !t) {
			fprintf(stderr, "fuzz_profile: a loaded rule is incomplete: %s\n", r->key);
			abort();
		}
		/* the target apply would write must pass the rule it came from */
		if (!rule_check(r, t) || (u && !rule_check(r, u))) {
			fprintf(stderr, "fuzz_profile: %s: target %s fails %s\n", r->key, t, d);
			abort();
		}
		free(d);
		free(t);
		free(u);
	}
}

static void load(const struct procsys *live, char *const *names, size_t n)
{
	struct profile p;
	struct msgs errors = { 0 };
	int r = profile_load(&pp, live, names, n, &p, &errors);

	if (r == 0) {
		use_rules(&p);
		profile_free(&p);
	} else if (errors.n == 0) {
		fprintf(stderr, "fuzz_profile: a refused profile without a message\n");
		abort();
	}
	msgs_free(&errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *names[] = { file, (char *)"extra" };
	struct profile_info *info = NULL;
	struct msgs warnings = { 0 };
	size_t n_info = 0;

	if (size > 1 << 16)
		return 0;
	fuzz_write(dir, "p/fuzz.conf", data, size);
	load(NULL, names, 1);
	load(&ps, names, 2);
	if (profile_list(&pp, &info, &n_info, &warnings) == 0)
		profile_info_free(info, n_info);
	msgs_free(&warnings);
	return 0;
}
