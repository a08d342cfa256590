/* SPDX-License-Identifier: ISC */
/* audit.c: profile x live x boot -> one finding per key. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "audit.h"

const char *audit_status_name(enum audit_status s)
{
	static const char *const names[] = {
		[AUDIT_OK] = "ok",
		[AUDIT_DRIFT] = "drift",
		[AUDIT_BOOT_DRIFT] = "boot-drift",
		[AUDIT_MISSING] = "missing",
		[AUDIT_UNREADABLE] = "unreadable",
		[AUDIT_NOT_IN_NETNS] = "not-in-netns",
		[AUDIT_BOOT_UNKNOWN] = "boot-unknown",
	};
	return names[s];
}

static bool host_wide(const struct catentry *e)
{
	return e && (e->scope == SCOPE_HOST || e->scope == SCOPE_HOST_RO);
}

/*
 * Boot values the kernel computes from something readable now. tcp_sk_init()
 * (net/ipv4/tcp_ipv4.c) sets tcp_max_tw_buckets = ehash entries / 2 and
 * tcp_max_syn_backlog = max(128, entries / 128); the TCP established hash
 * is sized at boot from memory (or thash_entries=), and tcp_ehash_entries
 * shows its size (negative in a netns that shares init_net's:
 * proc_tcp_ehash_entries() in net/ipv4/sysctl_net_ipv4.c). The same memory
 * and command line give the same value at the next boot.
 */
int audit_computed_boot(const struct procsys *ps, const char *key, char **ret_value,
			const char **ret_how)
{
	char *v = NULL;
	long long n;
	bool tw = !strcmp(key, "net.ipv4.tcp_max_tw_buckets");

	*ret_value = NULL;
	*ret_how = NULL;
	if (!ps || (!tw && strcmp(key, "net.ipv4.tcp_max_syn_backlog")))
		return -ENOENT;
	if (procsys_read(ps, "net.ipv4.tcp_ehash_entries", &v) < 0)
		return -ENOENT;
	if (parse_ll(v, &n) < 0 || n == 0) {
		free(v);
		return -ENOENT;
	}
	free(v);
	if (n < 0)
		n = -n;
	if (tw) {
		*ret_value = xasprintf("%lld", n / 2);
		*ret_how = "tcp_ehash_entries / 2";
	} else {
		*ret_value = xasprintf("%lld", n / 128 > 128 ? n / 128 : 128);
		*ret_how = "max(128, tcp_ehash_entries / 128)";
	}
	return 0;
}

static char *source_of(const struct sysctl_assign *a)
{
	return a ? xasprintf("%s:%u", a->file, a->line) : NULL;
}

/*
 * What the key will be after a reboot: the value systemd-sysctl sets, else
 * the kernel's default when the catalogue knows it (a value set only with
 * `sysctl -w` is lost), else unknown.
 */
static void boot_view(struct finding *f, const struct procsys *ps, const struct bootview *bv)
{
	const char *how;
	const struct rule *r = f->rule;
	const struct sysctl_assign *sd = sysctld_find(bv, r->key);
	const struct sysctl_assign *pp = sysctld_find_procps(bv, r->key);

	if (sd) {
		f->boot = xstrdup(sd->value);
		f->boot_source = source_of(sd);
	} else if (r->cat && r->cat->dflt) {
		f->boot = value_normalize(r->cat->dflt);
		f->boot_source = xstrdup("kernel default");
	} else if (audit_computed_boot(ps, r->key, &f->boot, &how) == 0) {
		f->boot_source = xasprintf("computed: %s", how);
	}
	if (pp && (!sd || !value_equal(pp->value, sd->value))) {
		f->procps_boot = xstrdup(pp->value);
		f->procps_source = source_of(pp);
	}
}

static enum audit_status judge(const struct finding *f, bool child_netns)
{
	if (child_netns && host_wide(f->rule->cat))
		return AUDIT_NOT_IN_NETNS;
	if (f->err == -ENOENT)
		return AUDIT_MISSING;
	if (f->err)
		return AUDIT_UNREADABLE;
	if (!rule_check(f->rule, f->live))
		return AUDIT_DRIFT;
	if (f->boot && !rule_check(f->rule, f->boot))
		return AUDIT_BOOT_DRIFT;
	/* `sysctl --system` (procps) reads /etc/sysctl.conf last: whoever runs it gets that value */
	if (f->procps_boot && !rule_check(f->rule, f->procps_boot))
		return AUDIT_BOOT_DRIFT;
	if (!f->boot)
		return AUDIT_BOOT_UNKNOWN;
	return AUDIT_OK;
}

/* One sentence on why a boot-drift or boot-unknown row is what it is. */
static char *reason_of(const struct finding *f)
{
	const struct catentry *e = f->rule->cat;

	if (f->status == AUDIT_BOOT_UNKNOWN)
		return xasprintf("no sysctl.d file sets it and its boot value depends on this kernel%s%s",
				 e && e->dflt_note ? ": " : "", e && e->dflt_note ? e->dflt_note : "");
	if (f->status == AUDIT_DRIFT)
		return xasprintf("live %s, the profile wants %s", f->live, f->expected);
	if (f->status != AUDIT_BOOT_DRIFT)
		return NULL;
	if (f->boot && !rule_check(f->rule, f->boot))
		return xasprintf("%s sets %s at boot", f->boot_source ? f->boot_source : "boot", f->boot);
	return xasprintf("%s sets %s for `sysctl --system` (procps), which reads it after sysctl.d; "
			 "systemd-sysctl does not read it", f->procps_source, f->procps_boot);
}

/* Optional keys the kernel lacks, and host-wide keys seen from a container, are not drift. */
static bool counts_against(const struct finding *f)
{
	switch (f->status) {
	case AUDIT_OK:
	case AUDIT_NOT_IN_NETNS:
		return false;
	case AUDIT_MISSING:
	case AUDIT_BOOT_UNKNOWN:
		return !f->rule->optional;
	default:
		return true;
	}
}

int audit_run(const struct profile *p, const struct procsys *ps, const struct bootview *bv,
	      struct audit *ret)
{
	*ret = (struct audit){ .compliant = true, .child_netns = procsys_in_child_netns(ps) };
	ret->f = xcalloc(p->n_rules, sizeof(*ret->f));
	ret->n = p->n_rules;
	for (size_t i = 0; i < p->n_rules; i++) {
		struct finding *f = &ret->f[i];

		f->rule = &p->rules[i];
		f->expected = rule_describe(f->rule);
		f->err = procsys_read(ps, f->rule->key, &f->live);
		if (f->err)
			f->live = NULL;
		boot_view(f, ps, bv);
		f->status = judge(f, ret->child_netns);
		f->reason = reason_of(f);
		f->compliant = !counts_against(f);
		if (!f->compliant)
			ret->compliant = false;
	}
	return 0;
}

void audit_free(struct audit *a)
{
	for (size_t i = 0; i < a->n; i++) {
		struct finding *f = &a->f[i];
		free(f->expected);
		free(f->live);
		free(f->boot);
		free(f->boot_source);
		free(f->procps_boot);
		free(f->procps_source);
		free(f->reason);
		free(f->fix);
	}
	free(a->f);
	*a = (struct audit){ 0 };
}
