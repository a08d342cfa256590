/* SPDX-License-Identifier: ISC */
/* cmd_profile.c: the read-only profile commands: validate, show, profiles, explain. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "catalogue.h"
#include "output.h"
#include "report.h"
#include "sysctld.h"
#include "tcptune.h"

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
	return EXIT_OK;
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
	struct report *out = o->out;
	struct ctx c;
	size_t n;
	char **files = operands(argc, argv, &n);
	int r = reject_options(o, argc, argv), bad = 0;
	bool io_failed = false;

	if (r == EXIT_OK && !n) {
		tt_error(o, "validate: no FILE given");
		r = EXIT_USAGE;
	}
	if (r == EXIT_OK)
		r = ctx_open(o, &c);
	if (r != EXIT_OK)
		return r;
	report_bool(out, "valid", NULL, true);	/* the answer, set once every file is read */
	report_array_begin(out, "files");
	/* One file at a time, so that each file's own errors are reported. */
	for (size_t i = 0; i < n; i++) {
		struct profile p = { 0 };
		struct msgs errors = { 0 };
		int lr = profile_load(&c.pp, &c.ps, &files[i], 1, &p, &errors);

		if (lr < 0)
			bad++;
		if (lr < 0 && lr != -EINVAL)
			io_failed = true;
		report_object_begin(out, NULL);
		report_str(out, "file", NULL, files[i]);
		report_bool(out, "valid", NULL, errors.n == 0);
		report_uint(out, "keys", NULL, p.n_rules);
		report_strv(out, "errors", errors.v, errors.n);
		report_strv(out, "warnings", p.warnings.v, p.warnings.n);
		report_object_end(out);
		if (!errors.n && !o->quiet)
			report_text(out, STYLE_PLAIN, "%s: ok, %zu keys", files[i], p.n_rules);
		(void)report_flush(out);
		tt_print_msgs(o, &p.warnings, true);
		tt_print_msgs(o, &errors, false);
		profile_free(&p);
	}
	report_array_end(out);
	report_strv(out, "checked_by_plan", (char **)host_checks, sizeof(host_checks) / sizeof(host_checks[0]));
	report_bool(out, "valid", NULL, !bad);
	if (bad)
		report_exit(out, EXIT_USAGE, tt_first_error());
	if (!bad && !o->quiet) {
		report_text(out, STYLE_PLAIN, "offline checks only; plan and apply also check, against the running kernel:");
		for (size_t i = 0; i < sizeof(host_checks) / sizeof(host_checks[0]); i++)
			report_text(out, STYLE_PLAIN, "  %s", host_checks[i]);
	}
	ctx_close(&c);
	return io_failed ? EXIT_RESTORED : bad ? EXIT_USAGE : EXIT_OK;
}

/* One row per rule: the show table and the "keys" array. */
static void show_rules(struct report *out, const struct profile *p)
{
	static const struct report_col cols[] = {
		{ "KEY", "key", NULL, REPORT_STRING, REPORT_WRAP },
		{ "RULE", "expected", NULL, REPORT_STRING, REPORT_WRAP },
		{ NULL, "value", NULL, REPORT_STRING, 0 },
		{ NULL, "min", NULL, REPORT_STRING, 0 },
		{ NULL, "covers", NULL, REPORT_STRING, REPORT_OMIT_NULL },
		{ NULL, "max", NULL, REPORT_STRING, 0 },
		{ NULL, "one_of", NULL, REPORT_STRING, 0 },
		{ NULL, "optional", NULL, REPORT_BOOL, 0 },
		{ NULL, "profile", NULL, REPORT_STRING, 0 },
		{ "FROM", "source", NULL, REPORT_PATH, 0 },
		{ "NOTE", "note", NULL, REPORT_STRING, REPORT_WRAP },
	};

	report_table_begin(out, "keys", cols, sizeof(cols) / sizeof(cols[0]));
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct rule *ru = &p->rules[i];
		char *desc = rule_describe(ru), *src = xasprintf("%s:%u", ru->file, ru->line);
		char *shown = xasprintf("%s%s", desc, ru->optional ? " (optional)" : "");

		report_row(out, 0, false);
		report_cell_str(out, STYLE_PLAIN, ru->key);
		report_cell_alt(out, STYLE_PLAIN, desc, shown);
		report_cell_str(out, STYLE_PLAIN, ru->value);
		report_cell_str(out, STYLE_PLAIN, ru->min);
		report_cell_str(out, STYLE_PLAIN, ru->covers);
		report_cell_str(out, STYLE_PLAIN, ru->max);
		report_cell_strv(out, STYLE_PLAIN, ru->one_of, ru->n_one_of);
		report_cell_bool(out, STYLE_PLAIN, ru->optional);
		report_cell_str(out, STYLE_PLAIN, ru->profile);
		report_cell_str(out, STYLE_DIM, src);
		report_cell_alt(out, STYLE_PLAIN, ru->note, ru->note ? ru->note : "");
		free(shown);
		free(src);
		free(desc);
	}
	report_table_end(out);
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
	report_strv(o->out, "profiles", p.names, p.n_names);
	report_str(o->out, "description", NULL, p.description);
	if (p.description)
		report_text(o->out, STYLE_PLAIN, "# %s", p.description);
	report_strv(o->out, "files", p.files, p.n_files);
	report_bool(o->out, "allow_uncatalogued", NULL, p.n_allow_uncatalogued > 0);
	report_strv(o->out, "allow_uncatalogued_in", p.allow_uncatalogued, p.n_allow_uncatalogued);
	for (size_t i = 0; i < p.n_allow_uncatalogued; i++)
		report_text(o->out, STYLE_PLAIN, "# allow_uncatalogued = true (%s): may set keys outside the network scope",
			    p.allow_uncatalogued[i]);
	show_rules(o->out, &p);
out:
	profile_free(&p);
	ctx_close(&c);
	return r;
}

static int profiles_none(const struct opts *o, const struct profile_path *pp);

static void profiles_table(struct report *out, const struct profile_info *v, size_t n)
{
	static const struct report_col cols[] = {
		{ "NAME", "name", NULL, REPORT_STRING, 0 },
		{ "DESCRIPTION", "description", NULL, REPORT_STRING, REPORT_WRAP },
		{ "INHERITS", "inherits", NULL, REPORT_STRING, REPORT_WRAP },
		{ "FILE", "file", NULL, REPORT_PATH, 0 },
		{ NULL, "shadowed", NULL, REPORT_BOOL, 0 },
	};

	report_table_begin(out, "profiles", cols, sizeof(cols) / sizeof(cols[0]));
	report_table_text(out, n > 0);
	for (size_t i = 0; i < n; i++) {
		char *file = xasprintf("%s%s", v[i].file, v[i].shadowed ? " (shadowed)" : "");

		report_row(out, 0, false);
		report_cell_str(out, v[i].shadowed ? STYLE_DIM : STYLE_BOLD, v[i].name);
		report_cell_str(out, STYLE_PLAIN, v[i].description);
		report_cell_alt(out, STYLE_PLAIN, v[i].inherits, v[i].inherits ? v[i].inherits : "");
		report_cell_alt(out, STYLE_DIM, v[i].file, file);
		report_cell_bool(out, STYLE_PLAIN, v[i].shadowed);
		free(file);
	}
	report_table_end(out);
}

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
	report_strv(o->out, "path", c.pp.dirs, c.pp.n);
	profiles_table(o->out, v, n);
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

/* One key for explain: the catalogue facts plus what this host says, as a key/value block. */
static int explain_one(const struct opts *o, struct ctx *c, const struct bootview *bv,
		       const char *arg, bool first)
{
	struct report *out = o->out;
	char *key = NULL, *live = NULL, *src = NULL;
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
	if (!first)
		report_text(out, STYLE_PLAIN, "%s", "");
	report_kv_begin(out, NULL, STYLE_BOLD, key, 8);
	report_str(out, "key", NULL, key);
	report_bool(out, "catalogued", NULL, e != NULL);
	if (!e)
		report_text(out, STYLE_PLAIN, "  (not in the catalogue: compared as a list of tokens)");
	if (e) {
		char *range = e->type != CAT_STR ? xasprintf("%s, %lld..%lld%s", catalogue_type_name(e->type),
							     e->min, e->max, e->arity > 1 ? " each" : "") :
						    xstrdup(catalogue_type_name(e->type));

		report_str(out, "meaning", "meaning", e->meaning);
		report_str(out, "type", NULL, catalogue_type_name(e->type));
		report_str(out, NULL, "type", range);
		report_int(out, "arity", NULL, e->arity);
		if (e->type != CAT_STR) {
			report_int(out, "min", NULL, e->min);
			report_int(out, "max", NULL, e->max);
		}
		report_str(out, "default", "default", e->dflt);
		report_str(out, "default_note", "default", e->dflt_note);
		report_str(out, "scope", "scope", catalogue_scope_name(e->scope));
		report_str(out, "since", "since", e->since);
		free(range);
	}
	report_str(out, "live", "live", err ? NULL : live);
	report_str(out, "live_error", "live", err ? strerror(-err) : NULL);
	if (boot)
		src = xasprintf("%s:%u", boot->file, boot->line);
	report_str(out, "boot", "boot", boot ? boot->value : NULL);
	report_str(out, "boot_source", "set by", src);
	if (e) {
		report_str(out, "caveat", "caveat", e->caveat);
		report_str(out, "source", "source", e->source);
	}
	report_kv_end(out);
	free(src);
	free(live);
	free(key);
	return EXIT_OK;
}

int cmd_explain(const struct opts *o, int argc, char **argv)
{
	struct ctx c;
	struct bootview bv = { 0 };
	size_t n;
	char **args = operands(argc, argv, &n);
	int r = reject_options(o, argc, argv), worst = EXIT_OK;
	bool first = true;

	if (r == EXIT_OK && !n) {
		tt_error(o, "explain: no KEY given");
		r = EXIT_USAGE;
	}
	if (r != EXIT_OK || (r = ctx_open(o, &c)) != EXIT_OK)
		return r;
	r = sysctld_load(c.rootfd, NULL, NULL, &bv);
	if (r < 0)
		tt_warn(o, "reading sysctl.d: %s", strerror(-r));
	msgs_free(&bv.warnings);
	report_array_begin(o->out, "keys");
	for (size_t i = 0; i < n; i++) {
		if (explain_one(o, &c, &bv, args[i], first) != EXIT_OK)
			worst = EXIT_USAGE;
		else
			first = false;
		(void)report_flush(o->out);
	}
	report_array_end(o->out);
	if (worst != EXIT_OK)
		report_exit(o->out, worst, tt_first_error());
	sysctld_free(&bv);
	ctx_close(&c);
	return worst;
}
