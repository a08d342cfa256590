/* cmd_audit.c: the audit command: wiring and the three output forms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "apply.h"
#include "audit.h"
#include "output.h"
#include "sysctld.h"
#include "tcptune.h"

static enum style status_style(enum audit_status s)
{
	switch (s) {
	case AUDIT_OK:
		return STYLE_GOOD;
	case AUDIT_BOOT_DRIFT:
	case AUDIT_NOT_IN_NETNS:
	case AUDIT_MISSING:
		return STYLE_WARN;
	default:
		return STYLE_BAD;
	}
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static const char *rule_kind(const struct rule *r)
{
	if (r->value)
		return "exact";
	if (r->n_one_of)
		return "one_of";
	if (r->min && r->max)
		return "range";
	return r->min ? "min" : "max";
}

static json_t *audit_json(const struct profile *p, const struct audit *a)
{
	json_t *doc = json_object(), *profiles = json_array(), *keys = json_array();

	for (size_t i = 0; i < p->n_names; i++)
		json_array_append_new(profiles, json_string(p->names[i]));
	json_object_set_new(doc, "profiles", profiles);
	json_object_set_new(doc, "compliant", json_boolean(a->compliant));
	json_object_set_new(doc, "child_netns", json_boolean(a->child_netns));
	for (size_t i = 0; i < a->n; i++) {
		const struct finding *f = &a->f[i];
		json_t *k = json_object();
		char *src = xasprintf("%s:%u", f->rule->file, f->rule->line);

		json_object_set_new(k, "key", json_string(f->rule->key));
		json_object_set_new(k, "rule", json_string(rule_kind(f->rule)));
		json_object_set_new(k, "expected", json_string(f->expected));
		json_object_set_new(k, "live", jstr(f->live));
		json_object_set_new(k, "boot", jstr(f->boot));
		json_object_set_new(k, "boot_source", jstr(f->boot_source));
		json_object_set_new(k, "status", json_string(audit_status_name(f->status)));
		json_object_set_new(k, "optional", json_boolean(f->rule->optional));
		json_object_set_new(k, "profile", json_string(f->rule->profile));
		json_object_set_new(k, "rule_source", json_string(src));
		json_object_set_new(k, "note", jstr(f->rule->note));
		if (f->rule->cat)
			json_object_set_new(k, "scope",
					    json_string(catalogue_scope_name(f->rule->cat->scope)));
		if (f->procps_source) {
			json_object_set_new(k, "procps_boot", jstr(f->procps_boot));
			json_object_set_new(k, "procps_boot_source", json_string(f->procps_source));
		}
		json_array_append_new(keys, k);
		free(src);
	}
	json_object_set_new(doc, "keys", keys);
	return doc;
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
		bool ok = f->status == AUDIT_OK || f->status == AUDIT_NOT_IN_NETNS ||
			  (f->status == AUDIT_MISSING && f->rule->optional);

		drift += !ok;
		fprintf(out, "tcptune_key_compliant{key=\"%s\",profile=\"%s\",status=\"%s\"} %d\n", key,
			label, audit_status_name(f->status), ok);
		free(key);
	}
	output_prom_header(out, "tcptune_drift_keys", "gauge",
			   "Keys that break the profile live or at boot.");
	fprintf(out, "tcptune_drift_keys{profile=\"%s\"} %zu\n", label, drift);
	free(label);
	free(prof);
}

static void audit_table(FILE *out, const struct opts *o, const struct profile *p,
			const struct audit *a)
{
	static const char *const head[] = { "KEY", "EXPECTED", "LIVE", "BOOT", "BOOT SOURCE", "STATUS" };
	struct table *t = table_new(6, head);
	size_t count[AUDIT_NOT_IN_NETNS + 1] = { 0 };

	for (size_t i = 0; i < a->n; i++) {
		const struct finding *f = &a->f[i];

		count[f->status]++;
		if (o->quiet && f->status == AUDIT_OK)
			continue;
		table_cell(t, STYLE_PLAIN, f->rule->key);
		table_cell(t, STYLE_PLAIN, f->expected);
		table_cell(t, f->status == AUDIT_DRIFT ? STYLE_BAD : STYLE_PLAIN, f->live);
		table_cell(t, f->status == AUDIT_BOOT_DRIFT ? STYLE_WARN : STYLE_PLAIN, f->boot);
		table_cell(t, STYLE_DIM, f->boot_source);
		table_cell(t, status_style(f->status), audit_status_name(f->status));
	}
	if (o->quiet && a->compliant) {
		table_free(t);
		return;
	}
	table_print(t, out, o->color);
	table_free(t);
	for (size_t i = 0; i < a->n; i++) {
		const struct finding *f = &a->f[i];
		if (f->procps_source)
			fprintf(out, "note: %s: `sysctl --system` (procps) would end on %s from %s\n",
				f->rule->key, f->procps_boot, f->procps_source);
		if (o->verbose && f->rule->note && f->status != AUDIT_OK)
			fprintf(out, "note: %s: %s\n", f->rule->key, f->rule->note);
	}
	if (o->quiet)
		return;
	fprintf(out, "\n%zu keys: %zu ok, %zu drift, %zu boot-drift, %zu missing, %zu unreadable, %zu not-in-netns\n",
		a->n, count[AUDIT_OK], count[AUDIT_DRIFT], count[AUDIT_BOOT_DRIFT],
		count[AUDIT_MISSING], count[AUDIT_UNREADABLE], count[AUDIT_NOT_IN_NETNS]);
	if (a->child_netns)
		fputs("This is a child network namespace: host-wide keys are audited on the host.\n", out);
	fprintf(out, "%s\n", a->compliant ? "compliant" :
		"not compliant: `tcptune plan` shows what apply would change");
}

/*
 * The journal of the last apply: its profiles when none are given, and a
 * warning when an apply or rollback died half-way.
 */
static int last_apply(const struct opts *o, struct ctx *c, bool want_profiles, char ***ret,
		      size_t *n)
{
	struct apply_last last = { 0 };
	char err[256];
	char *advice;
	int r = apply_last_read(c->rootfd, &last, err, sizeof(err));

	if (r < 0) {
		if (want_profiles) {
			tt_error(o, "audit: %s", err);
			return EXIT_USAGE;
		}
		tt_warn(o, "%s", err);
		return EXIT_OK;
	}
	advice = apply_last_advice(&last);
	if (advice)
		tt_warn(o, "%s", advice);
	free(advice);
	if (want_profiles) {
		if (last.state == APPLY_STATE_NONE || !last.n_profiles ||
		    last.state == APPLY_STATE_ROLLED_BACK) {
			tt_error(o, "audit: no PROFILE given and no apply recorded in %s%s", TT_JOURNAL_PATH,
				 last.state == APPLY_STATE_ROLLED_BACK ? " (the last one was rolled back)" : "");
			apply_last_free(&last);
			return EXIT_USAGE;
		}
		*ret = last.profiles;
		*n = last.n_profiles;
		last.profiles = NULL;
		last.n_profiles = 0;
	}
	apply_last_free(&last);
	return EXIT_OK;
}

int cmd_audit(const struct opts *o, int argc, char **argv)
{
	struct ctx c;
	struct profile p = { 0 };
	struct bootview bv = { 0 };
	struct audit a = { 0 };
	char **names = argv + 1;
	size_t n = (size_t)argc - 1;
	char **recorded = NULL;
	int r;

	if (n && argv[1][0] == '-') {
		tt_error(o, "audit: unknown option '%s'; see tcptune --help", argv[1]);
		return EXIT_USAGE;
	}
	r = ctx_open(o, &c);
	if (r != EXIT_OK)
		return r;
	r = last_apply(o, &c, n == 0, &recorded, &n);
	if (r != EXIT_OK)
		goto out;
	if (recorded)
		names = recorded;
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
	audit_run(&p, &c.ps, &bv, &a);
	if (o->format == FMT_JSON)
		output_json(stdout, audit_json(&p, &a));
	else if (o->format == FMT_PROMETHEUS)
		audit_prometheus(stdout, &p, &a);
	else
		audit_table(stdout, o, &p, &a);
	r = a.compliant ? EXIT_OK : EXIT_FINDINGS;
out:
	audit_free(&a);
	sysctld_free(&bv);
	profile_free(&p);
	strv_free(recorded, recorded ? n : 0);
	ctx_close(&c);
	return r;
}
