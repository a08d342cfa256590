/* SPDX-License-Identifier: ISC */
/* cmd_common.c: what every command opens first; error printing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "apply.h"
#include "netns.h"
#include "output.h"
#include "tcptune.h"

/* The first error of this run: the JSON error document carries it. */
static char *first_error;

const char *tt_first_error(void)
{
	return first_error;
}

static void vsay(const struct opts *o, enum style st, const char *what, const char *fmt, va_list ap)
{
	char *msg, *full;

	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	full = tt_hint_complete(o, msg);
	if (st == STYLE_BAD && !first_error)
		first_error = xstrdup(full);
	/* the whole message in its colour: errors red, warnings yellow (stderr's own terminal) */
	fprintf(stderr, "tcptune: %s%s%s%s\n", output_style_on(st, o->color_err), what, full,
		output_style_off(o->color_err));
	free(full);
	free(msg);
}

void tt_error(const struct opts *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(o, STYLE_BAD, "", fmt, ap);
	va_end(ap);
}

void tt_warn(const struct opts *o, const char *fmt, ...)
{
	va_list ap;

	if (o->quiet)
		return;
	va_start(ap, fmt);
	vsay(o, STYLE_WARN, "warning: ", fmt, ap);
	va_end(ap);
}

void tt_print_msgs(const struct opts *o, struct msgs *m, bool warning)
{
	for (size_t i = 0; i < m->n; i++) {
		char *e = output_escape(m->v[i]);
		if (warning)
			tt_warn(o, "%s", e);
		else
			tt_error(o, "%s", e);
		free(e);
	}
	msgs_free(m);
}

/*
 * Enter the namespace before /proc/sys is opened: sysctl lookups and
 * /proc/net resolve against the network namespace of the calling thread.
 */
static int enter_netns(const struct opts *o)
{
	char *path = netns_path(o->netns);
	int r = netns_enter(path);

	if (r == -EINVAL)
		tt_error(o, "--netns %s: %s is not a network namespace", o->netns, path);
	else if (r == -EPERM)
		tt_error(o, "--netns %s: entering a network namespace needs CAP_SYS_ADMIN (run as root)",
			 o->netns);
	else if (r < 0)
		tt_error(o, "--netns %s: %s: %s", o->netns, path, strerror(-r));
	free(path);
	return r < 0 ? EXIT_USAGE : EXIT_OK;
}

int ctx_open(const struct opts *o, struct ctx *ret)
{
	int r;

	*ret = (struct ctx){ .rootfd = -1, .ps = { .sysfd = -1 } };
	if (o->netns && enter_netns(o) != EXIT_OK)
		return EXIT_USAGE;
	ret->rootfd = open(o->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ret->rootfd < 0) {
		tt_error(o, "--root %s: %s", o->root, strerror(errno));
		return EXIT_USAGE;
	}
	r = procsys_open(ret->rootfd, &ret->ps);
	if (r < 0) {
		tt_error(o, "%s/proc/sys: %s", strcmp(o->root, "/") ? o->root : "", strerror(-r));
		ctx_close(ret);
		return EXIT_USAGE;
	}
	profile_path_init(&ret->pp, o->root, o->profile_dirs, o->n_profile_dirs);
	return EXIT_OK;
}

void ctx_close(struct ctx *c)
{
	procsys_close(&c->ps);
	if (c->rootfd >= 0)
		close(c->rootfd);
	c->rootfd = -1;
	profile_path_free(&c->pp);
	strv_free(c->shown, c->n_shown);
	c->shown = NULL;
	c->n_shown = 0;
}

int ctx_load_profiles(const struct opts *o, struct ctx *c, char *const *names, size_t n,
		      struct profile *ret)
{
	struct msgs errors = { 0 };
	int r = profile_load(&c->pp, &c->ps, names, n, ret, &errors);

	tt_print_msgs(o, &ret->warnings, true);
	tt_print_msgs(o, &errors, false);
	if (r < 0) {
		profile_free(ret);
		/* the disk failed, not the admin: that is an operation that failed */
		return r == -EINVAL ? EXIT_USAGE : EXIT_RESTORED;
	}
	/* the files of the last apply are shown by the names it recorded */
	if (c->shown && names == c->shown_for) {
		strv_free(ret->names, ret->n_names);
		ret->names = strv_dup(c->shown, c->n_shown);
		ret->n_names = c->n_shown;
	}
	return EXIT_OK;
}

/*
 * The profile files the apply read, by absolute path: never the names as
 * typed, which may mean another file from another directory or another
 * --profile-dir. A file that changed since is said, always (also -q): the
 * live values were set from what it held then. One that vanished stops.
 */
static void recorded_files(const struct opts *o, struct ctx *c, const struct apply_last *last,
			   char ***ret, size_t *ret_n, char **ret_why)
{
	struct msgs m = { 0 };
	size_t gone = provenance_check(last->sources, last->n_sources, &m);

	for (size_t i = 0; i < m.n; i++) {
		char *e = output_escape(m.v[i]);
		fprintf(stderr, "tcptune: %swarning:%s %s\n", output_style_on(STYLE_WARN, o->color_err),
			output_style_off(o->color_err), e);
		free(e);
	}
	msgs_free(&m);
	if (gone) {
		*ret_why = xasprintf("%zu file%s of the last apply vanished or cannot be read (above): "
				     "name the PROFILE to audit, or apply again", gone, gone == 1 ? "" : "s");
		return;
	}
	for (size_t i = 0; i < last->n_sources; i++) {
		if (!last->sources[i].profile)
			continue;
		*ret = xreallocarray(*ret, *ret_n + 1, sizeof(**ret));
		(*ret)[(*ret_n)++] = xstrdup(last->sources[i].path);
	}
	strv_free(c->shown, c->n_shown);
	c->shown = strv_dup(last->profiles, last->n_profiles);
	c->n_shown = last->n_profiles;
	c->shown_for = *ret;
}

int ctx_recorded_profiles(const struct opts *o, struct ctx *c, char ***ret, size_t *ret_n,
			   char **ret_why)
{
	struct apply_last last = { 0 };
	struct msgs m = { 0 };
	char *advice;
	int r;

	*ret = NULL;
	*ret_n = 0;
	*ret_why = NULL;
	r = apply_last_read(c->rootfd, &last, &m);
	if (r < 0) {
		*ret_why = xstrdup(msgs_last(&m));
		msgs_free(&m);
		return r == -EIO ? r : 0;
	}
	/* the way back from a half-done apply: -q (the boot audit unit) must not hide it */
	advice = apply_last_advice(&last);
	if (advice) {
		char *full = tt_hint_complete(o, advice);
		char *e = output_escape(full);

		fprintf(stderr, "tcptune: %swarning:%s %s\n", output_style_on(STYLE_WARN, o->color_err),
			output_style_off(o->color_err), e);
		free(e);
		free(full);
	}
	free(advice);
	/* after a rollback the recorded profiles are no longer what the admin wants */
	if (last.state == APPLY_STATE_NONE)
		*ret_why = xasprintf("no apply recorded in %s", TT_JOURNAL_PATH);
	else if (last.state == APPLY_STATE_ROLLED_BACK)
		*ret_why = xstrdup("the last apply was rolled back");
	else if (!last.n_profiles)
		*ret_why = xasprintf("%s names no profiles", TT_JOURNAL_PATH);
	if (!*ret_why && last.n_sources)
		recorded_files(o, c, &last, ret, ret_n, ret_why);
	else if (!*ret_why) {
		*ret = last.profiles;
		*ret_n = last.n_profiles;
		last.profiles = NULL;
		last.n_profiles = 0;
	}
	apply_last_free(&last);
	return 0;
}

char *tt_shell_word(const char *s)
{
	char *out, *q;

	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+,-") ==
			  strlen(s))
		return xstrdup(s);
	out = q = xmalloc(strlen(s) * 4 + 3);
	*q++ = '\'';
	for (; *s; s++) {
		if (*s == '\'')
			q = stpcpy(q, "'\\''");
		else
			*q++ = *s;
	}
	*q++ = '\'';
	*q = '\0';
	return out;
}

/* A path as typed, made absolute so that a hint also runs from another directory. */
static char *abs_word(const char *path)
{
	char *r = path[0] == '/' ? NULL : realpath(path, NULL);
	char *w = tt_shell_word(r ? r : path);

	free(r);
	return w;
}

/* A relative path would not be found from elsewhere; a name (--netns web1, a profile) is a name. */
static bool is_path(const char *v)
{
	size_t n = strlen(v);

	return strchr(v, '/') || (n > 5 && !strcmp(v + n - 5, ".conf"));
}

static void append(char **s, const char *opt, const char *val, bool path)
{
	char *w = path || is_path(val) ? abs_word(val) : tt_shell_word(val);
	char *t = xasprintf("%s %s %s", *s, opt, w);

	free(w);
	free(*s);
	*s = t;
}

static bool takes_profiles(const char *cmd)
{
	static const char *const v[] = { "audit", "apply", "plan", "render", "show", "doctor" };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!strncmp(cmd, v[i], strlen(v[i])) && (!cmd[strlen(v[i])] || cmd[strlen(v[i])] == ' '))
			return true;
	return false;
}

/* "tcptune" and the global options this run used that the command needs to look at the same thing. */
static char *hint_head(const struct opts *o, const char *cmd)
{
	char *s = tt_shell_word(o->progname ? o->progname : "tcptune");

	if (o->root && strcmp(o->root, "/"))
		append(&s, "--root", o->root, true);
	if (o->netns)
		append(&s, "--netns", o->netns, false);
	if (o->fragment && strcmp(o->fragment, TT_FRAGMENT_DEFAULT))
		append(&s, "--fragment", o->fragment, true);
	if (takes_profiles(cmd))
		for (size_t i = 0; i < o->n_profile_dirs; i++)
			append(&s, "--profile-dir", o->profile_dirs[i], true);
	return s;
}

char *tt_hint(const struct opts *o, const char *cmd, char *const *names, size_t n)
{
	char *head = hint_head(o, cmd), *s = xasprintf("%s %s", head, cmd);

	free(head);
	for (size_t i = 0; i < n; i++) {
		char *w = is_path(names[i]) ? abs_word(names[i]) : tt_shell_word(names[i]);
		char *t = xasprintf("%s %s", s, w);

		free(w);
		free(s);
		s = t;
	}
	return s;
}

char *tt_hint_complete(const struct opts *o, const char *msg)
{
	static const char mark[] = "`tcptune ";
	char *out = xstrdup("");
	const char *p = msg, *at;

	while ((at = strstr(p, mark))) {
		const char *cmd = at + strlen(mark);
		/* "`tcptune --root ...": complete already but for the program's name */
		char *head = *cmd == '-' ? tt_shell_word(o->progname ? o->progname : "tcptune") :
					   hint_head(o, cmd);
		char *t = xasprintf("%s%.*s`%s ", out, (int)(at - p), p, head);

		free(head);
		free(out);
		out = t;
		p = cmd;
	}
	char *t = xasprintf("%s%s", out, p);
	free(out);
	return t;
}

int ctx_profile_operands(const struct opts *o, int argc, char **argv)
{
	if (argc < 2) {
		tt_error(o, "%s: name at least one PROFILE", argv[0]);
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-') {
			tt_error(o, "%s: unknown option '%s'; see tcptune --help", argv[0], argv[i]);
			return EXIT_USAGE;
		}
	return EXIT_OK;
}
