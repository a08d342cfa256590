/* SPDX-License-Identifier: ISC */
/* audit.c: profile x live x boot -> one finding per key. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "apply.h"
#include "audit.h"
#include "bootcalc.h"
#include "catalogue.h"

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

int audit_computed_boot(const struct procsys *ps, const char *key, char **ret_value,
			const char **ret_how)
{
	struct bootcalc b;

	*ret_value = NULL;
	*ret_how = NULL;
	if (bootcalc_run(ps, key, &b) < 0)
		return -ENOENT;
	/*
	 * An estimate is unknown to apply: it pins the rule's bound (or
	 * nothing, for an optional rule), so the fragment never depends on
	 * which end of the window this boot lands on, and audit agrees after.
	 */
	if (b.estimate) {
		bootcalc_free(&b);
		return -ENOENT;
	}
	*ret_value = b.value;
	*ret_how = b.how;
	b.value = NULL;
	bootcalc_free(&b);
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
	struct bootcalc bc;
	const struct rule *r = f->rule;
	const struct sysctl_assign *sd = sysctld_find(bv, r->key);
	const struct sysctl_assign *pp = sysctld_find_procps(bv, r->key);

	if (sd) {
		f->boot = xstrdup(sd->value);
		f->boot_source = source_of(sd);
	} else if (bootcalc_run(ps, r->key, &bc) == 0) {
		/* the kernel's own formula beats a catalogue default that assumes a memory size */
		f->boot = bc.value;
		bc.value = NULL;
		if (bc.estimate) {
			f->boot_source = xasprintf("computed within %d%%: %s", BOOTCALC_TOLERANCE_PCT, bc.how);
			f->boot_lo = bc.lo;
			f->boot_hi = bc.hi;
			bc.lo = bc.hi = NULL;
		} else {
			f->boot_source = xasprintf("computed: %s", bc.how);
		}
		bootcalc_free(&bc);
	} else if (r->cat && r->cat->dflt) {
		f->boot = value_normalize(r->cat->dflt);
		f->boot_source = xstrdup("kernel default");
	}
	if (pp && (!sd || !value_equal(pp->value, sd->value))) {
		f->procps_boot = xstrdup(pp->value);
		f->procps_source = source_of(pp);
	}
}

/* v lies between lo and hi, element by element (numbers only). */
static bool within(const char *v, const char *lo, const char *hi)
{
	char **a = NULL, **l = NULL, **h = NULL;
	size_t n = value_split(v, &a), nl = value_split(lo, &l), nh = value_split(hi, &h);
	bool in = n == nl && n == nh;

	for (size_t i = 0; in && i < n; i++) {
		long long x, y, z;

		in = parse_ll(a[i], &x) == 0 && parse_ll(l[i], &y) == 0 && parse_ll(h[i], &z) == 0 &&
		     y <= x && x <= z;
	}
	strv_free(a, n);
	strv_free(l, nl);
	strv_free(h, nh);
	return in;
}

/*
 * A boot value known only to lie between lo and hi: 1 when every value
 * there passes the rule, -1 when none does, 0 when it depends where.
 * min and max are monotone, so the ends decide them.
 */
static int range_verdict(const struct rule *r, const char *lo, const char *hi)
{
	bool a = rule_check(r, lo), b = rule_check(r, hi);

	if (value_equal(lo, hi))
		return a ? 1 : -1;
	if (r->value)
		return within(r->value, lo, hi) ? 0 : -1;
	for (size_t i = 0; i < r->n_one_of; i++)
		if (within(r->one_of[i], lo, hi))
			return 0;
	if (r->n_one_of)
		return -1;
	if (r->covers)
		return 0;
	if (a && b)
		return 1;
	if (r->min && !r->max && !b)
		return -1;
	if (r->max && !r->min && !a)
		return -1;
	return 0;
}

static enum audit_status judge(const struct finding *f, bool child_netns)
{
	int range = f->boot_lo ? range_verdict(f->rule, f->boot_lo, f->boot_hi) : 1;

	if (child_netns && host_wide(f->rule->cat))
		return AUDIT_NOT_IN_NETNS;
	if (f->err == -ENOENT)
		return AUDIT_MISSING;
	if (f->err)
		return AUDIT_UNREADABLE;
	if (!rule_check(f->rule, f->live))
		return AUDIT_DRIFT;
	if (f->boot_lo ? range < 0 : f->boot && !rule_check(f->rule, f->boot))
		return AUDIT_BOOT_DRIFT;
	/* `sysctl --system` (procps) reads /etc/sysctl.conf last: whoever runs it gets that value */
	if (f->procps_boot && !rule_check(f->rule, f->procps_boot))
		return AUDIT_BOOT_DRIFT;
	if (!f->boot || range == 0)
		return AUDIT_BOOT_UNKNOWN;
	return AUDIT_OK;
}

/* The formula part of a "computed ...: FORMULA" boot source. */
static const char *formula_of(const struct finding *f)
{
	const char *p = strstr(f->boot_source, ": ");

	return p ? p + 2 : f->boot_source;
}

/* One sentence on why a boot-drift or boot-unknown row is what it is. */
static char *reason_of(const struct finding *f)
{
	const struct catentry *e = f->rule->cat;

	if (f->status == AUDIT_BOOT_UNKNOWN && f->boot_lo)
		return xasprintf("no sysctl.d file sets it and the kernel computes it at boot (%s) from the "
				 "free memory then, which is known only within %d%% of MemTotal: %s to %s "
				 "here, and the rule's bound lies in between", formula_of(f),
				 BOOTCALC_TOLERANCE_PCT, f->boot_lo, f->boot_hi);
	if (f->status == AUDIT_BOOT_UNKNOWN)
		return xasprintf("no sysctl.d file sets it and its boot value depends on this kernel%s%s",
				 e && e->dflt_note ? ": " : "", e && e->dflt_note ? e->dflt_note : "");
	if (f->status == AUDIT_DRIFT)
		return xasprintf("live %s, the profile wants %s", f->live, f->expected);
	if (f->status != AUDIT_BOOT_DRIFT)
		return NULL;
	if (f->boot_lo && range_verdict(f->rule, f->boot_lo, f->boot_hi) < 0)
		return xasprintf("the kernel computes %s to %s at boot (%s), and none of it passes",
				 f->boot_lo, f->boot_hi, formula_of(f));
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

void audit_run(const struct profile *p, const struct procsys *ps, const struct bootview *bv,
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
}

static bool rule_named(const struct profile *p, const char *key)
{
	for (size_t i = 0; i < p->n_rules; i++)
		if (!strcmp(p->rules[i].key, key))
			return true;
	return false;
}

/* When the journal was last written, as the admin reads it; or NULL. */
static char *journal_time(int rootfd)
{
	struct stat st;
	struct tm tm;
	char buf[64];

	if (fstatat(rootfd, TT_JOURNAL_PATH + 1, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !gmtime_r(&st.st_mtime, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm))
		return NULL;
	return xstrdup(buf);
}

/*
 * One stale key: its finding in f, whose rule r (the key's boot value, or
 * the value before tcptune when the boot value is unknown) it points to.
 * false when the live value is what the next boot sets, or (boot unknown)
 * what it was before tcptune: nothing to say then.
 */
static bool stale_finding(struct finding *f, struct rule *r, const struct apply_orig *o,
			  const struct procsys *ps, const struct bootview *bv, const char *when)
{
	bool differs;

	*r = (struct rule){ .key = xstrdup(o->key), .cat = catalogue_find(o->key),
			    .file = xstrdup(TT_JOURNAL_PATH) };
	*f = (struct finding){ .rule = r, .stale = true, .original = value_normalize(o->value) };
	if (procsys_read(ps, o->key, &f->live) < 0)
		return false;
	boot_view(f, ps, bv);
	if (f->boot_lo)
		differs = !within(f->live, f->boot_lo, f->boot_hi);
	else
		differs = f->boot && !value_equal(f->live, f->boot);
	if (differs) {
		f->status = AUDIT_BOOT_DRIFT;
		f->reason = xasprintf("set by tcptune apply (the last one at %s), no profile names it now: "
				      "live %s, the next boot sets %s%s%s (%s)", when, f->live,
				      f->boot_lo ? f->boot_lo : f->boot, f->boot_lo ? " to " : "",
				      f->boot_lo ? f->boot_hi : "", f->boot_source);
	} else if ((!f->boot || f->boot_lo) && !value_equal(f->live, f->original)) {
		f->status = AUDIT_BOOT_UNKNOWN;
		f->reason = xasprintf("set by tcptune apply (the last one at %s), no profile names it now: "
				      "live %s, %s before tcptune first set it, and what the next boot "
				      "sets is not known", when, f->live, f->original);
	} else {
		return false;
	}
	r->value = xstrdup(f->boot && !f->boot_lo ? f->boot : f->original);
	f->expected = rule_describe(r);
	return true;
}

static void finding_free(struct finding *f)
{
	free(f->expected);
	free(f->live);
	free(f->boot);
	free(f->boot_source);
	free(f->boot_lo);
	free(f->boot_hi);
	free(f->procps_boot);
	free(f->procps_source);
	free(f->reason);
	free(f->fix);
	free(f->original);
}

static void stale_rule_free(struct rule *r)
{
	free(r->key);
	free(r->value);
	free(r->file);
}

int audit_stale(struct audit *a, int rootfd, const struct profile *p, const struct procsys *ps,
		const struct bootview *bv)
{
	struct apply_last last = { 0 };
	char *when;
	struct finding *add;
	size_t n = 0;
	int r;

	r = apply_last_read(rootfd, &last, NULL);
	if (r < 0 || a->stale_rules || !last.here ||
	    (last.state != APPLY_STATE_COMPLETE && last.state != APPLY_STATE_ROLLED_BACK) ||
	    !last.n_originals) {
		apply_last_free(&last);
		return r < 0 ? r : 0;
	}
	when = journal_time(rootfd);
	a->stale_rules = xcalloc(last.n_originals, sizeof(*a->stale_rules));
	add = xcalloc(last.n_originals, sizeof(*add));
	for (size_t i = 0; i < last.n_originals; i++) {
		const struct apply_orig *o = &last.originals[i];
		struct rule *sr = &a->stale_rules[a->n_stale];

		if (rule_named(p, o->key) || (a->child_netns && host_wide(catalogue_find(o->key))))
			continue;
		if (!stale_finding(&add[n], sr, o, ps, bv, when ? when : "an unknown time")) {
			finding_free(&add[n]);
			stale_rule_free(sr);
			continue;
		}
		a->n_stale++;
		n++;
	}
	if (n) {
		a->f = xreallocarray(a->f, a->n + n, sizeof(*a->f));
		memcpy(a->f + a->n, add, n * sizeof(*add));
		a->n += n;
		a->compliant = false;
	}
	free(add);
	free(when);
	apply_last_free(&last);
	return 0;
}

void audit_free(struct audit *a)
{
	for (size_t i = 0; i < a->n; i++)
		finding_free(&a->f[i]);
	for (size_t i = 0; i < a->n_stale; i++)
		stale_rule_free(&a->stale_rules[i]);
	free(a->stale_rules);
	free(a->f);
	*a = (struct audit){ 0 };
}
