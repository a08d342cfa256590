/* SPDX-License-Identifier: ISC */
/* doctor_ports.c: ephemeral port capacity toward each destination, judged on headroom. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "doctor_rules.h"

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
	doctor_cat(&ev, "remote=%s usable ports %llu (ip_local_port_range %u-%u minus %u reserved, x %u "
		 "source address%s); held %llu (%.0f%%):", dest, u->usable, e->range.low, e->range.high,
	    e->range.reserved, u->n_laddr ? u->n_laddr : 1, u->n_laddr == 1 ? "" : "es", u->total,
	    held * 100);
	for (st = 1; st < TCPS_MAX; st++)
		if (u->held[st])
			doctor_cat(&ev, " %s %llu", sockets_state_name(st), u->held[st]);
	doctor_cat(&ev, "; a closed port is reusable after %.3g s (%s)", u->hold_s,
	    u->reuse ? "net.ipv4.tcp_tw_reuse with timestamps: tcp_tw_reuse_delay" :
		       "TIME_WAIT, 60 s: tcp_tw_reuse does not apply");
	if (dt > 0)
		doctor_cat(&ev, "; capacity %.1f connects/s, observed %.1f/s (the higher of new 4-tuples and "
			 "fresh TIME_WAIT over %.1f s, and TIME_WAIT/60 s): headroom %.0f%%", u->capacity,
		    u->rate, dt, u->headroom);
	else
		doctor_cat(&ev, "; one look (--once): no connect rate, judged on ports held alone");
	f = doctor_add(d, "tw-port-exhaustion", sev,
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
	double dt = doctor_interval(first, last);
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
	doctor_add(d, "tw-harmless", SEV_INFO,
	    xasprintf("%llu socket%s in TIME_WAIT: normal for the side that closes first", tw,
		      tw == 1 ? "" : "s"),
	    xasprintf("time_wait=%llu tcp_max_tw_buckets=%lld%s", tw, e->max_tw_buckets, where),
	    xstrdup("Nothing to do. TIME_WAIT lasts 60 s (TCP_TIMEWAIT_LEN, a compile-time "
		    "constant: no sysctl changes it, tcp_fin_timeout governs orphaned FIN_WAIT2 "
		    "only) and costs little memory. It matters only near port exhaustion toward "
		    "one destination or near net.ipv4.tcp_max_tw_buckets."));
}

void doctor_ports_run(const struct sample *first, const struct sample *last, const struct tcpenv *e,
		      struct doctor *d)
{
	struct portuse top;

	if (!rule_ports(first, last, e, d, &top))
		rule_tw_harmless(last, e, &top, d);
}

