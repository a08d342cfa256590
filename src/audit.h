/* SPDX-License-Identifier: ISC */
/* audit.h: profile x live x boot -> one finding per key. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "profile.h"
#include "procsys.h"
#include "sysctld.h"

enum audit_status {
	AUDIT_OK,
	AUDIT_DRIFT,          /* live breaks the rule */
	AUDIT_BOOT_DRIFT,     /* live is fine, boot would break it */
	AUDIT_MISSING,        /* the kernel lacks the key */
	AUDIT_UNREADABLE,
	AUDIT_NOT_IN_NETNS,   /* host-wide key seen from a child netns */
	AUDIT_BOOT_UNKNOWN,   /* live is fine, the kernel computes the boot value: not modelled */
};

struct finding {
	const struct rule *rule;
	char *expected;        /* rule_describe() */
	char *live;            /* NULL when missing or unreadable */
	char *boot;            /* what boot will set: sysctl.d winner, else kernel default; NULL unknown */
	char *boot_source;     /* "file:line", "kernel default", "computed: ...", or NULL */
	char *boot_lo, *boot_hi; /* a computed boot value known only within a tolerance; or NULL */
	char *procps_boot;     /* set only where `sysctl --system` ends elsewhere */
	char *procps_source;
	enum audit_status status;
	bool compliant;        /* the status passes: ok, not-in-netns, or optional and missing or boot-unknown */
	int err;               /* errno behind missing / unreadable */
	char *reason;          /* why the status, for boot-drift and boot-unknown; or NULL */
	char *fix;             /* what to run or edit to turn it ok (filled by the caller); or NULL */
	bool stale;            /* a key an earlier apply set that no profile names now (audit_stale()) */
	char *original;        /* stale: its value before tcptune first set it */
};

struct audit {
	struct finding *f;
	size_t n;
	bool compliant;        /* every non-optional finding is ok */
	bool child_netns;
	struct rule *stale_rules; /* what the stale findings point to: their boot value, exactly */
	size_t n_stale;
};

/*
 * One finding per rule of p. Nothing here fails: a key that cannot be read
 * is a finding (unreadable, missing), not an error, so there is no return.
 */
void audit_run(const struct profile *p, const struct procsys *ps, const struct bootview *bv,
	       struct audit *ret);
/*
 * Keys an earlier apply in this network namespace set (the journal's
 * "originals") that no rule of p names: one more finding, not compliant,
 * for each whose live value differs from its boot value (boot-drift), or
 * whose boot value is unknown and whose live value is not the one from
 * before tcptune (boot-unknown). Keys that match add nothing. 0 or -errno
 * from reading the journal (a finding-free audit then).
 */
int audit_stale(struct audit *a, int rootfd, const struct profile *p, const struct procsys *ps,
		const struct bootview *bv);
void audit_free(struct audit *a);
/*
 * The boot value of a key the kernel computes at boot from something that
 * can be read now (bootcalc.c: the TCP hash size, MemTotal): 0 with the
 * value and how it was computed, or -ENOENT (also where the input is known
 * only within a tolerance).
 */
int audit_computed_boot(const struct procsys *ps, const char *key, char **ret_value,
			const char **ret_how);
const char *audit_status_name(enum audit_status s);
