/* SPDX-License-Identifier: ISC */
/* test_sockets.c: unit tests for src/sockets.c on recorded netlink dumps and /proc fixtures. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include "testlib.h"
#include "sockets.h"
#include "util.h"

/* The recorded scenario (tests/data/sockets-live/scenario.py 6 9 3). */
#define SC_EST 6
#define SC_FW2 6
#define SC_TW 9
#define SC_CW 6
#define SC_LISTEN 2

struct tally {
	unsigned long long st[TCPS_MAX];
	unsigned long long v4, v6, n, tw_timer, inodes, idle_known;
	struct sock last_listen6;
	int stop_after;
};

static int tally_visit(const struct sock *sk, void *data)
{
	struct tally *t = data;

	t->st[sk->state]++;
	t->n++;
	if (sk->family == AF_INET)
		t->v4++;
	else
		t->v6++;
	t->tw_timer += sk->timer == 3;
	t->inodes += sk->inode != 0;
	t->idle_known += sk->idle_ms >= 0;
	if (sk->state == TCPS_LISTEN && sk->family == AF_INET6)
		t->last_listen6 = *sk;
	if (t->stop_after && t->n == (unsigned long long)t->stop_after)
		return 1;
	return 0;
}

static char *slurp(const char *rel, size_t *len)
{
	char *path = xasprintf("%s/tests/data/%s", SRCDIR, rel);
	char *buf = xmalloc(1 << 20);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, 1 << 20);
	assert_true(n > 0);
	*len = (size_t)n;
	close(fd);
	free(path);
	return buf;
}

static void test_state_names(void **state)
{
	(void)state;
	assert_int_equal(sockets_state_parse("ESTABLISHED"), TCPS_ESTABLISHED);
	assert_int_equal(sockets_state_parse("close-wait"), TCPS_CLOSE_WAIT);
	assert_int_equal(sockets_state_parse("CLOSE_WAIT"), TCPS_CLOSE_WAIT);
	assert_int_equal(sockets_state_parse("time-wait"), TCPS_TIME_WAIT);
	assert_int_equal(sockets_state_parse("syn-sent"), TCPS_SYN_SENT);
	assert_int_equal(sockets_state_parse("syn-recv"), TCPS_SYN_RECV);
	assert_int_equal(sockets_state_parse("fin-wait-1"), TCPS_FIN_WAIT1);
	assert_int_equal(sockets_state_parse("FIN_WAIT2"), TCPS_FIN_WAIT2);
	assert_int_equal(sockets_state_parse("fin_wait_2"), TCPS_FIN_WAIT2);
	assert_int_equal(sockets_state_parse("last-ack"), TCPS_LAST_ACK);
	assert_int_equal(sockets_state_parse("listening"), TCPS_LISTEN);
	assert_int_equal(sockets_state_parse("closing"), TCPS_CLOSING);
	assert_int_equal(sockets_state_parse("estab"), TCPS_ESTABLISHED);
	assert_int_equal(sockets_state_parse("wait"), -EINVAL);
	assert_int_equal(sockets_state_parse(""), -EINVAL);
	assert_int_equal(sockets_state_parse("a-very-long-name-that-is-no-state-at-all"), -EINVAL);
	assert_string_equal(sockets_state_name(TCPS_CLOSE_WAIT), "CLOSE_WAIT");
	assert_null(sockets_state_name(0));
	assert_null(sockets_state_name(12));
}

static void test_parse_nl_dump(void **state)
{
	struct tally t = { 0 };
	size_t len;
	char *buf = slurp("sockets-nl/all.nl", &len);
	char a[80];

	(void)state;
	assert_int_equal(sockets_parse_nl(buf, len, tally_visit, &t), 1);
	assert_int_equal(t.st[TCPS_ESTABLISHED], SC_EST);
	assert_int_equal(t.st[TCPS_FIN_WAIT2], SC_FW2);
	assert_int_equal(t.st[TCPS_TIME_WAIT], SC_TW);
	assert_int_equal(t.st[TCPS_CLOSE_WAIT], SC_CW);
	assert_int_equal(t.st[TCPS_LISTEN], SC_LISTEN);
	assert_int_equal(t.n, 29);
	/* every TIME_WAIT and orphaned FIN_WAIT2 is a timewait mini-socket without a file */
	assert_int_equal(t.tw_timer, SC_TW + SC_FW2);
	assert_int_equal(t.inodes, SC_EST + SC_CW + SC_LISTEN);
	assert_int_equal(t.v6, 10);
	assert_int_equal(t.idle_known, 0);
	assert_string_equal(sockets_addr_str(AF_INET6, t.last_listen6.src, t.last_listen6.sport, a, sizeof(a)),
			    "[::1]:7001");
	free(buf);
}

static void test_parse_nl_info(void **state)
{
	struct tally t = { 0 };
	size_t len;
	char *buf = slurp("sockets-nl/cw-info.nl", &len);

	(void)state;
	/* doctor's recording: the CLOSE_WAIT dump asked for INET_DIAG_INFO */
	assert_int_equal(sockets_parse_nl(buf, len, tally_visit, &t), 1);
	assert_int_equal(t.st[TCPS_CLOSE_WAIT], SC_CW);
	assert_int_equal(t.n, SC_CW);
	assert_int_equal(t.idle_known, SC_CW);
	free(buf);
}

static void test_parse_nl_bad(void **state)
{
	struct tally t = { 0 };
	size_t len;
	char *buf = slurp("sockets-nl/v6.nl", &len);
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} err;
	const struct nlmsghdr *first = (const void *)buf;

	(void)state;
	assert_int_equal(sockets_parse_nl(buf, len, tally_visit, &t), 1);
	assert_int_equal(t.v4, 0);
	assert_int_equal(t.n, 10);
	/* cut inside a message: an error, not a short count */
	memset(&t, 0, sizeof(t));
	assert_int_equal(sockets_parse_nl(buf, len - 30, tally_visit, &t), -EBADMSG);
	/* cut at a message boundary: more to come */
	memset(&t, 0, sizeof(t));
	assert_int_equal(sockets_parse_nl(buf, NLMSG_ALIGN(first->nlmsg_len), tally_visit, &t), 0);
	assert_int_equal(t.n, 1);
	/* the visitor may stop the walk */
	memset(&t, 0, sizeof(t));
	t.stop_after = 2;
	assert_int_equal(sockets_parse_nl(buf, len, tally_visit, &t), -ECANCELED);
	assert_int_equal(t.n, 2);
	/* a message too short for inet_diag_msg */
	((struct nlmsghdr *)buf)->nlmsg_len = NLMSG_LENGTH(8);
	assert_int_equal(sockets_parse_nl(buf, NLMSG_LENGTH(8), tally_visit, &t), -EBADMSG);
	/* NLMSG_ERROR carries the kernel's errno */
	memset(&err, 0, sizeof(err));
	err.h.nlmsg_len = sizeof(err);
	err.h.nlmsg_type = NLMSG_ERROR;
	err.e.error = -EINVAL;
	assert_int_equal(sockets_parse_nl(&err, sizeof(err), tally_visit, &t), -EINVAL);
	err.e.error = 0;        /* an ACK */
	assert_int_equal(sockets_parse_nl(&err, sizeof(err), tally_visit, &t), 0);
	err.e.error = 5;        /* nonsense */
	assert_int_equal(sockets_parse_nl(&err, sizeof(err), tally_visit, &t), -EBADMSG);
	assert_int_equal(sockets_parse_nl(buf, 0, tally_visit, &t), 0);
	/* a length that turns negative as an int must not walk off the buffer */
	((struct nlmsghdr *)buf)->nlmsg_len = 0x80000010u;
	assert_int_equal(sockets_parse_nl(buf, len, tally_visit, &t), -EBADMSG);
	/* trailing bytes too short for a header */
	memset(&err, 0, sizeof(err));
	err.h.nlmsg_len = sizeof(err.h);
	err.h.nlmsg_type = NLMSG_DONE;
	assert_int_equal(sockets_parse_nl(&err, sizeof(err.h) + 8, tally_visit, &t), -EBADMSG);
	assert_int_equal(sockets_parse_nl(&err, sizeof(err.h), tally_visit, &t), 1);
	free(buf);
}

/* An INET_DIAG_INFO attribute whose length runs past its message is ignored. */
static void test_parse_nl_bad_attr(void **state)
{
	struct tally t = { 0 };
	size_t len;
	char *buf = slurp("sockets-nl/cw-info.nl", &len);
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	struct nlattr *a = (struct nlattr *)(buf + NLMSG_LENGTH(sizeof(struct inet_diag_msg)));

	(void)state;
	assert_true(h->nlmsg_len > NLMSG_LENGTH(sizeof(struct inet_diag_msg)) + sizeof(*a));
	a->nla_len = 0xfff0;
	assert_int_equal(sockets_parse_nl(buf, h->nlmsg_len, tally_visit, &t), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.idle_known, 0);
	free(buf);
}

static void test_parse_proc_lines(void **state)
{
	struct sock sk;
	uint8_t lo6[16] = { [15] = 1 };
	char a[80];

	(void)state;
	assert_int_equal(sockets_parse_proc_line(
		"   1: 0100007F:A08E 0100007F:1B59 08 00000000:00000001 00:00000000 00000000  1000        0 30967 2 000000003e0d516e 20 4 0 10 -1\n",
		AF_INET, &sk), 0);
	assert_int_equal(sk.state, TCPS_CLOSE_WAIT);
	assert_int_equal(sk.inode, 30967);
	assert_int_equal(sk.uid, 1000);
	assert_int_equal(sk.sport, 0xA08E);
	assert_string_equal(sockets_addr_str(AF_INET, sk.dst, sk.dport, a, sizeof(a)), "127.0.0.1:7001");
	/* a timewait line is shorter */
	assert_int_equal(sockets_parse_proc_line(
		"   4: 0100007F:A0A8 0100007F:1B59 06 00000000:00000000 03:00001742 00000000     0        0 0 3 0000000053248ee2",
		AF_INET, &sk), 0);
	assert_int_equal(sk.state, TCPS_TIME_WAIT);
	assert_int_equal(sk.timer, 3);
	assert_int_equal(sk.inode, 0);
	assert_int_equal(sockets_parse_proc_line(
		"   0: 00000000000000000000000001000000:1B59 00000000000000000000000000000000:0000 0A 00000000:00000005 00:00000000 00000000     0        0 30966 1 000000002cd879f3 100 0 0 10 0",
		AF_INET6, &sk), 0);
	assert_int_equal(sk.state, TCPS_LISTEN);
	assert_int_equal(sk.rqueue, 5);
	assert_memory_equal(sk.src, lo6, 16);
	assert_string_equal(sockets_addr_str(AF_INET6, sk.src, sk.sport, a, sizeof(a)), "[::1]:7001");
	/* odd but real states */
	assert_int_equal(sockets_parse_proc_line(
		"  5: 0100007F:1F90 0A00000A:01BB 0B 00000000:00000000 01:00000010 00000003  1000 0 0 2 0", AF_INET, &sk), 0);
	assert_int_equal(sk.state, TCPS_CLOSING);
	assert_int_equal(sockets_parse_proc_line(
		"  5: 0100007F:1F90 0A00000A:01BB 0C 00000000:00000000 01:00000010 00000003  1000 0 0 2 0", AF_INET, &sk), 0);
	assert_int_equal(sk.state, TCPS_SYN_RECV);
	/* the header, truncated lines, unknown states, garbage */
	assert_int_equal(sockets_parse_proc_line(
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", AF_INET, &sk), -EINVAL);
	assert_int_equal(sockets_parse_proc_line("  22: 0100007F:1F90 0A00000A:01BB 01 0000", AF_INET, &sk), -EINVAL);
	assert_int_equal(sockets_parse_proc_line("  22: 0100007F:1F90 0A00000A:01", AF_INET, &sk), -EINVAL);
	assert_int_equal(sockets_parse_proc_line("  22: 0100007F", AF_INET, &sk), -EINVAL);
	assert_int_equal(sockets_parse_proc_line(
		"  5: 0100007F:1F90 0A00000A:01BB 0D 00000000:00000000 01:00000010 00000003  1000 0 0 2 0", AF_INET, &sk), -EINVAL);
	assert_int_equal(sockets_parse_proc_line(
		"  5: 0100007F:1F90 0A00000A:01BB 00 00000000:00000000 01:00000010 00000003  1000 0 0 2 0", AF_INET, &sk), -EINVAL);
	assert_int_equal(sockets_parse_proc_line(
		"  5: 0100007F:1FFFFF 0A00000A:01BB 01 00000000:00000000 01:00000010 00000003  1000 0 0 2 0", AF_INET, &sk), -EINVAL);
	/* an IPv4-length address in tcp6 */
	assert_int_equal(sockets_parse_proc_line(
		"   1: 0100007F:A08E 0100007F:1B59 08 00000000:00000001 00:00000000 00000000  1000 0 30967 2 0", AF_INET6, &sk), -EINVAL);
	assert_int_equal(sockets_parse_proc_line("", AF_INET, &sk), -EINVAL);
	assert_int_equal(sockets_parse_proc_line("x: y", AF_INET, &sk), -EINVAL);
}

/* /proc/net/tcp{,6} and the netlink dump of the same live sockets agree. */
static void test_walk_proc_matches_netlink(void **state)
{
	char *root = tl_mkroot("sockets-proc");
	int rootfd = tl_rootfd(root);
	struct sockets_query q = { 0 };
	struct tally p = { 0 }, n = { 0 };
	enum sockets_source used;
	struct msgs m = { 0 };
	int s;

	(void)state;
	q.source = SRC_PROC;
	assert_int_equal(sockets_walk(rootfd, &q, tally_visit, &p, &used, &m), 0);
	assert_int_equal(used, SRC_PROC);
	q.source = SRC_REPLAY;
	q.replay = SRCDIR "/tests/data/sockets-nl/all.nl";
	assert_int_equal(sockets_walk(rootfd, &q, tally_visit, &n, &used, &m), 0);
	assert_int_equal(used, SRC_REPLAY);
	for (s = 1; s < TCPS_MAX; s++)
		assert_int_equal(p.st[s], n.st[s]);
	assert_int_equal(p.v6, n.v6);
	assert_int_equal(p.tw_timer, n.tw_timer);
	/* filters apply to both: replay and /proc cannot filter in the kernel */
	memset(&p, 0, sizeof(p));
	q.states = 1u << TCPS_CLOSE_WAIT;
	q.family = AF_INET6;
	assert_int_equal(sockets_walk(rootfd, &q, tally_visit, &p, &used, &m), 0);
	assert_int_equal(p.n, 3);
	memset(&p, 0, sizeof(p));
	q.source = SRC_PROC;
	assert_int_equal(sockets_walk(rootfd, &q, tally_visit, &p, &used, &m), 0);
	assert_int_equal(p.n, 3);
	/* odd lines are skipped, not fatal */
	tl_write(root, "proc/net/tcp6", "garbage\n  7: 0100007F:1\n");
	memset(&p, 0, sizeof(p));
	q.states = 0;
	q.family = AF_UNSPEC;
	assert_int_equal(sockets_walk(rootfd, &q, tally_visit, &p, &used, &m), 0);
	assert_int_equal(p.n, 19);
	/* a missing replay file is an error naming it */
	q.source = SRC_REPLAY;
	q.replay = "/nonexistent/dump";
	assert_int_equal(sockets_walk(rootfd, &q, tally_visit, &p, &used, &m), -ENOENT);
	assert_int_equal(m.n, 1);
	assert_non_null(strstr(m.v[0], "/nonexistent/dump"));
	msgs_free(&m);
	close(rootfd);
	tl_rmroot(root);
}

/*
 * The fd links of the fixture's process 4242, (re)made here: they are in
 * git, but dist tarballs dereference symlinks and drop these dangling ones.
 */
static void make_fds(const char *root)
{
	static const unsigned inodes[] = { 30965, 30966, 30967, 30971, 30975, 30969, 30973, 30977 };
	char *dir = xasprintf("%s/proc/4242/fd", root), *link, *target;
	size_t i;

	assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
	for (i = 0; i < sizeof(inodes) / sizeof(inodes[0]) + 2; i++) {
		link = xasprintf("%s/%zu", dir, i);
		target = i == 0 ? xstrdup("/dev/null") : i == 1 ? xstrdup("pipe:[1234]") :
			 xasprintf("socket:[%u]", inodes[i - 2]);
		(void)unlink(link);
		assert_int_equal(symlink(target, link), 0);
		free(link);
		free(target);
	}
	free(dir);
}

static void test_census_owners(void **state)
{
	char *root = tl_mkroot("sockets-proc");
	int rootfd = tl_rootfd(root);
	struct census_query cq;
	struct census c;

	(void)state;
	make_fds(root);
	memset(&cq, 0, sizeof(cq));
	cq.q.source = SRC_PROC;
	cq.owners = true;
	assert_int_equal(census_run(rootfd, &cq, &c, NULL), 0);
	assert_int_equal(c.total, 29);
	assert_int_equal(c.n_owners, 1);
	assert_int_equal(c.owners[0].pid, 4242);
	/* the raw comm: escaping is the printer's job */
	assert_string_equal(c.owners[0].comm, "leaker\033]0;pwned\007");
	assert_int_equal(c.owners[0].states[TCPS_CLOSE_WAIT], SC_CW);
	assert_int_equal(c.owners[0].states[TCPS_LISTEN], SC_LISTEN);
	assert_int_equal(census_owner_total(&c.owners[0]), SC_CW + SC_LISTEN);
	/* the ESTABLISHED inodes are held by no process in the fixture */
	assert_int_equal(c.unowned, SC_EST);
	/* 4444 has no fd directory: it vanished mid-scan */
	assert_int_equal(c.procs_vanished, 1);
	assert_false(c.from_counters);
	census_free(&c);

	/* only the CLOSE_WAIT inodes are looked up */
	cq.q.states = 1u << TCPS_CLOSE_WAIT;
	assert_int_equal(census_run(rootfd, &cq, &c, NULL), 0);
	assert_int_equal(c.total, SC_CW);
	assert_int_equal(c.n_owners, 1);
	assert_int_equal(census_owner_total(&c.owners[0]), SC_CW);
	assert_int_equal(c.unowned, 0);
	census_free(&c);
	close(rootfd);
	tl_rmroot(root);
}

static void test_census_remotes_lports(void **state)
{
	char *root = tl_mkroot("sockets-ports");
	int rootfd = tl_rootfd(root);
	struct census_query cq;
	struct procsys ps;
	struct census c;
	char a[80];

	(void)state;
	assert_int_equal(procsys_open(rootfd, &ps), 0);
	memset(&cq, 0, sizeof(cq));
	cq.q.source = SRC_PROC;
	cq.remotes = cq.lports = true;
	assert_int_equal(sockets_port_range(&ps, &cq.range), 0);
	assert_int_equal(cq.range.low, 60000);
	assert_int_equal(cq.range.high, 60099);
	assert_int_equal(cq.range.reserved, 10);
	assert_int_equal(cq.range.usable, 90);
	assert_int_equal(census_run(rootfd, &cq, &c, NULL), 0);
	assert_int_equal(c.n_remotes, 1);        /* listeners have no remote */
	assert_string_equal(sockets_addr_str(c.remotes[0].family, c.remotes[0].addr, c.remotes[0].port, a,
					     sizeof(a)), "10.0.0.10:3128");
	assert_int_equal(c.remotes[0].states[TCPS_TIME_WAIT], 80);
	assert_int_equal(c.remotes[0].states[TCPS_ESTABLISHED], 5);
	assert_int_equal(c.remotes[0].ports_used, 85);
	assert_int_equal(c.n_lports, 86);
	assert_int_equal(c.lports[0].total, 1);
	census_free(&c);
	procsys_close(&ps);
	close(rootfd);
	tl_rmroot(root);
}

/* Many destinations: the hash table grows and loses nothing. */
static void test_census_many_remotes(void **state)
{
	char *root = tl_mkroot(NULL);
	int rootfd = tl_rootfd(root);
	size_t cap = 1 << 20, len = 0, i;
	char *text = xmalloc(cap);
	struct census_query cq;
	struct census c;
	unsigned long long sum = 0;

	(void)state;
	len += (size_t)snprintf(text + len, cap - len, "  sl  local_address\n");
	for (i = 0; i < 3000; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"%4zu: 0200000A:%04zX %08zX:01BB 06 00000000:00000000 03:00000000 00000000 0 0 0 1 0\n",
					i, 40000 + i % 7, 0x0A000000 + i % 1500);
	tl_write(root, "proc/net/tcp", text);
	memset(&cq, 0, sizeof(cq));
	cq.q.source = SRC_PROC;
	cq.remotes = true;
	cq.range.low = 32768;
	cq.range.high = 60999;
	assert_int_equal(census_run(rootfd, &cq, &c, NULL), 0);
	assert_int_equal(c.total, 3000);
	assert_int_equal(c.n_remotes, 1500);
	for (i = 0; i < c.n_remotes; i++)
		sum += c.remotes[i].states[TCPS_TIME_WAIT];
	assert_int_equal(sum, 3000);
	assert_int_equal(c.remotes[0].total, 2);
	census_free(&c);
	free(text);
	close(rootfd);
	tl_rmroot(root);
}

static void test_counters(void **state)
{
	char *root = tl_mkroot("sockets-proc");
	int rootfd = tl_rootfd(root);
	struct sockstat ss;
	struct netstat ns;

	(void)state;
	assert_int_equal(sockets_read_sockstat(rootfd, &ss), 0);
	assert_int_equal(ss.inuse4, 10);
	assert_int_equal(ss.tw, SC_TW + SC_FW2);
	assert_int_equal(ss.orphan, 0);
	assert_true(ss.inuse6 >= 0);
	assert_int_equal(sockets_read_netstat(rootfd, &ns), 0);
	assert_true(ns.n > 50);
	assert_int_equal(sockets_netstat_get(&ns, "TCPTimeWaitOverflow"), 0);
	assert_true(sockets_netstat_get(&ns, "ListenOverflows") >= 0);
	assert_int_equal(sockets_netstat_get(&ns, "NoSuchCounter"), -1);
	/* IpExt shares the file: its names must not leak into TcpExt */
	assert_int_equal(sockets_netstat_get(&ns, "InNoRoutes"), -1);
	sockets_netstat_free(&ns);
	tl_write(root, "proc/net/sockstat", "sockets: used 1\nTCP: inuse 3 orphan 1 tw 7 alloc 4 mem 2\n");
	tl_write(root, "proc/net/sockstat6", "TCP6: inuse 2\nUDP6: inuse 9\n");
	assert_int_equal(sockets_read_sockstat(rootfd, &ss), 0);
	assert_int_equal(ss.inuse4, 3);
	assert_int_equal(ss.inuse6, 2);
	assert_int_equal(ss.orphan, 1);
	assert_int_equal(ss.tw, 7);
	assert_int_equal(ss.mem, 2);
	close(rootfd);
	tl_rmroot(root);
}

static void test_reserved_ports(void **state)
{
	unsigned n = 99;

	(void)state;
	assert_int_equal(sockets_count_reserved("8080,60000-60010", 32768, 60999, &n), 0);
	assert_int_equal(n, 11);
	assert_int_equal(sockets_count_reserved("60005-60020,60000-60010", 32768, 60999, &n), 0);
	assert_int_equal(n, 21);
	assert_int_equal(sockets_count_reserved("", 32768, 60999, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sockets_count_reserved("1-65535", 32768, 60999, &n), 0);
	assert_int_equal(n, 60999 - 32768 + 1);
	assert_int_equal(sockets_count_reserved("9-3", 1, 100, &n), -EINVAL);
	assert_int_equal(sockets_count_reserved("70000", 1, 100, &n), -EINVAL);
	assert_int_equal(sockets_count_reserved("a-b", 1, 100, &n), -EINVAL);
}

static void test_source_and_env(void **state)
{
	struct sockets_query q = { 0 };
	enum sockets_source s;

	(void)state;
	assert_int_equal(sockets_source_parse("proc", &s), 0);
	assert_int_equal(s, SRC_PROC);
	assert_int_equal(sockets_source_parse("netlink", &s), 0);
	assert_int_equal(s, SRC_NETLINK);
	assert_int_equal(sockets_source_parse("bpf", &s), -EINVAL);
	unsetenv("TCPTUNE_DIAG_FILE");
	unsetenv("TCPTUNE_DIAG_RECORD");
	setenv("TCPTUNE_SOCKETS_SOURCE", "proc", 1);
	assert_int_equal(sockets_query_env(&q, "/"), 0);
	assert_int_equal(q.source, SRC_PROC);
	q.source = SRC_AUTO;
	unsetenv("TCPTUNE_SOCKETS_SOURCE");
	/* below another root, netlink would describe the wrong system */
	assert_int_equal(sockets_query_env(&q, "/srv/image"), 0);
	assert_int_equal(q.source, SRC_PROC);
	q.source = SRC_AUTO;
	setenv("TCPTUNE_DIAG_FILE", "/x.nl", 1);
	assert_int_equal(sockets_query_env(&q, "/"), 0);
	assert_int_equal(q.source, SRC_REPLAY);
	assert_string_equal(q.replay, "/x.nl");
	unsetenv("TCPTUNE_DIAG_FILE");
	setenv("TCPTUNE_SOCKETS_SOURCE", "bogus", 1);
	q.source = SRC_AUTO;
	assert_int_equal(sockets_query_env(&q, "/"), -EINVAL);
	unsetenv("TCPTUNE_SOCKETS_SOURCE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_parse_nl_dump),
		cmocka_unit_test(test_parse_nl_info),
		cmocka_unit_test(test_parse_nl_bad),
		cmocka_unit_test(test_parse_nl_bad_attr),
		cmocka_unit_test(test_parse_proc_lines),
		cmocka_unit_test(test_walk_proc_matches_netlink),
		cmocka_unit_test(test_census_owners),
		cmocka_unit_test(test_census_remotes_lports),
		cmocka_unit_test(test_census_many_remotes),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_reserved_ports),
		cmocka_unit_test(test_source_and_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
