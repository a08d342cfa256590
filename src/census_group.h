/* SPDX-License-Identifier: ISC */
/* census_group.h: the census's remotes and owner × remote pairs, counted in compact hash tables. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sockets.h"

/*
 * Remotes being counted: a dense array of struct remote (80 bytes) in the
 * order first seen, found through a table of 4-byte slots. The local
 * addresses that ports_used needs are interned; a remote reached from a
 * second local address spills into a side table, rare in practice.
 */
struct cgroups {
	struct remote *v;
	size_t n, cap;
	uint32_t *slot;              /* index + 1; 0 empty */
	size_t nslot;
	uint8_t (*laddr)[17];        /* family and address, interned */
	size_t n_laddr;
	uint32_t *lslot;
	size_t nlslot;
	struct cspill *spill;
	size_t n_spill, nspill;
	/* owner × remote: the owned sockets, resolved once the owners are known */
	bool pairs;
	struct cpsock *ps;
	size_t n_ps, cap_ps;
};

/*
 * Count sk toward its remote (inbound: the listening local port). inrange:
 * its local port is in the ephemeral range (counts toward ports_used).
 */
void cgroups_add(struct cgroups *g, const struct sock *sk, bool inbound, bool inrange);
/*
 * Hand the remotes, sorted by total descending, to c; with g->pairs, also
 * the owner × remote pairs from the sockets' owners (inodes sorted, pids
 * parallel, 0 for none). Frees g.
 */
void cgroups_finish(struct cgroups *g, struct census *c, const uint32_t *inodes, const int *pids, size_t n);
void cgroups_free(struct cgroups *g);
