/* SPDX-License-Identifier: ISC */
/* doctor_rules.h: what doctor's rule files share; not for the commands. */
#pragma once
#include <stdbool.h>
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
/* The share of usable ports one destination holds that `tcptune sockets` marks. */
#define PORTS_SHARE_WARN 0.5
#define PORTS_SHARE_CRIT 0.8
#define TW_LEN_S 60
/* CLOSE_WAIT: growth between looks, a pile that lasts, and its age. */
#define CW_GROW_MIN 2
#define CW_STUCK_MIN 5
#define CW_STUCK_AGE_S 60
#define CW_ETA_CRIT_S 3600

/* A finding with its machine fields unset; the texts are taken over. */
struct dfinding *doctor_add(struct doctor *d, const char *id, enum severity sev, char *summary,
			    char *evidence, char *fix);
/* Appends to a growing string (NULL to start). */
void doctor_cat(char **s, const char *fmt, ...) TT_PRINTF(2, 3);
/* "2h11m", "3m00s", "42s". */
char *doctor_duration(long long s, char *buf, size_t len);
/* Seconds between the looks; 0 with one. */
double doctor_interval(const struct sample *first, const struct sample *last);

/* doctor_cw.c: CLOSE_WAIT judged per process over the looks. */
void doctor_cw_run(const struct sample *first, const struct sample *last, struct doctor *d);
/* doctor_ports.c: ephemeral port capacity per destination, or TIME_WAIT as info. */
void doctor_ports_run(const struct sample *first, const struct sample *last, const struct tcpenv *e,
		      struct doctor *d);
