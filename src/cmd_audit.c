/* SPDX-License-Identifier: ISC */
/* cmd_audit.c: the audit command: wiring and the three output forms. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "audit.h"
#include "netns.h"
#include "output.h"
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

/* Profile text, file contents and paths may be invalid UTF-8: jansson drops those. */
static json_t *jstr(const char *s)
{
	return output_json_text(s);
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

static json_t *profiles_json(const struct profile *p)
{
	json_t *profiles = json_array();

	for (size_t i = 0; i < p->n_names; i++)
		json_array_append_new(profiles, jstr(p->names[i]));
	return profiles;
}

/* compliant, child_netns and keys of one audit, into doc. */
static void audit_json_into(json_t *doc, const struct audit *a)
{
	json_t *keys = json_array();

	json_object_set_new(doc, "compliant", json_boolean(a->compliant));
	json_object_set_new(doc, "child_netns", json_boolean(a->child_netns));
	for (size_t i = 0; i < a->n; i++) {
		const struct finding *f = &a->f[i];
		json_t *k = json_object();
		char *src = xasprintf("%s:%u", f->rule->file, f->rule->line);

		json_object_set_new(k, "key", jstr(f->rule->key));
		json_object_set_new(k, "rule", jstr(rule_kind(f->rule)));
		json_object_set_new(k, "expected", jstr(f->expected));
		json_object_set_new(k, "live", jstr(f->live));
		json_object_set_new(k, "boot", jstr(f->boot));
		json_object_set_new(k, "boot_source", jstr(f->boot_source));
		json_object_set_new(k, "status", jstr(audit_status_name(f->status)));
		json_object_set_new(k, "compliant", json_boolean(f->compliant));
		json_object_set_new(k, "optional", json_boolean(f->rule->optional));
		json_object_set_new(k, "profile", jstr(f->rule->profile));
		json_object_set_new(k, "rule_source", jstr(src));
		json_object_set_new(k, "note", jstr(f->rule->note));
		if (f->rule->cat)
			json_object_set_new(k, "scope",
					    jstr(catalogue_scope_name(f->rule->cat->scope)));
		if (f->reason)
			json_object_set_new(k, "reason", jstr(f->reason));
		if (f->fix)
			json_object_set_new(k, "fix", jstr(f->fix));
		if (f->stale) {
			json_object_set_new(k, "stale", json_true());
			json_object_set_new(k, "original", jstr(f->original));
		}
		if (f->procps_source) {
			json_object_set_new(k, "procps_boot", jstr(f->procps_boot));
			json_object_set_new(k, "procps_boot_source", jstr(f->procps_source));
		}
		json_array_append_new(keys, k);
		free(src);
	}
	json_object_set_new(doc, "keys", keys);
}

static void audit_prometheus(FILE *out, const struct profile *p, const struct audit *a)
{
	char *prof = xstrdup(""), *label;
	size_t drift = 0;

	for (size_t i = 0; i < p->n_names; i++) {
		char *n = xasprintf("%s%s%s", prof, i ? "," : "", p->names[i]);
		free(prof);
		prof = n;
	}
	label = output_prom_label(prof);
	output_prom_header(out, "tcptune_key_compliant", "gauge",
			   "1 when the key satisfies the profile live and at boot, else 0.");
	for (size_t i = 0; i < a->n; i++) {
		const struct finding *f = &a->f[i];
		char *key = output_prom_label(f->rule->key);
		drift += !f->compliant;
		fprintf(out, "tcptune_key_compliant{key=\"%s\",profile=\"%s\",status=\"%s\"} %d\n", key,
			label, audit_status_name(f->status), f->compliant);
		free(key);
	}
	output_prom_header(out, "tcptune_drift_keys", "gauge",
			   "Keys that break the profile live or at boot.");
	fprintf(out, "tcptune_drift_keys{profile=\"%s\"} %zu\n", label, drift);
	free(label);
	free(prof);
}

static void audit_table(FILE *out, const struct opts *o, const struct profile *p,
			const struct audit *a, const char *apply)
{
	char *plain = apply ? xasprintf("run: %s", apply) : NULL;
	static const char *const head[] = { "KEY", "EXPECTED", "LIVE", "BOOT", "BOOT SOURCE", "STATUS" };
	struct table *t = table_new(6, head);
	size_t count[AUDIT_BOOT_UNKNOWN + 1] = { 0 };

	for (size_t i = 0; i < a->n; i++) {
		const struct finding *f = &a->f[i];

		count[f->status]++;
		if (o->quiet && f->status == AUDIT_OK)
			continue;
		table_cell(t, STYLE_PLAIN, f->rule->key);
		table_cell(t, STYLE_PLAIN, f->expected);
		table_cell(t, f->status == AUDIT_DRIFT ? STYLE_BAD : STYLE_PLAIN, f->live);
		table_cell(t, f->status == AUDIT_BOOT_DRIFT ? STYLE_WARN : STYLE_PLAIN, f->boot);
		table_cell(t, STYLE_DIM, f->boot_source ? f->boot_source :
			   f->status == AUDIT_BOOT_UNKNOWN ? "(computed by the kernel)" : NULL);
		table_cell(t, status_style(f->status), audit_status_name(f->status));
	}
	if (o->quiet && a->compliant) {
		table_free(t);
		free(plain);
		return;
	}
	table_print(t, out, o->color);
	table_free(t);
	for (size_t i = 0; i < a->n; i++) {
		const struct finding *f = &a->f[i];
		if (f->procps_source && f->status != AUDIT_BOOT_DRIFT)
			fprintf(out, "note: %s: `sysctl --system` (procps) would end on %s from %s\n",
				f->rule->key, f->procps_boot, f->procps_source);
		/* a drift row speaks for itself; the common step comes once, last */
		if (f->status == AUDIT_DRIFT && (!f->fix || (plain && !strcmp(f->fix, plain))))
			continue;
		if (f->reason || f->fix) {
			char *why = output_escape(f->reason ? f->reason : audit_status_name(f->status));
			char *fix = f->fix && !(plain && !strcmp(f->fix, plain)) ? output_escape(f->fix) : NULL;

			fprintf(out, "%s: %s: %s%s%s\n", audit_status_name(f->status), f->rule->key, why,
				fix ? "; " : "", fix ? fix : "");
			free(why);
			free(fix);
		}
		if (o->verbose && f->rule->note && f->status != AUDIT_OK)
			fprintf(out, "note: %s: %s\n", f->rule->key, f->rule->note);
	}
	if (o->quiet) {
		if (!a->compliant && apply)
			fprintf(out, "not compliant: run: %s\n", apply);
		free(plain);
		return;
	}
	free(plain);
	fprintf(out, "\n%zu keys: %zu ok, %zu drift, %zu boot-drift, %zu missing, %zu unreadable, %zu not-in-netns",
		a->n, count[AUDIT_OK], count[AUDIT_DRIFT], count[AUDIT_BOOT_DRIFT],
		count[AUDIT_MISSING], count[AUDIT_UNREADABLE], count[AUDIT_NOT_IN_NETNS]);
	if (count[AUDIT_BOOT_UNKNOWN])
		fprintf(out, ", %zu boot-unknown", count[AUDIT_BOOT_UNKNOWN]);
	fputc('\n', out);
	if (a->child_netns)
		fputs("This is a child network namespace: host-wide keys are audited on the host.\n", out);
	if (a->compliant)
		fputs("compliant\n", out);
	else if (apply) {
		char *plan = tt_hint(o, "plan", p->names, p->n_names);

		fprintf(out, "not compliant: run: %s (`%s` shows the changes first)\n", apply, plan);
		free(plan);
	}
	else
		fputs("not compliant: each step above turns its key ok\n", out);
}

static json_t *netns_json(const struct netns *ns)
{
	json_t *j = json_object(), *procs = json_array();

	json_object_set_new(j, "inode", json_integer((json_int_t)ns->ino));
	json_object_set_new(j, "name", jstr(ns->name));
	json_object_set_new(j, "path", jstr(ns->path));
	json_object_set_new(j, "self", json_boolean(ns->self));
	for (size_t i = 0; i < ns->n_procs; i++) {
		json_t *pr = json_object();
		json_object_set_new(pr, "pid", json_integer(ns->procs[i].pid));
		json_object_set_new(pr, "comm", jstr(ns->procs[i].comm));
		json_array_append_new(procs, pr);
	}
	json_object_set_new(j, "processes", procs);
	return j;
}

static void netns_heading(FILE *out, const struct opts *o, const struct netns *ns)
{
	fprintf(out, "%snetwork namespace %llu%s%s%s%s", output_style_on(STYLE_BOLD, o->color),
		(unsigned long long)ns->ino, ns->name ? " (" : "", ns->name ? ns->name : "",
		ns->name ? ")" : "", ns->self ? " (tcptune's own)" : "");
	fputs(output_style_off(o->color), out);
	for (size_t i = 0; i < ns->n_procs && i < 8; i++) {
		char *comm = output_escape(ns->procs[i].comm);
		fprintf(out, "%s %d %s", i ? "," : ":", (int)ns->procs[i].pid, comm);
		free(comm);
	}
	if (ns->n_procs > 8)
		fprintf(out, ", and %zu more", ns->n_procs - 8);
	fputs("\n\n", out);
}

/*
 * Audit every network namespace on the host. Namespaces other than ours
 * were made by container runtimes, not booted from this sysctl.d: their
 * boot view is the kernel defaults.
 */
static int audit_all_netns(const struct opts *o, struct ctx *c, const struct profile *p,
			   const struct bootview *bv)
{
	struct netns *v = NULL;
	size_t n = 0, hidden = 0;
	struct bootview none = { 0 };
	bool compliant = true;
	json_t *list = json_array();
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), r;

	r = self < 0 ? -errno : netns_list("/proc", "/run/netns", &v, &n, &hidden);
	if (r < 0) {
		tt_error(o, "audit --all-netns: listing network namespaces: %s", strerror(-r));
		json_decref(list);
		if (self >= 0)
			close(self);
		return EXIT_USAGE;
	}
	if (hidden)
		tt_warn(o, "%zu process%s could not be inspected (run as root to see every namespace)", hidden,
			hidden == 1 ? "" : "es");
	for (size_t i = 0; i < n; i++) {
		struct procsys ps = { .sysfd = -1 };
		struct audit a = { 0 };
		json_t *j = json_object();

		/*
		 * A namespace another user namespace owns (any user's `unshare -rn`,
		 * a rootless container) is theirs to tune: reported, never the
		 * host's verdict.
		 */
		bool counted = v[i].self || netns_owned_by_us(v[i].path) == 1;

		json_object_set_new(j, "netns", netns_json(&v[i]));
		json_object_set_new(j, "counted", json_boolean(counted));
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
			json_object_set_new(j, "error", jstr(strerror(-r)));
			compliant &= !counted;
		} else {
			audit_run(p, &ps, v[i].self ? bv : &none, &a);
			(void)audit_stale(&a, c->rootfd, p, &ps, v[i].self ? bv : &none);
			if (counted)
				compliant &= a.compliant;
			audit_json_into(j, &a);
			if (o->format == FMT_TABLE) {
				if (i)
					putchar('\n');
				struct opts here = *o;	/* the hint names this namespace */

				if (!v[i].self)
					here.netns = v[i].path;
				netns_heading(stdout, o, &v[i]);
				if (!counted)
					puts("Owned by another user namespace (a user's private namespace or a rootless\n"
					     "container): reported here, not counted in the exit status.\n");
				audit_table(stdout, &here, p, &a, NULL);
			}
		}
		json_array_append_new(list, j);
		audit_free(&a);
		procsys_close(&ps);
		if (!v[i].self && setns(self, CLONE_NEWNET) < 0) {
			tt_error(o, "returning to our network namespace: %s", strerror(errno));
			compliant = false;
			break;
		}
	}
	if (o->format == FMT_JSON) {
		json_t *doc = json_object();
		json_object_set_new(doc, "profiles", profiles_json(p));
		json_object_set_new(doc, "compliant", json_boolean(compliant));
		json_object_set_new(doc, "namespaces", list);
		output_json(stdout, doc);
	} else {
		json_decref(list);
	}
	netns_free(v, n);
	close(self);
	return compliant ? EXIT_OK : EXIT_FINDINGS;
}

int cmd_audit(const struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all-netns", no_argument, NULL, 'A' },
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

		ctx_recorded_profiles(o, &c, &recorded, &n, &why);
		if (!recorded) {
			tt_error(o, "audit: no PROFILE given and %s", why);
			free(why);
			r = EXIT_USAGE;
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
	(void)audit_stale(&a, c.rootfd, &p, &c.ps, &bv);
	{
		char *frag = remedy_fragment(o, c.rootfd);
		apply = remedy_audit(o, c.rootfd, &c.ps, &p, frag, &a);
		free(frag);
	}
	if (o->format == FMT_JSON) {
		json_t *doc = json_object();
		json_object_set_new(doc, "profiles", profiles_json(&p));
		audit_json_into(doc, &a);
		output_json(stdout, doc);
	} else if (o->format == FMT_PROMETHEUS) {
		audit_prometheus(stdout, &p, &a);
	} else {
		audit_table(stdout, o, &p, &a, apply);
	}
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
