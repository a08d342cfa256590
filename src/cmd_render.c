/* SPDX-License-Identifier: ISC */
/* cmd_render.c: render --as, the profile for the place it must go. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "render.h"
#include "tcptune.h"

/* Some argv[i] is "--as" or "--as=WORD"; the others are profiles. */
int cmd_render_as(const struct opts *o, int argc, char **argv)
{
	const char *word = NULL;
	struct profile p = { 0 };
	enum render_as as;
	struct ctx c;
	char *text;
	int n = 1, r;

	/* take the option out; argv keeps only the command and the profiles */
	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--as=", 5) && !word)
			word = argv[i] + 5;
		else if (!strcmp(argv[i], "--as") && !word && i + 1 < argc)
			word = argv[++i];
		else if (!strcmp(argv[i], "--as") || !strncmp(argv[i], "--as=", 5))
			word = "";
		else
			argv[n++] = argv[i];
	}
	if (!word || render_as_parse(word, &as) < 0) {
		tt_error(o, "render: --as wants sysctl.d, kubernetes or docker%s%s",
			 word && *word ? ", not " : "", word ? word : "");
		return EXIT_USAGE;
	}
	if (as == RENDER_SYSCTLD)
		return cmd_render(o, n, argv);
	r = ctx_profile_operands(o, n, argv);
	if (r != EXIT_OK)
		return r;
	r = ctx_open(o, &c);
	if (r != EXIT_OK)
		return r;
	r = ctx_load_profiles(o, &c, argv + 1, (size_t)n - 1, &p);
	if (r == EXIT_OK && !(text = render_container(as, &p, &c.ps))) {
		tt_error(o, "render: out of memory");
		r = EXIT_RESTORED;
	} else if (r == EXIT_OK) {
		report_str(o->out, "as", NULL, render_as_name(as));
		report_verbatim(o->out, "text", text);
		free(text);
	}
	profile_free(&p);
	ctx_close(&c);
	return r;
}
