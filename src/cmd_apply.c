/* SPDX-License-Identifier: ISC */
/* cmd_apply.c: the render, plan, apply and rollback commands: options, output, exit codes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "apply.h"
#include "output.h"
#include "remedy.h"
#include "tcptune.h"

#define LOCK_WAIT_DEFAULT_MS 5000u

enum mode { MODE_PLAN, MODE_APPLY, MODE_ROLLBACK, MODE_FORGET };

/* Informational lines go to stderr so that stdout stays one document. */
static void say_notes(const struct opts *o, struct msgs *m)
{
	for (size_t i = 0; i < m->n; i++) {
		char *e = output_escape(m->v[i]);
		if (!o->quiet)
			fprintf(stderr, "tcptune: %snote:%s %s\n", output_style_on(STYLE_DIM, o->color),
				output_style_off(o->color), e);
		free(e);
	}
	msgs_free(m);
}

/* Live values, paths and messages may be invalid UTF-8: jansson would drop them. */
static json_t *jstr(const char *s)
{
	return output_json_text(s);
}

static json_t *jmsgs(const struct msgs *m)
{
	json_t *a = json_array();

	for (size_t i = 0; i < m->n; i++)
		json_array_append_new(a, jstr(m->v[i]));
	return a;
}

static const char *skip_reason(enum apply_action a)
{
	return a == APPLY_SKIP_MISSING ? "missing" : a == APPLY_SKIP_GONE ? "gone" : "host-wide";
}

static bool pending(const struct apply_tx *tx)
{
	return tx->frag_changes || tx->n_set > 0;
}

static json_t *tx_json(const struct apply_tx *tx, enum mode mode)
{
	json_t *doc = json_object(), *profiles = json_array(), *keys = json_array();
	json_t *skipped = json_array();

	json_object_set_new(doc, "changed", json_boolean(mode == MODE_PLAN ? pending(tx) : tx->changed));
	for (size_t i = 0; i < tx->n_profiles; i++)
		json_array_append_new(profiles, jstr(tx->profiles[i]));
	json_object_set_new(doc, "profiles", profiles);
	/*
	 * A failed apply or rollback that restored everything changed nothing:
	 * say so, and list what it tried under "planned", not under "keys".
	 */
	bool undone = mode != MODE_PLAN && tx->outcome != APPLY_OK;
	json_t *planned = json_array();

	json_object_set_new(doc, "fragment", jstr(tx->fragment));
	json_object_set_new(doc, "fragment_changed",
			    json_boolean(tx->frag_changes && (!undone || tx->outcome == APPLY_BROKEN)));
	for (size_t i = 0; i < tx->n_keys; i++) {
		const struct apply_key *k = &tx->keys[i];
		json_t *o;

		if (k->action == APPLY_SKIP_MISSING || k->action == APPLY_SKIP_SCOPE ||
		    k->action == APPLY_SKIP_GONE) {
			o = json_object();
			json_object_set_new(o, "key", jstr(k->key));
			json_object_set_new(o, "reason", jstr(skip_reason(k->action)));
			json_array_append_new(skipped, o);
			continue;
		}
		if (k->action != APPLY_SET)
			continue;
		o = json_object();
		json_object_set_new(o, "key", jstr(k->key));
		json_object_set_new(o, "before", jstr(k->before));
		json_object_set_new(o, "after", jstr(k->after));
		json_array_append_new(undone ? planned : keys, o);
	}
	json_object_set_new(doc, "keys", keys);
	if (undone)
		json_object_set_new(doc, "planned", planned);
	else
		json_decref(planned);
	json_object_set_new(doc, "skipped", skipped);
	json_object_set_new(doc, "recovered", json_boolean(tx->recovered));
	if (tx->outcome != APPLY_OK) {
		json_object_set_new(doc, "errors", jmsgs(&tx->errors));
		json_object_set_new(doc, "restored", json_boolean(tx->outcome != APPLY_BROKEN));
		json_object_set_new(doc, "unrestored", jmsgs(&tx->unrestored));
	}
	if (mode == MODE_ROLLBACK || tx->edits.n)
		json_object_set_new(doc, "hand_edits", jmsgs(&tx->edits));
	json_object_set_new(doc, "warnings", jmsgs(&tx->warnings));
	json_object_set_new(doc, "notes", jmsgs(&tx->notes));
	return doc;
}

/* Boot conflicts, each with its two ways out, into the JSON document and onto stderr. */
static void say_conflicts(const struct opts *o, const struct apply_tx *tx, json_t *doc)
{
	json_t *list = json_array();

	for (size_t i = 0; i < tx->conflicts.n; i++) {
		const struct boot_conflict *b = &tx->conflicts.v[i];
		char *fix = remedy_conflict(o, b, tx->conflicts.winning_fragment, tx->profiles,
					    tx->n_profiles);
		json_t *j = json_object();

		json_object_set_new(j, "key", jstr(b->key));
		json_object_set_new(j, "file", jstr(b->file));
		json_object_set_new(j, "line", json_integer(b->line));
		json_object_set_new(j, "value", jstr(b->value));
		json_object_set_new(j, "procps_only", json_boolean(b->procps));
		json_object_set_new(j, "fix", jstr(fix));
		json_array_append_new(list, j);
		if (!doc) {
			char *k = output_escape(b->key), *e = output_escape(fix);
			fprintf(stderr, "tcptune: %sboot conflict:%s %s: %s\n",
				output_style_on(STYLE_WARN, o->color), output_style_off(o->color), k, e);
			free(k);
			free(e);
		}
		free(fix);
	}
	if (doc) {
		json_object_set_new(doc, "boot_conflicts", list);
		json_object_set_new(doc, "winning_fragment", jstr(tx->conflicts.winning_fragment));
	} else {
		json_decref(list);
		if (tx->conflicts.n)
			fprintf(stderr, "tcptune: %zu key%s will not hold at boot: apply cannot fix "
				"that by itself; take one of the ways out above\n", tx->conflicts.n,
				tx->conflicts.n == 1 ? "" : "s");
	}
}

static const char *fragment_verb(const struct apply_tx *tx, bool done)
{
	if (!tx->frag_changes)
		return "unchanged";
	if (!tx->frag_new)
		return done ? "removed (there was none before)" : "would be removed (there was none before)";
	if (!tx->frag_old)
		return done ? "created" : "would be created";
	return done ? "rewritten" : "would be rewritten";
}

/* "; `tcptune … apply crawler` makes these changes", complete enough to paste. */
static char *next_step(const struct opts *o, const struct apply_tx *tx, enum mode mode)
{
	char *cmd, *s, *e;

	if (!pending(tx))
		return xstrdup(mode != MODE_ROLLBACK && tx->conflicts.n ?
			       "; nothing for apply to change, but boot conflicts remain (below)" :
			       "; nothing to do");
	cmd = mode == MODE_ROLLBACK ? tt_hint(o, "rollback", NULL, 0) :
				      tt_hint(o, "apply", tx->profiles, tx->n_profiles);
	e = output_escape(cmd);
	s = xasprintf("; `%s` makes these changes", e);
	free(e);
	free(cmd);
	return s;
}

static void tx_table(const struct opts *o, const struct apply_tx *tx, enum mode mode, bool dry_run)
{
	static const char *const head[] = { "KEY", "BEFORE", "", "AFTER" };
	struct table *t;
	size_t keep = 0, skip = 0;
	char *names;

	/* -q: a change that was made is success, and success prints nothing */
	if (o->quiet && mode != MODE_PLAN && !dry_run)
		return;
	t = table_new(4, head);
	names = xstrdup("");

	for (size_t i = 0; i < tx->n_profiles; i++) {
		char *s = xasprintf("%s%s%s", names, i ? ", " : "", tx->profiles[i]);
		free(names);
		names = s;
	}
	for (size_t i = 0; i < tx->n_keys; i++) {
		const struct apply_key *k = &tx->keys[i];

		if (k->action == APPLY_KEEP)
			keep++;
		if (k->action == APPLY_SKIP_MISSING || k->action == APPLY_SKIP_SCOPE ||
		    k->action == APPLY_SKIP_GONE)
			skip++;
		if (k->action != APPLY_SET)
			continue;
		table_cell(t, STYLE_PLAIN, k->key);
		table_cell(t, STYLE_DIM, k->before ? k->before : "(missing)");
		table_cell(t, STYLE_DIM, "->");
		table_cell(t, STYLE_BOLD, k->after);
	}
	if (tx->n_set)
		table_print(t, stdout, o->color);
	table_free(t);
	if (!o->quiet || tx->n_set || tx->frag_changes) {
		char *frag = output_escape(tx->fragment ? tx->fragment : "");
		printf("%sfragment %s: %s\n", tx->n_set ? "\n" : "", frag, fragment_verb(tx, !dry_run));
		free(frag);
	}
	if (o->quiet) {
		free(names);
		return;
	}
	char *en = output_escape(names);
	char *next = next_step(o, tx, mode);
	if (mode == MODE_ROLLBACK && dry_run)
		printf("rollback of %s: %zu key%s to restore%s\n", en, tx->n_set, tx->n_set == 1 ? "" : "s",
		       next);
	else if (mode == MODE_PLAN || dry_run)
		printf("%s: %zu key%s to change, %zu already set, %zu skipped%s\n", en, tx->n_set,
		       tx->n_set == 1 ? "" : "s", keep, skip, next);
	else if (mode == MODE_APPLY)
		printf("%s: %s%zu key%s changed, %zu already set, %zu skipped\n", en,
		       tx->changed ? "applied; " : "already applied, nothing changed; ", tx->n_set,
		       tx->n_set == 1 ? "" : "s", keep, skip);
	else
		printf("rolled back %s: %zu key%s restored\n", en, tx->n_set, tx->n_set == 1 ? "" : "s");
	free(next);
	free(en);
	free(names);
}

static int outcome_exit(const struct apply_tx *tx)
{
	switch (tx->outcome) {
	case APPLY_OK:
		return EXIT_OK;
	case APPLY_INVALID:
		return EXIT_USAGE;
	case APPLY_FAILED:
		return EXIT_RESTORED;
	case APPLY_BROKEN:
		return EXIT_BROKEN;
	case APPLY_REFUSED:
		return EXIT_FINDINGS;
	}
	return EXIT_BROKEN;
}

/* The hints in the messages get this run's global options in the JSON too. */
static void complete_msgs(const struct opts *o, struct msgs *m)
{
	for (size_t i = 0; i < m->n; i++) {
		char *c = tt_hint_complete(o, m->v[i]);

		free(m->v[i]);
		m->v[i] = c;
	}
}

/* Print the result in the chosen format and map it to the exit status. */
static int report(const struct opts *o, struct apply_tx *tx, enum mode mode, bool dry_run)
{
	int code = outcome_exit(tx);

	complete_msgs(o, &tx->errors);
	complete_msgs(o, &tx->warnings);
	complete_msgs(o, &tx->notes);

	if (code == EXIT_OK && dry_run && (pending(tx) || tx->conflicts.n || tx->edits.n))
		code = EXIT_FINDINGS;
	if (o->format == FMT_JSON) {
		json_t *doc = tx_json(tx, dry_run ? MODE_PLAN : mode);
		say_conflicts(o, tx, doc);
		output_json_add_error(doc, code >= EXIT_USAGE && tx->errors.n ? tx->errors.v[0] : NULL, code);
		output_json(stdout, doc);
	} else if (tx->outcome == APPLY_OK && mode != MODE_FORGET &&
		   !(mode == MODE_ROLLBACK && !pending(tx) && !tx->changed))
		tx_table(o, tx, mode, dry_run);
	/* hand edits are the reason for the answer: shown even with -q */
	for (size_t i = 0; i < tx->edits.n; i++) {
		char *e = output_escape(tx->edits.v[i]);
		tt_error(o, "hand edit: %s", e);
		free(e);
	}
	tt_print_msgs(o, &tx->warnings, true);
	if (o->format != FMT_JSON)
		say_conflicts(o, tx, NULL);
	say_notes(o, &tx->notes);
	tt_print_msgs(o, &tx->errors, false);
	for (size_t i = 0; i < tx->unrestored.n; i++) {
		char *e = output_escape(tx->unrestored.v[i]);
		tt_error(o, "not restored: %s", e);
		free(e);
	}
	if (tx->outcome == APPLY_FAILED && mode != MODE_PLAN && tx->recovered && tx->changed)
		tt_error(o, "apply failed; the interrupted transaction was restored first, and nothing "
			 "new was applied");
	else if (tx->outcome == APPLY_FAILED && mode != MODE_PLAN)
		tt_error(o, "%s failed; every key and the fragment are as they were before",
			 mode == MODE_FORGET ? "rollback --forget" : mode == MODE_ROLLBACK ? "rollback" : "apply");
	else if (tx->outcome == APPLY_BROKEN)
		tt_error(o, "%s failed and could not restore everything (above); `tcptune rollback` "
			 "retries from %s", mode == MODE_ROLLBACK ? "rollback" : "apply", TT_JOURNAL_PATH);
	return code;
}

static int parse_wait(const struct opts *o, const char *cmd, const char *s, unsigned *ret)
{
	long long v;

	if (parse_ll(s, &v) < 0 || v < 0 || v > 3600) {
		tt_error(o, "%s: --wait takes seconds 0..3600, not '%s'", cmd, s);
		return -1;
	}
	*ret = (unsigned)v * 1000u;
	return 0;
}

/*
 * Options after the command: --dry-run/-n, --check, --wait SECS (where
 * allowed), *forget for rollback --forget or apply/plan --keep-stale, and
 * *force for rollback --force.
 */
static int parse_more(const struct opts *o, int argc, char **argv, enum mode mode, bool *dry_run,
		      unsigned *wait_ms, bool *forget, bool *force, int *ret_first)
{
	static const struct option lo[] = {
		{ "forget", no_argument, NULL, 'F' },
		{ "keep-stale", no_argument, NULL, 'K' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "check", no_argument, NULL, 'c' },
		{ "wait", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*dry_run = false;
	*wait_ms = LOCK_WAIT_DEFAULT_MS;
	if (forget)
		*forget = false;
	if (force)
		*force = false;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+n", lo, NULL)) != -1) {
		if ((c == 'n' || c == 'c') && mode != MODE_PLAN)
			*dry_run = true;
		else if (c == 'c' || c == 'n')
			;	/* plan is a dry run already */
		else if (c == 'F' && forget && mode == MODE_ROLLBACK)
			*forget = true;
		else if (c == 'K' && forget && mode != MODE_ROLLBACK)
			*forget = true;
		else if (c == 'f' && force)
			*force = true;
		else if (c == 'w' && mode != MODE_PLAN) {
			if (parse_wait(o, argv[0], optarg, wait_ms) < 0)
				return -1;
		} else {
			tt_error(o, "%s: unknown option '%s'; see tcptune --help", argv[0],
				 argv[optind - 1]);
			return -1;
		}
	}
	*ret_first = optind;
	return 0;
}

static int run_apply(const struct opts *o, int argc, char **argv, enum mode mode)
{
	struct apply_opts ao = { .fragment = o->fragment, .netns = o->netns };
	struct apply_tx tx = { 0 };
	struct profile p = { 0 };
	struct ctx c;
	bool dry_run;
	int first, r;

	if (parse_more(o, argc, argv, mode, &dry_run, &ao.lock_timeout_ms, &ao.keep_stale, NULL, &first) < 0)
		return EXIT_USAGE;
	if (mode == MODE_PLAN)
		dry_run = true;
	if (first >= argc) {
		tt_error(o, "%s: name at least one PROFILE", argv[0]);
		return EXIT_USAGE;
	}
	if (!ao.fragment || ao.fragment[0] != '/') {
		tt_error(o, "--fragment must be an absolute path");
		return EXIT_USAGE;
	}
	r = ctx_open(o, &c);
	if (r != EXIT_OK)
		return r;
	r = ctx_load_profiles(o, &c, argv + first, (size_t)(argc - first), &p);
	if (r != EXIT_OK)
		goto out;
	if (dry_run) {
		struct apply_last last;
		char err[512];

		if (apply_last_read(c.rootfd, &last, err, sizeof(err)) == 0) {
			char *advice = apply_last_advice(&last);
			if (advice)
				tt_warn(o, "%s", advice);
			free(advice);
			apply_last_free(&last);
		}
		(void)apply_plan(c.rootfd, &c.ps, &p, &ao, &tx);
	} else {
		(void)apply_run(c.rootfd, &c.ps, &p, &ao, &tx);
	}
	r = report(o, &tx, mode, dry_run);
out:
	apply_tx_free(&tx);
	profile_free(&p);
	ctx_close(&c);
	return r;
}

int cmd_apply(const struct opts *o, int argc, char **argv)
{
	return run_apply(o, argc, argv, MODE_APPLY);
}

int cmd_plan(const struct opts *o, int argc, char **argv)
{
	return run_apply(o, argc, argv, MODE_PLAN);
}

int cmd_rollback(const struct opts *o, int argc, char **argv)
{
	struct apply_opts ao = { .fragment = o->fragment, .netns = o->netns };
	struct apply_tx tx = { 0 };
	struct ctx c;
	bool dry_run, forget;
	int first, r;

	if (parse_more(o, argc, argv, MODE_ROLLBACK, &dry_run, &ao.lock_timeout_ms, &forget, &ao.force, &first) < 0)
		return EXIT_USAGE;
	if (forget && dry_run) {
		tt_error(o, "rollback: --forget and --dry-run do not mix");
		return EXIT_USAGE;
	}
	if (first < argc) {
		tt_error(o, "rollback: takes no PROFILE: it undoes the last apply recorded in %s",
			 TT_JOURNAL_PATH);
		return EXIT_USAGE;
	}
	r = ctx_open(o, &c);
	if (r != EXIT_OK)
		return r;
	if (forget) {
		(void)apply_forget(c.rootfd, &ao, &tx);
		r = report(o, &tx, MODE_FORGET, false);
	} else {
		(void)apply_rollback(c.rootfd, &c.ps, &ao, dry_run, &tx);
		r = report(o, &tx, MODE_ROLLBACK, dry_run);
	}
	apply_tx_free(&tx);
	ctx_close(&c);
	return r;
}

int cmd_render(const struct opts *o, int argc, char **argv)
{
	struct profile p = { 0 };
	struct ctx c;
	char *text;
	int r;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--as") || !strncmp(argv[i], "--as=", 5))
			return cmd_render_as(o, argc, argv);
	r = ctx_profile_operands(o, argc, argv);
	if (r != EXIT_OK)
		return r;
	r = ctx_open(o, &c);
	if (r != EXIT_OK)
		return r;
	r = ctx_load_profiles(o, &c, argv + 1, (size_t)argc - 1, &p);
	if (r == EXIT_OK) {
		if (apply_render_for(c.rootfd, &p, &c.ps, o->fragment, &text) < 0)
			text = apply_render(&p, &c.ps);
		if (!text) {
			tt_error(o, "render: %s", strerror(errno));
			r = EXIT_RESTORED;
		} else if (o->format == FMT_JSON) {
			json_t *doc = json_object();
			json_object_set_new(doc, "fragment", jstr(o->fragment));
			json_object_set_new(doc, "text", jstr(text));
			output_json(stdout, doc);
		} else {
			/* exactly the bytes apply writes */
			fputs(text, stdout);
		}
		free(text);
	}
	profile_free(&p);
	ctx_close(&c);
	return r;
}
