/* SPDX-License-Identifier: ISC */
/* doctor.h: rules that turn socket counts and settings into findings with evidence and a fix. */
#pragma once
#include <stddef.h>
#include "audit.h"
#include "procsys.h"
#include "sample.h"
#include "sockets.h"

enum severity { SEV_INFO, SEV_WARNING, SEV_CRITICAL };

struct dfinding {
	char *id;            /* stable: "close-wait-leak", "tw-port-exhaustion", … */
	enum severity severity;
	char *summary;       /* one line */
	char *evidence;      /* the numbers behind it */
	char *fix;           /* what to do, in order */
	/* machine fields, for -o json: -1, NULL or NAN where they do not apply */
	int pid;             /* 0: none */
	char *comm;          /* raw: escape before printing */
	long long uid;
	char *remote;        /* "127.0.0.1:8888" */
	long long count, fds, fd_limit;
	double oldest_s, rate_per_min, eta_s, capacity_per_s, headroom_pct;
};

struct doctor {
	struct dfinding *f;  /* sorted: critical first */
	size_t n;
};

/* Settings and kernel counters the rules look at; -1 where unknown. */
struct tcpenv {
	struct sockstat ss;
	struct netstat ns;
	struct portrange range;          /* low 0: unknown */
	long long max_tw_buckets, max_orphans, somaxconn, max_syn_backlog;
	long long keepalive_time, keepalive_intvl, keepalive_probes;
	long long tw_reuse, timestamps, fin_timeout;
	long long tw_reuse_delay_ms;     /* -1 before Linux 6.14: 1000 then */
	bool child_netns;                /* host-wide keys are hidden */
};

/* Read /proc/net counters and /proc/sys settings; missing ones stay -1. */
void doctor_env_read(int rootfd, const struct procsys *ps, struct tcpenv *ret);
void doctor_env_free(struct tcpenv *e);

/*
 * The rules, on two looks at the sockets: first (NULL with --once) and
 * last, taken later. Verdicts that need a rate (growth, connect rate,
 * counters) are made only with both. a may be NULL (no profile given).
 */
void doctor_run(const struct sample *first, const struct sample *last, const struct tcpenv *e,
		const struct audit *a, struct doctor *ret);
void doctor_free(struct doctor *d);
const char *doctor_severity_name(enum severity s);
/* The worst severity, or -1 when there are no findings. */
int doctor_worst(const struct doctor *d);

/* doctor_note.c, for `tcptune sockets`: could one look find a pile-up at these counts? */
bool doctor_note_worth(const unsigned long long *states, unsigned long long total, const struct tcpenv *e);
/* The worst port exhaustion or CLOSE_WAIT leak above info, or NULL; *ret_more counts the others. */
const struct dfinding *doctor_note_pick(const struct doctor *d, size_t *ret_more);
/* How full one destination's share of the usable ephemeral ports is: info, warning or critical. */
enum severity doctor_note_ports(unsigned used, unsigned usable);
