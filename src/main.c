/* SPDX-License-Identifier: ISC */
/* main.c: the front door: global options, then one command. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "output.h"
#include "report.h"
#include "tcptune.h"

/* The formats a command writes, declared here and enforced before it runs. */
enum { F_TABLE = 1 << FMT_TABLE, F_JSON = 1 << FMT_JSON, F_PROM = 1 << FMT_PROMETHEUS };

struct command {
	const char *name;
	int (*fn)(const struct opts *o, int argc, char **argv);
	const char *args;
	const char *summary;
	unsigned formats;
	bool transaction;	/* its result stands even when the report is lost */
};

static const struct command commands[] = {
	{ "audit",    cmd_audit,    "[--all-netns] [--raw] [PROFILE...]", "live and boot values against the profile(s)",
	  F_TABLE | F_JSON | F_PROM, false },
	{ "apply",    cmd_apply,    "[-n | --check] [--keep-stale] [--wait SECS] PROFILE...",   "persist and set live, all or nothing",
	  F_TABLE | F_JSON, true },
	{ "plan",     cmd_plan,     "[--keep-stale] PROFILE...",   "what apply would change",
	  F_TABLE | F_JSON, false },
	{ "rollback", cmd_rollback, "[-n | --forget] [--force] [--wait SECS]",           "undo the last apply (fragment and live values)",
	  F_TABLE | F_JSON, true },
	{ "render",   cmd_render,   "[--as sysctl.d|kubernetes|docker] PROFILE...",   "the profile as a sysctl.d fragment, pod sysctls or docker flags",
	  F_TABLE | F_JSON, false },
	{ "profiles", cmd_profiles, "",             "list profiles on the search path",
	  F_TABLE | F_JSON, false },
	{ "show",     cmd_show,     "PROFILE...",   "the merged profile after inheritance",
	  F_TABLE | F_JSON, false },
	{ "validate", cmd_validate, "FILE...",      "check profile files without touching the system",
	  F_TABLE | F_JSON, false },
	{ "explain",  cmd_explain,  "KEY...",       "meaning, range, default, scope and live value of keys",
	  F_TABLE | F_JSON, false },
	{ "sockets",  cmd_sockets,  "[-46] [--by KEY] [--state S] [--top N] [--watch SECS] [--exact] [--source SRC]",             "TCP sockets by state, owner, remote or local port",
	  F_TABLE | F_JSON | F_PROM, false },
	{ "doctor",   cmd_doctor,   "[--interval SECS | --once] [--source SRC] [PROFILE...]", "sockets and settings turned into a diagnosis",
	  F_TABLE | F_JSON | F_PROM, false },
};

static void usage_options(FILE *f, const char *heading)
{
	fprintf(f, "\n%s:\n", heading);
	fputs("  --root DIR            take /proc, /etc, /run and /var/lib below DIR\n"
	      "  --netns NAME|PATH|PID work inside that network namespace\n"
	      "  --fragment PATH       the sysctl.d file apply writes\n"
	      "                        (default " TT_FRAGMENT_DEFAULT ")\n"
	      "  --profile-dir DIR     look for profiles in DIR first (repeatable)\n"
	      "  -o, --format FORMAT   table, json or prometheus\n"
	      "  --output FILE         write to FILE atomically (for the textfile collector)\n"
	      "  --color WHEN          auto, always or never (NO_COLOR is honoured)\n"
	      "  -q, --quiet           print nothing on success\n"
	      "  -v, --verbose         say more\n"
	      "  -h, --help            this help;  -V, --version  the version\n"
	      "  tcptune help COMMAND  (or COMMAND --help) a command's options and their values\n"
	      "\nexit status: 0 ok, 1 drift/changes pending/problems, 2 bad usage or input,\n"
	      "3 failed and restored, 4 failed and not fully restored.  See tcptune(8).\n", f);
}

static void usage(FILE *f)
{
	fputs("usage: tcptune [-hqVv] [--color when] [--fragment path] [--netns name]\n"
	      "               [-o format] [--output file] [--profile-dir dir] [--root dir]\n"
	      "               command [arg ...]\n"
	      "\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		char *head = xasprintf("%s %s", c->name, c->args);

		/* --help fits 80 columns: long usage lines wrap, a long summary gets its own line */
		if (strlen(head) > 22)
			cmd_help_wrap(f, "  ", head, 3 + strlen(c->name));
		else
			fprintf(f, "  %-22s ", head);
		if (strlen(head) > 22 && 25 + strlen(c->summary) > 80)
			fprintf(f, "    %s\n", c->summary);
		else
			fprintf(f, "%s%s\n", strlen(head) > 22 ? "                         " : "", c->summary);
		free(head);
	}
	usage_options(f, "options");
}

enum { OPT_ROOT = 256, OPT_NETNS, OPT_FRAGMENT, OPT_PROFILE_DIR, OPT_COLOR, OPT_OUTPUT };

static const struct option global_options[] = {
	{ "root",        required_argument, NULL, OPT_ROOT },
	{ "netns",       required_argument, NULL, OPT_NETNS },
	{ "fragment",    required_argument, NULL, OPT_FRAGMENT },
	{ "profile-dir", required_argument, NULL, OPT_PROFILE_DIR },
	{ "format",      required_argument, NULL, 'o' },
	{ "color",       required_argument, NULL, OPT_COLOR },
	{ "colour",      required_argument, NULL, OPT_COLOR },
	{ "quiet",       no_argument,       NULL, 'q' },
	{ "verbose",     no_argument,       NULL, 'v' },
	{ "help",        no_argument,       NULL, 'h' },
	{ "version",     no_argument,       NULL, 'V' },
	{ "output",      required_argument, NULL, OPT_OUTPUT },
	{ NULL, 0, NULL, 0 },
};

/* Option values live here and reach the commands only through struct opts. */
static struct opts opts = {
	.root = "/",
	.fragment = TT_FRAGMENT_DEFAULT,
};
static const char *color_when = "auto";
static const char *output_file;

static const char *const formats[] = { "table", "json", "prometheus" };

/*
 * kubectl and gh users write "--output json" for the format; tcptune's
 * --output is a FILE. A value that is a format name, or close to one, or
 * kubectl's "jsonpath=..." is refused rather than written to a file named
 * "json": ./json still names that file.
 */
static bool output_is_format(const char *arg)
{
	static const char *const others[] = {
		"yaml", "yml", "text", "txt", "wide", "csv", "tsv", "prom", "name",
		"jsonpath", "go-template", "template", "custom-columns", "plain", "human",
	};
	const char *near = suggest_word(arg, formats, 3);
	size_t n = strcspn(arg, "=");
	bool other = false;

	if (strchr(arg, '/'))
		return false;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (!strncasecmp(arg, others[i], n) && !others[i][n])
			other = true;
	if (!near && !other)
		return false;
	fprintf(stderr, "tcptune: --output takes a FILE to write, not a format: did you mean -o %s?"
		" (to write a file named %s, say --output ./%s)\n", near ? near : "json", arg, arg);
	return true;
}

/* "//" and "/./" name the same file as "/": compare paths in one spelling. */
static void squeeze_path(char *s)
{
	char *w = s;

	for (const char *r = s; *r;) {
		if (r[0] == '/' && (r[1] == '/' || (r[1] == '.' && (r[2] == '/' || !r[2])))) {
			r += r[1] == '/' ? 1 : 2;
			continue;
		}
		*w++ = *r++;
	}
	if (w > s + 1 && w[-1] == '/')
		w--;
	*w = '\0';
	if (!*s)
		strcpy(s, "/");
}

static int set_option(int c, const char *arg)
{
	switch (c) {
	case OPT_ROOT:
		opts.root = arg;
		break;
	case OPT_NETNS:
		opts.netns = arg;
		break;
	case OPT_FRAGMENT:
		if (arg[0] != '/') {
			tt_error(&opts, "--fragment: '%s' is not an absolute path", arg);
			return -1;
		}
		squeeze_path((char *)arg);
		opts.fragment = arg;
		break;
	case OPT_PROFILE_DIR:
		opts.profile_dirs = xreallocarray(opts.profile_dirs, opts.n_profile_dirs + 1,
						  sizeof(char *));
		opts.profile_dirs[opts.n_profile_dirs++] = (char *)arg;
		break;
	case 'o':
		if (!strcmp(arg, "table"))
			opts.format = FMT_TABLE;
		else if (!strcmp(arg, "json"))
			opts.format = FMT_JSON;
		else if (!strcmp(arg, "prometheus"))
			opts.format = FMT_PROMETHEUS;
		else {
			const char *near = suggest_word(arg, formats, 3);

			tt_error(&opts, "-o: '%s' is not one of table, json, prometheus%s%s%s", arg,
				 near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
			return -1;
		}
		break;
	case OPT_COLOR:
		if (strcmp(arg, "auto") && strcmp(arg, "always") && strcmp(arg, "never")) {
			tt_error(&opts, "--color: '%s' is not one of auto, always, never", arg);
			return -1;
		}
		color_when = arg;
		break;
	case OPT_OUTPUT:
		if (output_is_format(arg))
			return -1;
		output_file = arg;
		break;
	case 'q':
		opts.quiet = true;
		break;
	case 'v':
		opts.verbose++;
		break;
	default:
		return -1;
	}
	return 0;
}

/*
 * Admins write "tcptune audit crawler -o json" as often as the documented
 * order, so global options are also taken from after the command (up to
 * "--"); whatever is left goes to the command's own parser.
 */
static int take_globals(int *argc, char **argv, bool *help)
{
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		const struct option *hit = NULL;
		const char *val = NULL;

		if (!strcmp(a, "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			*help = true;
			continue;
		}
		if (!strcmp(a, "-q") || !strcmp(a, "-v")) {
			(void)set_option(a[1], NULL);
			continue;
		}
		if (!strncmp(a, "-o", 2)) {
			hit = &global_options[4];
			val = a[2] ? a + 2 : NULL;
		} else if (!strncmp(a, "--", 2)) {
			for (const struct option *g = global_options; g->name; g++) {
				size_t l = strlen(g->name);
				if (g->has_arg == required_argument && !strncmp(a + 2, g->name, l) &&
				    (a[2 + l] == '\0' || a[2 + l] == '=')) {
					hit = g;
					val = a[2 + l] == '=' ? a + 3 + l : NULL;
					break;
				}
			}
		}
		if (!hit) {
			argv[out++] = argv[i];
			continue;
		}
		if (!val) {
			if (i + 1 >= *argc) {
				tt_error(&opts, "%s needs a value", a);
				return -1;
			}
			val = argv[++i];
		}
		if (set_option(hit->val, val) < 0)
			return -1;
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}

/* Colour for one stream: --color, then NO_COLOR, TERM=dumb, and whether that stream is a terminal. */
static bool want_color(int fd)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	if (!strcmp(color_when, "always"))
		return true;
	if (!strcmp(color_when, "never") || (nc && *nc))
		return false;
	/* a terminal that says it cannot do escapes gets none (as ls and grep do) */
	if (!term || !*term || !strcmp(term, "dumb"))
		return false;
	return isatty(fd);
}

/* The columns to fit on a terminal (COLUMNS, else the tty's); 0 when stdout is not one. */
static unsigned term_width(void)
{
	const char *cols = getenv("COLUMNS");
	struct winsize ws;
	long long v;

	if (output_file || !isatty(STDOUT_FILENO))
		return 0;
	if (cols && parse_ll(cols, &v) == 0 && v >= 20 && v <= 10000)
		return (unsigned)v;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 80;
}

/*
 * A report that cannot be written fails a read-only command (its output is
 * its result), but not a transaction: what apply or rollback did to the
 * system does not depend on where the report goes.
 */
static int report_failed(const char *where, int err, int r, bool transaction)
{
	fprintf(stderr, "tcptune: writing %s: %s", where, strerror(-err));
	if (!transaction) {
		fputc('\n', stderr);
		return EXIT_RESTORED;
	}
	fprintf(stderr, "; the report is lost; the command's own result stands (exit %d)\n", r);
	return r;
}

/*
 * Help and --version are the output they were asked for: one that could
 * not be written is a failure too, as for every command's report.
 */
static int text_done(int r)
{
	int err = fflush(stdout) == 0 && !ferror(stdout) ? 0 : -(errno ? errno : EIO);

	return err < 0 ? report_failed("stdout", err, r, false) : r;
}

/*
 * How hints name the program: "tcptune" when it was found on $PATH, else
 * the absolute path it was run by (./tcptune in a build tree is not on
 * $PATH, and a hint must paste from anywhere).
 */
static const char *program_name(const char *argv0)
{
	static char path[PATH_MAX];

	if (!argv0 || !strchr(argv0, '/') || !realpath(argv0, path))
		return "tcptune";
	return path;
}

/* "tcptune sockets --help" and "tcptune help sockets": the command's own options, then the global ones. */
static int command_help(const struct command *cmd)
{
	if (cmd_help_print(stdout, cmd->name, cmd->args, cmd->summary) < 0)
		printf("usage: tcptune [GLOBAL] %s %s\n  %s\n", cmd->name, cmd->args, cmd->summary);
	usage_options(stdout, "global options (before or after the command)");
	return text_done(EXIT_OK);
}

static int not_a_command(const char *name)
{
	const char *names[sizeof(commands) / sizeof(commands[0]) + 1];
	const char *near;
	size_t n = 0;

	for (; n < sizeof(commands) / sizeof(commands[0]); n++)
		names[n] = commands[n].name;
	names[n++] = "help";
	near = suggest_word(name, names, n);
	tt_error(&opts, "'%s' is not a command%s%s%s; see tcptune --help", name,
		 near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
	return EXIT_USAGE;
}

/* tcptune help [COMMAND] */
static int help_command(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return text_done(EXIT_OK);
	}
	if (argc > 2) {
		fputs("tcptune: help takes one COMMAND; see tcptune --help\n", stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return command_help(&commands[i]);
	return not_a_command(argv[1]);
}

/* -o json anywhere on the command line: even a usage error answers in JSON. */
static bool json_asked(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : "";

		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "-ojson") || !strcmp(a, "--format=json") ||
		    ((!strcmp(a, "-o") || !strcmp(a, "--format")) && !strcmp(next, "json")))
			return true;
	}
	return false;
}

/* With -o json, every exit path prints one document: an error one when the command printed none. */
static int finish(bool json, int r)
{
	if (json && r != EXIT_OK) {
		struct report_cfg cfg = { .format = FMT_JSON };
		struct report *rep = report_new(stdout, &cfg);

		report_exit(rep, r, tt_first_error());
		(void)report_finish(rep, true);
	}
	return r;
}

/* One message before the command runs: the formats it has. */
static bool format_refused(const struct command *cmd)
{
	const char *have[3];
	size_t n = 0;

	if (cmd->formats & (1u << opts.format))
		return false;
	for (int f = FMT_TABLE; f <= FMT_PROMETHEUS; f++)
		if (cmd->formats & (1u << f))
			have[n++] = formats[f];
	tt_error(&opts, "%s: -o %s is not available; %s writes %s%s%s%s%s", cmd->name, formats[opts.format],
		 cmd->name, have[0], n > 1 ? (n > 2 ? ", " : " or ") : "", n > 1 ? have[1] : "",
		 n > 2 ? " or " : "", n > 2 ? have[2] : "");
	return true;
}

/* Run the command with the writer on stdout; the writer's last check decides a lost report. */
static int run(const struct command *cmd, int argc, char **argv)
{
	struct report_cfg cfg = { .format = opts.format, .output = output_file };
	struct report *rep;
	const char *where;
	int r, err;

	opts.color = want_color(STDOUT_FILENO);
	opts.color_err = want_color(STDERR_FILENO);
	cfg.color = opts.color && opts.format == FMT_TABLE;
	cfg.width = term_width();
	if (format_refused(cmd))
		return finish(opts.format == FMT_JSON, EXIT_USAGE);
	rep = report_new(stdout, &cfg);
	if (!rep) {
		tt_error(&opts, "--output %s: %s", output_file, strerror(errno));
		return finish(opts.format == FMT_JSON, EXIT_USAGE);
	}
	where = report_where(rep);
	opts.out = rep;
	optind = 1;
	r = cmd->fn(&opts, argc, argv);
	if (opts.format == FMT_JSON && r != EXIT_OK && !report_used(rep))
		report_exit(rep, r, tt_first_error());
	err = report_finish(rep, r == EXIT_OK || r == EXIT_FINDINGS);
	opts.out = NULL;
	if (err < 0)
		r = report_failed(where, err, r, cmd->transaction);
	return r;
}

int main(int argc, char **argv)
{
	bool help = false, json = json_asked(argc, argv);
	int c;

	opts.progname = program_name(argv[0]);
	while ((c = getopt_long(argc, argv, "+o:qvhV", global_options, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return text_done(EXIT_OK);
		}
		if (c == 'V') {
			printf("tcptune %s\n", PACKAGE_VERSION);
			return text_done(EXIT_OK);
		}
		if (c == '?' || set_option(c, optarg) < 0) {
			if (c == '?')
				tt_error(&opts, "unknown option '%s'", argv[optind - 1]);
			fputs("tcptune: see tcptune --help\n", stderr);
			return finish(json, EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	opts.color_err = want_color(STDERR_FILENO);
	if (argc < 1) {
		usage(stderr);
		tt_error(&opts, "no command given; see tcptune --help");
		return finish(json, EXIT_USAGE);
	}
	if (!strcmp(argv[0], "help"))
		return help_command(argc, argv);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *cmd = &commands[i];

		if (strcmp(argv[0], cmd->name))
			continue;
		if (take_globals(&argc, argv, &help) < 0)
			return finish(json, EXIT_USAGE);
		if (help)
			return command_help(cmd);
		int r = run(cmd, argc, argv);

		free(opts.profile_dirs);
		return r;
	}
	return finish(json, not_a_command(argv[0]));
}
