/* SPDX-License-Identifier: ISC */
/* cmd_audit.c: the audit command: wiring, and one walk of the findings for the writer. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "apply.h"
#include "audit.h"
#include "netns.h"
#include "catalogue.h"
#include "report.h"
#include "remedy.h"
#include "sysctld.h"
#include "tcptune.h"

static enum style status_style(enum audit_status s)
{
	switch (s) {
	case AUDIT_OK:
		return STYLE_GOOD;
	case AUDIT_BOOT_DRIFT:
	case AUDIT_BOOT_UNKNOWN:
	case AUDIT_NOT_IN_NETNS:
	case AUDIT_MISSING:
		return STYLE_WARN;
	default:
		return STYLE_BAD;
	}
}

static const char *rule_kind(const struct rule *r)
{
	if (r->value)
		return "exact";
	if (r->n_one_of)
		return "one_of";
	if (r->covers)
		return "covers";
	if (r->min && r->max)
		return "range";
	return r->min ? "min" : "max";
}

/* On a terminal the rows that need a step come first. */
static int status_rank(enum audit_status s)
{
	return s == AUDIT_DRIFT || s == AUDIT_UNREADABLE ? 0 : s == AUDIT_OK ? 2 : 1;
}

static enum report_type unit_of(const char *key)
{
	enum cat_unit u = catalogue_unit(key);

	return u == UNIT_BYTES ? REPORT_BYTES : u == UNIT_SECONDS ? REPORT_SECONDS : REPORT_STRING;
}

/* One row per key: the table, the "keys" array and tcptune_key_compliant come from this walk. */
static void audit_keys(struct report *out, const struct opts *o, const struct profile *p,
		       const struct audit *a, bool text)
{
	static const struct report_col cols[] = {
		{ "KEY", "key", "key", REPORT_STRING, REPORT_WRAP },
		{ NULL, "rule", NULL, REPORT_STRING, 0 },
		{ "EXPECTED", "expected", NULL, REPORT_STRING, REPORT_WRAP },
		{ "LIVE", "live", NULL, REPORT_STRING, REPORT_WRAP },
		{ "BOOT", "boot", NULL, REPORT_STRING, REPORT_WRAP },
		{ "BOOT SOURCE", "boot_source", NULL, REPORT_PATH, 0 },
		{ "STATUS", "status", "status", REPORT_STRING, 0 },
		{ NULL, "compliant", NULL, REPORT_BOOL, REPORT_PROM_VALUE },
		{ NULL, "optional", NULL, REPORT_BOOL, 0 },
		{ NULL, "profile", NULL, REPORT_STRING, 0 },
		{ NULL, "rule_source", NULL, REPORT_STRING, 0 },
		{ NULL, "note", NULL, REPORT_STRING, 0 },
		{ NULL, "scope", NULL, REPORT_STRING, REPORT_OMIT_NULL },
		{ NULL, "reason", NULL, REPORT_STRING, REPORT_OMIT_NULL },
		{ NULL, "fix", NULL, REPORT_STRING, REPORT_OMIT_NULL },
		{ NULL, "stale", NULL, REPORT_BOOL, REPORT_OMIT_NULL },
		{ NULL, "original", NULL, REPORT_STRING, REPORT_OMIT_NULL },
		{ NULL, "procps_boot", NULL, REPORT_STRING, REPORT_OMIT_NULL },
		{ NULL, "procps_boot_source", NULL, REPORT_STRING, REPORT_OMIT_NULL },
	};
	char *names = xstrdup("");

	for (size_t i = 0; i < p->n_names; i++) {
		char *n = xasprintf("%s%s%s", names, i ? "," : "", p->names[i]);
		free(names);
		names = n;
	}
	report_table_begin(out, "keys", cols, sizeof(cols) / sizeof(cols[0]));
	report_table_text(out, text);
	report_table_metric(out, "tcptune_key_compliant",
			    "1 when the key satisfies the profile live and at boot, else 0.");
	report_table_label(out, 1, "profile", names);
	for (size_t i = 0; i < a->n; i++) {
		const struct finding *f = &a->f[i];
		enum report_type unit = unit_of(f->rule->key);
		char *src = xasprintf("%s:%u", f->rule->file, f->rule->line);

		report_row(out, status_rank(f->status), o->quiet && f->status == AUDIT_OK);
		report_cell_str(out, STYLE_PLAIN, f->rule->key);
		report_cell_str(out, STYLE_PLAIN, rule_kind(f->rule));
		report_cell_str(out, STYLE_PLAIN, f->expected);
		report_cell_units(out, f->status == AUDIT_DRIFT ? STYLE_BAD : STYLE_PLAIN, unit, f->live, f->live);
		report_cell_units(out, f->status == AUDIT_BOOT_DRIFT ? STYLE_WARN : STYLE_PLAIN, unit, f->boot,
				  f->boot);
		report_cell_alt(out, STYLE_DIM, f->boot_source, f->boot_source ? f->boot_source :
				f->status == AUDIT_BOOT_UNKNOWN ? "(computed by the kernel)" : NULL);
		report_cell_str(out, status_style(f->status), audit_status_name(f->status));
		report_cell_bool(out, STYLE_PLAIN, f->compliant);
		report_cell_bool(out, STYLE_PLAIN, f->rule->optional);
		report_cell_str(out, STYLE_PLAIN, f->rule->profile);
		report_cell_str(out, STYLE_PLAIN, src);
		report_cell_str(out, STYLE_PLAIN, f->rule->note);
		report_cell_str(out, STYLE_PLAIN, f->rule->cat ? catalogue_scope_name(f->rule->cat->scope) : NULL);
		report_cell_str(out, STYLE_PLAIN, f->reason);
		report_cell_str(out, STYLE_PLAIN, f->fix);
		/* only on the rows of keys no profile names now */
		if (f->stale)
			report_cell_bool(out, STYLE_PLAIN, true);
		else
			report_cell_str(out, STYLE_PLAIN, NULL);
		report_cell_str(out, STYLE_PLAIN, f->stale ? f->original : NULL);
		report_cell_str(out, STYLE_PLAIN, f->procps_source ? f->procps_boot : NULL);
		report_cell_str(out, STYLE_PLAIN, f->procps_source);
		free(src);
	}
	report_table_end(out);
	report_metric(out, "tcptune_drift_keys", "gauge", "Keys that break the profile live or at boot.");
	{
		size_t drift = 0;

		for (size_t i = 0; i < a->n; i++)
			drift += !a->f[i].compliant;
		report_sample(out, "tcptune_drift_keys", (double)drift, "profile", names, NULL);
	}
	free(names);
}

/* What the table cannot say: why each row is not ok, the step, and the summary. */
static void audit_advice(struct report *out, const struct opts *o, const struct profile *p,
			 const struct audit *a, const char *apply)
{
	char *plain = apply ? xasprintf("run: %s", apply) : NULL;
	size_t count[AUDIT_BOOT_UNKNOWN + 1] = { 0 };
	static const enum audit_status order[] = {
		AUDIT_OK, AUDIT_DRIFT, AUDIT_BOOT_DRIFT, AUDIT_MISSING, AUDIT_UNREADABLE,
		AUDIT_NOT_IN_NETNS, AUDIT_BOOT_UNKNOWN,
	};
	char *sum;

	for (size_t i = 0; i < a->n; i++)
		count[a->f[i].status]++;
	for (size_t i = 0; i < a->n; i++) {
		const struct finding *f = &a->f[i];
		if (f->procps_source && f->status != AUDIT_BOOT_DRIFT)
			report_text(out, STYLE_PLAIN, "note: %s: `sysctl --system` (procps) would end on %s from %s",
				    f->rule->key, f->procps_boot, f->procps_source);
		/* a drift row speaks for itself; the common step comes once, last */
		if (f->status == AUDIT_DRIFT && (!f->fix || (plain && !strcmp(f->fix, plain))))
			continue;
		if (f->reason || f->fix) {
			const char *fix = f->fix && !(plain && !strcmp(f->fix, plain)) ? f->fix : NULL;

			report_text(out, STYLE_PLAIN, "%s: %s: %s%s%s", audit_status_name(f->status), f->rule->key,
				    f->reason ? f->reason : audit_status_name(f->status), fix ? "; " : "",
				    fix ? fix : "");
		}
		if (o->verbose && f->rule->note && f->status != AUDIT_OK)
			report_text(out, STYLE_PLAIN, "note: %s: %s", f->rule->key, f->rule->note);
	}
	free(plain);
	if (o->quiet) {
		if (!a->compliant && apply)
			report_text(out, STYLE_BAD, "not compliant: run: %s", apply);
		return;
	}
	/* piped, every count (scripts parse the line); on a terminal only those that are not zero */
	sum = xasprintf("%zu keys:", a->n);
	for (size_t i = 0, said = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum audit_status s = order[i];
		char *n;

		if (!count[s] && (report_on_tty(out) || s == AUDIT_BOOT_UNKNOWN))
			continue;
		n = xasprintf("%s%s %zu %s", sum, said++ ? "," : "", count[s], audit_status_name(s));
		free(sum);
		sum = n;
	}
	report_text(out, STYLE_PLAIN, "\n%s", sum);
	free(sum);
	if (a->child_netns)
		report_text(out, STYLE_PLAIN, "This is a child network namespace: host-wide keys are audited on the host.");
	if (a->compliant)
		report_text(out, STYLE_GOOD, "compliant");
	else if (apply) {
		char *plan = tt_hint(o, "plan", p->names, p->n_names);

		report_text(out, STYLE_BAD, "not compliant: run: %s (`%s` shows the changes first)", apply, plan);
		free(plan);
	} else
		report_text(out, STYLE_BAD, "not compliant: each step above turns its key ok");
}

/* compliant, child_netns, the keys, and the text around them. */
static void audit_report(struct report *out, const struct opts *o, const struct profile *p,
			 const struct audit *a, const char *apply)
{
	/* -q: a compliant audit prints nothing */
	bool text = !(o->quiet && a->compliant);

	report_bool(out, "compliant", NULL, a->compliant);
	report_bool(out, "child_netns", NULL, a->child_netns);
	audit_keys(out, o, p, a, text);
	if (text)
		audit_advice(out, o, p, a, apply);
}

static void netns_report(struct report *out, const struct netns *ns)
{
	char *procs = xstrdup(""), *more;

	report_object_begin(out, "netns");
	report_uint(out, "inode", NULL, (unsigned long long)ns->ino);
	report_str(out, "name", NULL, ns->name);
	report_str(out, "path", NULL, ns->path);
	report_bool(out, "self", NULL, ns->self);
	report_array_begin(out, "processes");
	for (size_t i = 0; i < ns->n_procs; i++) {
		report_object_begin(out, NULL);
		report_int(out, "pid", NULL, ns->procs[i].pid);
		report_str(out, "comm", NULL, ns->procs[i].comm);
		report_object_end(out);
		if (i < 8) {
			char *n = xasprintf("%s%s %d %s", procs, i ? "," : ":", (int)ns->procs[i].pid,
					    ns->procs[i].comm);
			free(procs);
			procs = n;
		}
	}
	report_array_end(out);
	report_object_end(out);
	more = ns->n_procs > 8 ? xasprintf(", and %zu more", ns->n_procs - 8) : xstrdup("");
	report_text(out, STYLE_BOLD, "network namespace %llu%s%s%s%s%s%s\n", (unsigned long long)ns->ino,
		    ns->name ? " (" : "", ns->name ? ns->name : "", ns->name ? ")" : "",
		    ns->self ? " (tcptune's own)" : "", procs, more);
	free(procs);
	free(more);
}

/* The journal of earlier applies could not be read (EIO): their keys are not checked. */
static void journal_unreadable(const struct opts *o)
{
	tt_error(o, "%s: %s: the keys earlier applies set cannot be checked", TT_JOURNAL_PATH,
		 strerror(EIO));
}

/*
 * Audit every network namespace on the host. Namespaces other than ours
 * were made by container runtimes, not booted from this sysctl.d: their
 * boot view is the kernel defaults.
 */
static int audit_all_netns(const struct opts *o, struct ctx *c, const struct profile *p,
			   const struct bootview *bv)
{
	struct report *out = o->out;
	struct netns *v = NULL;
	size_t n = 0, hidden = 0;
	struct bootview none = { 0 };
	bool compliant = true, unread = false;
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), r;

	r = self < 0 ? -errno : netns_list("/proc", "/run/netns", &v, &n, &hidden);
	if (r < 0) {
		tt_error(o, "audit --all-netns: listing network namespaces: %s", strerror(-r));
		if (self >= 0)
			close(self);
		return EXIT_USAGE;
	}
	if (hidden)
		tt_warn(o, "%zu process%s could not be inspected (run as root to see every namespace)", hidden,
			hidden == 1 ? "" : "es");
	report_strv(out, "profiles", p->names, p->n_names);
	report_bool(out, "compliant", NULL, true);	/* the answer, set once all are seen */
	report_array_begin(out, "namespaces");
	for (size_t i = 0; i < n; i++) {
		struct procsys ps = { .sysfd = -1 };
		struct audit a = { 0 };

		/*
		 * A namespace another user namespace owns (any user's `unshare -rn`,
		 * a rootless container) is theirs to tune: reported, never the
		 * host's verdict.
		 */
		bool counted = v[i].self || netns_owned_by_us(v[i].path) == 1;

		report_object_begin(out, NULL);
		r = v[i].self ? 0 : netns_enter(v[i].path);
		if (r == 0)
			r = procsys_open(c->rootfd, &ps);
		if (r < 0) {
			if (counted)
				tt_error(o, "network namespace %llu (%s): %s", (unsigned long long)v[i].ino,
					 v[i].path, strerror(-r));
			else
				tt_warn(o, "network namespace %llu (%s), another user's: %s; not counted",
					(unsigned long long)v[i].ino, v[i].path, strerror(-r));
			netns_report(out, &v[i]);
			report_bool(out, "counted", NULL, counted);
			report_str(out, "error", NULL, strerror(-r));
			compliant &= !counted;
		} else {
			struct opts here = *o;	/* the hint names this namespace */

			audit_run(p, &ps, v[i].self ? bv : &none, &a);
			/* as a one-namespace audit: unreadable, there is no verdict */
			if (audit_stale(&a, c->rootfd, p, &ps, v[i].self ? bv : &none) == -EIO)
				unread = true;
			if (counted)
				compliant &= a.compliant;
			if (!v[i].self)
				here.netns = v[i].path;
			if (i)
				report_text(out, STYLE_PLAIN, "%s", "");
			netns_report(out, &v[i]);
			report_bool(out, "counted", NULL, counted);
			if (!counted)
				report_text(out, STYLE_PLAIN, "Owned by another user namespace (a user's private namespace or a rootless\n"
					    "container): reported here, not counted in the exit status.\n");
			audit_report(out, &here, p, &a, NULL);
		}
		report_object_end(out);
		audit_free(&a);
		procsys_close(&ps);
		if (!v[i].self && setns(self, CLONE_NEWNET) < 0) {
			tt_error(o, "returning to our network namespace: %s", strerror(errno));
			compliant = false;
			break;
		}
	}
	report_array_end(out);
	report_bool(out, "compliant", NULL, compliant && !unread);
	netns_free(v, n);
	close(self);
	if (unread) {
		journal_unreadable(o);
		return EXIT_RESTORED;
	}
	return compliant ? EXIT_OK : EXIT_FINDINGS;
}

int cmd_audit(const struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all-netns", no_argument, NULL, 'A' },
		{ "raw", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c;
	struct profile p = { 0 };
	struct bootview bv = { 0 };
	struct audit a = { 0 };
	char **names, **recorded = NULL, *apply = NULL;
	size_t n;
	bool all = false;
	int r;

	opterr = 0;
	while ((r = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (r == 'r') {
			report_set_raw(o->out, true);
			continue;
		}
		if (r != 'A') {
			tt_error(o, "audit: unknown option '%s'; see tcptune --help", argv[optind - 1]);
			return EXIT_USAGE;
		}
		all = true;
	}
	names = argv + optind;
	n = (size_t)(argc - optind);
	if (all && (o->netns || strcmp(o->root, "/"))) {
		tt_error(o, "audit: --all-netns works on the running system, without --netns and --root");
		return EXIT_USAGE;
	}
	if (all && o->format == FMT_PROMETHEUS) {
		tt_error(o, "audit: --all-netns has no Prometheus form");
		return EXIT_USAGE;
	}
	r = ctx_open(o, &c);
	if (r != EXIT_OK)
		return r;
	if (n == 0) {
		char *why;

		r = ctx_recorded_profiles(o, &c, &recorded, &n, &why);
		if (!recorded) {
			tt_error(o, "audit: no PROFILE given and %s", why);
			free(why);
			r = r == -EIO ? EXIT_RESTORED : EXIT_USAGE;
			goto out;
		}
		names = recorded;
	}
	r = ctx_load_profiles(o, &c, names, n, &p);
	if (r != EXIT_OK)
		goto out;
	r = sysctld_load(c.rootfd, NULL, NULL, &bv);
	if (r < 0) {
		tt_error(o, "reading sysctl.d: %s", strerror(-r));
		r = EXIT_USAGE;
		goto out;
	}
	tt_print_msgs(o, &bv.warnings, true);
	if (all) {
		r = audit_all_netns(o, &c, &p, &bv);
		goto out;
	}
	audit_run(&p, &c.ps, &bv, &a);
	/* keys an earlier apply set are part of the verdict: unreadable, there is none */
	if (audit_stale(&a, c.rootfd, &p, &c.ps, &bv) == -EIO) {
		journal_unreadable(o);
		r = EXIT_RESTORED;
		goto out;
	}
	{
		char *frag = remedy_fragment(o, c.rootfd);
		apply = remedy_audit(o, c.rootfd, &c.ps, &p, frag, &a);
		free(frag);
	}
	report_strv(o->out, "profiles", p.names, p.n_names);
	audit_report(o->out, o, &p, &a, apply);
	r = a.compliant ? EXIT_OK : EXIT_FINDINGS;
out:
	free(apply);
	audit_free(&a);
	sysctld_free(&bv);
	profile_free(&p);
	strv_free(recorded, recorded ? n : 0);
	ctx_close(&c);
	return r;
}
