/* main.c: the front door: global options, then one command. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tcptune.h"

struct command {
	const char *name;
	int (*fn)(const struct opts *o, int argc, char **argv);
	const char *args;
	const char *summary;
};

static const struct command commands[] = {
	{ "audit",    cmd_audit,    "[--all-netns] [PROFILE...]", "live and boot values against the profile(s)" },
	{ "apply",    cmd_apply,    "[-n | --check] [--keep-stale] [--wait SECS] PROFILE...",   "persist and set live, all or nothing" },
	{ "plan",     cmd_plan,     "[--keep-stale] PROFILE...",   "what apply would change" },
	{ "rollback", cmd_rollback, "[-n | --forget] [--force] [--wait SECS]",           "undo the last apply (fragment and live values)" },
	{ "render",   cmd_render,   "PROFILE...",   "print the sysctl.d fragment apply would write" },
	{ "profiles", cmd_profiles, "",             "list profiles on the search path" },
	{ "show",     cmd_show,     "PROFILE...",   "the merged profile after inheritance" },
	{ "validate", cmd_validate, "FILE...",      "check profile files without touching the system" },
	{ "explain",  cmd_explain,  "KEY...",       "meaning, range, default, scope and live value of keys" },
	{ "sockets",  cmd_sockets,  "[-46] [--by KEY] [--state S] [--top N] [--watch SECS] [--exact] [--source SRC]",             "TCP sockets by state, owner, remote or local port" },
	{ "doctor",   cmd_doctor,   "[--source SRC] [PROFILE...]", "sockets and settings turned into a diagnosis" },
};

static void usage(FILE *f)
{
	fputs("usage: tcptune [-hqVv] [--color when] [--fragment path] [--netns name]\n"
	      "               [-o format] [--output file] [--profile-dir dir] [--root dir]\n"
	      "               command [arg ...]\n"
	      "\ncommands:\n", f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		char *head = xasprintf("%s %s", c->name, c->args);
		if (strlen(head) > 22)
			fprintf(f, "  %s\n  %-22s %s\n", head, "", c->summary);
		else
			fprintf(f, "  %-22s %s\n", head, c->summary);
		free(head);
	}
	fputs("\noptions:\n"
	      "  --root DIR            take /proc, /etc, /run and /var/lib below DIR\n"
	      "  --netns NAME|PATH|PID work inside that network namespace\n"
	      "  --fragment PATH       the sysctl.d file apply writes (" TT_FRAGMENT_DEFAULT ")\n"
	      "  --profile-dir DIR     look for profiles in DIR first (repeatable)\n"
	      "  -o, --format FORMAT   table, json or prometheus\n"
	      "  --output FILE         write to FILE atomically (for the textfile collector)\n"
	      "  --color WHEN          auto, always or never (NO_COLOR is honoured)\n"
	      "  -q, --quiet           print nothing on success\n"
	      "  -v, --verbose         say more\n"
	      "  -h, --help            this help;  -V, --version  the version\n"
	      "\nexit status: 0 ok, 1 drift/changes pending/problems, 2 bad usage or input,\n"
	      "3 failed and restored, 4 failed and not fully restored.  See tcptune(8).\n", f);
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
			fprintf(stderr, "tcptune: --fragment: '%s' is not an absolute path\n", arg);
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
			fprintf(stderr, "tcptune: -o: '%s' is not one of table, json, prometheus\n", arg);
			return -1;
		}
		break;
	case OPT_COLOR:
		if (strcmp(arg, "auto") && strcmp(arg, "always") && strcmp(arg, "never")) {
			fprintf(stderr, "tcptune: --color: '%s' is not one of auto, always, never\n", arg);
			return -1;
		}
		color_when = arg;
		break;
	case OPT_OUTPUT:
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
				fprintf(stderr, "tcptune: %s needs a value\n", a);
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

static bool want_color(void)
{
	const char *nc = getenv("NO_COLOR");

	if (!strcmp(color_when, "always"))
		return true;
	if (!strcmp(color_when, "never") || (nc && *nc))
		return false;
	return isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
}

/*
 * --output FILE: stdout goes to a temp file beside FILE, renamed over it
 * only when the command succeeded (exit 0 or 1), so that a collector
 * reading FILE never sees half of it.
 */
static char *output_begin(void)
{
	char *tmp = xasprintf("%s.XXXXXX", output_file);
	int fd = mkostemp(tmp, O_CLOEXEC);

	if (fd < 0 || fchmod(fd, 0644) < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		fprintf(stderr, "tcptune: --output %s: %s\n", output_file, strerror(errno));
		if (fd >= 0) {
			close(fd);
			(void)unlink(tmp);
		}
		free(tmp);
		return NULL;
	}
	close(fd);
	return tmp;
}

/*
 * A report that cannot be written fails a read-only command (its output is
 * its result), but not a transaction: what apply or rollback did to the
 * system does not depend on where the report goes.
 */
static int output_failed(int r, bool transaction)
{
	if (!transaction)
		return EXIT_RESTORED;
	fprintf(stderr, "tcptune: --output %s: the report is lost; the command's own result "
		"stands (exit %d)\n", output_file, r);
	return r;
}

static int output_end(char *tmp, int r, bool transaction)
{
	bool ok = r == EXIT_OK || r == EXIT_FINDINGS;

	if (fflush(stdout) != 0 || fsync(STDOUT_FILENO) < 0) {
		fprintf(stderr, "tcptune: --output %s: %s\n", output_file, strerror(errno));
		ok = false;
		r = output_failed(r, transaction);
	}
	if (ok && rename(tmp, output_file) < 0) {
		fprintf(stderr, "tcptune: --output %s: %s\n", output_file, strerror(errno));
		r = output_failed(r, transaction);
		ok = false;
	}
	if (!ok)
		(void)unlink(tmp);
	free(tmp);
	return r;
}

int main(int argc, char **argv)
{
	bool help = false;
	int c;

	opts.progname = "tcptune";
	while ((c = getopt_long(argc, argv, "+o:qvhV", global_options, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		if (c == 'V') {
			printf("tcptune %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		}
		if (c == '?' || set_option(c, optarg) < 0) {
			fputs("tcptune: see tcptune --help\n", stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *cmd = &commands[i];

		if (strcmp(argv[0], cmd->name))
			continue;
		if (take_globals(&argc, argv, &help) < 0)
			return EXIT_USAGE;
		if (help) {
			printf("usage: tcptune [GLOBAL] %s %s\n  %s\n\n", cmd->name, cmd->args, cmd->summary);
			usage(stdout);
			return EXIT_OK;
		}
		char *tmp = NULL;
		if (output_file && !(tmp = output_begin()))
			return EXIT_USAGE;
		opts.color = want_color();
		optind = 1;
		int r = cmd->fn(&opts, argc, argv);
		if (tmp)
			r = output_end(tmp, r, cmd->fn == cmd_apply || cmd->fn == cmd_rollback);
		free(opts.profile_dirs);
		return r;
	}
	fprintf(stderr, "tcptune: '%s' is not a command; see tcptune --help\n", argv[0]);
	return EXIT_USAGE;
}
