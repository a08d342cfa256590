/* SPDX-License-Identifier: ISC */
/* test_doctor.c: unit tests for src/doctor.c on synthetic censuses and settings. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "testlib.h"
#include "doctor.h"
#include "util.h"

/* A quiet host: crawler-like keepalive, nothing in the counters. */
static void env_quiet(struct tcpenv *e)
{
	memset(e, 0, sizeof(*e));
	e->ss = (struct sockstat){ 10, 2, 0, 0, 12, 1 };
	e->range = (struct portrange){ 32768, 60999, 28232, 0 };
	e->max_tw_buckets = 131072;
	e->max_orphans = 65536;
	e->somaxconn = 4096;
	e->max_syn_backlog = 4096;
	e->keepalive_time = 200;
	e->keepalive_intvl = 15;
	e->keepalive_probes = 3;
	e->tw_reuse = 2;
	e->timestamps = 1;
	e->fin_timeout = 60;
}

static void counter_set(struct netstat *ns, const char *name, long long v)
{
	ns->names = xreallocarray(ns->names, ns->n + 1, sizeof(char *));
	ns->values = xreallocarray(ns->values, ns->n + 1, sizeof(long long));
	ns->names[ns->n] = xstrdup(name);
	ns->values[ns->n++] = v;
}

/* sock(s, state, local port, remote "ip:port", inode, pid, idle_ms) */
static struct ssock *sock(struct sample *s, int state, uint16_t sport, const char *ip, uint16_t dport,
			  uint32_t inode, int pid, long long idle_ms)
{
	struct ssock *x;

	s->s = xreallocarray(s->s, s->n + 1, sizeof(*s->s));
	x = &s->s[s->n++];
	memset(x, 0, sizeof(*x));
	x->family = AF_INET;
	x->state = (uint8_t)state;
	x->sport = sport;
	x->dport = dport;
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", x->src), 1);
	assert_int_equal(inet_pton(AF_INET, ip, x->dst), 1);
	x->inode = inode;
	x->pid = pid;
	x->uid = 1000;
	x->idle_ms = idle_ms;
	x->expires_ms = -1;
	/* a CLOSE_WAIT socket whose end-of-file was not read: Recv-Q counts the FIN */
	x->rqueue = state == TCPS_CLOSE_WAIT ? 1 : 0;
	s->states[state]++;
	s->total++;
	return x;
}

static void proc(struct sample *s, int pid, const char *comm, long long fds, long long tcp,
		 long long limit)
{
	struct sproc *p;

	s->procs = xreallocarray(s->procs, s->n_procs + 1, sizeof(*s->procs));
	p = &s->procs[s->n_procs++];
	p->pid = pid;
	p->comm = xstrdup(comm);
	p->fds = fds;
	p->tcp = tcp;
	p->fd_limit = limit;
}

static const struct dfinding *find(const struct doctor *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->f[i].id, id) == 0)
			return &d->f[i];
	return NULL;
}

static void test_nothing(void **state)
{
	struct sample a = { 0 }, b = { 0 };
	struct tcpenv e;
	struct doctor d;

	(void)state;
	env_quiet(&e);
	b.t = 3;
	doctor_run(&a, &b, &e, NULL, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(doctor_worst(&d), -1);
	doctor_free(&d);
}

/* cw(a, b, pid, first inode, count, idle): count CLOSE_WAIT toward the proxy. */
static void cw(struct sample *s, int pid, uint32_t from, uint32_t n, long long idle_ms)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		sock(s, TCPS_CLOSE_WAIT, (uint16_t)(40000 + from + i), "127.0.0.1", 8888, from + i, pid,
		     idle_ms);
}

/* The story: a pooled client leaking CLOSE_WAIT toward its proxy, growing. */
static void test_leak_grows(void **state)
{
	struct sample a = { 0 }, b = { 0 };
	const struct dfinding *f;
	struct tcpenv e;
	struct doctor d;

	(void)state;
	env_quiet(&e);
	a.t = 10;
	b.t = 12;
	cw(&a, 4242, 1, 10, 5000);
	cw(&b, 4242, 1, 20, 5000);          /* the first 10 still there, 10 more */
	proc(&b, 4242, "crawler", 124, 21, 1024);
	doctor_run(&a, &b, &e, NULL, &d);
	f = find(&d, "close-wait-leak");
	assert_non_null(f);
	/* (1024 - 124) fds at 5 a second: 180 s, under an hour */
	assert_int_equal(f->severity, SEV_CRITICAL);
	assert_non_null(strstr(f->summary, "PID 4242 (crawler) leaks CLOSE_WAIT: 20 toward "
				     "127.0.0.1:8888, 0 bytes unread, growing 300/min, EMFILE in about 3m00s"));
	assert_non_null(strstr(f->summary, "idle (pooled) connections"));
	assert_non_null(strstr(f->evidence, "10 of the first look's still open, 0 closed, 10 new"));
	assert_non_null(strstr(f->evidence, "seen in both looks"));
	assert_non_null(strstr(f->evidence, "20 of the 21 TCP sockets it holds (95%)"));
	assert_non_null(strstr(f->evidence, "RLIMIT_NOFILE 1024 (/proc/4242/limits)"));
	assert_non_null(strstr(f->fix, "No sysctl fixes this"));
	assert_int_equal(f->pid, 4242);
	assert_string_equal(f->comm, "crawler");
	assert_string_equal(f->remote, "127.0.0.1:8888");
	assert_int_equal(f->count, 20);
	assert_int_equal(f->fds, 124);
	assert_int_equal(f->fd_limit, 1024);
	assert_true(f->rate_per_min > 299.9 && f->rate_per_min < 300.1);
	assert_true(f->eta_s > 179.9 && f->eta_s < 180.1);
	/* seen 2 s apart and quiet 5 s at the first look: at least 7 s */
	assert_true(f->oldest_s >= 7);
	doctor_free(&d);

	/* the same with a generous limit: a warning, not critical */
	b.procs[0].fd_limit = 1048576;
	doctor_run(&a, &b, &e, NULL, &d);
	assert_int_equal(find(&d, "close-wait-leak")->severity, SEV_WARNING);
	doctor_free(&d);
	sample_free(&a);
	sample_free(&b);
}

/* Healthy shapes: one idle pooled socket, a bursty crawler, a short pile. */
static void test_close_wait_healthy(void **state)
{
	struct sample a = { 0 }, b = { 0 };
	const struct dfinding *f;
	struct tcpenv e;
	struct doctor d;

	(void)state;
	env_quiet(&e);
	a.t = 0;
	b.t = 3;
	/* a reused Session: one CLOSE_WAIT in the pool, idle for minutes */
	cw(&a, 7, 1, 1, 300000);
	cw(&b, 7, 1, 1, 303000);
	proc(&b, 7, "python3", 8, 3, 1024);
	doctor_run(&a, &b, &e, NULL, &d);
	f = find(&d, "close-wait");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_INFO);
	assert_null(find(&d, "close-wait-leak"));
	assert_non_null(strstr(f->summary, "not growing and not lasting"));
	assert_true(f->rate_per_min == 0);
	doctor_free(&d);
	sample_free(&a);
	sample_free(&b);

	/* bursty: every first-look socket closed, as many new ones */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	b.t = 3;
	cw(&a, 8, 1, 30, 10);
	cw(&b, 8, 100, 40, 10);
	doctor_run(&a, &b, &e, NULL, &d);
	assert_int_equal(doctor_worst(&d), SEV_INFO);
	doctor_free(&d);
	/* one look: 40 young ones are no evidence */
	doctor_run(NULL, &b, &e, NULL, &d);
	assert_int_equal(doctor_worst(&d), SEV_INFO);
	doctor_free(&d);
	sample_free(&a);
	sample_free(&b);
}

/* A pile that lasts without growing, and the --once verdict by age. */
static void test_close_wait_stuck(void **state)
{
	struct sample a = { 0 }, b = { 0 };
	const struct dfinding *f;
	struct tcpenv e;
	struct doctor d;

	(void)state;
	env_quiet(&e);
	b.t = 3;
	cw(&a, 9, 1, 6, 120000);
	cw(&b, 9, 1, 6, 123000);
	b.s[0].rqueue = 4097;               /* 4096 bytes never read, on one socket of six */
	doctor_run(&a, &b, &e, NULL, &d);
	f = find(&d, "close-wait-leak");
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "4096 bytes unread: the peer closed idle (pooled) connections"));
	doctor_free(&d);
	for (size_t i = 1; i < 4; i++)
		b.s[i].rqueue = 4097;       /* and on most of them */
	doctor_run(&a, &b, &e, NULL, &d);
	f = find(&d, "close-wait-leak");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_WARNING);
	assert_non_null(strstr(f->summary, "PID 9 (?) holds 6 CLOSE_WAIT that last (oldest at least 2m03s)"));
	assert_non_null(strstr(f->summary, "16384 bytes unread: responses left unread"));
	assert_true(isnan(f->eta_s));
	doctor_free(&d);
	doctor_run(NULL, &b, &e, NULL, &d);
	f = find(&d, "close-wait-leak");
	assert_non_null(f);
	assert_non_null(strstr(f->evidence, "one look (--once): 6 CLOSE_WAIT, 6 quiet for 60 s or more"));
	doctor_free(&d);
	/* young in one look: no verdict without a second */
	sample_free(&b);
	memset(&b, 0, sizeof(b));
	cw(&b, 9, 1, 6, 2000);
	doctor_run(NULL, &b, &e, NULL, &d);
	assert_int_equal(doctor_worst(&d), SEV_INFO);
	doctor_free(&d);
	sample_free(&a);
	sample_free(&b);
}

/* Unseen processes: named by uid, grouped by remote. */
static void test_close_wait_uid(void **state)
{
	struct sample a = { 0 }, b = { 0 };
	const struct dfinding *f;
	struct tcpenv e;
	struct doctor d;

	(void)state;
	env_quiet(&e);
	b.t = 2;
	cw(&a, 0, 1, 5, 1000);
	cw(&b, 0, 1, 12, 1000);
	sock(&b, TCPS_CLOSE_WAIT, 50000, "10.0.0.11", 443, 77, 0, 1000);
	b.procs_denied = 2;
	doctor_run(&a, &b, &e, NULL, &d);
	f = find(&d, "close-wait-leak");
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "uid 1000 (process not visible) leaks CLOSE_WAIT: 13 toward "
				     "127.0.0.1:8888 and others"));
	assert_non_null(strstr(f->evidence, "toward 127.0.0.1:8888: 12 (0 bytes unread, Recv-Q less the FIN), "
				      "10.0.0.11:443: 1"));
	assert_non_null(strstr(f->evidence, "processes_denied=2"));
	assert_non_null(strstr(f->fix, "Run as root"));
	assert_int_equal(f->pid, 0);
	assert_null(f->comm);
	assert_int_equal(f->uid, 1000);
	doctor_free(&d);
	sample_free(&a);
	sample_free(&b);
}

/* tw(s, n, from port, fresh): n TIME_WAIT toward the proxy, fresh of them entered it a second ago. */
static void tw(struct sample *s, unsigned n, uint16_t from, unsigned fresh)
{
	unsigned i;

	for (i = 0; i < n; i++)
		sock(s, TCPS_TIME_WAIT, (uint16_t)(from + i), "10.0.0.10", 3128, 0, 0, -1)->expires_ms =
			i < fresh ? 59000 : 20000;
}

static void test_ports_capacity(void **state)
{
	struct sample a = { 0 }, b = { 0 };
	const struct dfinding *f;
	struct tcpenv e;
	struct doctor d;
	unsigned i;

	(void)state;
	env_quiet(&e);
	e.range = (struct portrange){ 40000, 40199, 200, 0 };
	e.tw_reuse = 0;
	b.t = 2;
	/* a storm filled the range: nothing new for 60 s, TIME_WAIT and CLOSE_WAIT hold it */
	tw(&a, 150, 40000, 0);
	tw(&b, 150, 40000, 0);
	for (i = 0; i < 50; i++)
		sock(&b, TCPS_CLOSE_WAIT, (uint16_t)(40150 + i), "10.0.0.10", 3128, 500 + i, 0, 1000);
	doctor_run(&a, &b, &e, NULL, &d);
	f = find(&d, "tw-port-exhaustion");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_CRITICAL);
	assert_string_equal(f->remote, "10.0.0.10:3128");
	assert_non_null(strstr(f->evidence, "held 200 (100%): TIME_WAIT 150 CLOSE_WAIT 50"));
	assert_non_null(strstr(f->evidence, "tcp_tw_reuse does not apply"));
	assert_true(f->headroom_pct == 0);
	/* (200 - 50 not in TIME_WAIT) / 60 s */
	assert_true(f->capacity_per_s > 2.49 && f->capacity_per_s < 2.51);
	assert_non_null(strstr(f->fix, "set net.ipv4.tcp_tw_reuse=1"));
	assert_non_null(strstr(f->fix, "Never tcp_tw_recycle"));
	doctor_free(&d);
	/* one look: full and no reuse is critical without a rate */
	doctor_run(NULL, &b, &e, NULL, &d);
	assert_int_equal(find(&d, "tw-port-exhaustion")->severity, SEV_CRITICAL);
	doctor_free(&d);
	sample_free(&a);
	sample_free(&b);

	/* tcp_tw_reuse=1: half the range in TIME_WAIT, 40 connects/s of 200: quiet */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	b.t = 2;
	e.tw_reuse = 1;
	e.tw_reuse_delay_ms = 1000;
	tw(&a, 100, 40000, 0);
	tw(&b, 100, 40000, 80);
	doctor_run(&a, &b, &e, NULL, &d);
	assert_null(find(&d, "tw-port-exhaustion"));
	f = find(&d, "tw-harmless");
	assert_non_null(f);
	assert_non_null(strstr(f->evidence, "40.0 connects/s of a capacity of 200.0/s (headroom 80%)"));
	doctor_free(&d);
	/* the same rate with a 5 s reuse delay: 40 of 40 per second, critical */
	e.tw_reuse_delay_ms = 5000;
	doctor_run(&a, &b, &e, NULL, &d);
	f = find(&d, "tw-port-exhaustion");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_CRITICAL);
	assert_non_null(strstr(f->evidence, "reusable after 5 s"));
	doctor_free(&d);
	/* and 30/s of 40: a warning on headroom (25%) */
	for (i = 0; i < 20; i++)
		b.s[i].expires_ms = 20000;
	doctor_run(&a, &b, &e, NULL, &d);
	f = find(&d, "tw-port-exhaustion");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_WARNING);
	assert_true(f->headroom_pct > 24.9 && f->headroom_pct < 25.1);
	doctor_free(&d);
	sample_free(&a);
	sample_free(&b);
}

static void test_buckets_orphans_listen(void **state)
{
	struct sample a = { 0 }, b = { 0 };
	const struct dfinding *f;
	struct ssock *l;
	struct tcpenv e;
	struct doctor d;

	(void)state;
	env_quiet(&e);
	b.t = 2;
	e.ss.tw = 9000;
	e.max_tw_buckets = 10000;
	e.ss.orphan = 60000;
	counter_set(&b.ns, "TCPTimeWaitOverflow", 12);
	counter_set(&a.ns, "ListenOverflows", 5);
	counter_set(&b.ns, "ListenOverflows", 25);
	counter_set(&a.ns, "ListenDrops", 5);
	counter_set(&b.ns, "ListenDrops", 25);
	l = sock(&a, TCPS_LISTEN, 8081, "0.0.0.0", 0, 99, 321, -1);
	l->rqueue = 33;
	l->wqueue = 32;
	l = sock(&b, TCPS_LISTEN, 8081, "0.0.0.0", 0, 99, 321, -1);
	l->rqueue = 33;
	l->wqueue = 32;
	proc(&b, 321, "nginx", 20, 5, 1024);
	doctor_run(&a, &b, &e, NULL, &d);
	f = find(&d, "tw-buckets");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_WARNING);
	assert_non_null(strstr(f->summary, "90%"));
	assert_non_null(strstr(f->fix, "never lower it"));
	f = find(&d, "orphan-pressure");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_CRITICAL);
	f = find(&d, "listen-overflow");
	assert_non_null(f);
	/* full in both looks and overflowing now */
	assert_int_equal(f->severity, SEV_CRITICAL);
	assert_non_null(strstr(f->summary, "PID 321 (nginx) does not keep up accepting on 127.0.0.1:8081"));
	assert_non_null(strstr(f->evidence, "queued=33 backlog=32 (full in both looks)"));
	assert_non_null(strstr(f->evidence, "ListenOverflows +20 (10.0/s)"));
	assert_non_null(strstr(f->fix, "own listen() backlog (32), not net.core.somaxconn (4096)"));
	assert_int_equal(f->pid, 321);
	assert_true(f->rate_per_min > 599 && f->rate_per_min < 601);
	f = find(&d, "tcp-counters");
	assert_non_null(f);
	assert_non_null(strstr(f->evidence, "ListenDrops +20 (10.0/s)"));
	doctor_free(&d);
	/* the backlog asked for is above somaxconn: somaxconn binds */
	b.s[0].wqueue = 4096;
	b.s[0].rqueue = 4097;
	doctor_run(NULL, &b, &e, NULL, &d);
	f = find(&d, "listen-overflow");
	assert_int_equal(f->severity, SEV_WARNING);
	assert_non_null(strstr(f->fix, "net.core.somaxconn (4096) caps"));
	doctor_free(&d);
	sample_free(&a);
	sample_free(&b);

	/* cumulative counters alone say nothing about now: info */
	memset(&b, 0, sizeof(b));
	counter_set(&b.ns, "TCPTimeWaitOverflow", 12);
	counter_set(&b.ns, "ListenOverflows", 5);
	e.ss.tw = 10;
	e.ss.orphan = 0;
	doctor_run(NULL, &b, &e, NULL, &d);
	assert_int_equal(doctor_worst(&d), SEV_INFO);
	assert_non_null(find(&d, "tw-bucket-overflow"));
	assert_non_null(find(&d, "listen-overflow"));
	assert_null(find(&d, "orphan-pressure"));
	doctor_free(&d);
	/* a child netns hides tcp_max_orphans: no ratio, no crash */
	e.max_orphans = -1;
	e.ss.orphan = 60000;
	doctor_run(NULL, &b, &e, NULL, &d);
	assert_null(find(&d, "orphan-pressure"));
	doctor_free(&d);
	sample_free(&b);
}

static void test_keepalive(void **state)
{
	struct sample c = { 0 };
	struct tcpenv e;
	struct doctor d;
	const struct dfinding *f;

	(void)state;
	env_quiet(&e);
	e.keepalive_time = 7200;
	e.keepalive_intvl = 75;
	e.keepalive_probes = 9;
	doctor_run(NULL, &c, &e, NULL, &d);
	f = find(&d, "keepalive-slow");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_INFO);
	assert_non_null(strstr(f->summary, "2h11m"));
	assert_non_null(strstr(f->fix, "SO_KEEPALIVE"));
	doctor_free(&d);
	e.keepalive_time = -1;        /* unreadable: no claim */
	doctor_run(NULL, &c, &e, NULL, &d);
	assert_null(find(&d, "keepalive-slow"));
	doctor_free(&d);
}

static void test_audit_joins(void **state)
{
	struct sample c = { 0 };
	struct rule r[3];
	struct finding f[3];
	struct audit a = { .f = f, .n = 3 };
	struct tcpenv e;
	struct doctor d;

	(void)state;
	env_quiet(&e);
	memset(r, 0, sizeof(r));
	memset(f, 0, sizeof(f));
	r[0].key = "net.ipv4.tcp_tw_reuse";
	r[0].profile = "crawler";
	r[0].file = "crawler.conf";
	r[0].line = 7;
	f[0] = (struct finding){ .rule = &r[0], .expected = "1", .live = "2", .boot = "2",
				 .boot_source = "kernel default", .status = AUDIT_DRIFT };
	r[1].key = "net.ipv4.tcp_keepalive_time";
	f[1] = (struct finding){ .rule = &r[1], .expected = "200", .live = "200", .status = AUDIT_OK };
	r[2].key = "net.ipv4.tcp_fastopen_blackhole_timeout_sec";
	r[2].optional = true;
	f[2] = (struct finding){ .rule = &r[2], .expected = "0", .status = AUDIT_MISSING };
	doctor_run(NULL, &c, &e, &a, &d);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.f[0].id, "audit-drift");
	assert_int_equal(d.f[0].severity, SEV_WARNING);
	assert_non_null(strstr(d.f[0].summary, "net.ipv4.tcp_tw_reuse is 2, the profile wants 1"));
	assert_non_null(strstr(d.f[0].evidence, "crawler.conf:7"));
	assert_non_null(strstr(d.f[0].fix, "tcptune apply crawler"));
	assert_int_equal(d.f[1].severity, SEV_INFO);
	doctor_free(&d);
}

/* The environment reader on a fixture root. */
static void test_env_read(void **state)
{
	char *root = tl_mkroot("sockets-ports");
	int rootfd = tl_rootfd(root);
	struct procsys ps;
	struct tcpenv e;

	(void)state;
	assert_int_equal(procsys_open(rootfd, &ps), 0);
	doctor_env_read(rootfd, &ps, &e);
	assert_int_equal(e.range.usable, 90);
	assert_int_equal(e.ss.tw, 80);
	assert_int_equal(e.ss.inuse6, -1);     /* no sockstat6 in this fixture */
	assert_int_equal(e.keepalive_time, 200);
	assert_int_equal(e.max_orphans, 65536);
	assert_int_equal(e.somaxconn, 4096);
	assert_int_equal(sockets_netstat_get(&e.ns, "ListenOverflows"), 7);
	assert_int_equal(sockets_netstat_get(&e.ns, "TCPTimeWaitOverflow"), 3);
	doctor_env_free(&e);
	procsys_close(&ps);
	close(rootfd);
	tl_rmroot(root);
}

/* The mark `tcptune sockets` puts on a destination's ports: half is a warning, four fifths critical. */
static void test_note_ports(void **state)
{
	(void)state;
	assert_int_equal(doctor_note_ports(0, 0), SEV_INFO);
	assert_int_equal(doctor_note_ports(44, 90), SEV_INFO);
	assert_int_equal(doctor_note_ports(45, 90), SEV_WARNING);
	assert_int_equal(doctor_note_ports(71, 90), SEV_WARNING);
	assert_int_equal(doctor_note_ports(72, 90), SEV_CRITICAL);
	assert_int_equal(doctor_note_ports(90, 90), SEV_CRITICAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_leak_grows),
		cmocka_unit_test(test_close_wait_healthy),
		cmocka_unit_test(test_close_wait_stuck),
		cmocka_unit_test(test_close_wait_uid),
		cmocka_unit_test(test_ports_capacity),
		cmocka_unit_test(test_buckets_orphans_listen),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_audit_joins),
		cmocka_unit_test(test_env_read),
		cmocka_unit_test(test_note_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
