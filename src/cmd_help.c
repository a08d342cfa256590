/* SPDX-License-Identifier: ISC */
/* cmd_help.c: per-command help: every option with its values and its short form. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sockets.h"
#include "tcptune.h"

struct cmd_help {
	const char *name;
	const char *options;          /* one "  -x, --long ARG  text" line each, or NULL */
	const char *example;
};

static const char apply_opts[] =
	"  -n, --dry-run         do nothing; show what would change (as plan)\n"
	"  --check               the same as --dry-run\n"
	"  --keep-stale          leave keys the last apply set and these profiles drop as\n"
	"                        they are (default: back to their value before tcptune)\n"
	"  --wait SECS           wait at most SECS (0..3600, default 5) for the lock\n";

static const struct cmd_help helps[] = {
	{ "audit",
	  "  --all-netns           audit every network namespace, one section each\n"
	  "  --raw                 exact numbers on a terminal too (no 32 MiB, 2 h)\n",
	  "tcptune audit crawler" },
	{ "apply", apply_opts, "tcptune apply crawler" },
	{ "plan",
	  "  -n, --dry-run, --check  accepted and ignored: plan never changes anything\n"
	  "  --keep-stale          leave keys the last apply set and these profiles drop as\n"
	  "                        they are (default: back to their value before tcptune)\n",
	  "tcptune plan crawler" },
	{ "rollback",
	  "  -n, --dry-run         do nothing; show what would be restored\n"
	  "  --force               roll back over changes made by hand since the apply\n"
	  "  --forget              set an unusable journal aside; restore nothing\n"
	  "  --wait SECS           wait at most SECS (0..3600, default 5) for the lock\n",
	  "tcptune rollback -n" },
	{ "render",
	  "  --as WHERE            sysctl.d (default), kubernetes (pod securityContext\n"
	  "                        sysctls) or docker (--sysctl flags)\n",
	  "tcptune render --as kubernetes crawler" },
	{ "profiles", NULL, "tcptune --profile-dir ./profiles profiles" },
	{ "show", NULL, "tcptune show crawler" },
	{ "validate", NULL, "tcptune validate ./my-profile.conf" },
	{ "explain", NULL, "tcptune explain net.ipv4.tcp_tw_reuse" },
	{ "sockets",
	  "  -4, -6                IPv4 or IPv6 sockets only\n"
	  "  -b, --by KEY          group by KEY: state (default), owner, remote, local-port,\n"
	  "                        owner,remote\n"
	  "  -s, --state STATE     only sockets in STATE; repeatable or comma-separated:\n"
	  "                        %STATES%\n"
	  "                        (or the ss names: established, time-wait, close-wait,\n"
	  "                        fin-wait-1, ...; or all)\n"
	  "  -N, --top N           the first N rows of a grouping, 0 for all (default 20;\n"
	  "                        -n N is the older spelling)\n"
	  "  -w, --watch SECS      print again every SECS (1..86400) with the change\n"
	  "  --exact               always dump every socket, never the sockstat counters\n"
	  "  --source SRC          auto (default), netlink or proc\n",
	  "tcptune sockets --by owner --state close-wait" },
	{ "doctor",
	  "  --interval SECS       the time between the two looks (default 3)\n"
	  "  --once                one look: only the verdicts that need no rate\n"
	  "  --source SRC          auto (default), netlink or proc\n",
	  "tcptune doctor crawler" },
};

/* The sockets help lists the state names from the table sockets.c parses. */
static void put_options(FILE *f, const char *text)
{
	const char *at = strstr(text, "%STATES%");

	if (!at) {
		fputs(text, f);
		return;
	}
	fwrite(text, 1, (size_t)(at - text), f);
	for (int s = 1; s < TCPS_MAX; s++)
		fprintf(f, "%s%s", s > 1 ? (s == 6 ? ",\n                        " : ", ") : "",
			sockets_state_name(s));
	fputs(at + strlen("%STATES%"), f);
}

void cmd_help_wrap(FILE *f, const char *lead, const char *text, size_t indent)
{
	size_t col = strlen(lead);

	fputs(lead, f);
	for (const char *p = text; *p;) {
		const char *q = p;
		int depth = 0;

		/* an option in brackets stays on one line */
		for (; *q && (*q != ' ' || depth > 0); q++)
			depth += (*q == '[') - (*q == ']');
		if (p != text && col > indent && col + 1 + (size_t)(q - p) > 80) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		} else if (p != text) {
			fputc(' ', f);
			col++;
		}
		fwrite(p, 1, (size_t)(q - p), f);
		col += (size_t)(q - p);
		p = *q ? q + 1 : q;
	}
	fputc('\n', f);
}

int cmd_help_print(FILE *f, const char *name, const char *args, const char *summary)
{
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		const struct cmd_help *h = &helps[i];

		if (strcmp(h->name, name))
			continue;
		char *line = xasprintf("%s %s", name, args);

		cmd_help_wrap(f, "usage: tcptune [GLOBAL] ", line, strlen("usage: tcptune [GLOBAL] ") + strlen(name) + 1);
		fprintf(f, "  %s\n", summary);
		free(line);
		if (h->options) {
			fputs("\noptions:\n", f);
			put_options(f, h->options);
		}
		fprintf(f, "\nexample:\n  %s\n", h->example);
		return 0;
	}
	return -1;
}
