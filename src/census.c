/* census.c: one pass over the sockets: counts by state, owner, remote and local port; listener queues. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/tcp.h>
#include "census_group.h"
#include "sockets.h"
#include "sockets-internal.h"
#include "util.h"

#define TIMER_TIMEWAIT 3

/* A small open-addressing table keyed by (family, remote, port, local address). */
struct hkey {
	uint8_t family;
	uint8_t pad;
	uint16_t port;
	uint8_t addr[16];
	uint8_t laddr[16];
};

struct hent {
	struct hkey k;
	bool used;
	unsigned long long states[TCPS_MAX];
	unsigned long long total, inrange;
};

struct htab {
	struct hent *v;
	size_t cap, n;
};

static uint64_t hkey_hash(const struct hkey *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static struct hent *htab_get(struct htab *t, const struct hkey *k)
{
	size_t i;

	if ((t->n + 1) * 2 > t->cap) {
		struct htab nt = { NULL, t->cap ? t->cap * 2 : 256, 0 };

		nt.v = xcalloc(nt.cap, sizeof(*nt.v));
		for (i = 0; i < t->cap; i++)
			if (t->v[i].used)
				*htab_get(&nt, &t->v[i].k) = t->v[i];
		free(t->v);
		*t = nt;
	}
	for (i = hkey_hash(k) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (!t->v[i].used) {
			memset(&t->v[i], 0, sizeof(t->v[i]));
			t->v[i].used = true;
			t->v[i].k = *k;
			t->n++;
			return &t->v[i];
		}
		if (memcmp(&t->v[i].k, k, sizeof(*k)) == 0)
			return &t->v[i];
	}
}

struct ownsock {
	uint32_t inode, uid;
	uint8_t state;
	int64_t idle_ms;
};

/* A listener, or a socket without a file that may wait in a listener's queue. */
struct qsock {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	uint8_t state;
	uint32_t inode;
};

struct cstate {
	const struct census_query *cq;
	struct census *c;
	struct htab ports;
	struct cgroups rem;
	struct ownsock *own;
	size_t n_own, cap_own;
	struct qsock *lis, *queued;
	size_t n_lis, n_queued;
	unsigned long long orphan[TCPS_MAX];
	uint8_t *listening;                 /* bitmap of local ports with a listener */
	unsigned long long full, fw2_tw;    /* counters shortcut */
};

static int census_visit(const struct sock *sk, void *data)
{
	struct cstate *s = data;
	struct census *c = s->c;
	struct hkey k;
	struct hent *e;

	s->c->states[sk->state]++;
	s->c->total++;
	if (sk->timer == TIMER_TIMEWAIT)
		s->fw2_tw += sk->state == TCPS_FIN_WAIT2;
	else if (sk->state != TCPS_SYN_RECV)
		s->full++;
	if (s->cq->remotes && sk->state != TCPS_LISTEN && s->listening &&
	    (s->listening[sk->sport / 8] & (1u << (sk->sport % 8)))) {
		/* inbound: one row per listening port, not one per client port */
		cgroups_add(&s->rem, sk, true, false);
	} else if (s->cq->remotes && sk->state != TCPS_LISTEN) {
		cgroups_add(&s->rem, sk, false, s->cq->range.low && sk->sport >= s->cq->range.low &&
						 sk->sport <= s->cq->range.high);
	}
	if (s->cq->lports) {
		memset(&k, 0, sizeof(k));
		k.port = sk->sport;
		e = htab_get(&s->ports, &k);
		e->states[sk->state]++;
		e->total++;
	}
	if (sk->state == TCPS_LISTEN && sk->wqueue > 0 && sk->rqueue >= sk->wqueue) {
		struct listener *l;

		c->full_listeners = xreallocarray(c->full_listeners, c->n_full_listeners + 1,
						  sizeof(*c->full_listeners));
		l = &c->full_listeners[c->n_full_listeners++];
		l->family = sk->family;
		memcpy(l->addr, sk->src, 16);
		l->port = sk->sport;
		l->queued = sk->rqueue;
		l->backlog = sk->wqueue;
	}
	if (s->cq->owners && (sk->state == TCPS_LISTEN ||
			      (!sk->inode && (sk->state == TCPS_ESTABLISHED || sk->state == TCPS_CLOSE_WAIT ||
					      sk->state == TCPS_SYN_RECV)))) {
		struct qsock **v = sk->state == TCPS_LISTEN ? &s->lis : &s->queued;
		size_t *n = sk->state == TCPS_LISTEN ? &s->n_lis : &s->n_queued;

		if ((*n & (*n - 1)) == 0)
			*v = xreallocarray(*v, *n ? *n * 2 : 1, sizeof(**v));
		(*v)[*n].family = sk->family;
		memcpy((*v)[*n].addr, sk->src, 16);
		(*v)[*n].port = sk->sport;
		(*v)[*n].state = sk->state;
		(*v)[(*n)++].inode = sk->inode;
	} else if (s->cq->owners && !sk->inode) {
		s->orphan[sk->state]++;
	}
	if (s->cq->owners && sk->inode) {
		if (s->n_own == s->cap_own) {
			s->cap_own = s->cap_own ? s->cap_own * 2 : 256;
			s->own = xreallocarray(s->own, s->cap_own, sizeof(*s->own));
		}
		s->own[s->n_own].inode = sk->inode;
		s->own[s->n_own].uid = sk->uid;
		s->own[s->n_own].state = sk->state;
		s->own[s->n_own++].idle_ms = sk->idle_ms;
	}
	return 0;
}

static int cmp_own(const void *a, const void *b)
{
	const struct ownsock *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

unsigned long long census_owner_total(const struct owner *o)
{
	unsigned long long t = 0;
	int i;

	for (i = 1; i < TCPS_MAX; i++)
		t += o->states[i];
	return t;
}

static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;
	unsigned long long tx = census_owner_total(x), ty = census_owner_total(y);

	if (tx != ty)
		return tx > ty ? -1 : 1;
	return x->pid - y->pid;
}

static struct ownerless *ownerless_row(struct census *c, enum ownerless_kind kind, int pid)
{
	struct ownerless *w;
	size_t i;

	for (i = 0; i < c->n_ownerless; i++)
		if (c->ownerless[i].kind == kind && c->ownerless[i].pid == pid)
			return &c->ownerless[i];
	c->ownerless = xreallocarray(c->ownerless, c->n_ownerless + 1, sizeof(*c->ownerless));
	w = &c->ownerless[c->n_ownerless++];
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	w->pid = pid;
	return w;
}

/* The listener a socket without a file waits on: same port, same address or a wildcard. */
static const struct qsock *queue_of(const struct cstate *s, const struct qsock *q)
{
	static const uint8_t any[16];
	const struct qsock *wild = NULL;
	size_t i;

	for (i = 0; i < s->n_lis; i++) {
		const struct qsock *l = &s->lis[i];

		if (l->port != q->port)
			continue;
		if (l->family == q->family && memcmp(l->addr, q->addr, 16) == 0)
			return l;
		if (memcmp(l->addr, any, 16) == 0 && (!wild || l->family == q->family))
			wild = l;
	}
	return wild;
}

static void build_ownerless(struct cstate *s, const uint32_t *inodes, size_t n, const int *pids)
{
	struct census *c = s->c;
	struct ownerless *w;
	size_t i;
	int st;

	for (i = 0; i < s->n_queued; i++) {
		const struct qsock *l = queue_of(s, &s->queued[i]);
		const uint32_t *hit = l && n ? bsearch(&l->inode, inodes, n, sizeof(*inodes), sockets_cmp_u32) : NULL;

		if (!l) {
			s->orphan[s->queued[i].state]++;
			continue;
		}
		w = ownerless_row(c, OWNERLESS_ACCEPTQ, hit ? pids[hit - inodes] : 0);
		w->states[s->queued[i].state]++;
		w->total++;
	}
	for (st = 1; st < TCPS_MAX; st++) {
		if (!s->orphan[st])
			continue;
		w = ownerless_row(c, st == TCPS_TIME_WAIT ? OWNERLESS_TIME_WAIT : OWNERLESS_ORPHAN, 0);
		w->states[st] += s->orphan[st];
		w->total += s->orphan[st];
	}
	for (i = 0; c->unowned && i < s->n_own; i++) {
		const uint32_t *hit = bsearch(&s->own[i].inode, inodes, n, sizeof(*inodes), sockets_cmp_u32);

		if (hit && pids[hit - inodes] == 0) {
			w = ownerless_row(c, OWNERLESS_UNREADABLE, 0);
			w->states[s->own[i].state]++;
			w->total++;
		}
	}
}

char *census_ownerless_name(const struct ownerless *w, char *buf, size_t len)
{
	switch (w->kind) {
	case OWNERLESS_ACCEPTQ:
		if (w->pid)
			(void)snprintf(buf, len, "in accept queue of PID %d", w->pid);
		else
			(void)snprintf(buf, len, "in accept queue, listener's process unknown");
		break;
	case OWNERLESS_ORPHAN:
		(void)snprintf(buf, len, "orphaned, no process");
		break;
	case OWNERLESS_TIME_WAIT:
		(void)snprintf(buf, len, "TIME_WAIT, no process");
		break;
	default:
		(void)snprintf(buf, len, "no readable owner");
		break;
	}
	return buf;
}

static int build_owners(int rootfd, struct cstate *s)
{
	struct census *c = s->c;
	uint32_t *inodes, uids[16];
	int *pids;
	size_t i, j, n = 0, n_uids = 0;
	int r;

	if (s->n_own)
		qsort(s->own, s->n_own, sizeof(*s->own), cmp_own);
	inodes = xreallocarray(NULL, s->n_own + 1, sizeof(*inodes));
	for (i = 0; i < s->n_own; i++)
		if (n == 0 || inodes[n - 1] != s->own[i].inode)
			inodes[n++] = s->own[i].inode;
	/* the sockets' uids, few in practice */
	for (i = 0; i < s->n_own && n_uids < 16; i++) {
		for (j = 0; j < n_uids && uids[j] != s->own[i].uid; j++)
			;
		if (j == n_uids)
			uids[n_uids++] = s->own[i].uid;
	}
	/* more than 16 users: no preference is better than a partial one */
	if (i < s->n_own)
		n_uids = 0;
	pids = xcalloc(n + 1, sizeof(*pids));
	r = sockets_owners(rootfd, inodes, n, uids, n_uids, pids, &c->procs_denied, &c->procs_vanished);
	if (r < 0)
		goto out;
	for (i = 0, j = 0; i < s->n_own; i++) {
		struct owner *o = NULL;
		size_t k;

		while (inodes[j] != s->own[i].inode)
			j++;
		if (pids[j] == 0) {
			c->unowned++;
			continue;
		}
		/* few owners in practice: a linear search is fine */
		for (k = 0; k < c->n_owners; k++)
			if (c->owners[k].pid == pids[j])
				o = &c->owners[k];
		if (!o) {
			c->owners = xreallocarray(c->owners, c->n_owners + 1, sizeof(*c->owners));
			o = &c->owners[c->n_owners++];
			memset(o, 0, sizeof(*o));
			o->pid = pids[j];
			o->comm = sockets_comm(rootfd, o->pid);
			if (!o->comm)
				o->comm = xstrdup("?");
			o->close_wait_idle_ms = -1;
		}
		o->states[s->own[i].state]++;
		if (s->own[i].state == TCPS_CLOSE_WAIT && s->own[i].idle_ms > o->close_wait_idle_ms)
			o->close_wait_idle_ms = s->own[i].idle_ms;
	}
	if (c->n_owners)
		qsort(c->owners, c->n_owners, sizeof(*c->owners), cmp_owner);
	build_ownerless(s, inodes, n, pids);
	if (s->cq->pairs && s->cq->remotes)
		cgroups_finish(&s->rem, c, inodes, pids, n);
out:
	free(inodes);
	free(pids);
	return r;
}

static int cmp_lport(const void *a, const void *b)
{
	const struct lport *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

static void build_lports(struct cstate *s)
{
	struct census *c = s->c;
	size_t i;

	c->lports = xcalloc(s->ports.n + 1, sizeof(*c->lports));
	for (i = 0; i < s->ports.cap; i++) {
		struct lport *l;

		if (!s->ports.v[i].used)
			continue;
		l = &c->lports[c->n_lports++];
		l->port = s->ports.v[i].k.port;
		memcpy(l->states, s->ports.v[i].states, sizeof(l->states));
		l->total = s->ports.v[i].total;
	}
	if (c->n_lports)
		qsort(c->lports, c->n_lports, sizeof(*c->lports), cmp_lport);
}

static bool want_counters(const struct census_query *cq)
{
	const struct sockets_query *q = &cq->q;

	return !cq->exact && !cq->owners && !cq->remotes && !cq->lports &&
	       q->family == AF_UNSPEC && (q->states == 0 || q->states == TCPS_ALL) &&
	       (q->source == SRC_AUTO || q->source == SRC_NETLINK) && !q->replay && !q->record;
}

/*
 * ESTABLISHED and TIME_WAIT are the bulk; the kernel counts them for us.
 * inuse (v4 + v6) counts hashed full sockets, tw counts timewait
 * mini-sockets including orphaned FIN_WAIT2 ones (timer 3 in the dump).
 */
static int census_counters(int rootfd, struct cstate *s, struct msgs *m)
{
	struct sockets_query q = s->cq->q;
	struct census *c = s->c;
	struct sockstat ss;
	long long est, tw;
	int r;

	if (sockets_read_sockstat(rootfd, &ss) < 0 || ss.inuse4 < 0 || ss.tw < 0)
		return 1;
	q.states = TCPS_ALL & ~((1u << TCPS_ESTABLISHED) | (1u << TCPS_TIME_WAIT));
	q.source = SRC_NETLINK;
	r = sockets_walk(rootfd, &q, census_visit, s, &c->source, m);
	if (r < 0)
		return r;
	est = ss.inuse4 + (ss.inuse6 > 0 ? ss.inuse6 : 0) - (long long)s->full;
	tw = ss.tw - (long long)s->fw2_tw;
	/* counters and dump are not one snapshot: never report a negative count */
	c->states[TCPS_ESTABLISHED] = est > 0 ? (unsigned long long)est : 0;
	c->states[TCPS_TIME_WAIT] = tw > 0 ? (unsigned long long)tw : 0;
	c->total += c->states[TCPS_ESTABLISHED] + c->states[TCPS_TIME_WAIT];
	c->from_counters = true;
	return 0;
}

static int listen_visit(const struct sock *sk, void *data)
{
	uint8_t *bits = data;

	if (sk->state == TCPS_LISTEN)
		bits[sk->sport / 8] |= (uint8_t)(1u << (sk->sport % 8));
	return 0;
}

/* The listening ports, from a dump the kernel filters to LISTEN (cheap). */
static uint8_t *listening_ports(int rootfd, const struct sockets_query *q)
{
	struct sockets_query lq = *q;
	enum sockets_source used;
	uint8_t *bits = xcalloc(65536 / 8, 1);

	lq.states = 1u << TCPS_LISTEN;
	lq.info = false;
	lq.record = NULL;
	if (sockets_walk(rootfd, &lq, listen_visit, bits, &used, NULL) < 0) {
		free(bits);
		return NULL;
	}
	return bits;
}

int census_run(int rootfd, const struct census_query *cq, struct census *ret, struct msgs *m)
{
	struct msgs cm = { 0 };
	struct cstate s;
	int r = 1;

	memset(ret, 0, sizeof(*ret));
	memset(&s, 0, sizeof(s));
	s.cq = cq;
	s.c = ret;
	s.rem.pairs = cq->pairs && cq->owners && cq->remotes;
	if (cq->remotes)
		s.listening = listening_ports(rootfd, &cq->q);
	if (want_counters(cq)) {
		r = census_counters(rootfd, &s, &cm);
		/* netlink refused: the fallback below reads /proc/net/tcp */
		if (r < 0 && cq->q.source == SRC_AUTO) {
			memset(ret, 0, sizeof(*ret));
			s.full = s.fw2_tw = 0;
			r = 1;
		} else if (r < 0) {
			for (size_t i = 0; i < cm.n; i++)
				msgs_add(m, "%s", cm.v[i]);
		}
		msgs_free(&cm);
	}
	if (r == 1)
		r = sockets_walk(rootfd, &cq->q, census_visit, &s, &ret->source, m);
	if (r == 0 && cq->owners) {
		r = build_owners(rootfd, &s);
		if (r < 0)
			msgs_add(m, "/proc: %s", strerror(-r));
	}
	/* with pairs, build_owners has handed the remotes over */
	if (r == 0 && cq->remotes && !(cq->pairs && cq->owners))
		cgroups_finish(&s.rem, ret, NULL, NULL, 0);
	if (r == 0 && cq->lports)
		build_lports(&s);
	free(s.own);
	free(s.lis);
	free(s.queued);
	free(s.listening);
	cgroups_free(&s.rem);
	free(s.ports.v);
	if (r < 0)
		census_free(ret);
	return r;
}

void census_free(struct census *c)
{
	size_t i;

	for (i = 0; i < c->n_owners; i++)
		free(c->owners[i].comm);
	free(c->owners);
	free(c->ownerless);
	free(c->remotes);
	free(c->pairs);
	free(c->lports);
	free(c->full_listeners);
	memset(c, 0, sizeof(*c));
}
