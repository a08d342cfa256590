/* SPDX-License-Identifier: ISC */
/* doctor_cw.c: CLOSE_WAIT judged per process over two looks: growth, age, remotes, time to EMFILE. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "doctor_rules.h"

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
	unsigned long long n_unread;    /* sockets with bytes the process never read */
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
	d->n_unread += x->rqueue > 1;
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

void doctor_cw_run(const struct sample *first, const struct sample *last, struct doctor *d)
{
	double dt = doctor_interval(first, last);
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
		/* one late response among idle pooled sockets does not make the pile unread responses */
		cause = top->n_unread * 2 > top->n ? "responses left unread: the process stopped reading before "
				      "end-of-file and never closed the socket" :
				      "the peer closed idle (pooled) connections that the process never closed";
		if (dt > 0)
			doctor_cat(&ev, "first look: %llu CLOSE_WAIT, last look %.1f s later: %llu; %llu of the "
				 "first look's still open, %llu closed, %llu new; growth %+lld (%.0f/min)",
			    h->n_first, dt, h->n, h->persisted, h->closed, h->n - h->persisted, growth,
			    rate);
		else
			doctor_cat(&ev, "one look (--once): %llu CLOSE_WAIT, %lld quiet for %d s or more", h->n, old,
			    CW_STUCK_AGE_S);
		if (age_s >= 0)
			doctor_cat(&ev, "; oldest at least %s (%s)", doctor_duration(age_s, dur, sizeof(dur)),
			    h->idle_known && h->persisted ? "tcpi_last_ack_recv from INET_DIAG_INFO, and seen "
							     "in both looks" :
			    h->idle_known ? "tcpi_last_ack_recv from INET_DIAG_INFO" : "seen in both looks");
		else
			doctor_cat(&ev, "; age unknown (no INET_DIAG_INFO, not in both looks)");
		if (p && p->tcp > 0)
			doctor_cat(&ev, "; %llu of the %lld TCP sockets it holds (%.0f%%)", h->n, p->tcp,
			    100.0 * h->n / p->tcp);
		if (p && p->fds >= 0)
			doctor_cat(&ev, "; open fds %lld, RLIMIT_NOFILE %lld (/proc/%d/limits)", p->fds,
			    p->fd_limit, h->pid);
		if (growing && p && p->fds >= 0 && p->fd_limit > 0 && rate > 0) {
			eta = (double)(p->fd_limit > p->fds ? p->fd_limit - p->fds : 0) / (rate / 60);
			doctor_cat(&ev, ": EMFILE in about %s at this rate",
			    doctor_duration((long long)eta, dur, sizeof(dur)));
		}
		doctor_cat(&ev, "; toward");
		for (k = 0; k < h->n_dest && k < 4; k++) {
			char a[80];

			(void)sockets_addr_str(h->dest[k].family, h->dest[k].addr, h->dest[k].port, a,
					       sizeof(a));
			doctor_cat(&ev, "%s %s: %llu (%llu bytes unread, Recv-Q less the FIN)", k ? "," : "", a, h->dest[k].n,
			    h->dest[k].unread);
		}
		if (h->n_dest > 4)
			doctor_cat(&ev, ", %zu more remotes", h->n_dest - 4);
		if (!h->pid)
			doctor_cat(&ev, "; processes_denied=%u processes_vanished=%u", last->procs_denied,
			    last->procs_vanished);
		fix = xasprintf("%sLikely cause: %s. %s", h->pid ? "" :
				"Run as root (or as uid's user) to name the process. ", cause, close_wait_fix);
		if (growing) {
			sev = !isnan(eta) && eta <= CW_ETA_CRIT_S ? SEV_CRITICAL : SEV_WARNING;
			sum = xasprintf("%s leaks CLOSE_WAIT: %llu toward %s%s, %llu bytes unread, growing "
					"%.0f/min%s%s: %s", name, h->n, dest, h->n_dest > 1 ? " and others" : "",
					top->unread, rate, isnan(eta) ? "" : ", EMFILE in about ",
					isnan(eta) ? "" : doctor_duration((long long)eta, dur, sizeof(dur)), cause);
		} else if (stuck) {
			sev = SEV_WARNING;
			sum = xasprintf("%s holds %llu CLOSE_WAIT that last (oldest at least %s) toward "
					"%s%s, %llu bytes unread: %s", name, h->n,
					age_s >= 0 ? doctor_duration(age_s, dur, sizeof(dur)) : "one look",
					dest, h->n_dest > 1 ? " and others" : "", top->unread, cause);
		} else {
			sev = SEV_INFO;
			sum = xasprintf("%s holds %llu socket%s in CLOSE_WAIT, not %s: normal for a pooled "
					"client whose idle connection the peer closed", name, h->n,
					h->n == 1 ? "" : "s", dt > 0 ? "growing and not lasting" : "old enough to judge in one look");
		}
		f = doctor_add(d, sev > SEV_INFO ? "close-wait-leak" : "close-wait", sev, sum, ev, fix);
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

