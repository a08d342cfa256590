/* SPDX-License-Identifier: ISC */
/* sample.h: one look at a host's TCP sockets and counters, for doctor's rules to compare two. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sockets.h"

/* One socket of a look; pid only for CLOSE_WAIT and LISTEN sockets. */
struct ssock {
	uint8_t family, state;
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
	uint32_t inode, uid, rqueue, wqueue;
	int64_t idle_ms;          /* -1 unknown */
	int64_t expires_ms;       /* -1 none */
	int pid;                  /* 0: not looked up or not found */
};

/* A process that holds a CLOSE_WAIT or LISTEN socket. */
struct sproc {
	int pid;
	char *comm;               /* raw: escape before printing; "?" when gone */
	long long fds;            /* open file descriptors; -1 unknown */
	long long tcp;            /* of which TCP sockets of this look; -1 unknown */
	long long fd_limit;       /* RLIMIT_NOFILE soft limit; -1 unknown or unlimited */
};

struct sample {
	double t;                 /* CLOCK_MONOTONIC, seconds */
	struct ssock *s;
	size_t n;
	unsigned long long states[TCPS_MAX], total;
	struct sproc *procs;      /* sorted by pid */
	size_t n_procs;
	unsigned procs_denied, procs_vanished;
	struct netstat ns;        /* TcpExt and Tcp counters; empty when unreadable */
	enum sockets_source source;
};

/*
 * Dump every TCP socket matching q's family and source (with
 * INET_DIAG_INFO), read the counters, and find the processes behind the
 * CLOSE_WAIT and LISTEN sockets. 0 or -errno with err filled.
 */
int sample_take(int rootfd, const struct sockets_query *q, struct sample *ret, struct msgs *m);
void sample_free(struct sample *s);
/* The process pid of s, or NULL. */
const struct sproc *sample_proc(const struct sample *s, int pid);
/* Open fds and the RLIMIT_NOFILE soft limit of pid below rootfd's proc; -1 where unknown. */
void sample_fd_limit(int rootfd, int pid, long long *ret_fds, long long *ret_limit);
