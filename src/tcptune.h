/* SPDX-License-Identifier: ISC */
/* tcptune.h: options shared by the front door and the commands. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum format { FMT_TABLE, FMT_JSON, FMT_PROMETHEUS };

/* Global options, parsed in main.c and passed down; never read as globals. */
struct opts {
	const char *root;          /* "/" unless --root */
	const char *netns;         /* --netns NAME|PATH|PID, or NULL */
	const char *fragment;      /* absolute, taken below root */
	char **profile_dirs;       /* --profile-dir, in order */
	size_t n_profile_dirs;
	enum format format;
	bool color;                /* stdout: resolved from --color, NO_COLOR, TERM and isatty */
	bool color_err;            /* the same for messages on stderr */
	struct report *out;        /* the one writer of stdout (report.h) */
	bool quiet;
	int verbose;
	const char *progname;
};

#define TT_FRAGMENT_DEFAULT "/etc/sysctl.d/90-tcptune.conf"

/* Exit status, DESIGN.md. */
enum {
	EXIT_OK = 0,
	EXIT_FINDINGS = 1,   /* drift, pending changes, problems */
	EXIT_USAGE = 2,      /* bad usage or input; nothing touched */
	EXIT_RESTORED = 3,   /* failed; previous state restored */
	EXIT_BROKEN = 4,     /* failed; previous state not fully restored */
};

/* One function per command; argv[0] is the command name. */
int cmd_audit(const struct opts *o, int argc, char **argv);
int cmd_validate(const struct opts *o, int argc, char **argv);
int cmd_show(const struct opts *o, int argc, char **argv);
int cmd_profiles(const struct opts *o, int argc, char **argv);
int cmd_explain(const struct opts *o, int argc, char **argv);
int cmd_apply(const struct opts *o, int argc, char **argv);
int cmd_plan(const struct opts *o, int argc, char **argv);
int cmd_rollback(const struct opts *o, int argc, char **argv);
int cmd_render(const struct opts *o, int argc, char **argv);
/* render --as sysctl.d|kubernetes|docker PROFILE... (cmd_render.c) */
int cmd_render_as(const struct opts *o, int argc, char **argv);
int cmd_sockets(const struct opts *o, int argc, char **argv);
int cmd_doctor(const struct opts *o, int argc, char **argv);
/* cmd_help.c: a command's usage line, options with their values, an example; -1 if unknown. */
#include <stdio.h>
int cmd_help_print(FILE *f, const char *name, const char *args, const char *summary);
/* lead, then text broken at spaces outside [...] to fit 80 columns; later lines indented. */
void cmd_help_wrap(FILE *f, const char *lead, const char *text, size_t indent);

/*
 * What every command needs, opened once from the options (cmd_common.c):
 * the root directory, /proc/sys below it (inside --netns if given), and the
 * profile search path. Errors are printed here, once, with the path.
 */
#include "procsys.h"
#include "profile.h"
#include "util.h"

struct ctx {
	int rootfd;
	struct procsys ps;
	struct profile_path pp;
	char **shown;              /* the recorded profiles' names, shown when loading... */
	size_t n_shown;
	char *const *shown_for;    /* ...this list of their files (ctx_recorded_profiles) */
};

/* EXIT_OK, or EXIT_USAGE after printing why (bad --root, --netns, …). */
int ctx_open(const struct opts *o, struct ctx *ret);
void ctx_close(struct ctx *c);
/* Load profiles; prints every error on stderr. EXIT_OK, EXIT_USAGE, or EXIT_RESTORED when a read failed (EIO). */
int ctx_load_profiles(const struct opts *o, struct ctx *c, char *const *names, size_t n,
		      struct profile *ret);
/*
 * The profiles of the last apply, from its journal, for audit and doctor
 * run without a PROFILE. Warns (once) when an apply or rollback died
 * half-way. *ret is NULL when there are none to use, and *ret_why says
 * why (no journal, rolled back, unreadable); the caller frees both.
 * -EIO when the journal could not be read for the storage's sake, else 0.
 */
int ctx_recorded_profiles(const struct opts *o, struct ctx *c, char ***ret, size_t *ret_n,
			   char **ret_why);
/* argv[1..] are PROFILEs: at least one, and no option. EXIT_OK, or EXIT_USAGE said. */
int ctx_profile_operands(const struct opts *o, int argc, char **argv);
/* "tcptune: message" on stderr (with colour when enabled). */
void tt_error(const struct opts *o, const char *fmt, ...) TT_PRINTF(2, 3);
void tt_warn(const struct opts *o, const char *fmt, ...) TT_PRINTF(2, 3);
/*
 * Hints that run as printed: "tcptune" with the global options this run
 * used (--root, --netns, --fragment, and --profile-dir for commands that
 * take profiles; paths made absolute), cmd, then the names shell-quoted.
 */
char *tt_hint(const struct opts *o, const char *cmd, char *const *names, size_t n);
/* s as one word for sh: as it is when safe, else in single quotes. Caller frees. */
char *tt_shell_word(const char *s);
/* msg with each "`tcptune CMD" given the same global options; tt_error and tt_warn apply it. */
char *tt_hint_complete(const struct opts *o, const char *msg);
/* The first message tt_error() printed in this run, or NULL. */
const char *tt_first_error(void);
/* Print each message of m with tt_error (or tt_warn) and empty it. */
void tt_print_msgs(const struct opts *o, struct msgs *m, bool warning);
