/* SPDX-License-Identifier: ISC */
/* test_netns.c: --netns specs, namespace discovery on a fake procfs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "netns.h"
#include "testlib.h"
#include "util.h"

static void test_path(void **state)
{
	char *p;

	(void)state;
	p = netns_path("1234");
	assert_string_equal(p, "/proc/1234/ns/net");
	free(p);
	p = netns_path("blue");
	assert_string_equal(p, "/run/netns/blue");
	free(p);
	p = netns_path("/var/run/docker/netns/abc");
	assert_string_equal(p, "/var/run/docker/netns/abc");
	free(p);
	p = netns_path("12a");
	assert_string_equal(p, "/run/netns/12a");
	free(p);
}

static void test_enter_refuses(void **state)
{
	char *root = tl_mkroot(NULL), *f;

	(void)state;
	tl_write(root, "plain", "x");
	f = xasprintf("%s/plain", root);
	assert_int_equal(netns_enter(f), -EINVAL);
	free(f);
	f = xasprintf("%s/absent", root);
	assert_int_equal(netns_enter(f), -ENOENT);
	free(f);
	tl_rmroot(root);
}

static void link_ns(const char *root, const char *from, const char *to)
{
	char *a = xasprintf("%s/%s", root, from), *b = xasprintf("%s/%s", root, to);

	assert_int_equal(link(a, b), 0);
	free(a);
	free(b);
}

static void test_list(void **state)
{
	char *root = tl_mkroot(NULL), *proc, *run;
	struct netns *v;
	size_t n, hidden;

	(void)state;
	tl_write(root, "proc/self/ns/net", "self");
	tl_write(root, "proc/20/ns/net", "other");
	tl_write(root, "proc/20/cmdline", "sleep\0" "20");
	tl_write(root, "proc/20/comm", "sleep\n");
	tl_write(root, "proc/7/cmdline", "nginx");
	tl_write(root, "proc/7/comm", "nginx\n");
	tl_write(root, "proc/7/ns/x", "");
	link_ns(root, "proc/20/ns/net", "proc/7/ns/net");	/* same namespace */
	tl_write(root, "proc/3/cmdline", "");			/* a kernel thread */
	tl_write(root, "proc/3/ns/net", "k");
	tl_write(root, "proc/9/cmdline", "ours");
	tl_write(root, "proc/9/comm", "ours\n");
	tl_write(root, "proc/9/ns/x", "");
	link_ns(root, "proc/self/ns/net", "proc/9/ns/net");
	tl_write(root, "proc/notapid/ns/net", "");
	tl_write(root, "run/netns/stale", "");			/* not nsfs: ignored */
	proc = xasprintf("%s/proc", root);
	run = xasprintf("%s/run/netns", root);

	assert_int_equal(netns_list(proc, run, &v, &n, &hidden), 0);
	assert_int_equal(n, 2);
	assert_true(v[0].self);
	assert_int_equal(v[0].n_procs, 1);
	assert_int_equal(v[0].procs[0].pid, 9);
	assert_false(v[1].self);
	assert_null(v[1].name);
	assert_int_equal(v[1].n_procs, 2);
	assert_int_equal(v[1].procs[0].pid, 7);	/* sorted by PID */
	assert_string_equal(v[1].procs[0].comm, "nginx");
	assert_string_equal(v[1].procs[1].comm, "sleep");
	/* whichever of its processes was read first opens it */
	assert_true(strstr(v[1].path, "/proc/20/ns/net") || strstr(v[1].path, "/proc/7/ns/net"));
	netns_free(v, n);

	free(run);
	run = xasprintf("%s/nonexistent", root);
	assert_int_equal(netns_list(run, run, &v, &n, NULL), -ENOENT);
	free(proc);
	free(run);
	tl_rmroot(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_enter_refuses),
		cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
