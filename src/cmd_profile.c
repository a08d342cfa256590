/* SPDX-License-Identifier: ISC */
/* cmd_profile.c: the read-only profile commands: validate, show, profiles, explain. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "catalogue.h"
#include "output.h"
#include "sysctld.h"
#include "tcptune.h"

/* Profile text, file contents and paths may be invalid UTF-8: jansson drops those. */
static json_t *jstr(const char *s)
{
	return output_json_text(s);
}

/* Commands without a Prometheus form say so instead of printing a table. */
static int no_prometheus(const struct opts *o, const char *cmd)
{
	if (o->format != FMT_PROMETHEUS)
		return EXIT_OK;
	tt_error(o, "%s: -o prometheus is for audit and sockets", cmd);
	return EXIT_USAGE;
}

static int reject_options(const struct opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (argv[i][0] == '-' && argv[i][1]) {
			tt_error(o, "%s: unknown option '%s'; see tcptune --help", argv[0], argv[i]);
			return EXIT_USAGE;
		}
	}
	return no_prometheus(o, argv[0]);
}

/* argv minus the command name and a "--". */
static char **operands(int argc, char **argv, size_t *n)
{
	int i = 1;

	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	*n = (size_t)(argc - i);
	return argv + i;
}

/* What validate cannot know offline: plan and apply check these on the host. */
static const char *const host_checks[] = {
	"ip_local_port_range: the low port against the live ip_unprivileged_port_start",
	"tcp_congestion_control: in tcp_available_congestion_control (and, in a child network "
	"namespace, tcp_allowed_congestion_control)",
	"keys the running kernel lacks (a missing key that is not optional is an error)",
};

int cmd_validate(const struct opts *o, int argc, char **argv)
{
	struct ctx c;
	size_t n;
	char **files = operands(argc, argv, &n);
	int r = reject_options(o, argc, argv), bad = 0;
	bool io_failed = false;
	json_t *results = json_array();

	if (r == EXIT_OK && !n) {
		tt_error(o, "validate: no FILE given");
		r = EXIT_USAGE;
	}
	if (r == EXIT_OK)
		r = ctx_open(o, &c);
	if (r != EXIT_OK) {
		json_decref(results);
		return r;
	}
	/* One file at a time, so that each file's own errors are reported. */
	for (size_t i = 0; i < n; i++) {
		struct profile p = { 0 };
		struct msgs errors = { 0 };
		json_t *res = json_object(), *errs = json_array(), *warns = json_array();

		int lr = profile_load(&c.pp, &c.ps, &files[i], 1, &p, &errors);

		if (lr < 0)
			bad++;
		if (lr < 0 && lr != -EINVAL)
			io_failed = true;
		for (size_t j = 0; j < errors.n; j++)
			json_array_append_new(errs, jstr(errors.v[j]));
		for (size_t j = 0; j < p.warnings.n; j++)
			json_array_append_new(warns, jstr(p.warnings.v[j]));
		json_object_set_new(res, "file", jstr(files[i]));
		json_object_set_new(res, "valid", json_boolean(errors.n == 0));
		json_object_set_new(res, "keys", json_integer((json_int_t)p.n_rules));
		json_object_set_new(res, "errors", errs);
		json_object_set_new(res, "warnings", warns);
		json_array_append_new(results, res);
		if (o->format == FMT_TABLE && !errors.n && !o->quiet) {
			char *e = output_escape(files[i]);
			printf("%s: ok, %zu keys\n", e, p.n_rules);
			free(e);
		}
		tt_print_msgs(o, &p.warnings, true);
		tt_print_msgs(o, &errors, false);
		profile_free(&p);
	}
	if (o->format == FMT_JSON) {
		json_t *doc = json_object(), *host = json_array();
		for (size_t i = 0; i < sizeof(host_checks) / sizeof(host_checks[0]); i++)
			json_array_append_new(host, jstr(host_checks[i]));
		json_object_set_new(doc, "valid", json_boolean(!bad));
		json_object_set_new(doc, "files", results);
		json_object_set_new(doc, "checked_by_plan", host);
		if (bad)
			output_json_add_error(doc, tt_first_error(), EXIT_USAGE);
		output_json(stdout, doc);
	} else {
		json_decref(results);
		if (!bad && !o->quiet) {
			fputs("offline checks only; plan and apply also check, against the running kernel:\n", stdout);
			for (size_t i = 0; i < sizeof(host_checks) / sizeof(host_checks[0]); i++)
				printf("  %s\n", host_checks[i]);
		}
	}
	ctx_close(&c);
	return io_failed ? EXIT_RESTORED : bad ? EXIT_USAGE : EXIT_OK;
}

static json_t *rule_json(const struct rule *r)
{
	json_t *k = json_object(), *one = json_array();
	char *desc = rule_describe(r), *src = xasprintf("%s:%u", r->file, r->line);

	json_object_set_new(k, "key", jstr(r->key));
	json_object_set_new(k, "expected", jstr(desc));
	json_object_set_new(k, "value", jstr(r->value));
	json_object_set_new(k, "min", jstr(r->min));
	if (r->covers)
		json_object_set_new(k, "covers", jstr(r->covers));
	json_object_set_new(k, "max", jstr(r->max));
	for (size_t i = 0; i < r->n_one_of; i++)
		json_array_append_new(one, jstr(r->one_of[i]));
	json_object_set_new(k, "one_of", r->n_one_of ? one : (json_decref(one), json_null()));
	json_object_set_new(k, "optional", json_boolean(r->optional));
	json_object_set_new(k, "note", jstr(r->note));
	json_object_set_new(k, "profile", jstr(r->profile));
	json_object_set_new(k, "source", jstr(src));
	free(desc);
	free(src);
	return k;
}

int cmd_show(const struct opts *o, int argc, char **argv)
{
	struct ctx c;
	struct profile p = { 0 };
	size_t n;
	char **names = operands(argc, argv, &n);
	int r = reject_options(o, argc, argv);

	if (r == EXIT_OK && !n) {
		tt_error(o, "show: no PROFILE given");
		r = EXIT_USAGE;
	}
	if (r != EXIT_OK || (r = ctx_open(o, &c)) != EXIT_OK)
		return r;
	r = ctx_load_profiles(o, &c, names, n, &p);
	if (r != EXIT_OK)
		goto out;
	if (o->format == FMT_JSON) {
		json_t *doc = json_object(), *a = json_array(), *keys = json_array();
		for (size_t i = 0; i < p.n_names; i++)
			json_array_append_new(a, jstr(p.names[i]));
		json_object_set_new(doc, "profiles", a);
		json_object_set_new(doc, "description", jstr(p.description));
		a = json_array();
		for (size_t i = 0; i < p.n_files; i++)
			json_array_append_new(a, jstr(p.files[i]));
		json_object_set_new(doc, "files", a);
		json_object_set_new(doc, "allow_uncatalogued", json_boolean(p.n_allow_uncatalogued > 0));
		a = json_array();
		for (size_t i = 0; i < p.n_allow_uncatalogued; i++)
			json_array_append_new(a, jstr(p.allow_uncatalogued[i]));
		json_object_set_new(doc, "allow_uncatalogued_in", a);
		for (size_t i = 0; i < p.n_rules; i++)
			json_array_append_new(keys, rule_json(&p.rules[i]));
		json_object_set_new(doc, "keys", keys);
		output_json(stdout, doc);
	} else {
		static const char *const head[] = { "KEY", "RULE", "FROM", "NOTE" };
		struct table *t = table_new(4, head);
		for (size_t i = 0; i < p.n_rules; i++) {
			const struct rule *ru = &p.rules[i];
			char *desc = rule_describe(ru);
			table_cell(t, STYLE_PLAIN, ru->key);
			table_cellf(t, STYLE_PLAIN, "%s%s", desc, ru->optional ? " (optional)" : "");
			table_cellf(t, STYLE_DIM, "%s:%u", ru->file, ru->line);
			table_cell(t, STYLE_PLAIN, ru->note ? ru->note : "");
			free(desc);
		}
		if (p.description) {
			char *d = output_escape(p.description);
			printf("# %s\n", d);
			free(d);
		}
		for (size_t i = 0; i < p.n_allow_uncatalogued; i++) {
			char *d = output_escape(p.allow_uncatalogued[i]);
			printf("# allow_uncatalogued = true (%s): may set keys outside the network scope\n", d);
			free(d);
		}
		table_print(t, stdout, o->color);
		table_free(t);
	}
out:
	profile_free(&p);
	ctx_close(&c);
	return r;
}

static int profiles_none(const struct opts *o, const struct profile_path *pp);

int cmd_profiles(const struct opts *o, int argc, char **argv)
{
	struct ctx c;
	struct profile_info *v = NULL;
	struct msgs warnings = { 0 };
	size_t n = 0, nops;
	int r = reject_options(o, argc, argv);

	(void)operands(argc, argv, &nops);
	if (r == EXIT_OK && nops) {
		tt_error(o, "profiles: takes no arguments");
		r = EXIT_USAGE;
	}
	if (r != EXIT_OK || (r = ctx_open(o, &c)) != EXIT_OK)
		return r;
	(void)profile_list(&c.pp, &v, &n, &warnings);
	tt_print_msgs(o, &warnings, true);
	if (o->format == FMT_JSON) {
		json_t *doc = json_object(), *a = json_array(), *dirs = json_array();
		for (size_t i = 0; i < c.pp.n; i++)
			json_array_append_new(dirs, jstr(c.pp.dirs[i]));
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_object();
			json_object_set_new(e, "name", jstr(v[i].name));
			json_object_set_new(e, "file", jstr(v[i].file));
			json_object_set_new(e, "description", jstr(v[i].description));
			json_object_set_new(e, "inherits", jstr(v[i].inherits));
			json_object_set_new(e, "shadowed", json_boolean(v[i].shadowed));
			json_array_append_new(a, e);
		}
		json_object_set_new(doc, "path", dirs);
		json_object_set_new(doc, "profiles", a);
		output_json(stdout, doc);
	} else if (n) {
		static const char *const head[] = { "NAME", "DESCRIPTION", "INHERITS", "FILE" };
		struct table *t = table_new(4, head);
		for (size_t i = 0; i < n; i++) {
			table_cell(t, v[i].shadowed ? STYLE_DIM : STYLE_BOLD, v[i].name);
			table_cell(t, STYLE_PLAIN, v[i].description);
			table_cell(t, STYLE_PLAIN, v[i].inherits ? v[i].inherits : "");
			table_cellf(t, STYLE_DIM, "%s%s", v[i].file, v[i].shadowed ? " (shadowed)" : "");
		}
		table_print(t, stdout, o->color);
		table_free(t);
	}
	if (!n)
		r = profiles_none(o, &c.pp);
	profile_info_free(v, n);
	ctx_close(&c);
	return r;
}

/* An empty listing is not success: say where tcptune looked and how to add a directory. */
static int profiles_none(const struct opts *o, const struct profile_path *pp)
{
	char *where = profile_path_text(pp);
	struct stat st;

	tt_error(o, "profiles: no profiles found; looked in %s; %s", where,
		 stat("profiles/baseline.conf", &st) == 0 ?
			 "./profiles has some: add --profile-dir ./profiles" :
			 "add a directory with --profile-dir DIR or TCPTUNE_PROFILE_PATH");
	free(where);
	return EXIT_FINDINGS;
}

/* One key for explain: the catalogue facts plus what this host says. */
static int explain_one(const struct opts *o, struct ctx *c, const struct bootview *bv,
		       const char *arg, json_t *keys)
{
	char *key = NULL, *live = NULL;
	const struct catentry *e;
	const struct sysctl_assign *boot;
	int err;

	if (key_normalize(arg, &key) < 0) {
		char *a = output_escape(arg);
		tt_error(o, "explain: '%s' is not a sysctl key name", a);
		free(a);
		return EXIT_USAGE;
	}
	if (catalogue_removed(key)) {
		tt_error(o, "explain: %s: %s", key, catalogue_removed(key));
		free(key);
		return EXIT_USAGE;
	}
	e = catalogue_find(key);
	err = procsys_read(&c->ps, key, &live);
	if (!e && err == -ENOENT) {
		const char *s = catalogue_suggest(key);
		tt_error(o, "explain: %s: unknown key (not in the catalogue, not on this kernel)%s%s%s", key,
			 s ? "; did you mean " : "", s ? s : "", s ? "?" : "");
		free(key);
		return EXIT_USAGE;
	}
	boot = sysctld_find(bv, key);
	json_t *k = json_object();
	json_object_set_new(k, "key", jstr(key));
	json_object_set_new(k, "catalogued", json_boolean(e != NULL));
	if (e) {
		json_object_set_new(k, "type", jstr(catalogue_type_name(e->type)));
		json_object_set_new(k, "arity", json_integer(e->arity));
		if (e->type != CAT_STR) {
			json_object_set_new(k, "min", json_integer(e->min));
			json_object_set_new(k, "max", json_integer(e->max));
		}
		json_object_set_new(k, "default", jstr(e->dflt));
		json_object_set_new(k, "default_note", jstr(e->dflt_note));
		json_object_set_new(k, "scope", jstr(catalogue_scope_name(e->scope)));
		json_object_set_new(k, "since", jstr(e->since));
		json_object_set_new(k, "meaning", jstr(e->meaning));
		json_object_set_new(k, "caveat", jstr(e->caveat));
		json_object_set_new(k, "source", jstr(e->source));
	}
	json_object_set_new(k, "live", err ? json_null() : jstr(live));
	json_object_set_new(k, "live_error", err ? jstr(strerror(-err)) : json_null());
	json_object_set_new(k, "boot", boot ? jstr(boot->value) : json_null());
	json_object_set_new(k, "boot_source",
			    boot ? json_sprintf("%s:%u", boot->file, boot->line) : json_null());
	json_array_append_new(keys, k);
	free(live);
	free(key);
	return EXIT_OK;
}

static void explain_print(const struct opts *o, json_t *k)
{
	static const char *const fields[][2] = {
		{ "meaning", "meaning" }, { "type", "type" }, { "default", "default" },
		{ "default_note", "default" }, { "scope", "scope" }, { "since", "since" },
		{ "live", "live" }, { "live_error", "live" }, { "boot", "boot" },
		{ "boot_source", "set by" }, { "caveat", "caveat" }, { "source", "source" },
	};
	json_t *mn = json_object_get(k, "min");

	printf("%s%s%s\n", output_style_on(STYLE_BOLD, o->color),
	       json_string_value(json_object_get(k, "key")), output_style_off(o->color));
	if (!json_is_true(json_object_get(k, "catalogued")))
		puts("  (not in the catalogue: compared as a list of tokens)");
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		json_t *v = json_object_get(k, fields[i][0]);
		if (!json_is_string(v))
			continue;
		char *e = output_escape(json_string_value(v));
		if (!strcmp(fields[i][0], "type") && mn)
			printf("  %-8s %s, %lld..%lld%s\n", fields[i][1], e, (long long)json_integer_value(mn),
			       (long long)json_integer_value(json_object_get(k, "max")),
			       json_integer_value(json_object_get(k, "arity")) > 1 ? " each" : "");
		else
			printf("  %-8s %s\n", fields[i][1], e);
		free(e);
	}
}

int cmd_explain(const struct opts *o, int argc, char **argv)
{
	struct ctx c;
	struct bootview bv = { 0 };
	size_t n;
	char **args = operands(argc, argv, &n);
	json_t *keys = json_array();
	int r = reject_options(o, argc, argv), worst = EXIT_OK;

	if (r == EXIT_OK && !n) {
		tt_error(o, "explain: no KEY given");
		r = EXIT_USAGE;
	}
	if (r != EXIT_OK || (r = ctx_open(o, &c)) != EXIT_OK) {
		json_decref(keys);
		return r;
	}
	r = sysctld_load(c.rootfd, NULL, NULL, &bv);
	if (r < 0)
		tt_warn(o, "reading sysctl.d: %s", strerror(-r));
	msgs_free(&bv.warnings);
	for (size_t i = 0; i < n; i++)
		if (explain_one(o, &c, &bv, args[i], keys) != EXIT_OK)
			worst = EXIT_USAGE;
	if (o->format == FMT_JSON) {
		json_t *doc = json_object();
		json_object_set_new(doc, "keys", keys);
		if (worst != EXIT_OK)
			output_json_add_error(doc, tt_first_error(), worst);
		output_json(stdout, doc);
	} else {
		for (size_t i = 0; i < json_array_size(keys); i++) {
			if (i)
				putchar('\n');
			explain_print(o, json_array_get(keys, i));
		}
		json_decref(keys);
	}
	sysctld_free(&bv);
	ctx_close(&c);
	return worst;
}
