/* SPDX-License-Identifier: ISC */
/* cmd_apply.c: the render, plan, apply and rollback commands: options, output, exit codes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "apply.h"
#include "output.h"
#include "report.h"
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
			fprintf(stderr, "tcptune: %snote:%s %s\n", output_style_on(STYLE_DIM, o->color_err),
				output_style_off(o->color_err), e);
		free(e);
	}
	msgs_free(m);
}

static const char *skip_reason(enum apply_action a)
{
	return a == APPLY_SKIP_MISSING ? "missing" : a == APPLY_SKIP_GONE ? "gone" : "host-wide";
}

static bool pending(const struct apply_tx *tx)
{
	return tx->frag_changes || tx->n_set > 0;
}

/* The "keys" table (or "planned", for a failed transaction that undid itself); text only when shown. */
static void tx_keys(struct report *out, const struct apply_tx *tx, const char *name, bool shown)
{
	static const struct report_col cols[] = {
		{ "KEY", "key", NULL, REPORT_STRING, REPORT_WRAP },
		{ "BEFORE", "before", NULL, REPORT_STRING, REPORT_WRAP },
		{ "", NULL, NULL, REPORT_STRING, 0 },
		{ "AFTER", "after", NULL, REPORT_STRING, REPORT_WRAP },
	};

	report_table_begin(out, name, cols, sizeof(cols) / sizeof(cols[0]));
	report_table_text(out, shown && tx->n_set);
	for (size_t i = 0; i < tx->n_keys; i++) {
		const struct apply_key *k = &tx->keys[i];

		if (k->action != APPLY_SET)
			continue;
		report_row(out, 0, false);
		report_cell_str(out, STYLE_PLAIN, k->key);
		report_cell_alt(out, STYLE_DIM, k->before, k->before ? k->before : "(missing)");
		report_cell_str(out, STYLE_DIM, "->");
		report_cell_str(out, STYLE_BOLD, k->after);
	}
	report_table_end(out);
}

static void tx_strings(struct report *out, const char *name, const struct msgs *m)
{
	report_strv(out, name, m->v, m->n);
}

/* The document's fields in DESIGN's order, and the table where the text view has one. */
static void tx_report(struct report *out, const struct apply_tx *tx, enum apply_outcome oc,
		      enum mode mode, bool shown)
{
	/*
	 * A failed apply or rollback that restored everything changed nothing:
	 * say so, and list what it tried under "planned", not under "keys".
	 */
	bool undone = mode != MODE_PLAN && oc != APPLY_OK;

	report_bool(out, "changed", NULL, mode == MODE_PLAN ? pending(tx) : tx->changed);
	report_strv(out, "profiles", tx->profiles, tx->n_profiles);
	report_str(out, "fragment", NULL, tx->fragment);
	report_bool(out, "fragment_changed", NULL,
		    tx->frag_changes && (!undone || oc == APPLY_BROKEN));
	if (undone) {
		report_array_begin(out, "keys");
		report_array_end(out);
	}
	tx_keys(out, tx, undone ? "planned" : "keys", shown && !undone);
	report_array_begin(out, "skipped");
	for (size_t i = 0; i < tx->n_keys; i++) {
		const struct apply_key *k = &tx->keys[i];

		if (k->action != APPLY_SKIP_MISSING && k->action != APPLY_SKIP_SCOPE &&
		    k->action != APPLY_SKIP_GONE)
			continue;
		report_object_begin(out, NULL);
		report_str(out, "key", NULL, k->key);
		report_str(out, "reason", NULL, skip_reason(k->action));
		report_object_end(out);
	}
	report_array_end(out);
	report_bool(out, "recovered", NULL, tx->recovered);
	if (oc != APPLY_OK) {
		tx_strings(out, "errors", &tx->errors);
		report_bool(out, "restored", NULL, oc != APPLY_BROKEN);
		tx_strings(out, "unrestored", &tx->unrestored);
	}
	if (mode == MODE_ROLLBACK || tx->edits.n)
		tx_strings(out, "hand_edits", &tx->edits);
	tx_strings(out, "warnings", &tx->warnings);
	tx_strings(out, "notes", &tx->notes);
}

/* Boot conflicts, each with its two ways out: in the document, or as messages on stderr. */
static void say_conflicts(const struct opts *o, const struct apply_tx *tx)
{
	struct report *out = o->out;
	bool json = report_format(out) == FMT_JSON;

	report_array_begin(out, "boot_conflicts");
	for (size_t i = 0; i < tx->conflicts.n; i++) {
		const struct boot_conflict *b = &tx->conflicts.v[i];
		char *fix = remedy_conflict(o, b, tx->conflicts.winning_fragment, tx->profiles,
					    tx->n_profiles);

		report_object_begin(out, NULL);
		report_str(out, "key", NULL, b->key);
		report_str(out, "file", NULL, b->file);
		report_int(out, "line", NULL, b->line);
		report_str(out, "value", NULL, b->value);
		report_bool(out, "procps_only", NULL, b->procps);
		report_str(out, "fix", NULL, fix);
		report_object_end(out);
		if (!json) {
			char *k = output_escape(b->key), *e = output_escape(fix);
			fprintf(stderr, "tcptune: %sboot conflict:%s %s: %s\n",
				output_style_on(STYLE_WARN, o->color_err), output_style_off(o->color_err), k, e);
			free(k);
			free(e);
		}
		free(fix);
	}
	report_array_end(out);
	report_str(out, "winning_fragment", NULL, tx->conflicts.winning_fragment);
	if (!json && tx->conflicts.n)
		fprintf(stderr, "tcptune: %zu key%s will not hold at boot: apply cannot fix "
			"that by itself; take one of the ways out above\n", tx->conflicts.n,
			tx->conflicts.n == 1 ? "" : "s");
}

/* Keys already set (keep) or skipped. */
static size_t tx_count(const struct apply_tx *tx, bool keep)
{
	size_t n = 0;

	for (size_t i = 0; i < tx->n_keys; i++) {
		enum apply_action a = tx->keys[i].action;

		if (keep ? a == APPLY_KEEP : (a == APPLY_SKIP_MISSING || a == APPLY_SKIP_SCOPE ||
					      a == APPLY_SKIP_GONE))
			n++;
	}
	return n;
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
	char *cmd, *s;

	if (!pending(tx))
		return xstrdup(mode != MODE_ROLLBACK && tx->conflicts.n ?
			       "; nothing for apply to change, but boot conflicts remain (below)" :
			       "; nothing to do");
	cmd = mode == MODE_ROLLBACK ? tt_hint(o, "rollback", NULL, 0) :
				      tt_hint(o, "apply", tx->profiles, tx->n_profiles);
	s = xasprintf("; `%s` makes these changes", cmd);
	free(cmd);
	return s;
}

/* The lines under the table: what happened to the fragment, and the step. */
static void tx_summary(const struct opts *o, const struct apply_tx *tx, enum mode mode, bool dry_run)
{
	struct report *out = o->out;
	char *names = xstrdup(""), *next;

	if (!o->quiet || tx->n_set || tx->frag_changes)
		report_text(out, STYLE_PLAIN, "%sfragment %s: %s", tx->n_set ? "\n" : "",
			    tx->fragment ? tx->fragment : "", fragment_verb(tx, !dry_run));
	if (o->quiet) {
		free(names);
		return;
	}
	for (size_t i = 0; i < tx->n_profiles; i++) {
		char *s = xasprintf("%s%s%s", names, i ? ", " : "", tx->profiles[i]);
		free(names);
		names = s;
	}
	next = next_step(o, tx, mode);
	if (mode == MODE_ROLLBACK && dry_run)
		report_text(out, STYLE_PLAIN, "rollback of %s: %zu key%s to restore%s", names, tx->n_set,
			    tx->n_set == 1 ? "" : "s", next);
	else if (mode == MODE_PLAN || dry_run)
		report_text(out, STYLE_PLAIN, "%s: %zu key%s to change, %zu already set, %zu skipped%s", names,
			    tx->n_set, tx->n_set == 1 ? "" : "s", tx_count(tx, true), tx_count(tx, false), next);
	else if (mode == MODE_APPLY)
		report_text(out, STYLE_PLAIN, "%s: %s%zu key%s changed, %zu already set, %zu skipped", names,
			    tx->changed ? "applied; " : "already applied, nothing changed; ", tx->n_set,
			    tx->n_set == 1 ? "" : "s", tx_count(tx, true), tx_count(tx, false));
	else
		report_text(out, STYLE_PLAIN, "rolled back %s: %zu key%s restored", names, tx->n_set,
			    tx->n_set == 1 ? "" : "s");
	free(next);
	free(names);
}

static int outcome_exit(enum apply_outcome oc)
{
	switch (oc) {
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
static int report(const struct opts *o, struct apply_tx *tx, enum apply_outcome oc, enum mode mode,
		  bool dry_run)
{
	int code = outcome_exit(oc);

	complete_msgs(o, &tx->errors);
	complete_msgs(o, &tx->warnings);
	complete_msgs(o, &tx->notes);

	if (code == EXIT_OK && dry_run && (pending(tx) || tx->conflicts.n || tx->edits.n))
		code = EXIT_FINDINGS;
	/* -q: a change that was made is success, and success prints nothing */
	bool shown = oc == APPLY_OK && mode != MODE_FORGET &&
		     !(mode == MODE_ROLLBACK && !pending(tx) && !tx->changed) &&
		     !(o->quiet && mode != MODE_PLAN && !dry_run);

	tx_report(o->out, tx, oc, dry_run ? MODE_PLAN : mode, shown);
	if (shown)
		tx_summary(o, tx, mode, dry_run);
	say_conflicts(o, tx);
	report_exit(o->out, code, code >= EXIT_USAGE && tx->errors.n ? tx->errors.v[0] : NULL);
	/* the report before the messages about it, as a terminal shows them */
	(void)report_flush(o->out);
	/* hand edits are the reason for the answer: shown even with -q */
	for (size_t i = 0; i < tx->edits.n; i++) {
		char *e = output_escape(tx->edits.v[i]);
		tt_error(o, "hand edit: %s", e);
		free(e);
	}
	tt_print_msgs(o, &tx->warnings, true);
	say_notes(o, &tx->notes);
	tt_print_msgs(o, &tx->errors, false);
	for (size_t i = 0; i < tx->unrestored.n; i++) {
		char *e = output_escape(tx->unrestored.v[i]);
		tt_error(o, "not restored: %s", e);
		free(e);
	}
	if (oc == APPLY_FAILED && mode != MODE_PLAN && tx->recovered && tx->changed)
		tt_error(o, "apply failed; the interrupted transaction was restored first, and nothing "
			 "new was applied");
	else if (oc == APPLY_FAILED && mode != MODE_PLAN)
		tt_error(o, "%s failed; every key and the fragment are as they were before",
			 mode == MODE_FORGET ? "rollback --forget" : mode == MODE_ROLLBACK ? "rollback" : "apply");
	else if (oc == APPLY_BROKEN)
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
	enum apply_outcome oc;
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

		if (apply_last_read(c.rootfd, &last, NULL) == 0) {
			char *advice = apply_last_advice(&last);
			if (advice)
				tt_warn(o, "%s", advice);
			free(advice);
			apply_last_free(&last);
		}
		oc = apply_plan(c.rootfd, &c.ps, &p, &ao, &tx);
	} else {
		oc = apply_run(c.rootfd, &c.ps, &p, &ao, &tx);
	}
	r = report(o, &tx, oc, mode, dry_run);
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
	if (forget)
		r = report(o, &tx, apply_forget(c.rootfd, &ao, &tx), MODE_FORGET, false);
	else
		r = report(o, &tx, apply_rollback(c.rootfd, &c.ps, &ao, dry_run, &tx), MODE_ROLLBACK, dry_run);
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
		} else {
			report_str(o->out, "fragment", NULL, o->fragment);
			report_verbatim(o->out, "text", text);
		}
		free(text);
	}
	profile_free(&p);
	ctx_close(&c);
	return r;
}
