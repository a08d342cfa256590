/* test_doctor.c: unit tests for src/doctor.c on synthetic censuses and settings. */
#include <arpa/inet.h>
#include <fcntl.h>
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

static void netstat_set(struct tcpenv *e, const char *name, long long v)
{
	e->ns.names = xreallocarray(e->ns.names, e->ns.n + 1, sizeof(char *));
	e->ns.values = xreallocarray(e->ns.values, e->ns.n + 1, sizeof(long long));
	e->ns.names[e->ns.n] = xstrdup(name);
	e->ns.values[e->ns.n++] = v;
}

static void add_owner(struct census *c, int pid, const char *comm, unsigned long long cw,
		      unsigned long long est, long long idle_ms)
{
	struct owner *o;

	c->owners = xreallocarray(c->owners, c->n_owners + 1, sizeof(*c->owners));
	o = &c->owners[c->n_owners++];
	memset(o, 0, sizeof(*o));
	o->pid = pid;
	o->comm = xstrdup(comm);
	o->states[TCPS_CLOSE_WAIT] = cw;
	o->states[TCPS_ESTABLISHED] = est;
	o->close_wait_idle_ms = idle_ms;
	c->states[TCPS_CLOSE_WAIT] += cw;
	c->states[TCPS_ESTABLISHED] += est;
	c->total += cw + est;
}

static void add_remote(struct census *c, const char *ip, uint16_t port, unsigned long long tw,
		       unsigned long long est, unsigned long long used)
{
	struct remote *r;

	c->remotes = xreallocarray(c->remotes, c->n_remotes + 1, sizeof(*c->remotes));
	r = &c->remotes[c->n_remotes++];
	memset(r, 0, sizeof(*r));
	r->family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, ip, r->addr), 1);
	r->port = port;
	r->states[TCPS_TIME_WAIT] = tw;
	r->states[TCPS_ESTABLISHED] = est;
	r->total = tw + est;
	r->ports_used = used;
	c->states[TCPS_TIME_WAIT] += tw;
	c->states[TCPS_ESTABLISHED] += est;
	c->total += tw + est;
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
	struct census c = { 0 };
	struct tcpenv e;
	struct doctor d;

	(void)state;
	env_quiet(&e);
	doctor_run(&c, &e, NULL, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(doctor_worst(&d), -1);
	doctor_free(&d);
}

/* The founding story: 92 CLOSE_WAIT held by a crawler, 98 TIME_WAIT toward a proxy. */
static void test_story(void **state)
{
	struct census c = { 0 };
	struct tcpenv e;
	struct doctor d;
	const struct dfinding *f;

	(void)state;
	env_quiet(&e);
	add_owner(&c, 4242, "crawler", 92, 3, 7200000);
	add_remote(&c, "10.0.0.10", 3128, 98, 3, 101);
	doctor_run(&c, &e, NULL, &d);
	f = find(&d, "close-wait-leak");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_WARNING);
	assert_non_null(strstr(f->summary, "PID 4242 (crawler)"));
	assert_non_null(strstr(f->summary, "92 sockets in CLOSE_WAIT"));
	assert_non_null(strstr(f->evidence, "quiet for 2h00m"));
	assert_non_null(strstr(f->fix, "No sysctl fixes this"));
	assert_non_null(strstr(f->fix, "Connection: close"));
	f = find(&d, "tw-harmless");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_INFO);
	assert_non_null(strstr(f->summary, "98 sockets in TIME_WAIT"));
	assert_non_null(strstr(f->evidence, "10.0.0.10:3128 uses 101 of 28232"));
	assert_non_null(strstr(f->fix, "60 s"));
	assert_null(find(&d, "tw-port-exhaustion"));
	assert_int_equal(doctor_worst(&d), SEV_WARNING);
	/* the worst comes first */
	assert_string_equal(d.f[0].id, "close-wait-leak");
	doctor_free(&d);
	census_free(&c);
}

static void test_close_wait_levels(void **state)
{
	struct census c = { 0 };
	struct tcpenv e;
	struct doctor d;
	const struct dfinding *f;

	(void)state;
	env_quiet(&e);
	add_owner(&c, 10, "agent", 150, 0, -1);
	add_owner(&c, 11, "idle", 0, 40, -1);
	/* 7 more that no readable process holds */
	c.states[TCPS_CLOSE_WAIT] += 7;
	c.unowned = 7;
	c.procs_denied = 2;
	doctor_run(&c, &e, NULL, &d);
	assert_int_equal(d.n, 2);
	f = &d.f[0];
	assert_string_equal(f->id, "close-wait-leak");
	assert_int_equal(f->severity, SEV_CRITICAL);
	assert_non_null(strstr(f->summary, "PID 10 (agent)"));
	assert_null(strstr(f->evidence, "quiet for"));
	f = &d.f[1];
	assert_int_equal(f->severity, SEV_WARNING);
	assert_non_null(strstr(f->summary, "7 sockets in CLOSE_WAIT"));
	assert_non_null(strstr(f->summary, "cannot inspect"));
	assert_non_null(strstr(f->evidence, "processes_denied=2"));
	assert_non_null(strstr(f->fix, "Run as root"));
	doctor_free(&d);
	census_free(&c);
}

static void test_port_exhaustion(void **state)
{
	struct census c = { 0 };
	struct tcpenv e;
	struct doctor d;
	const struct dfinding *f;
	const char *p1, *p2, *p3, *p4;

	(void)state;
	env_quiet(&e);
	add_remote(&c, "10.0.0.10", 3128, 24000, 1000, 25000);   /* 88.6% */
	add_remote(&c, "10.0.0.11", 443, 15000, 0, 15000);       /* 53.1% */
	add_remote(&c, "10.0.0.12", 443, 100, 0, 100);
	add_remote(&c, "10.0.0.13", 443, 0, 20000, 20000);       /* no TIME_WAIT: not this rule */
	doctor_run(&c, &e, NULL, &d);
	assert_null(find(&d, "tw-harmless"));
	assert_int_equal(d.n, 2);
	f = &d.f[0];
	assert_string_equal(f->id, "tw-port-exhaustion");
	assert_int_equal(f->severity, SEV_CRITICAL);
	assert_non_null(strstr(f->summary, "10.0.0.10:3128"));
	assert_non_null(strstr(f->summary, "89%"));
	assert_non_null(strstr(f->evidence, "ports_used=25000 usable=28232"));
	assert_non_null(strstr(f->evidence, "time_wait=24000"));
	/* remedies in order, and the two folk remedies named as wrong */
	p1 = strstr(f->fix, "1) reuse connections");
	p2 = strstr(f->fix, "2) widen net.ipv4.ip_local_port_range");
	p3 = strstr(f->fix, "3) set net.ipv4.tcp_tw_reuse=1");
	p4 = strstr(f->fix, "4) spread");
	assert_true(p1 && p2 && p3 && p4 && p1 < p2 && p2 < p3 && p3 < p4);
	assert_non_null(strstr(f->fix, "Never tcp_tw_recycle"));
	assert_non_null(strstr(f->fix, "never lower net.ipv4.tcp_max_tw_buckets"));
	assert_int_equal(d.f[1].severity, SEV_WARNING);
	assert_non_null(strstr(d.f[1].summary, "10.0.0.11:443"));
	doctor_free(&d);

	/* tw_reuse already on: say so instead of advising it */
	e.tw_reuse = 1;
	doctor_run(&c, &e, NULL, &d);
	assert_non_null(strstr(d.f[0].fix, "tcp_tw_reuse is already 1"));
	doctor_free(&d);
	/* no usable range known: no ratio, only the harmless note */
	e.range.usable = 0;
	doctor_run(&c, &e, NULL, &d);
	assert_null(find(&d, "tw-port-exhaustion"));
	assert_non_null(find(&d, "tw-harmless"));
	doctor_free(&d);
	census_free(&c);
}

static void test_buckets_orphans_listen(void **state)
{
	struct census c = { 0 };
	struct tcpenv e;
	struct doctor d;
	const struct dfinding *f;

	(void)state;
	env_quiet(&e);
	e.ss.tw = 9000;
	e.max_tw_buckets = 10000;
	e.ss.orphan = 60000;
	netstat_set(&e, "TCPTimeWaitOverflow", 12);
	netstat_set(&e, "ListenOverflows", 5);
	netstat_set(&e, "ListenDrops", 5);
	c.full_listeners = xcalloc(1, sizeof(*c.full_listeners));
	c.n_full_listeners = 1;
	c.full_listeners[0].family = AF_INET;
	c.full_listeners[0].port = 8080;
	c.full_listeners[0].queued = 129;
	c.full_listeners[0].backlog = 128;
	doctor_run(&c, &e, NULL, &d);
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
	assert_int_equal(f->severity, SEV_WARNING);
	assert_non_null(strstr(f->evidence, "0.0.0.0:8080 queued=129 backlog=128"));
	assert_non_null(strstr(f->fix, "net.core.somaxconn"));
	assert_string_equal(d.f[0].id, "orphan-pressure");
	doctor_free(&d);

	/* cumulative counters alone say nothing about now: info */
	free(c.full_listeners);
	c.full_listeners = NULL;
	c.n_full_listeners = 0;
	e.ss.tw = 10;
	e.ss.orphan = 0;
	doctor_run(&c, &e, NULL, &d);
	assert_int_equal(doctor_worst(&d), SEV_INFO);
	assert_non_null(find(&d, "tw-bucket-overflow"));
	assert_non_null(find(&d, "listen-overflow"));
	assert_null(find(&d, "orphan-pressure"));
	doctor_free(&d);
	/* a child netns hides tcp_max_orphans: no ratio, no crash */
	e.max_orphans = -1;
	e.ss.orphan = 60000;
	doctor_run(&c, &e, NULL, &d);
	assert_null(find(&d, "orphan-pressure"));
	doctor_free(&d);
	doctor_env_free(&e);
	census_free(&c);
}

static void test_keepalive(void **state)
{
	struct census c = { 0 };
	struct tcpenv e;
	struct doctor d;
	const struct dfinding *f;

	(void)state;
	env_quiet(&e);
	e.keepalive_time = 7200;
	e.keepalive_intvl = 75;
	e.keepalive_probes = 9;
	doctor_run(&c, &e, NULL, &d);
	f = find(&d, "keepalive-slow");
	assert_non_null(f);
	assert_int_equal(f->severity, SEV_INFO);
	assert_non_null(strstr(f->summary, "2h11m"));
	assert_non_null(strstr(f->fix, "SO_KEEPALIVE"));
	doctor_free(&d);
	e.keepalive_time = -1;        /* unreadable: no claim */
	doctor_run(&c, &e, NULL, &d);
	assert_null(find(&d, "keepalive-slow"));
	doctor_free(&d);
}

static void test_audit_joins(void **state)
{
	struct census c = { 0 };
	struct rule r[3];
	struct finding f[3];
	struct audit a = { f, 3, false, false };
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
	doctor_run(&c, &e, &a, &d);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_story),
		cmocka_unit_test(test_close_wait_levels),
		cmocka_unit_test(test_port_exhaustion),
		cmocka_unit_test(test_buckets_orphans_listen),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_audit_joins),
		cmocka_unit_test(test_env_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
