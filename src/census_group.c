/* SPDX-License-Identifier: ISC */
/* census_group.c: the census's remotes and owner × remote pairs, counted in compact hash tables. */
#include <stdlib.h>
#include <string.h>
#include "census_group.h"
#include "util.h"

/* The key of a remote: family, inbound, port and address, 20 bytes without padding. */
#define RKEY 20
_Static_assert(offsetof(struct remote, addr) + 16 == RKEY, "struct remote starts with its key");

/* In-range sockets of one remote from a local address other than its first. */
struct cspill {
	uint32_t group, lid;         /* lid + 1; 0: empty */
	uint32_t n;
};

/* A socket counted toward a pair: its inode, then its owner's pid. */
struct cpsock {
	uint32_t inode;
	int pid;
	uint32_t group;
	uint8_t state;
};

static uint32_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h ^ (h >> 15);
}

/* A table of n empty slots. */
static uint32_t *slots_new(size_t n)
{
	return xcalloc(n, sizeof(uint32_t));
}

static void group_rehash(struct cgroups *g)
{
	size_t i, j, n = g->nslot ? g->nslot * 2 : 1024;

	free(g->slot);
	g->slot = slots_new(n);
	g->nslot = n;
	for (i = 0; i < g->n; i++) {
		for (j = hash_bytes(&g->v[i], RKEY) & (n - 1); g->slot[j]; j = (j + 1) & (n - 1))
			;
		g->slot[j] = (uint32_t)i + 1;
	}
}

static struct remote *group_get(struct cgroups *g, const struct remote *key)
{
	size_t j;

	if ((g->n + 1) * 2 > g->nslot)
		group_rehash(g);
	for (j = hash_bytes(key, RKEY) & (g->nslot - 1); g->slot[j]; j = (j + 1) & (g->nslot - 1))
		if (memcmp(&g->v[g->slot[j] - 1], key, RKEY) == 0)
			return &g->v[g->slot[j] - 1];
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 256;
		g->v = xreallocarray(g->v, g->cap, sizeof(*g->v));
	}
	memset(&g->v[g->n], 0, sizeof(*g->v));
	memcpy(&g->v[g->n], key, RKEY);
	g->slot[j] = (uint32_t)++g->n;
	return &g->v[g->n - 1];
}

/* The local address's id + 1: few, so they are kept once each. */
static uint32_t laddr_id(struct cgroups *g, const struct sock *sk)
{
	uint8_t k[17];
	size_t i, j;

	k[0] = sk->family;
	memcpy(k + 1, sk->src, 16);
	if ((g->n_laddr + 1) * 2 > g->nlslot) {
		size_t n = g->nlslot ? g->nlslot * 2 : 16;

		free(g->lslot);
		g->lslot = slots_new(n);
		g->nlslot = n;
		for (i = 0; i < g->n_laddr; i++) {
			for (j = hash_bytes(g->laddr[i], 17) & (n - 1); g->lslot[j]; j = (j + 1) & (n - 1))
				;
			g->lslot[j] = (uint32_t)i + 1;
		}
	}
	for (j = hash_bytes(k, 17) & (g->nlslot - 1); g->lslot[j]; j = (j + 1) & (g->nlslot - 1))
		if (memcmp(g->laddr[g->lslot[j] - 1], k, 17) == 0)
			return g->lslot[j];
	if ((g->n_laddr & (g->n_laddr - 1)) == 0)
		g->laddr = xreallocarray(g->laddr, g->n_laddr ? g->n_laddr * 2 : 1, sizeof(*g->laddr));
	memcpy(g->laddr[g->n_laddr], k, 17);
	g->lslot[j] = (uint32_t)++g->n_laddr;
	return g->lslot[j];
}

static void spill_add(struct cgroups *g, uint32_t group, uint32_t lid)
{
	uint32_t k[2] = { group, lid };
	size_t i, j;

	if ((g->n_spill + 1) * 2 > g->nspill) {
		struct cspill *old = g->spill;
		size_t n = g->nspill ? g->nspill * 2 : 64, on = g->nspill;

		g->spill = xcalloc(n, sizeof(*g->spill));
		g->nspill = n;
		for (i = 0; i < on; i++) {
			uint32_t ok[2] = { old[i].group, old[i].lid };

			if (!old[i].lid)
				continue;
			for (j = hash_bytes(ok, sizeof(ok)) & (n - 1); g->spill[j].lid; j = (j + 1) & (n - 1))
				;
			g->spill[j] = old[i];
		}
		free(old);
	}
	for (j = hash_bytes(k, sizeof(k)) & (g->nspill - 1); g->spill[j].lid; j = (j + 1) & (g->nspill - 1))
		if (g->spill[j].group == group && g->spill[j].lid == lid)
			break;
	if (!g->spill[j].lid) {
		g->spill[j].group = group;
		g->spill[j].lid = lid;
		g->n_spill++;
	}
	g->spill[j].n++;
}

void cgroups_add(struct cgroups *g, const struct sock *sk, bool inbound, bool inrange)
{
	struct remote key, *r;

	memset(&key, 0, RKEY);
	key.inbound = inbound;
	key.port = inbound ? sk->sport : sk->dport;
	if (!inbound) {
		key.family = sk->family;
		memcpy(key.addr, sk->dst, 16);
	}
	r = group_get(g, &key);
	r->states[sk->state]++;
	r->total++;
	if (inrange && !inbound) {
		uint32_t lid = laddr_id(g, sk);

		if (!r->lid)
			r->lid = lid;
		if (r->lid == lid)
			r->lin++;
		else
			spill_add(g, (uint32_t)(r - g->v), lid);
	}
	if (g->pairs) {
		struct cpsock *p;

		if (g->n_ps == g->cap_ps) {
			g->cap_ps = g->cap_ps ? g->cap_ps * 2 : 256;
			g->ps = xreallocarray(g->ps, g->cap_ps, sizeof(*g->ps));
		}
		p = &g->ps[g->n_ps++];
		p->inode = sk->inode;
		p->pid = 0;
		p->group = (uint32_t)(r - g->v);
		p->state = sk->state;
	}
}

static int cmp_remote(const void *a, const void *b)
{
	const struct remote *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_ps(const void *a, const void *b)
{
	const struct cpsock *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->group < y->group ? -1 : x->group > y->group;
}

/* Owners in the census's order; processes it does not list, and pid 0, last. */
struct prank {
	int pid;
	size_t rank;
};

static int cmp_prank(const void *a, const void *b)
{
	const struct prank *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static const struct census *sort_census;
static struct prank *sort_ranks;

static size_t rank_of(int pid)
{
	struct prank k = { pid, 0 }, *hit;

	if (!pid)
		return SIZE_MAX;
	hit = bsearch(&k, sort_ranks, sort_census->n_owners, sizeof(k), cmp_prank);
	return hit ? hit->rank : SIZE_MAX - 1;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct opair *x = a, *y = b;
	size_t rx = rank_of(x->pid), ry = rank_of(y->pid);

	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->remote < y->remote ? -1 : x->remote > y->remote;
}

static void build_pairs(struct cgroups *g, struct census *c, const uint32_t *map, const uint32_t *inodes,
			const int *pids, size_t n)
{
	struct prank *ranks;
	size_t i, j;

	for (i = 0; i < g->n_ps; i++) {
		struct cpsock *p = &g->ps[i];
		const uint32_t *hit = p->inode && n ? bsearch(&p->inode, inodes, n, sizeof(*inodes), cmp_u32) : NULL;

		p->pid = hit ? pids[hit - inodes] : 0;
		p->group = map[p->group];
	}
	if (g->n_ps)
		qsort(g->ps, g->n_ps, sizeof(*g->ps), cmp_ps);
	for (i = 0; i < g->n_ps; i = j) {
		struct opair *o;

		if ((c->n_pairs & (c->n_pairs - 1)) == 0)
			c->pairs = xreallocarray(c->pairs, c->n_pairs ? c->n_pairs * 2 : 1, sizeof(*c->pairs));
		o = &c->pairs[c->n_pairs++];
		memset(o, 0, sizeof(*o));
		o->pid = g->ps[i].pid;
		o->remote = g->ps[i].group;
		for (j = i; j < g->n_ps && g->ps[j].pid == o->pid && g->ps[j].group == o->remote; j++) {
			o->states[g->ps[j].state]++;
			o->total++;
		}
	}
	ranks = xcalloc(c->n_owners + 1, sizeof(*ranks));
	for (i = 0; i < c->n_owners; i++)
		ranks[i] = (struct prank){ c->owners[i].pid, i };
	qsort(ranks, c->n_owners, sizeof(*ranks), cmp_prank);
	sort_census = c;
	sort_ranks = ranks;
	if (c->n_pairs)
		qsort(c->pairs, c->n_pairs, sizeof(*c->pairs), cmp_pair);
	sort_census = NULL;
	sort_ranks = NULL;
	free(ranks);
}

void cgroups_finish(struct cgroups *g, struct census *c, const uint32_t *inodes, const int *pids, size_t n)
{
	uint32_t *map = NULL;
	size_t i;

	for (i = 0; i < g->n; i++) {
		g->v[i].ports_used = g->v[i].lin;
		g->v[i].lid = (uint32_t)i;       /* from here on: where it was first seen */
	}
	for (i = 0; i < g->nspill; i++)
		if (g->spill[i].lid && g->spill[i].n > g->v[g->spill[i].group].ports_used)
			g->v[g->spill[i].group].ports_used = g->spill[i].n;
	free(g->slot);
	free(g->lslot);
	free(g->laddr);
	free(g->spill);
	g->slot = g->lslot = NULL;
	g->laddr = NULL;
	g->spill = NULL;
	if (g->n)
		qsort(g->v, g->n, sizeof(*g->v), cmp_remote);
	if (g->pairs) {
		map = xcalloc(g->n + 1, sizeof(*map));
		for (i = 0; i < g->n; i++)
			map[g->v[i].lid] = (uint32_t)i;
	}
	for (i = 0; i < g->n; i++)
		g->v[i].lid = g->v[i].lin = 0;
	c->remotes = g->n ? xreallocarray(g->v, g->n, sizeof(*g->v)) : xcalloc(1, sizeof(*c->remotes));
	if (!g->n)
		free(g->v);
	c->n_remotes = g->n;
	g->v = NULL;
	if (g->pairs)
		build_pairs(g, c, map, inodes, pids, n);
	free(map);
	cgroups_free(g);
}

void cgroups_free(struct cgroups *g)
{
	free(g->v);
	free(g->slot);
	free(g->lslot);
	free(g->laddr);
	free(g->spill);
	free(g->ps);
	memset(g, 0, sizeof(*g));
}
