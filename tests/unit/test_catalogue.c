/* SPDX-License-Identifier: ISC */
/* test_catalogue.c: unit tests for src/catalogue.c: table invariants, lookup, suggest, check. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "catalogue.h"
#include "util.h"

static const struct catentry *must_find(const char *key)
{
	const struct catentry *e = catalogue_find(key);

	if (!e)
		fail_msg("catalogue lacks %s", key);
	return e;
}

/* 0 when accepted; otherwise -EINVAL and the message in m. */
static int check(const char *key, const char *value, struct msgs *m)
{
	return catalogue_check(must_find(key), value, m);
}

static void assert_ok(const char *key, const char *value)
{
	struct msgs m = { 0 };
	int r = check(key, value, &m);

	if (r != 0)
		fail_msg("%s = \"%s\" refused: %s", key, value, msgs_last(&m));
	assert_int_equal(m.n, 0);
}

static void assert_bad(const char *key, const char *value, const char *msg_part)
{
	struct msgs m = { 0 };
	int r = check(key, value, &m);

	if (r != -EINVAL)
		fail_msg("%s = \"%s\" accepted (r=%d)", key, value, r);
	assert_int_equal(m.n, 1);
	if (msg_part && !strstr(m.v[0], msg_part))
		fail_msg("%s = \"%s\": message \"%s\" lacks \"%s\"", key, value, m.v[0], msg_part);
	msgs_free(&m);
}

static void test_sorted_unique(void **state)
{
	size_t n;
	const struct catentry *all = catalogue_all(&n);

	(void)state;
	assert_true(n >= 45);
	for (size_t i = 1; i < n; i++)
		if (strcmp(all[i - 1].key, all[i].key) >= 0)
			fail_msg("not sorted/unique: %s before %s", all[i - 1].key, all[i].key);
}

static void test_entries_well_formed(void **state)
{
	size_t n;
	const struct catentry *all = catalogue_all(&n);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		const struct catentry *e = &all[i];

		if (!key_valid(e->key))
			fail_msg("key_valid() refuses %s", e->key);
		if (!e->meaning || !*e->meaning || !e->source || !*e->source)
			fail_msg("%s: meaning and source are required", e->key);
		if (!e->dflt && !e->dflt_note)
			fail_msg("%s: no default and no note on how it is computed", e->key);
		if (e->type == CAT_VEC ? e->arity < 2 : e->arity != 1)
			fail_msg("%s: arity %u does not fit %s", e->key, e->arity,
				 catalogue_type_name(e->type));
		if (e->type != CAT_STR && e->min > e->max)
			fail_msg("%s: min %lld > max %lld", e->key, e->min, e->max);
		if (strncmp(e->key, "fs.", 3) == 0 && e->scope != SCOPE_GLOBAL)
			fail_msg("%s: fs.* is not namespaced", e->key);
		/* Lookups must find every entry through bsearch, not only by luck. */
		assert_ptr_equal(catalogue_find(e->key), e);
	}
}

/* Every stated default is in range: catches a typo in either. */
static void test_defaults_pass_check(void **state)
{
	size_t n;
	const struct catentry *all = catalogue_all(&n);
	struct msgs m = { 0 };

	(void)state;
	for (size_t i = 0; i < n; i++) {
		if (!all[i].dflt)
			continue;
		if (catalogue_check(&all[i], all[i].dflt, &m) != 0)
			fail_msg("%s: default \"%s\" fails its own check: %s", all[i].key,
				 all[i].dflt, msgs_last(&m));
	}
}

static void test_known_facts(void **state)
{
	const struct catentry *e;

	(void)state;
	e = must_find("net.ipv4.tcp_keepalive_time");
	assert_int_equal(e->type, CAT_INT);
	assert_int_equal(e->min, 1);
	assert_int_equal(e->max, 32767);
	assert_string_equal(e->dflt, "7200");
	assert_int_equal(e->scope, SCOPE_NETNS);

	e = must_find("net.ipv4.ip_local_port_range");
	assert_int_equal(e->type, CAT_VEC);
	assert_int_equal(e->arity, 2);
	assert_string_equal(e->dflt, "32768 60999");

	assert_int_equal(must_find("net.ipv4.tcp_rmem")->scope, SCOPE_NETNS_COPY);
	assert_int_equal(must_find("net.ipv4.tcp_wmem")->scope, SCOPE_NETNS_COPY);
	assert_int_equal(must_find("net.ipv4.tcp_congestion_control")->scope, SCOPE_NETNS_COPY);
	assert_int_equal(must_find("net.ipv4.tcp_mem")->scope, SCOPE_HOST);
	assert_int_equal(must_find("net.ipv4.tcp_max_orphans")->scope, SCOPE_HOST);
	assert_int_equal(must_find("net.core.default_qdisc")->scope, SCOPE_HOST);
	assert_int_equal(must_find("net.core.netdev_max_backlog")->scope, SCOPE_HOST);
	assert_int_equal(must_find("net.core.rmem_max")->scope, SCOPE_HOST_RO);
	assert_int_equal(must_find("net.netfilter.nf_conntrack_max")->scope, SCOPE_HOST_RO);
	assert_int_equal(must_find("fs.file-max")->scope, SCOPE_GLOBAL);

	/* Computed at boot: no fixed default, but a note. */
	assert_null(must_find("net.ipv4.tcp_mem")->dflt);
	assert_non_null(must_find("net.ipv4.tcp_mem")->dflt_note);
	assert_null(must_find("net.ipv4.tcp_max_tw_buckets")->dflt);

	assert_string_equal(must_find("net.ipv4.tcp_tw_reuse_delay")->since, "6.14");
	assert_non_null(strstr(must_find("net.ipv4.tcp_fin_timeout")->caveat, "TIME_WAIT"));
}

static void test_find(void **state)
{
	(void)state;
	assert_non_null(catalogue_find("net.ipv4.tcp_keepalive_time"));
	assert_non_null(catalogue_find("fs.file-max"));
	assert_non_null(catalogue_find("net.netfilter.nf_conntrack_tcp_timeout_time_wait"));
	/* First and last entries: the edges of the binary search. */
	assert_non_null(catalogue_find("fs.file-max"));
	assert_non_null(catalogue_find("net.netfilter.nf_conntrack_tcp_timeout_time_wait"));
	assert_null(catalogue_find("net.ipv4.tcp_tw_recycle"));
	assert_null(catalogue_find("tcp_keepalive_time"));
	assert_null(catalogue_find("net/ipv4/tcp_keepalive_time"));
	assert_null(catalogue_find("net.ipv4.tcp_keepalive_tim"));
	assert_null(catalogue_find("NET.IPV4.TCP_KEEPALIVE_TIME"));
	assert_null(catalogue_find(""));
	assert_null(catalogue_find("a"));
	assert_null(catalogue_find("zzz"));
	assert_null(catalogue_find(NULL));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(catalogue_scope_name(SCOPE_NETNS), "netns");
	assert_string_equal(catalogue_scope_name(SCOPE_NETNS_COPY), "netns-copied");
	assert_string_equal(catalogue_scope_name(SCOPE_HOST), "host");
	assert_string_equal(catalogue_scope_name(SCOPE_HOST_RO), "host-readonly");
	assert_string_equal(catalogue_scope_name(SCOPE_GLOBAL), "global");
	assert_string_equal(catalogue_type_name(CAT_INT), "integer");
	assert_string_equal(catalogue_type_name(CAT_VEC), "vector");
	assert_string_equal(catalogue_type_name(CAT_STR), "string");
}

static void assert_suggests(const char *typo, const char *want)
{
	const char *got = catalogue_suggest(typo);

	if (!got || strcmp(got, want) != 0)
		fail_msg("suggest(\"%s\") = %s, want %s", typo, got ? got : "NULL", want);
}

static void test_suggest(void **state)
{
	(void)state;
	assert_suggests("net.ipv4.tcp_keepalive_tim", "net.ipv4.tcp_keepalive_time");
	assert_suggests("tcp_keepalive_tim", "net.ipv4.tcp_keepalive_time");
	assert_suggests("tcp_keepalive_time", "net.ipv4.tcp_keepalive_time");
	assert_suggests("net/ipv4/tcp_keepalive_tim", "net.ipv4.tcp_keepalive_time");
	assert_suggests("net.ipv4.tcp_keepalive_itvl", "net.ipv4.tcp_keepalive_intvl");
	assert_suggests("net.ipv4.tcp_tw_resue", "net.ipv4.tcp_tw_reuse");
	assert_suggests("net.ipv4.ip_local_port_rang", "net.ipv4.ip_local_port_range");
	assert_suggests("net.ipv6.tcp_fin_timeout", "net.ipv4.tcp_fin_timeout");
	assert_suggests("net.core.somaxcon", "net.core.somaxconn");
	assert_suggests("somaxconn", "net.core.somaxconn");
	assert_suggests("fs.file_max", "fs.file-max");
	assert_suggests("net.ipv4.tcp_congestion_contrl", "net.ipv4.tcp_congestion_control");

	assert_null(catalogue_suggest("foo"));
	assert_null(catalogue_suggest("xyzzy.plugh"));
	assert_null(catalogue_suggest("net.ipv4.completely_unrelated_key"));
	assert_null(catalogue_suggest("kernel.pid_max"));
	assert_null(catalogue_suggest(""));
	assert_null(catalogue_suggest(NULL));
}

static void test_check_int(void **state)
{
	(void)state;
	assert_ok("net.ipv4.tcp_keepalive_time", "1");
	assert_ok("net.ipv4.tcp_keepalive_time", "32767");
	assert_ok("net.ipv4.tcp_keepalive_time", "200");
	assert_bad("net.ipv4.tcp_keepalive_time", "0", "must be an integer in 1..32767, not 0");
	assert_bad("net.ipv4.tcp_keepalive_time", "32768", "not 32768");
	assert_bad("net.ipv4.tcp_keepalive_time", "-1", "1..32767");
	assert_bad("net.ipv4.tcp_keepalive_time", "", "got 0");
	assert_bad("net.ipv4.tcp_keepalive_time", "200 300", "got 2");
	assert_bad("net.ipv4.tcp_keepalive_time", "bbr", "not bbr");
	assert_bad("net.ipv4.tcp_keepalive_time", "7200s", "not 7200s");
	assert_bad("net.ipv4.tcp_keepalive_time", "99999999999999999999", "1..32767");

	assert_ok("net.ipv4.tcp_tw_reuse", "0");
	assert_ok("net.ipv4.tcp_tw_reuse", "2");
	assert_bad("net.ipv4.tcp_tw_reuse", "3", NULL);
	assert_ok("net.ipv4.tcp_syn_retries", "127");
	assert_bad("net.ipv4.tcp_syn_retries", "0", NULL);
	assert_bad("net.ipv4.tcp_syn_retries", "128", NULL);
	assert_ok("net.ipv4.tcp_tw_reuse_delay", "60000");
	assert_bad("net.ipv4.tcp_tw_reuse_delay", "60001", NULL);
	assert_ok("fs.nr_open", "1073741816");
	assert_bad("fs.nr_open", "1073741817", NULL);
	assert_ok("fs.file-max", "9223372036854775807");
	assert_ok("net.ipv4.tcp_notsent_lowat", "4294967295");
	assert_bad("net.ipv4.tcp_notsent_lowat", "4294967296", NULL);

	/* tcp_fastopen is a bit mask: only the TFO_* bits mean something. */
	assert_ok("net.ipv4.tcp_fastopen", "3");
	assert_ok("net.ipv4.tcp_fastopen", "1027");
	assert_bad("net.ipv4.tcp_fastopen", "8", "unknown bits 0x8");
}

static void test_check_vec(void **state)
{
	(void)state;
	assert_ok("net.ipv4.ip_local_port_range", "10240 65535");
	assert_ok("net.ipv4.ip_local_port_range", "40000 40000");
	assert_bad("net.ipv4.ip_local_port_range", "60999 32768", "low port 60999 is above high port 32768");
	assert_bad("net.ipv4.ip_local_port_range", "10240", "needs 2 integers, got 1");
	assert_bad("net.ipv4.ip_local_port_range", "1 2 3", "needs 2 integers, got 3");
	assert_bad("net.ipv4.ip_local_port_range", "1024 65536", "value 2 of 2");
	/* below 1024 is the live ip_unprivileged_port_start's business (plan checks it), not a fixed floor */
	assert_ok("net.ipv4.ip_local_port_range", "500 60000");
	assert_bad("net.ipv4.ip_local_port_range", "0 60000", "value 1 of 2");

	assert_ok("net.ipv4.tcp_wmem", "4096 16384 4194304");
	assert_ok("net.ipv4.tcp_wmem", "4096\t16384\t4194304");
	assert_ok("net.ipv4.tcp_wmem", "1 1 1");
	assert_bad("net.ipv4.tcp_wmem", "8192 32768 -1", "value 3 of 3 must be an integer in 1..2147483647, not -1");
	assert_bad("net.ipv4.tcp_wmem", "8192 32768", "needs 3 integers, got 2");
	assert_bad("net.ipv4.tcp_wmem", "4096 16384 4194304 7", "needs 3 integers, got 4");
	assert_bad("net.ipv4.tcp_wmem", "0 16384 4194304", "value 1 of 3");
	assert_bad("net.ipv4.tcp_rmem", "9000 100 50", "min 9000 is above default 100");
	assert_bad("net.ipv4.tcp_rmem", "4096 131072 65536", "default 131072 is above max 65536");
	assert_bad("net.ipv4.tcp_rmem", "cubic", "needs 3 integers, got \"cubic\"");
	assert_bad("net.ipv4.tcp_rmem", "4096 big 6291456", "value 2 of 3 must be an integer in 1..2147483647, not big");
	assert_ok("net.ipv4.tcp_mem", "100 200 300");
	assert_bad("net.ipv4.tcp_mem", "300 200 100", "low 300 is above pressure 200");
}

static void assert_canon(const char *in, const char *want)
{
	char *c = catalogue_canonical(must_find("net.ipv4.ip_local_reserved_ports"), in);

	if (!want) {
		assert_null(c);
		return;
	}
	assert_non_null(c);
	assert_string_equal(c, want);
	free(c);
}

/* ip_local_reserved_ports is a set: the kernel merges and sorts it */
static void test_canonical_ports(void **state)
{
	(void)state;
	assert_canon("9000-9010,8080,8081", "8080-8081,9000-9010");
	assert_canon("1,2,3-5", "1-5");
	assert_canon("65535,0", "0,65535");
	assert_canon("5-9,1-6", "1-9");
	assert_canon("", "");
	assert_canon("8080,", NULL);
	assert_canon("9-1", NULL);
	assert_null(catalogue_canonical(must_find("net.ipv4.tcp_tw_reuse"), "1"));
}

static void test_check_str(void **state)
{
	(void)state;
	assert_ok("net.ipv4.tcp_congestion_control", "bbr");
	assert_ok("net.ipv4.tcp_congestion_control", "cubic");
	assert_ok("net.core.default_qdisc", "fq_codel");
	assert_ok("net.core.default_qdisc", "pfifo_fast");
	assert_bad("net.ipv4.tcp_congestion_control", "4096 16384", "expects a word, got a number list");
	assert_bad("net.ipv4.tcp_congestion_control", "1", "expects a word, got a number");
	assert_bad("net.ipv4.tcp_congestion_control", "bbr cubic", "expects one word, got 2");
	assert_bad("net.ipv4.tcp_congestion_control", "BBR", "not \"BBR\"");
	assert_bad("net.ipv4.tcp_congestion_control", "bbr;reboot", NULL);
	assert_bad("net.ipv4.tcp_congestion_control", "", "got nothing");
	/* The congestion control lists are lists of words. */
	assert_ok("net.ipv4.tcp_allowed_congestion_control", "reno cubic bbr");
	assert_bad("net.ipv4.tcp_allowed_congestion_control", "reno 7", "not \"7\"");
}

static void test_check_port_list(void **state)
{
	(void)state;
	assert_ok("net.ipv4.ip_local_reserved_ports", "");
	assert_ok("net.ipv4.ip_local_reserved_ports", "8080");
	assert_ok("net.ipv4.ip_local_reserved_ports", "0");
	assert_ok("net.ipv4.ip_local_reserved_ports", "8080,9000-9010,65535");
	assert_bad("net.ipv4.ip_local_reserved_ports", "8080, 9000", "without spaces");
	assert_bad("net.ipv4.ip_local_reserved_ports", "9010-9000", NULL);
	assert_bad("net.ipv4.ip_local_reserved_ports", "70000", NULL);
	assert_bad("net.ipv4.ip_local_reserved_ports", "8080,", NULL);
	assert_bad("net.ipv4.ip_local_reserved_ports", "http", NULL);
	assert_bad("net.ipv4.ip_local_reserved_ports", "1-2-3", NULL);
}

/* One message a refusal, whole; no message wanted (NULL) is fine too. */
static void test_check_msgs(void **state)
{
	struct msgs m = { 0 };

	(void)state;
	assert_int_equal(catalogue_check(must_find("net.ipv4.tcp_keepalive_time"), "0", &m), -EINVAL);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.v[0], "must be an integer in 1..32767, not 0");
	assert_int_equal(catalogue_check(NULL, "1", &m), -EINVAL);
	assert_int_equal(m.n, 2);
	assert_string_equal(msgs_last(&m), "no value");
	assert_int_equal(catalogue_check(must_find("net.ipv4.tcp_keepalive_time"), NULL, NULL), -EINVAL);
	assert_int_equal(catalogue_check(must_find("net.ipv4.tcp_keepalive_time"), "7200", NULL), 0);
	msgs_free(&m);
}

static void test_removed(void **state)
{
	(void)state;
	assert_non_null(strstr(catalogue_removed("net.ipv4.tcp_tw_recycle"), "4.12"));
	assert_null(catalogue_removed("net.ipv4.tcp_tw_reuse"));
	assert_null(catalogue_find("net.ipv4.tcp_tw_recycle"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_unique),
		cmocka_unit_test(test_entries_well_formed),
		cmocka_unit_test(test_defaults_pass_check),
		cmocka_unit_test(test_known_facts),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_check_int),
		cmocka_unit_test(test_check_vec),
		cmocka_unit_test(test_check_str),
		cmocka_unit_test(test_canonical_ports),
		cmocka_unit_test(test_check_port_list),
		cmocka_unit_test(test_check_msgs),
		cmocka_unit_test(test_removed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
