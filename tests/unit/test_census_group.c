/* SPDX-License-Identifier: ISC */
/* test_census_group.c: unit tests for src/census_group.c: remotes, ports_used over local addresses, pairs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "testlib.h"
#include "census_group.h"

static struct sock mk(uint8_t dst_last, uint16_t dport, uint8_t src_last, uint16_t sport, int state, uint32_t inode)
{
	struct sock sk;

	memset(&sk, 0, sizeof(sk));
	sk.family = AF_INET;
	sk.state = (uint8_t)state;
	sk.dst[0] = 10, sk.dst[3] = dst_last;
	sk.src[0] = 10, sk.src[3] = src_last;
	sk.dport = dport;
	sk.sport = sport;
	sk.inode = inode;
	return sk;
}

/* Many remotes through several rehashes: every one found again, sorted, counts kept. */
static void test_many_remotes(void **state)
{
	struct cgroups g;
	struct census c;
	unsigned long long sum = 0;
	size_t i;

	(void)state;
	memset(&g, 0, sizeof(g));
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 5000; i++) {
		struct sock sk = mk((uint8_t)(i % 251), (uint16_t)(1000 + i / 251), 1, 40000, TCPS_TIME_WAIT, 0);

		cgroups_add(&g, &sk, false, true);
		if (i % 7 == 0)
			cgroups_add(&g, &sk, false, true);     /* a second socket toward the same remote */
	}
	cgroups_finish(&g, &c, NULL, NULL, 0);
	assert_int_equal(c.n_remotes, 5000);
	for (i = 0; i < c.n_remotes; i++) {
		sum += c.remotes[i].total;
		assert_int_equal(c.remotes[i].total, c.remotes[i].states[TCPS_TIME_WAIT]);
		assert_int_equal(c.remotes[i].ports_used, c.remotes[i].total);
		if (i)
			assert_true(c.remotes[i - 1].total >= c.remotes[i].total);
	}
	assert_int_equal(sum, 5000 + (5000 + 6) / 7);
	assert_int_equal(c.remotes[0].total, 2);
	assert_null(g.v);
	census_free(&c);
}

/* ports_used is the busiest local address toward the remote, not the sum; inbound rows have none. */
static void test_ports_used_per_local_address(void **state)
{
	struct cgroups g;
	struct census c;
	int i;

	(void)state;
	memset(&g, 0, sizeof(g));
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 30; i++) {
		struct sock a = mk(9, 80, 1, (uint16_t)(40000 + i), TCPS_ESTABLISHED, 0);
		struct sock b = mk(9, 80, 2, (uint16_t)(40000 + i), TCPS_TIME_WAIT, 0);
		struct sock in = mk(7, (uint16_t)(50000 + i), 1, 8080, TCPS_ESTABLISHED, 0);

		cgroups_add(&g, &a, false, true);
		if (i < 20)
			cgroups_add(&g, &b, false, true);     /* from a second local address: spilled */
		cgroups_add(&g, &in, true, false);
	}
	cgroups_finish(&g, &c, NULL, NULL, 0);
	assert_int_equal(c.n_remotes, 2);
	assert_false(c.remotes[0].inbound);
	assert_int_equal(c.remotes[0].total, 50);
	assert_int_equal(c.remotes[0].ports_used, 30);
	assert_int_equal(c.remotes[0].states[TCPS_TIME_WAIT], 20);
	assert_true(c.remotes[1].inbound);
	assert_int_equal(c.remotes[1].port, 8080);
	assert_int_equal(c.remotes[1].total, 30);
	assert_int_equal(c.remotes[1].ports_used, 0);
	census_free(&c);
}

/* Pairs follow the owners' order; sockets of no readable process come last as pid 0. */
static void test_pairs(void **state)
{
	static const uint32_t inodes[] = { 11, 12, 13, 21 };
	static const int pids[] = { 100, 100, 100, 0 };
	struct owner owners[1];
	struct cgroups g;
	struct census c;
	struct sock s[] = {
		mk(9, 80, 1, 40000, TCPS_ESTABLISHED, 11), mk(9, 80, 1, 40001, TCPS_CLOSE_WAIT, 12),
		mk(8, 443, 1, 40002, TCPS_ESTABLISHED, 13), mk(8, 443, 1, 40003, TCPS_ESTABLISHED, 21),
		mk(8, 443, 1, 40004, TCPS_TIME_WAIT, 0),
	};
	size_t i;

	(void)state;
	memset(&g, 0, sizeof(g));
	memset(&c, 0, sizeof(c));
	memset(owners, 0, sizeof(owners));
	owners[0].pid = 100;
	c.owners = owners;
	c.n_owners = 1;
	g.pairs = true;
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		cgroups_add(&g, &s[i], false, true);
	cgroups_finish(&g, &c, inodes, pids, 4);
	assert_int_equal(c.n_remotes, 2);
	assert_int_equal(c.remotes[0].port, 443);              /* 3 sockets before 2 */
	assert_int_equal(c.n_pairs, 3);
	assert_int_equal(c.pairs[0].pid, 100);
	assert_int_equal(c.pairs[0].remote, 1);                /* 10.0.0.9:80, 2 sockets */
	assert_int_equal(c.pairs[0].total, 2);
	assert_int_equal(c.pairs[0].states[TCPS_CLOSE_WAIT], 1);
	assert_int_equal(c.pairs[1].pid, 100);
	assert_int_equal(c.pairs[1].remote, 0);
	assert_int_equal(c.pairs[1].total, 1);
	assert_int_equal(c.pairs[2].pid, 0);                   /* unreadable owner and TIME_WAIT */
	assert_int_equal(c.pairs[2].remote, 0);
	assert_int_equal(c.pairs[2].total, 2);
	free(c.remotes);
	free(c.pairs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_remotes),
		cmocka_unit_test(test_ports_used_per_local_address),
		cmocka_unit_test(test_pairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
