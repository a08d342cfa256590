/* SPDX-License-Identifier: ISC */
/* test_render.c: render --as kubernetes and docker from a loaded profile. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "render.h"
#include "testlib.h"
#include "util.h"

static char *root;
static struct profile_path pp;

static const char prof[] =
	"sysctl = { net = {\n"
	"  core = { somaxconn = { min = 1024; }; netdev_max_backlog = 2000; };\n"
	"  ipv4 = { tcp_keepalive_time = 200; tcp_fin_timeout = { max = 30; };\n"
	"           ip_local_port_range = [ 20000, 60000 ];\n"
	"           tcp_congestion_control = { one_of = [ \"reno\", \"cubic\" ]; }; };\n"
	"}; };\n";

static int setup(void **state)
{
	(void)state;
	root = tl_mkroot(NULL);
	tl_write(root, "p/x.conf", prof);
	profile_path_init(&pp, root, NULL, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	profile_path_free(&pp);
	tl_rmroot(root);
	return 0;
}

static char *render(enum render_as as)
{
	struct profile p = { 0 };
	struct msgs m = { 0 };
	char *name = xasprintf("%s/p/x.conf", root), *text;

	assert_int_equal(profile_load(&pp, NULL, &name, 1, &p, &m), 0);
	text = render_container(as, &p, NULL);
	assert_non_null(text);
	profile_free(&p);
	msgs_free(&m);
	free(name);
	return text;
}

static void test_parse(void **state)
{
	enum render_as as;

	(void)state;
	assert_int_equal(render_as_parse("kubernetes", &as), 0);
	assert_int_equal(as, RENDER_KUBERNETES);
	assert_int_equal(render_as_parse("docker", &as), 0);
	assert_int_equal(as, RENDER_DOCKER);
	assert_int_equal(render_as_parse("sysctl.d", &as), 0);
	assert_int_equal(as, RENDER_SYSCTLD);
	assert_int_equal(render_as_parse("k8s", &as), -EINVAL);
	assert_string_equal(render_as_name(RENDER_DOCKER), "docker");
	assert_true(render_kubelet_safe("net.ipv4.tcp_keepalive_time"));
	assert_true(render_kubelet_safe("net.ipv4.ip_local_port_range"));
	assert_false(render_kubelet_safe("net.core.somaxconn"));
	assert_false(render_kubelet_safe("net.ipv4.tcp_tw_reuse"));
}

/* Safe keys first, then the unsafe ones under their comment; host-wide keys named, not listed. */
static void test_kubernetes(void **state)
{
	char *t = render(RENDER_KUBERNETES), *safe, *unsafe;

	(void)state;
	assert_non_null(strstr(t, "# Left out, host-wide or of unknown scope (tcptune apply on the node): "
				  "net.core.netdev_max_backlog\n"));
	assert_null(strstr(t, "name: net.core.netdev_max_backlog"));
	safe = strstr(t, "# safe:");
	unsafe = strstr(t, "# unsafe:");
	assert_non_null(safe);
	assert_non_null(unsafe);
	assert_true(safe < unsafe);
	assert_non_null(strstr(unsafe, "--allowed-unsafe-sysctls"));
	/* a fresh namespace: fin_timeout starts at 60, so the bound; somaxconn's 4096 passes */
	assert_true(strstr(t, "- name: net.ipv4.tcp_fin_timeout\n      value: \"30\"\n") < unsafe);
	assert_true(strstr(t, "- name: net.ipv4.ip_local_port_range\n      value: \"20000 60000\"\n") < unsafe);
	assert_true(strstr(t, "- name: net.core.somaxconn\n      value: \"4096\"\n") > unsafe);
	/* copied from the creator; without a live value, the first choice */
	assert_true(strstr(t, "- name: net.ipv4.tcp_congestion_control\n      value: \"reno\"\n") > unsafe);
	free(t);
}

static void test_docker(void **state)
{
	char *t = render(RENDER_DOCKER);

	(void)state;
	assert_non_null(strstr(t, "# Not with --network host"));
	assert_non_null(strstr(t, "--sysctl net.core.somaxconn=4096 \\\n"));
	assert_non_null(strstr(t, "--sysctl 'net.ipv4.ip_local_port_range=20000 60000' \\\n"));
	assert_null(strstr(t, "netdev_max_backlog="));
	/* the last flag ends the command line */
	assert_non_null(strstr(t, "--sysctl net.ipv4.tcp_keepalive_time=200\n"));
	assert_int_equal(t[strlen(t) - 2], '0');
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test_setup_teardown(test_kubernetes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_docker, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
