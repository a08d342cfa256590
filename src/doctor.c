/* doctor.c: rules that turn socket counts and settings into findings with evidence and a fix. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "doctor.h"
#include "util.h"

/*
 * Thresholds; tcptune(8) documents each. Ports: the share of connect
 * capacity toward one destination still free (headroom), and the share of
 * its ports held that means exhausted now.
 */
#define PORTS_HEADROOM_WARN 30.0
#define PORTS_HEADROOM_CRIT 10.0
#define PORTS_FULL 0.98
#define TW_LEN_S 60
/* CLOSE_WAIT: growth between looks, a pile that lasts, and its age. */
#define CW_GROW_MIN 2
#define CW_STUCK_MIN 5
#define CW_STUCK_AGE_S 60
#define CW_ETA_CRIT_S 3600
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

static struct dfinding *add(struct doctor *d, const char *id, enum severity sev, char *summary,
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

/* Appends to a growing string. */
static void cat(char **s, const char *fmt, ...) TT_PRINTF(2, 3);
static void cat(char **s, const char *fmt, ...)
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

static double interval(const struct sample *first, const struct sample *last)
{
	double dt = first ? last->t - first->t : 0;

	return dt > 0.001 ? dt : 0;
}

/* --- CLOSE_WAIT ---------------------------------------------------------------- */

static const char close_wait_fix[] =
	"No sysctl fixes this: CLOSE_WAIT means the peer closed the connection and the "
	"process never called close(); the kernel has no timer for it and keepalive at "
	"most aborts the connection while the file descriptor stays leaked. Fix the "
	"application: close (or destroy) the socket when a read returns end-of-file or a "
	"request fails; for HTTP clients send 'Connection: close' or fix the pooling or "
	"proxy-tunnel agent that drops sockets without destroying them (a failed CONNECT "
	"must destroy its socket). Restarting the process releases the sockets now.";

struct cwdest {
	uint8_t family, addr[16];
	uint16_t port;
	unsigned long long n, unread;
};

/* The CLOSE_WAIT sockets of one process (or, unseen, of one uid). */
struct cwholder {
	int pid;
	uint32_t uid;
	unsigned long long n, n_first, persisted, closed;
	long long oldest_ms;                /* lower bound; -1 unknown */
	bool idle_known;
	struct cwdest *dest;
	size_t n_dest;
};

struct cwkey {
	uint32_t inode;
	int pid;
	uint32_t uid;
	int64_t idle_ms;
};

static int cmp_cwkey(const void *a, const void *b)
{
	const struct cwkey *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

static bool same_holder(const struct cwholder *h, int pid, uint32_t uid)
{
	return pid ? h->pid == pid : h->pid == 0 && h->uid == uid;
}

static struct cwholder *holder(struct cwholder **v, size_t *n, int pid, uint32_t uid)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (same_holder(&(*v)[i], pid, uid))
			return &(*v)[i];
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].pid = pid;
	(*v)[*n].uid = uid;
	(*v)[*n].oldest_ms = -1;
	return &(*v)[(*n)++];
}

static void holder_dest(struct cwholder *h, const struct ssock *x)
{
	struct cwdest *d = NULL;
	size_t i;

	for (i = 0; i < h->n_dest && !d; i++)
		if (h->dest[i].family == x->family && h->dest[i].port == x->dport &&
		    memcmp(h->dest[i].addr, x->dst, 16) == 0)
			d = &h->dest[i];
	if (!d) {
		h->dest = xreallocarray(h->dest, h->n_dest + 1, sizeof(*h->dest));
		d = &h->dest[h->n_dest++];
		memset(d, 0, sizeof(*d));
		d->family = x->family;
		memcpy(d->addr, x->dst, 16);
		d->port = x->dport;
	}
	d->n++;
	/* Recv-Q counts the FIN (one sequence number) until the process reads end-of-file */
	d->unread += x->rqueue ? x->rqueue - 1 : 0;
}

static int cmp_dest(const void *a, const void *b)
{
	const struct cwdest *x = a, *y = b;

	return x->n != y->n ? (x->n > y->n ? -1 : 1) : 0;
}

/* Collect holders of the last look, matched by inode against the first. */
static struct cwholder *cw_holders(const struct sample *first, const struct sample *last, double dt,
				   size_t *ret_n)
{
	struct cwkey *prev = NULL;
	struct cwholder *v = NULL;
	size_t np = 0, n = 0, i;

	for (i = 0; first && i < first->n; i++) {
		const struct ssock *x = &first->s[i];

		if (x->state != TCPS_CLOSE_WAIT)
			continue;
		prev = xreallocarray(prev, np + 1, sizeof(*prev));
		prev[np++] = (struct cwkey){ x->inode, x->pid, x->uid, x->idle_ms };
	}
	if (np)
		qsort(prev, np, sizeof(*prev), cmp_cwkey);
	for (i = 0; i < last->n; i++) {
		const struct ssock *x = &last->s[i];
		struct cwkey key = { x->inode, 0, 0, 0 }, *hit = NULL;
		struct cwholder *h;
		long long age = x->idle_ms;

		if (x->state != TCPS_CLOSE_WAIT)
			continue;
		h = holder(&v, &n, x->pid, x->uid);
		h->n++;
		h->idle_known |= x->idle_ms >= 0;
		if (x->inode && np)
			hit = bsearch(&key, prev, np, sizeof(*prev), cmp_cwkey);
		if (hit) {
			long long seen = (long long)(dt * 1000) + (hit->idle_ms > 0 ? hit->idle_ms : 0);

			h->persisted++;
			if (seen > age)
				age = seen;
		}
		if (age > h->oldest_ms)
			h->oldest_ms = age;
		holder_dest(h, x);
	}
	/* the first look's count per holder, by pid (or uid when unseen) */
	for (i = 0; i < np; i++) {
		size_t k;

		for (k = 0; k < n; k++)
			if (same_holder(&v[k], prev[i].pid, prev[i].uid))
				v[k].n_first++;
	}
	for (i = 0; i < n; i++) {
		v[i].closed = v[i].n_first > v[i].persisted ? v[i].n_first - v[i].persisted : 0;
		if (v[i].n_dest > 1)
			qsort(v[i].dest, v[i].n_dest, sizeof(*v[i].dest), cmp_dest);
	}
	free(prev);
	*ret_n = n;
	return v;
}

static char *holder_name(const struct cwholder *h, const struct sproc *p)
{
	if (h->pid)
		return xasprintf("PID %d (%s)", h->pid, p ? p->comm : "?");
	return xasprintf("uid %u (process not visible)", h->uid);
}

static void rule_close_wait(const struct sample *first, const struct sample *last, struct doctor *d)
{
	double dt = interval(first, last);
	struct cwholder *v;
	size_t n, i, k;

	v = cw_holders(dt > 0 ? first : NULL, last, dt, &n);
	for (i = 0; i < n; i++) {
		const struct cwholder *h = &v[i];
		const struct sproc *p = sample_proc(last, h->pid);
		const struct cwdest *top = &h->dest[0];
		long long growth = (long long)h->n - (long long)h->n_first;
		long long old = 0, age_s = h->oldest_ms >= 0 ? h->oldest_ms / 1000 : -1;
		bool growing = false, stuck = false;
		char dest[80], dur[32], *name, *ev = NULL, *fix, *sum;
		const char *cause;
		double rate = NAN, eta = NAN;
		struct dfinding *f;
		enum severity sev;
		size_t j;

		for (j = 0; j < last->n; j++)
			old += last->s[j].state == TCPS_CLOSE_WAIT && last->s[j].pid == h->pid &&
			       (h->pid || last->s[j].uid == h->uid) &&
			       last->s[j].idle_ms >= CW_STUCK_AGE_S * 1000;
		if (dt > 0) {
			/* a second look: the first look's sockets still open, more of them */
			growing = h->persisted >= 1 && growth >= CW_GROW_MIN && h->closed * 10 <= h->n_first;
			stuck = !growing && h->persisted >= CW_STUCK_MIN && h->closed * 10 <= h->n_first &&
				(!h->idle_known || age_s >= CW_STUCK_AGE_S);
			rate = growth > 0 ? growth * 60.0 / dt : 0;
		} else {
			stuck = old >= CW_STUCK_MIN;
		}
		(void)sockets_addr_str(top->family, top->addr, top->port, dest, sizeof(dest));
		name = holder_name(h, p);
		cause = top->unread ? "responses left unread: the process stopped reading before "
				      "end-of-file and never closed the socket" :
				      "the peer closed idle (pooled) connections that the process never closed";
		if (dt > 0)
			cat(&ev, "first look: %llu CLOSE_WAIT, last look %.1f s later: %llu; %llu of the "
				 "first look's still open, %llu closed, %llu new; growth %+lld (%.0f/min)",
			    h->n_first, dt, h->n, h->persisted, h->closed, h->n - h->persisted, growth,
			    rate);
		else
			cat(&ev, "one look (--once): %llu CLOSE_WAIT, %lld quiet for %d s or more", h->n, old,
			    CW_STUCK_AGE_S);
		if (age_s >= 0)
			cat(&ev, "; oldest at least %s (%s)", duration(age_s, dur, sizeof(dur)),
			    h->idle_known && h->persisted ? "tcpi_last_ack_recv from INET_DIAG_INFO, and seen "
							     "in both looks" :
			    h->idle_known ? "tcpi_last_ack_recv from INET_DIAG_INFO" : "seen in both looks");
		else
			cat(&ev, "; age unknown (no INET_DIAG_INFO, not in both looks)");
		if (p && p->tcp > 0)
			cat(&ev, "; %llu of the %lld TCP sockets it holds (%.0f%%)", h->n, p->tcp,
			    100.0 * h->n / p->tcp);
		if (p && p->fds >= 0)
			cat(&ev, "; open fds %lld, RLIMIT_NOFILE %lld (/proc/%d/limits)", p->fds,
			    p->fd_limit, h->pid);
		if (growing && p && p->fds >= 0 && p->fd_limit > 0 && rate > 0) {
			eta = (double)(p->fd_limit > p->fds ? p->fd_limit - p->fds : 0) / (rate / 60);
			cat(&ev, ": EMFILE in about %s at this rate",
			    duration((long long)eta, dur, sizeof(dur)));
		}
		cat(&ev, "; toward");
		for (k = 0; k < h->n_dest && k < 4; k++) {
			char a[80];

			(void)sockets_addr_str(h->dest[k].family, h->dest[k].addr, h->dest[k].port, a,
					       sizeof(a));
			cat(&ev, "%s %s: %llu (%llu bytes unread, Recv-Q less the FIN)", k ? "," : "", a, h->dest[k].n,
			    h->dest[k].unread);
		}
		if (h->n_dest > 4)
			cat(&ev, ", %zu more remotes", h->n_dest - 4);
		if (!h->pid)
			cat(&ev, "; processes_denied=%u processes_vanished=%u", last->procs_denied,
			    last->procs_vanished);
		fix = xasprintf("%sLikely cause: %s. %s", h->pid ? "" :
				"Run as root (or as uid's user) to name the process. ", cause, close_wait_fix);
		if (growing) {
			sev = !isnan(eta) && eta <= CW_ETA_CRIT_S ? SEV_CRITICAL : SEV_WARNING;
			sum = xasprintf("%s leaks CLOSE_WAIT: %llu toward %s%s, %llu bytes unread, growing "
					"%.0f/min%s%s: %s", name, h->n, dest, h->n_dest > 1 ? " and others" : "",
					top->unread, rate, isnan(eta) ? "" : ", EMFILE in about ",
					isnan(eta) ? "" : duration((long long)eta, dur, sizeof(dur)), cause);
		} else if (stuck) {
			sev = SEV_WARNING;
			sum = xasprintf("%s holds %llu CLOSE_WAIT that last (oldest at least %s) toward "
					"%s%s, %llu bytes unread: %s", name, h->n,
					age_s >= 0 ? duration(age_s, dur, sizeof(dur)) : "one look",
					dest, h->n_dest > 1 ? " and others" : "", top->unread, cause);
		} else {
			sev = SEV_INFO;
			sum = xasprintf("%s holds %llu socket%s in CLOSE_WAIT, not %s: normal for a pooled "
					"client whose idle connection the peer closed", name, h->n,
					h->n == 1 ? "" : "s", dt > 0 ? "growing and not lasting" : "old enough to judge in one look");
		}
		f = add(d, sev > SEV_INFO ? "close-wait-leak" : "close-wait", sev, sum, ev, fix);
		f->pid = h->pid;
		f->comm = p ? xstrdup(p->comm) : h->pid ? xstrdup("?") : NULL;
		f->uid = h->uid;
		f->remote = xstrdup(dest);
		f->count = (long long)h->n;
		f->oldest_s = age_s >= 0 ? (double)age_s : NAN;
		f->rate_per_min = rate;
		f->fds = p ? p->fds : -1;
		f->fd_limit = p ? p->fd_limit : -1;
		f->eta_s = eta;
		free(name);
	}
	for (i = 0; i < n; i++)
		free(v[i].dest);
	free(v);
}

/* --- ports toward one destination ---------------------------------------------- */

static uint64_t tuple_hash(const struct ssock *x)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ x->src[i]) * 1099511628211ULL;
	for (i = 0; i < 16; i++)
		h = (h ^ x->dst[i]) * 1099511628211ULL;
	h = (h ^ x->sport) * 1099511628211ULL;
	h = (h ^ x->dport) * 1099511628211ULL;
	return (h ^ x->family) * 1099511628211ULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_by_dest(const void *a, const void *b)
{
	const struct ssock *x = *(const struct ssock *const *)a, *y = *(const struct ssock *const *)b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->dst, y->dst, 16);
	if (c)
		return c;
	return x->dport < y->dport ? -1 : x->dport > y->dport;
}

static bool loopback(int family, const uint8_t *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	return family == AF_INET ? a[0] == 127 : memcmp(a, v6lo, 16) == 0;
}

/* One destination's share of the ephemeral ports and its connect rate. */
struct portuse {
	const struct ssock *first;          /* a socket toward it */
	unsigned long long held[TCPS_MAX], total, fresh;
	unsigned n_laddr;
	bool reuse;
	double rate, capacity, headroom, hold_s;
	unsigned long long usable;
};

static void port_capacity(const struct tcpenv *e, double dt, struct portuse *u)
{
	long long delay = e->tw_reuse_delay_ms > 0 ? e->tw_reuse_delay_ms : 1000;
	unsigned long long other = u->total - u->held[TCPS_TIME_WAIT];

	/* tcp_tw_reuse: 1 for every outgoing connection, 2 (default) for loopback only */
	u->reuse = e->timestamps != 0 && (e->tw_reuse == 1 ||
		   (e->tw_reuse == 2 && loopback(u->first->family, u->first->dst) &&
		    loopback(u->first->family, u->first->src)));
	u->hold_s = u->reuse ? delay / 1000.0 : TW_LEN_S;
	u->usable = (unsigned long long)e->range.usable * (u->n_laddr ? u->n_laddr : 1);
	u->capacity = u->usable > other ? (double)(u->usable - other) / u->hold_s : 0;
	/*
	 * Connects per second: those seen between the looks, or the last
	 * minute's average that the TIME_WAIT sockets (60 s each) give, when
	 * higher: a storm that filled the range closes nothing new for 60 s.
	 */
	u->rate = (double)u->held[TCPS_TIME_WAIT] / TW_LEN_S;
	if (dt > 0 && u->fresh / dt > u->rate)
		u->rate = u->fresh / dt;
	if (dt == 0) {
		u->headroom = NAN;
		return;
	}
	u->headroom = u->capacity > 0 ? 100.0 * (1 - u->rate / u->capacity) : 0;
	/* without reuse a port is free only once its TIME_WAIT ends */
	if (!u->reuse && u->usable && 100.0 * (double)(u->usable - (u->total < u->usable ? u->total : u->usable)) / u->usable < u->headroom)
		u->headroom = 100.0 * (double)(u->usable - (u->total < u->usable ? u->total : u->usable)) / u->usable;
	if (u->headroom < 0)
		u->headroom = 0;
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

static void port_finding(const struct tcpenv *e, double dt, const struct portuse *u, struct doctor *d)
{
	double held = u->usable ? (double)u->total / u->usable : 0;
	bool full = !u->reuse && held >= PORTS_FULL;
	char dest[80], *ev = NULL;
	struct dfinding *f;
	enum severity sev;
	int st;

	if (full || (dt > 0 && u->headroom < PORTS_HEADROOM_CRIT))
		sev = SEV_CRITICAL;
	else if (dt > 0 && u->headroom < PORTS_HEADROOM_WARN)
		sev = SEV_WARNING;
	else
		return;
	(void)sockets_addr_str(u->first->family, u->first->dst, u->first->dport, dest, sizeof(dest));
	cat(&ev, "remote=%s usable ports %llu (ip_local_port_range %u-%u minus %u reserved, x %u "
		 "source address%s); held %llu (%.0f%%):", dest, u->usable, e->range.low, e->range.high,
	    e->range.reserved, u->n_laddr ? u->n_laddr : 1, u->n_laddr == 1 ? "" : "es", u->total,
	    held * 100);
	for (st = 1; st < TCPS_MAX; st++)
		if (u->held[st])
			cat(&ev, " %s %llu", sockets_state_name(st), u->held[st]);
	cat(&ev, "; a closed port is reusable after %.3g s (%s)", u->hold_s,
	    u->reuse ? "net.ipv4.tcp_tw_reuse with timestamps: tcp_tw_reuse_delay" :
		       "TIME_WAIT, 60 s: tcp_tw_reuse does not apply");
	if (dt > 0)
		cat(&ev, "; capacity %.1f connects/s, observed %.1f/s (the higher of new 4-tuples and "
			 "fresh TIME_WAIT over %.1f s, and TIME_WAIT/60 s): headroom %.0f%%", u->capacity,
		    u->rate, dt, u->headroom);
	else
		cat(&ev, "; one look (--once): no connect rate, judged on ports held alone");
	f = add(d, "tw-port-exhaustion", sev,
		full ? xasprintf("connections to %s hold %.0f%% of the usable ephemeral ports and "
				 "none frees for %d s: connect() fails with EADDRNOTAVAIL", dest,
				 held * 100, TW_LEN_S) :
		       xasprintf("connections to %s use %.0f%% of the connect capacity (%.1f of %.1f "
				 "per second): connect() fails with EADDRNOTAVAIL past it", dest,
				 100 - u->headroom, u->rate, u->capacity),
		ev, tw_fix(e, dest));
	f->remote = xstrdup(dest);
	f->count = (long long)u->total;
	f->capacity_per_s = u->capacity;
	f->rate_per_min = dt > 0 ? u->rate * 60 : NAN;
	f->headroom_pct = u->headroom;
}

/* Returns the busiest destination's ports held and usable through *ret_top. */
static bool rule_ports(const struct sample *first, const struct sample *last, const struct tcpenv *e,
		       struct doctor *d, struct portuse *ret_top)
{
	double dt = interval(first, last);
	const struct ssock **v;
	uint64_t *prev = NULL;
	size_t n = 0, np = 0, i, j;
	size_t before = d->n;

	memset(ret_top, 0, sizeof(*ret_top));
	if (!e->range.usable)
		return false;
	for (i = 0; dt > 0 && i < first->n; i++)
		if (first->s[i].state != TCPS_LISTEN) {
			prev = xreallocarray(prev, np + 1, sizeof(*prev));
			prev[np++] = tuple_hash(&first->s[i]);
		}
	if (np)
		qsort(prev, np, sizeof(*prev), cmp_u64);
	v = xreallocarray(NULL, last->n + 1, sizeof(*v));
	for (i = 0; i < last->n; i++) {
		const struct ssock *x = &last->s[i];

		if (x->state != TCPS_LISTEN && x->sport >= e->range.low && x->sport <= e->range.high)
			v[n++] = x;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_by_dest);
	for (i = 0; i < n; i = j) {
		struct portuse u;
		uint8_t laddr[8][16];
		unsigned long long fresh_tw = 0, new_tuple = 0;

		memset(&u, 0, sizeof(u));
		u.first = v[i];
		for (j = i; j < n && cmp_by_dest(&v[i], &v[j]) == 0; j++) {
			const struct ssock *x = v[j];
			uint64_t h = tuple_hash(x);
			unsigned k;

			u.held[x->state]++;
			u.total++;
			for (k = 0; k < u.n_laddr && memcmp(laddr[k], x->src, 16); k++)
				;
			if (k == u.n_laddr && k < 8)
				memcpy(laddr[u.n_laddr++], x->src, 16);
			if (dt > 0 && !bsearch(&h, prev, np, sizeof(*prev), cmp_u64))
				new_tuple++;
			/* entered TIME_WAIT after the first look, a reused 4-tuple too */
			if (dt > 0 && x->state == TCPS_TIME_WAIT && x->expires_ms >= 0 &&
			    x->expires_ms > TW_LEN_S * 1000 - dt * 1000)
				fresh_tw++;
		}
		u.fresh = new_tuple > fresh_tw ? new_tuple : fresh_tw;
		port_capacity(e, dt, &u);
		if (u.total > ret_top->total)
			*ret_top = u;
		port_finding(e, dt, &u, d);
	}
	free(v);
	free(prev);
	return d->n > before;
}

static void rule_tw_harmless(const struct sample *last, const struct tcpenv *e,
			     const struct portuse *top, struct doctor *d)
{
	unsigned long long tw = last->states[TCPS_TIME_WAIT];
	char where[400] = "", dest[80];

	if (tw == 0)
		return;
	if (top->first && top->usable) {
		(void)sockets_addr_str(top->first->family, top->first->dst, top->first->dport, dest,
				       sizeof(dest));
		(void)snprintf(where, sizeof(where), "; busiest destination %s uses %llu of %llu "
			       "ephemeral ports (%.1f%%)", dest, top->total, top->usable,
			       100.0 * top->total / top->usable);
		if (!isnan(top->headroom))
			(void)snprintf(where + strlen(where), sizeof(where) - strlen(where),
				       ", %.1f connects/s of a capacity of %.1f/s (headroom %.0f%%)",
				       top->rate, top->capacity, top->headroom);
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
		"who closes so many connections first (sockets --by remote); never lower it: "
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
			cat(ev, " %s +%lld (%.1f/s)", names[i], x, x / dt);
		else
			cat(ev, " %s=%lld since boot", names[i], counter(last, names[i]));
	}
}

static void rule_listen(const struct sample *first, const struct sample *last, const struct tcpenv *e,
			struct doctor *d)
{
	double dt = interval(first, last);
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
		cat(&ev, "listen=%s queued=%u backlog=%u%s; the backlog is min(listen() backlog, "
			 "net.core.somaxconn=%lld) at listen() time: %s;", a, x->rqueue, x->wqueue,
		    dt > 0 ? (both ? " (full in both looks)" : " (full in one look)") : "", e->somaxconn,
		    e->somaxconn > 0 && x->wqueue < e->somaxconn ? "the application's backlog binds" :
								   "somaxconn binds");
		listen_counters(first, last, dt, &ev);
		f = add(d, "listen-overflow", both && ovf > 0 ? SEV_CRITICAL : SEV_WARNING,
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

		cat(&ev, "no accept queue full in either look;");
		listen_counters(first, last, dt, &ev);
		add(d, "listen-overflow", SEV_WARNING,
		    xasprintf("accept queues overflowed %lld times in the last %.1f s", ovf, dt), ev,
		    xstrdup("Run again to catch the listener while its queue is full (sockets "
			    "--state listen shows queued and backlog); then raise the backlog that "
			    "binds: the application's listen() backlog or net.core.somaxconn."));
	} else if (total > 0 || drops > 0) {
		add(d, "listen-overflow", SEV_INFO,
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
	double dt = interval(first, last);
	char *ev = NULL;
	size_t i;

	if (dt == 0)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		long long x = delta(first, last, names[i]);

		if (x > 0)
			cat(&ev, "%s%s +%lld (%.1f/s)", ev ? " " : "", names[i], x, x / dt);
	}
	if (!ev)
		return;
	cat(&ev, "; for scale: ActiveOpens +%lld PassiveOpens +%lld (/proc/net/netstat and "
		 "/proc/net/snmp, over %.1f s)", delta(first, last, "ActiveOpens"),
	    delta(first, last, "PassiveOpens"), dt);
	add(d, "tcp-counters", SEV_INFO,
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
	struct portuse top;
	size_t i;

	if (first && interval(first, last) == 0)
		first = NULL;
	rule_close_wait(first, last, &d);
	if (!rule_ports(first, last, e, &d, &top))
		rule_tw_harmless(last, e, &top, &d);
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
