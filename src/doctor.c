/* SPDX-License-Identifier: ISC */
/* doctor.c: rules that turn socket counts and settings into findings with evidence and a fix. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "doctor.h"
#include "doctor_rules.h"
#include "util.h"

/* Keepalive that takes longer than this to notice a dead peer. */
#define KEEPALIVE_SLOW_S 3600

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
	e.tw_reuse_delay_ms = read_ll(ps, "net.ipv4.tcp_tw_reuse_delay");
	e.child_netns = procsys_in_child_netns(ps);
	*ret = e;
}

void doctor_env_free(struct tcpenv *e)
{
	sockets_netstat_free(&e->ns);
}

struct dfinding *doctor_add(struct doctor *d, const char *id, enum severity sev, char *summary,
			    char *evidence, char *fix)
{
	struct dfinding *f;

	d->f = xreallocarray(d->f, d->n + 1, sizeof(*d->f));
	f = &d->f[d->n++];
	memset(f, 0, sizeof(*f));
	f->id = xstrdup(id);
	f->severity = sev;
	f->summary = summary;
	f->evidence = evidence;
	f->fix = fix;
	f->uid = f->count = f->fds = f->fd_limit = -1;
	f->oldest_s = f->rate_per_min = f->eta_s = f->capacity_per_s = f->headroom_pct = NAN;
	return f;
}

char *doctor_duration(long long s, char *buf, size_t len)
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

void doctor_cat(char **s, const char *fmt, ...)
{
	va_list ap;
	char *t, *n;

	va_start(ap, fmt);
	if (vasprintf(&t, fmt, ap) < 0)
		abort();
	va_end(ap);
	n = xasprintf("%s%s", *s ? *s : "", t);
	free(*s);
	free(t);
	*s = n;
}

double doctor_interval(const struct sample *first, const struct sample *last)
{
	double dt = first ? last->t - first->t : 0;

	return dt > 0.001 ? dt : 0;
}

/* --- kernel counters ------------------------------------------------------------ */

static long long counter(const struct sample *s, const char *name)
{
	return s ? sockets_netstat_get(&s->ns, name) : -1;
}

/* The increase between the looks; -1 unknown. */
static long long delta(const struct sample *first, const struct sample *last, const char *name)
{
	long long a = counter(first, name), b = counter(last, name);

	return a >= 0 && b >= a ? b - a : -1;
}

static void rule_tw_buckets(const struct sample *last, const struct tcpenv *e, struct doctor *d)
{
	long long ovf = counter(last, "TCPTimeWaitOverflow");
	long long tw = e->ss.tw >= 0 ? e->ss.tw : (long long)last->states[TCPS_TIME_WAIT];
	static const char fix[] =
		"Raise net.ipv4.tcp_max_tw_buckets (each bucket costs a few hundred bytes) and find "
		"who closes so many connections first (`tcptune sockets --by remote`); never lower it: "
		"sockets past the limit skip TIME_WAIT and lose its protection against old "
		"duplicates.";
	bool near = e->max_tw_buckets > 0 && tw >= e->max_tw_buckets * 8 / 10;

	if (near)
		doctor_add(d, "tw-buckets", tw >= e->max_tw_buckets ? SEV_CRITICAL : SEV_WARNING,
		    xasprintf("TIME_WAIT sockets at %lld%% of net.ipv4.tcp_max_tw_buckets",
			      tw * 100 / e->max_tw_buckets),
		    xasprintf("tw=%lld tcp_max_tw_buckets=%lld TCPTimeWaitOverflow=%lld", tw,
			      e->max_tw_buckets, ovf),
		    xstrdup(fix));
	else if (ovf > 0)
		/* a counter since boot (or namespace creation) says nothing about now */
		doctor_add(d, "tw-bucket-overflow", SEV_INFO,
		    xasprintf("%lld sockets skipped TIME_WAIT since boot because "
			      "net.ipv4.tcp_max_tw_buckets was full", ovf),
		    xasprintf("TCPTimeWaitOverflow=%lld tw=%lld tcp_max_tw_buckets=%lld; a cumulative "
			      "counter: run again to see whether it grows", ovf, tw, e->max_tw_buckets),
		    xstrdup(fix));
}

static void rule_orphans(const struct sample *last, const struct tcpenv *e, struct doctor *d)
{
	long long onmem = counter(last, "TCPAbortOnMemory");
	static const char fix[] =
		"Orphans are sockets the application closed with data still unsent or unacknowledged "
		"(FIN_WAIT1, LAST_ACK, CLOSING). Find the peers that stop reading "
		"(sockets --state fin-wait-1 --by remote); lower net.ipv4.tcp_orphan_retries so dead "
		"peers are given up sooner; raise net.ipv4.tcp_max_orphans (host-wide, about 64 KiB "
		"of memory each at worst) only when memory allows.";

	if (e->ss.orphan >= 0 && e->max_orphans > 0 && e->ss.orphan >= e->max_orphans / 2)
		doctor_add(d, "orphan-pressure",
		    e->ss.orphan * 10 >= e->max_orphans * 9 ? SEV_CRITICAL : SEV_WARNING,
		    xasprintf("orphaned sockets at %lld%% of net.ipv4.tcp_max_orphans; past it the "
			      "kernel resets them (\"too many orphaned sockets\")",
			      e->ss.orphan * 100 / e->max_orphans),
		    xasprintf("orphan=%lld tcp_max_orphans=%lld TCPAbortOnMemory=%lld", e->ss.orphan,
			      e->max_orphans, onmem),
		    xstrdup(fix));
	else if (onmem > 0)
		doctor_add(d, "orphan-pressure", SEV_INFO,
		    xasprintf("%lld connections were reset since boot for lack of orphan memory", onmem),
		    xasprintf("TCPAbortOnMemory=%lld orphan=%lld tcp_max_orphans=%lld%s; a cumulative "
			      "counter: run again to see whether it grows", onmem, e->ss.orphan,
			      e->max_orphans, e->max_orphans < 0 ? " (host-wide, hidden here)" : ""),
		    xstrdup(fix));
}

/* --- listeners ------------------------------------------------------------------ */

static const struct ssock *find_inode(const struct sample *s, uint32_t inode, int state)
{
	size_t i;

	for (i = 0; s && inode && i < s->n; i++)
		if (s->s[i].inode == inode && s->s[i].state == state)
			return &s->s[i];
	return NULL;
}

static bool queue_full(const struct ssock *x)
{
	return x && x->wqueue > 0 && x->rqueue >= x->wqueue;
}

static char *listen_fix(const struct tcpenv *e, unsigned backlog)
{
	if (e->somaxconn > 0 && backlog < e->somaxconn)
		return xasprintf("The limit is the application's own listen() backlog (%u), not "
				 "net.core.somaxconn (%lld): raising somaxconn changes nothing. Find "
				 "why the process stopped accepting (stopped, blocked, or an accept "
				 "loop too slow for the load), then raise the backlog it passes to "
				 "listen() (nginx: listen ... backlog=N; many servers: a backlog "
				 "setting) up to somaxconn.", backlog, e->somaxconn);
	return xasprintf("net.core.somaxconn (%lld) caps the backlog the application asked for: "
			 "find why the process accepts too slowly, then raise net.core.somaxconn "
			 "and net.ipv4.tcp_max_syn_backlog together with the application's own "
			 "listen() backlog.", e->somaxconn);
}

static void listen_counters(const struct sample *first, const struct sample *last, double dt,
			    char **ev)
{
	static const char *const names[] = { "ListenOverflows", "ListenDrops" };
	size_t i;

	for (i = 0; i < 2; i++) {
		long long x = delta(first, last, names[i]);

		if (dt > 0 && x >= 0)
			doctor_cat(ev, " %s +%lld (%.1f/s)", names[i], x, x / dt);
		else
			doctor_cat(ev, " %s=%lld since boot", names[i], counter(last, names[i]));
	}
}

static void rule_listen(const struct sample *first, const struct sample *last, const struct tcpenv *e,
			struct doctor *d)
{
	double dt = doctor_interval(first, last);
	long long ovf = delta(first, last, "ListenOverflows");
	long long total = counter(last, "ListenOverflows"), drops = counter(last, "ListenDrops");
	bool named = false;
	size_t i;

	for (i = 0; i < last->n; i++) {
		const struct ssock *x = &last->s[i];
		const struct ssock *y = dt > 0 ? find_inode(first, x->inode, TCPS_LISTEN) : NULL;
		const struct sproc *p = sample_proc(last, x->pid);
		char a[80], *name, *ev = NULL;
		struct dfinding *f;
		bool both;

		if (x->state != TCPS_LISTEN || !(queue_full(x) || queue_full(y)))
			continue;
		named = true;
		both = queue_full(x) && queue_full(y);
		(void)sockets_addr_str(x->family, x->src, x->sport, a, sizeof(a));
		name = x->pid ? xasprintf("PID %d (%s)", x->pid, p ? p->comm : "?") :
				xasprintf("uid %u (process not visible)", x->uid);
		doctor_cat(&ev, "listen=%s queued=%u backlog=%u%s; the backlog is min(listen() backlog, "
			 "net.core.somaxconn=%lld) at listen() time: %s;", a, x->rqueue, x->wqueue,
		    dt > 0 ? (both ? " (full in both looks)" : " (full in one look)") : "", e->somaxconn,
		    e->somaxconn > 0 && x->wqueue < e->somaxconn ? "the application's backlog binds" :
								   "somaxconn binds");
		listen_counters(first, last, dt, &ev);
		f = doctor_add(d, "listen-overflow", both && ovf > 0 ? SEV_CRITICAL : SEV_WARNING,
			xasprintf("%s does not keep up accepting on %s: accept queue full (%u queued, "
				  "backlog %u%s), new connections are dropped", name, a, x->rqueue,
				  x->wqueue, e->somaxconn > 0 && x->wqueue < e->somaxconn ?
				  ", the application's own listen() backlog" : ", capped by somaxconn"),
			ev, listen_fix(e, x->wqueue));
		f->pid = x->pid;
		f->comm = x->pid ? xstrdup(p ? p->comm : "?") : NULL;
		f->uid = x->uid;
		f->remote = xstrdup(a);
		f->count = x->rqueue;
		if (dt > 0 && ovf >= 0)
			f->rate_per_min = ovf * 60.0 / dt;
		free(name);
	}
	if (named)
		return;
	if (dt > 0 && ovf > 0) {
		char *ev = NULL;

		doctor_cat(&ev, "no accept queue full in either look;");
		listen_counters(first, last, dt, &ev);
		doctor_add(d, "listen-overflow", SEV_WARNING,
		    xasprintf("accept queues overflowed %lld times in the last %.1f s", ovf, dt), ev,
		    xstrdup("Run again to catch the listener while its queue is full (sockets "
			    "--state listen shows queued and backlog); then raise the backlog that "
			    "binds: the application's listen() backlog or net.core.somaxconn."));
	} else if (total > 0 || drops > 0) {
		doctor_add(d, "listen-overflow", SEV_INFO,
		    dt > 0 ? xasprintf("accept queues overflowed %lld times since boot, not once in "
				       "the %.1f s between the looks", total > 0 ? total : drops, dt) :
			     xasprintf("accept queues overflowed %lld times since boot",
				       total > 0 ? total : drops),
		    xasprintf("ListenOverflows=%lld ListenDrops=%lld net.core.somaxconn=%lld; "
			      "cumulative counters: without --once doctor measures their rate", total,
			      drops, e->somaxconn),
		    xstrdup("Nothing to do unless they grow: doctor without --once tells."));
	}
}

/* Counters that mean trouble, as rates between the looks. */
static void rule_counters(const struct sample *first, const struct sample *last, struct doctor *d)
{
	static const char *const names[] = {
		"ListenOverflows", "ListenDrops", "TCPTimeouts", "TCPAbortOnData", "TCPAbortOnTimeout",
		"TCPAbortOnMemory", "TCPAbortOnClose", "TCPTimeWaitOverflow", "AttemptFails",
		"EstabResets", "RetransSegs",
	};
	double dt = doctor_interval(first, last);
	char *ev = NULL;
	size_t i;

	if (dt == 0)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		long long x = delta(first, last, names[i]);

		if (x > 0)
			doctor_cat(&ev, "%s%s +%lld (%.1f/s)", ev ? " " : "", names[i], x, x / dt);
	}
	if (!ev)
		return;
	doctor_cat(&ev, "; for scale: ActiveOpens +%lld PassiveOpens +%lld (/proc/net/netstat and "
		 "/proc/net/snmp, over %.1f s)", delta(first, last, "ActiveOpens"),
	    delta(first, last, "PassiveOpens"), dt);
	doctor_add(d, "tcp-counters", SEV_INFO,
	    xasprintf("kernel TCP error counters grew during the %.1f s between the looks", dt), ev,
	    xstrdup("Read with the findings above: ListenOverflows/ListenDrops are full accept "
		    "queues, TCPTimeouts and RetransSegs loss or a dead peer, TCPAbortOn* "
		    "connections reset by the kernel, AttemptFails refused or failed connects."));
}

static void rule_keepalive(const struct tcpenv *e, struct doctor *d)
{
	long long t = e->keepalive_time, in = e->keepalive_intvl, pr = e->keepalive_probes;
	char dur[32];

	if (t < 0 || in < 0 || pr < 0 || t + in * pr <= KEEPALIVE_SLOW_S)
		return;
	doctor_add(d, "keepalive-slow", SEV_INFO,
	    xasprintf("keepalive notices a dead peer only after %s",
		      doctor_duration(t + in * pr, dur, sizeof(dur))),
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
		doctor_add(d, f->status == AUDIT_BOOT_DRIFT ? "audit-boot-drift" :
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

void doctor_run(const struct sample *first, const struct sample *last, const struct tcpenv *e,
		const struct audit *a, struct doctor *ret)
{
	struct doctor d = { NULL, 0 };
	size_t i;

	if (first && doctor_interval(first, last) == 0)
		first = NULL;
	doctor_cw_run(first, last, &d);
	doctor_ports_run(first, last, e, &d);
	rule_tw_buckets(last, e, &d);
	rule_orphans(last, e, &d);
	rule_listen(first, last, e, &d);
	rule_counters(first, last, &d);
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
		free(d->f[i].comm);
		free(d->f[i].remote);
	}
	free(d->f);
	d->f = NULL;
	d->n = 0;
}
