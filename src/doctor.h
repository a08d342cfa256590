/* doctor.h: rules that turn socket counts and settings into findings with evidence and a fix. */
#pragma once
#include <stddef.h>
#include "audit.h"
#include "procsys.h"
#include "sockets.h"

enum severity { SEV_INFO, SEV_WARNING, SEV_CRITICAL };

struct dfinding {
	char *id;            /* stable: "close-wait-leak", "tw-port-exhaustion", … */
	enum severity severity;
	char *summary;       /* one line */
	char *evidence;      /* the numbers behind it */
	char *fix;           /* what to do, in order */
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
	bool child_netns;                /* host-wide keys are hidden */
};

/* Read /proc/net counters and /proc/sys settings; missing ones stay -1. */
void doctor_env_read(int rootfd, const struct procsys *ps, struct tcpenv *ret);
void doctor_env_free(struct tcpenv *e);

/*
 * The rules. c should come from census_run with owners for CLOSE_WAIT and
 * remotes (with e->range) for TIME_WAIT pressure; a may be NULL (no
 * profile given).
 */
void doctor_run(const struct census *c, const struct tcpenv *e, const struct audit *a,
		struct doctor *ret);
void doctor_free(struct doctor *d);
const char *doctor_severity_name(enum severity s);
/* The worst severity, or -1 when there are no findings. */
int doctor_worst(const struct doctor *d);
