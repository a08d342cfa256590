/* doctor.c: rules that turn socket counts and settings into findings with evidence and a fix. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "doctor.h"
#include "util.h"

/* Share of the ephemeral range toward one destination that starts to hurt. */
#define PORTS_WARN 0.5
#define PORTS_CRIT 0.8
/* Keepalive that takes longer than this to notice a dead peer. */
#define KEEPALIVE_SLOW_S 3600
#define CLOSE_WAIT_CRIT 100

const char *doctor_severity_name(enum severity s)
{
	switch (s) {
	case SEV_CRITICAL: return "critical";
	case SEV_WARNING: return "warning";
	default: return "info";
	}
}

static long long read_ll(const struct procsys *ps, const char *key)
{
	char *v = NULL;
	long long x;

	if (procsys_read(ps, key, &v) < 0)
		return -1;
	if (parse_ll(v, &x) < 0)
		x = -1;
	free(v);
	return x;
}

void doctor_env_read(int rootfd, const struct procsys *ps, struct tcpenv *ret)
{
	struct tcpenv e;

	memset(&e, 0, sizeof(e));
	if (sockets_read_sockstat(rootfd, &e.ss) < 0)
		e.ss = (struct sockstat){ -1, -1, -1, -1, -1, -1 };
	(void)sockets_read_netstat(rootfd, &e.ns);
	if (sockets_port_range(ps, &e.range) < 0)
		memset(&e.range, 0, sizeof(e.range));
	e.max_tw_buckets = read_ll(ps, "net.ipv4.tcp_max_tw_buckets");
	e.max_orphans = read_ll(ps, "net.ipv4.tcp_max_orphans");
	e.somaxconn = read_ll(ps, "net.core.somaxconn");
	e.max_syn_backlog = read_ll(ps, "net.ipv4.tcp_max_syn_backlog");
	e.keepalive_time = read_ll(ps, "net.ipv4.tcp_keepalive_time");
	e.keepalive_intvl = read_ll(ps, "net.ipv4.tcp_keepalive_intvl");
	e.keepalive_probes = read_ll(ps, "net.ipv4.tcp_keepalive_probes");
	e.tw_reuse = read_ll(ps, "net.ipv4.tcp_tw_reuse");
	e.timestamps = read_ll(ps, "net.ipv4.tcp_timestamps");
	e.fin_timeout = read_ll(ps, "net.ipv4.tcp_fin_timeout");
	e.child_netns = procsys_in_child_netns(ps);
	*ret = e;
}

void doctor_env_free(struct tcpenv *e)
{
	sockets_netstat_free(&e->ns);
}

static void add(struct doctor *d, const char *id, enum severity sev, char *summary, char *evidence,
		char *fix)
{
	struct dfinding *f;

	d->f = xreallocarray(d->f, d->n + 1, sizeof(*d->f));
	f = &d->f[d->n++];
	f->id = xstrdup(id);
	f->severity = sev;
	f->summary = summary;
	f->evidence = evidence;
	f->fix = fix;
}

static char *duration(long long s, char *buf, size_t len)
{
	if (s >= 86400)
		(void)snprintf(buf, len, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		(void)snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		(void)snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else
		(void)snprintf(buf, len, "%llds", s);
	return buf;
}

static const char close_wait_fix[] =
	"No sysctl fixes this: CLOSE_WAIT means the peer closed the connection and the "
	"process never called close(); the kernel has no timer for it and keepalive at "
	"most aborts the connection while the file descriptor stays leaked. Fix the "
	"application: close (or destroy) the socket when a read returns end-of-file or a "
	"request fails; for HTTP clients send 'Connection: close' or fix the pooling or "
	"proxy-tunnel agent that drops sockets without destroying them (a failed CONNECT "
	"must destroy its socket). Restarting the process releases the sockets now.";

static void rule_close_wait(const struct census *c, struct doctor *d)
{
	unsigned long long owned = 0;
	size_t i;

	for (i = 0; i < c->n_owners; i++) {
		const struct owner *o = &c->owners[i];
		unsigned long long n = o->states[TCPS_CLOSE_WAIT];
		char age[64] = "", dur[32];

		if (n == 0)
			continue;
		owned += n;
		if (o->close_wait_idle_ms >= 0)
			(void)snprintf(age, sizeof(age), "; the oldest has been quiet for %s",
				       duration(o->close_wait_idle_ms / 1000, dur, sizeof(dur)));
		add(d, "close-wait-leak", n >= CLOSE_WAIT_CRIT ? SEV_CRITICAL : SEV_WARNING,
		    xasprintf("PID %d (%s) holds %llu socket%s in CLOSE_WAIT: the peer closed, the "
			      "process did not", o->pid, o->comm, n, n == 1 ? "" : "s"),
		    xasprintf("pid=%d comm=%s close_wait=%llu of %llu sockets it holds%s", o->pid,
			      o->comm, n, census_owner_total(o), age),
		    xstrdup(close_wait_fix));
	}
	if (c->states[TCPS_CLOSE_WAIT] > owned) {
		unsigned long long n = c->states[TCPS_CLOSE_WAIT] - owned;

		add(d, "close-wait-leak", n >= CLOSE_WAIT_CRIT ? SEV_CRITICAL : SEV_WARNING,
		    xasprintf("%llu socket%s in CLOSE_WAIT held by %s", n, n == 1 ? "" : "s",
			      c->procs_denied ? "processes this user cannot inspect" : "no process found"),
		    xasprintf("close_wait=%llu unowned=%llu processes_denied=%u processes_vanished=%u",
			      n, c->unowned, c->procs_denied, c->procs_vanished),
		    xasprintf("Run as root (or as the owning user) to name the process, then: %s",
			      close_wait_fix));
	}
}

static char *tw_fix(const struct tcpenv *e, const char *dest)
{
	const char *reuse;

	if (e->tw_reuse == 1)
		reuse = "net.ipv4.tcp_tw_reuse is already 1";
	else
		reuse = "set net.ipv4.tcp_tw_reuse=1 (outgoing connections only; needs "
			"net.ipv4.tcp_timestamps=1; 2, the default, covers loopback only)";
	return xasprintf("In this order: 1) reuse connections to %s (HTTP keep-alive, a "
			 "connection pool) so fewer are opened and closed; 2) widen "
			 "net.ipv4.ip_local_port_range (e.g. 10240 65535); 3) %s; 4) spread the "
			 "traffic over more destination (or source) addresses. Never "
			 "tcp_tw_recycle (it broke clients behind NAT and is gone since Linux "
			 "4.12) and never lower net.ipv4.tcp_max_tw_buckets (sockets then skip "
			 "TIME_WAIT and lose its protection).", dest, reuse);
}

/* Returns whether any destination is under pressure. */
static bool rule_ports(const struct census *c, const struct tcpenv *e, struct doctor *d,
		       const struct remote **ret_top)
{
	bool hit = false;
	size_t i;

	*ret_top = NULL;
	if (!e->range.usable)
		return false;
	for (i = 0; i < c->n_remotes; i++) {
		const struct remote *r = &c->remotes[i];
		double share = (double)r->ports_used / e->range.usable;
		char dest[80];

		if (r->states[TCPS_TIME_WAIT] == 0)
			continue;
		if (!*ret_top || r->ports_used > (*ret_top)->ports_used)
			*ret_top = r;
		if (share < PORTS_WARN)
			continue;
		hit = true;
		(void)sockets_addr_str(r->family, r->addr, r->port, dest, sizeof(dest));
		add(d, "tw-port-exhaustion", share >= PORTS_CRIT ? SEV_CRITICAL : SEV_WARNING,
		    xasprintf("connections to %s hold %.0f%% of the usable ephemeral ports; "
			      "connect() fails with EADDRNOTAVAIL when they run out", dest, share * 100),
		    xasprintf("remote=%s ports_used=%llu usable=%u (ip_local_port_range %u-%u minus "
			      "%u reserved) time_wait=%llu established=%llu", dest, r->ports_used,
			      e->range.usable, e->range.low, e->range.high, e->range.reserved,
			      r->states[TCPS_TIME_WAIT], r->states[TCPS_ESTABLISHED]),
		    tw_fix(e, dest));
	}
	return hit;
}

static void rule_tw_harmless(const struct census *c, const struct tcpenv *e,
			     const struct remote *top, struct doctor *d)
{
	unsigned long long tw = c->states[TCPS_TIME_WAIT];
	char where[200] = "", dest[80];

	if (tw == 0)
		return;
	if (top && e->range.usable) {
		(void)sockets_addr_str(top->family, top->addr, top->port, dest, sizeof(dest));
		(void)snprintf(where, sizeof(where), "; busiest destination %s uses %llu of %u ephemeral "
			       "ports (%.1f%%)", dest, top->ports_used, e->range.usable,
			       100.0 * top->ports_used / e->range.usable);
	}
	add(d, "tw-harmless", SEV_INFO,
	    xasprintf("%llu socket%s in TIME_WAIT: normal for the side that closes first", tw,
		      tw == 1 ? "" : "s"),
	    xasprintf("time_wait=%llu tcp_max_tw_buckets=%lld%s", tw, e->max_tw_buckets, where),
	    xstrdup("Nothing to do. TIME_WAIT lasts 60 s (TCP_TIMEWAIT_LEN, a compile-time "
		    "constant: no sysctl changes it, tcp_fin_timeout governs orphaned FIN_WAIT2 "
		    "only) and costs little memory. It matters only near port exhaustion toward "
		    "one destination or near net.ipv4.tcp_max_tw_buckets."));
}

static void rule_tw_buckets(const struct census *c, const struct tcpenv *e, struct doctor *d)
{
	long long ovf = sockets_netstat_get(&e->ns, "TCPTimeWaitOverflow");
	long long tw = e->ss.tw >= 0 ? e->ss.tw : (long long)c->states[TCPS_TIME_WAIT];
	static const char fix[] =
		"Raise net.ipv4.tcp_max_tw_buckets (each bucket costs a few hundred bytes) and find "
		"who closes so many connections first (`tcptune sockets --by remote`); never lower it: "
		"sockets past the limit skip TIME_WAIT and lose its protection against old "
		"duplicates.";
	bool near = e->max_tw_buckets > 0 && tw >= e->max_tw_buckets * 8 / 10;

	if (near)
		add(d, "tw-buckets", tw >= e->max_tw_buckets ? SEV_CRITICAL : SEV_WARNING,
		    xasprintf("TIME_WAIT sockets at %lld%% of net.ipv4.tcp_max_tw_buckets",
			      tw * 100 / e->max_tw_buckets),
		    xasprintf("tw=%lld tcp_max_tw_buckets=%lld TCPTimeWaitOverflow=%lld", tw,
			      e->max_tw_buckets, ovf),
		    xstrdup(fix));
	else if (ovf > 0)
		/* a counter since boot (or namespace creation) says nothing about now */
		add(d, "tw-bucket-overflow", SEV_INFO,
		    xasprintf("%lld sockets skipped TIME_WAIT since boot because "
			      "net.ipv4.tcp_max_tw_buckets was full", ovf),
		    xasprintf("TCPTimeWaitOverflow=%lld tw=%lld tcp_max_tw_buckets=%lld; a cumulative "
			      "counter: run again to see whether it grows", ovf, tw, e->max_tw_buckets),
		    xstrdup(fix));
}

static void rule_orphans(const struct tcpenv *e, struct doctor *d)
{
	long long onmem = sockets_netstat_get(&e->ns, "TCPAbortOnMemory");
	static const char fix[] =
		"Orphans are sockets the application closed with data still unsent or unacknowledged "
		"(FIN_WAIT1, LAST_ACK, CLOSING). Find the peers that stop reading "
		"(sockets --state fin-wait-1 --by remote); lower net.ipv4.tcp_orphan_retries so dead "
		"peers are given up sooner; raise net.ipv4.tcp_max_orphans (host-wide, about 64 KiB "
		"of memory each at worst) only when memory allows.";

	if (e->ss.orphan >= 0 && e->max_orphans > 0 && e->ss.orphan >= e->max_orphans / 2)
		add(d, "orphan-pressure",
		    e->ss.orphan * 10 >= e->max_orphans * 9 ? SEV_CRITICAL : SEV_WARNING,
		    xasprintf("orphaned sockets at %lld%% of net.ipv4.tcp_max_orphans; past it the "
			      "kernel resets them (\"too many orphaned sockets\")",
			      e->ss.orphan * 100 / e->max_orphans),
		    xasprintf("orphan=%lld tcp_max_orphans=%lld TCPAbortOnMemory=%lld", e->ss.orphan,
			      e->max_orphans, onmem),
		    xstrdup(fix));
	else if (onmem > 0)
		add(d, "orphan-pressure", SEV_INFO,
		    xasprintf("%lld connections were reset since boot for lack of orphan memory", onmem),
		    xasprintf("TCPAbortOnMemory=%lld orphan=%lld tcp_max_orphans=%lld%s; a cumulative "
			      "counter: run again to see whether it grows", onmem, e->ss.orphan,
			      e->max_orphans, e->max_orphans < 0 ? " (host-wide, hidden here)" : ""),
		    xstrdup(fix));
}

static void rule_listen(const struct census *c, const struct tcpenv *e, struct doctor *d)
{
	long long ovf = sockets_netstat_get(&e->ns, "ListenOverflows");
	long long drops = sockets_netstat_get(&e->ns, "ListenDrops");
	char *ev, *list;
	size_t i;

	if (ovf <= 0 && drops <= 0 && c->n_full_listeners == 0)
		return;
	list = xstrdup("");
	for (i = 0; i < c->n_full_listeners && i < 8; i++) {
		const struct listener *l = &c->full_listeners[i];
		char a[80], *n;

		(void)sockets_addr_str(l->family, l->addr, l->port, a, sizeof(a));
		n = xasprintf("%s%s %s queued=%u backlog=%u", list, i ? ";" : " full now:", a,
			      l->queued, l->backlog);
		free(list);
		list = n;
	}
	ev = xasprintf("ListenOverflows=%lld ListenDrops=%lld net.core.somaxconn=%lld "
		       "net.ipv4.tcp_max_syn_backlog=%lld%s%s", ovf, drops, e->somaxconn,
		       e->max_syn_backlog, list,
		       c->n_full_listeners ? "" : "; cumulative counters: run again to see whether they grow");
	free(list);
	add(d, "listen-overflow", c->n_full_listeners ? SEV_WARNING : SEV_INFO,
	    c->n_full_listeners ?
		    xasprintf("%zu listening socket%s with a full accept queue: new connections are "
			      "dropped", c->n_full_listeners, c->n_full_listeners == 1 ? "" : "s") :
		    xasprintf("accept queues overflowed %lld times since boot", ovf > 0 ? ovf : drops),
	    ev,
	    xstrdup("The application accepts too slowly or listens with a small backlog: make the "
		    "accept loop faster, raise the backlog passed to listen(), and raise "
		    "net.core.somaxconn (which caps it) and net.ipv4.tcp_max_syn_backlog to match."));
}

static void rule_keepalive(const struct tcpenv *e, struct doctor *d)
{
	long long t = e->keepalive_time, in = e->keepalive_intvl, pr = e->keepalive_probes;
	char dur[32];

	if (t < 0 || in < 0 || pr < 0 || t + in * pr <= KEEPALIVE_SLOW_S)
		return;
	add(d, "keepalive-slow", SEV_INFO,
	    xasprintf("keepalive notices a dead peer only after %s",
		      duration(t + in * pr, dur, sizeof(dur))),
	    xasprintf("net.ipv4.tcp_keepalive_time=%lld tcp_keepalive_intvl=%lld "
		      "tcp_keepalive_probes=%lld: %lld + %lld x %lld s", t, in, pr, t, pr, in),
	    xstrdup("For services behind NAT, proxies or load balancers that forget idle "
		    "connections, lower them (e.g. tcp_keepalive_time=200 tcp_keepalive_intvl=15 "
		    "tcp_keepalive_probes=3, as the crawler profile does); they apply only to "
		    "sockets with SO_KEEPALIVE, which the application must set."));
}

static void rule_audit(const struct audit *a, struct doctor *d)
{
	size_t i;

	for (i = 0; a && i < a->n; i++) {
		const struct finding *f = &a->f[i];
		const char *key = f->rule->key;
		enum severity sev = SEV_WARNING;
		char *summary;

		switch (f->status) {
		case AUDIT_OK:
			continue;
		case AUDIT_DRIFT:
			summary = xasprintf("%s is %s, the profile wants %s", key, f->live ? f->live : "?",
					    f->expected);
			break;
		case AUDIT_BOOT_DRIFT:
			summary = xasprintf("%s is right now but boot sets %s (profile wants %s)", key,
					    f->boot ? f->boot : "?", f->expected);
			break;
		case AUDIT_MISSING:
			if (f->rule->optional)
				sev = SEV_INFO;
			summary = xasprintf("%s does not exist on this kernel", key);
			break;
		case AUDIT_BOOT_UNKNOWN:
			if (f->rule->optional)
				sev = SEV_INFO;
			summary = xasprintf("%s is right now, but nothing sets it at boot and the kernel "
					    "computes it (profile wants %s)", key, f->expected);
			break;
		default:
			sev = SEV_INFO;
			summary = xasprintf("%s: %s", key, audit_status_name(f->status));
			break;
		}
		add(d, f->status == AUDIT_BOOT_DRIFT ? "audit-boot-drift" :
		       f->status == AUDIT_DRIFT ? "audit-drift" : "audit-other", sev, summary,
		    xasprintf("key=%s status=%s expected=%s live=%s boot=%s boot_source=%s profile=%s "
			      "(%s:%u)", key, audit_status_name(f->status), f->expected,
			      f->live ? f->live : "-", f->boot ? f->boot : "-",
			      f->boot_source ? f->boot_source : "-", f->rule->profile ? f->rule->profile : "-",
			      f->rule->file ? f->rule->file : "-", f->rule->line),
		    f->fix ? xstrdup(f->fix) :
		    f->status == AUDIT_DRIFT || f->status == AUDIT_BOOT_DRIFT ?
			    xasprintf("tcptune apply %s (tcptune plan shows the change first)",
				      f->rule->profile ? f->rule->profile : "PROFILE") :
			    xstrdup("Mark the key optional in the profile or run on a kernel that has it."));
	}
}

void doctor_run(const struct census *c, const struct tcpenv *e, const struct audit *a,
		struct doctor *ret)
{
	struct doctor d = { NULL, 0 };
	const struct remote *top;
	size_t i;

	rule_close_wait(c, &d);
	if (!rule_ports(c, e, &d, &top))
		rule_tw_harmless(c, e, top, &d);
	rule_tw_buckets(c, e, &d);
	rule_orphans(e, &d);
	rule_listen(c, e, &d);
	rule_keepalive(e, &d);
	rule_audit(a, &d);
	/* worst first, rule order kept within a severity: a stable insertion sort */
	for (i = 1; i < d.n; i++) {
		struct dfinding x = d.f[i];
		size_t j = i;

		for (; j > 0 && d.f[j - 1].severity < x.severity; j--)
			d.f[j] = d.f[j - 1];
		d.f[j] = x;
	}
	*ret = d;
}

int doctor_worst(const struct doctor *d)
{
	int w = -1;
	size_t i;

	for (i = 0; i < d->n; i++)
		if ((int)d->f[i].severity > w)
			w = (int)d->f[i].severity;
	return w;
}

void doctor_free(struct doctor *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->f[i].id);
		free(d->f[i].summary);
		free(d->f[i].evidence);
		free(d->f[i].fix);
	}
	free(d->f);
	d->f = NULL;
	d->n = 0;
}
