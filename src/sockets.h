/* SPDX-License-Identifier: ISC */
/* sockets.h: TCP sockets by state from sock_diag netlink or /proc/net/tcp{,6}, owners, counters. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "procsys.h"
#include "util.h"

/* Kernel TCP states (include/net/tcp_states.h); index 0 is unused. */
enum {
	TCPS_ESTABLISHED = 1, TCPS_SYN_SENT, TCPS_SYN_RECV, TCPS_FIN_WAIT1, TCPS_FIN_WAIT2,
	TCPS_TIME_WAIT, TCPS_CLOSE, TCPS_CLOSE_WAIT, TCPS_LAST_ACK, TCPS_LISTEN, TCPS_CLOSING,
	TCPS_MAX = 12,
};
#define TCPS_ALL 0xffeu        /* bits 1..11 */

/* "ESTABLISHED" … as netstat prints them; NULL for an unknown state. */
const char *sockets_state_name(int state);
/* netstat ("CLOSE_WAIT") or ss ("close-wait", "syn-recv", "fin-wait-1") names; -EINVAL. */
int sockets_state_parse(const char *name);

/* One socket as the parsers see it. Addresses are in network order. */
struct sock {
	uint8_t family;          /* AF_INET or AF_INET6 */
	uint8_t state;           /* TCPS_*; NEW_SYN_RECV is reported as SYN_RECV */
	uint8_t timer;           /* idiag_timer: 3 marks a timewait mini-socket */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;   /* host order */
	uint32_t inode;          /* 0: no file (TIME_WAIT, orphans, request socks) */
	uint32_t uid;
	uint32_t rqueue, wqueue; /* LISTEN: accept queue length and backlog */
	int64_t idle_ms;         /* since the peer last sent anything; -1 unknown */
	int64_t expires_ms;      /* left on the socket's timer (TIME_WAIT: its end); -1 none */
};

/* Called for every socket; a non-zero return stops the walk and is returned. */
typedef int (*sockets_visit_fn)(const struct sock *sk, void *data);

/*
 * Parse one buffer of netlink messages (a recv() of a sock_diag dump).
 * Pure: bytes in, sockets out. Returns 0 when more messages are expected,
 * 1 after NLMSG_DONE, the negative errno of an NLMSG_ERROR, -EBADMSG for a
 * malformed message, or what visit returned.
 */
int sockets_parse_nl(const void *buf, size_t len, sockets_visit_fn visit, void *data);
/*
 * Parse one line of /proc/net/tcp or tcp6 (family AF_INET or AF_INET6).
 * 0, or -EINVAL for a header, truncated or malformed line.
 */
int sockets_parse_proc_line(const char *line, int family, struct sock *ret);

enum sockets_source { SRC_AUTO, SRC_NETLINK, SRC_PROC, SRC_REPLAY };

struct sockets_query {
	uint32_t states;          /* 1 << TCPS_*; 0 means all */
	int family;               /* AF_UNSPEC (both), AF_INET, AF_INET6 */
	bool info;                /* ask INET_DIAG_INFO (idle times) */
	enum sockets_source source;   /* AUTO: netlink, /proc when netlink is refused */
	const char *replay;       /* SRC_REPLAY: file of raw netlink replies */
	const char *record;       /* netlink: also append every reply to this file */
};

/*
 * Walk the sockets matching q; rootfd is used for /proc/net. *ret_used says
 * which source answered. 0 or -errno with a message in m (may be NULL).
 */
int sockets_walk(int rootfd, const struct sockets_query *q, sockets_visit_fn visit, void *data,
		 enum sockets_source *ret_used, struct msgs *m);
const char *sockets_source_name(enum sockets_source s);
/*
 * The environment's say, as iproute2's TCPDIAG_FILE: TCPTUNE_DIAG_FILE
 * (replay), TCPTUNE_DIAG_RECORD (record), TCPTUNE_SOCKETS_SOURCE
 * (auto|netlink|proc). AUTO below a --root other than "/" means /proc
 * there: netlink would see the running kernel, not the root. -EINVAL for a
 * bad TCPTUNE_SOCKETS_SOURCE.
 */
int sockets_query_env(struct sockets_query *q, const char *root);
/* "auto", "netlink", "proc": 0 or -EINVAL. */
int sockets_source_parse(const char *name, enum sockets_source *ret);

/* /proc/net/sockstat{,6}: -1 where a counter is missing. */
struct sockstat {
	long long inuse4, inuse6, orphan, tw, alloc, mem;
};
int sockets_read_sockstat(int rootfd, struct sockstat *ret);

/* /proc/net/netstat TcpExt and /proc/net/snmp Tcp counters, by name. */
struct netstat {
	char **names;
	long long *values;
	size_t n;
};
int sockets_read_netstat(int rootfd, struct netstat *ret);
/* -1 when the counter is missing. */
long long sockets_netstat_get(const struct netstat *ns, const char *name);
void sockets_netstat_free(struct netstat *ns);

/* The usable ephemeral range: ip_local_port_range minus ip_local_reserved_ports. */
struct portrange {
	unsigned low, high;
	unsigned usable;
	unsigned reserved;        /* reserved ports inside the range */
};
int sockets_port_range(const struct procsys *ps, struct portrange *ret);
/* Parse "1,2-5,9" (ip_local_reserved_ports) and count the ports in [low, high]. */
int sockets_count_reserved(const char *text, unsigned low, unsigned high, unsigned *ret);

/* --- aggregated views ---------------------------------------------------- */

struct owner {
	int pid;
	char *comm;                         /* raw, escape before printing */
	unsigned long long states[TCPS_MAX];
	long long close_wait_idle_ms;       /* oldest CLOSE_WAIT by idle time; -1 unknown */
};

/* 80 bytes: 200k remotes fit in 16 MB. The key (family … addr) comes first. */
struct remote {
	uint8_t family;
	bool inbound;                       /* every client of local port `port`; addr is zero */
	uint16_t port;
	uint8_t addr[16];
	uint32_t states[TCPS_MAX];
	uint32_t total;
	uint32_t ports_used;                /* max over local addresses: local ports in the ephemeral range */
	uint32_t lid, lin;                  /* census_group.c's, while counting */
};

/* Sockets of one process toward one remote (--by owner,remote). */
struct opair {
	int pid;                            /* 0: no readable process holds them */
	uint32_t remote;                    /* index into census.remotes */
	uint32_t states[TCPS_MAX];
	uint32_t total;
};

struct lport {
	uint16_t port;
	unsigned long long states[TCPS_MAX];
	unsigned long long total;
};

/* A listener whose accept queue is full right now (netlink only). */
struct listener {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	uint32_t queued, backlog;
};

/* Sockets no process holds, as rows of their own beside the owners. */
enum ownerless_kind {
	OWNERLESS_ACCEPTQ,       /* not accepted yet: in the queue of a listener (pid) */
	OWNERLESS_ORPHAN,        /* closed by the process, still in FIN_WAIT1/2, LAST_ACK, … */
	OWNERLESS_TIME_WAIT,
	OWNERLESS_UNREADABLE,    /* a file, but no process this user can read holds it */
};

struct ownerless {
	enum ownerless_kind kind;
	int pid;                            /* OWNERLESS_ACCEPTQ: the listener's process, 0 unknown */
	unsigned long long states[TCPS_MAX];
	unsigned long long total;
};

struct census_query {
	struct sockets_query q;
	bool owners, remotes, lports;       /* which groupings to build */
	bool pairs;                         /* owner × remote (with owners and remotes) */
	bool exact;                         /* never use the counters shortcut */
	struct portrange range;             /* for remotes' ports_used; low 0 = unknown */
};

struct census {
	unsigned long long states[TCPS_MAX];
	unsigned long long total;
	bool from_counters;                 /* ESTABLISHED and TIME_WAIT from /proc/net/sockstat */
	enum sockets_source source;
	struct owner *owners;               /* sorted by total, descending */
	size_t n_owners;
	unsigned long long unowned;         /* sockets with an inode no readable process holds */
	struct ownerless *ownerless;        /* with owners: the rest, by kind (and listener) */
	size_t n_ownerless;
	unsigned procs_denied, procs_vanished;
	struct remote *remotes;             /* sorted by total, descending */
	size_t n_remotes;
	struct opair *pairs;                /* in owners' order, then by total; pid 0 last */
	size_t n_pairs;
	struct lport *lports;
	size_t n_lports;
	struct listener *full_listeners;
	size_t n_full_listeners;
};

/*
 * Count sockets by state and build the asked-for groupings. With no
 * family and state filter, no groupings and !exact, the netlink path takes
 * ESTABLISHED and TIME_WAIT from /proc/net/sockstat and dumps the rest.
 */
int census_run(int rootfd, const struct census_query *cq, struct census *ret, struct msgs *m);
void census_free(struct census *c);
unsigned long long census_owner_total(const struct owner *o);
/* "orphaned, no process", "in accept queue of PID 12", …: buf at least 64 bytes. */
char *census_ownerless_name(const struct ownerless *w, char *buf, size_t len);

/*
 * Map socket inodes to processes by reading <root>/proc/PID/fd, stopping
 * when every inode is found. inodes sorted ascending and unique; ret_pid[i]
 * is 0 when no readable process holds inodes[i]. Processes running as one
 * of uids (the sockets' owners, may be NULL) are read first. Processes that
 * vanish or deny access are counted, not fatal.
 */
int sockets_owners(int rootfd, const uint32_t *inodes, size_t n, const uint32_t *uids, size_t n_uids,
		   int *ret_pid, unsigned *ret_denied, unsigned *ret_vanished);
/* <root>/proc/PID/comm without the newline, raw (escape it); NULL if gone. */
char *sockets_comm(int rootfd, int pid);

/* "1.2.3.4:80" or "[::1]:80". buf at least 64 bytes. */
char *sockets_addr_str(int family, const uint8_t *addr, uint16_t port, char *buf, size_t len);
