/* SPDX-License-Identifier: ISC */
/* sysctld.h: the boot view, what systemd-sysctl and `sysctl --system` will set. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "util.h"

struct sysctl_assign {
	char *key;         /* canonical dotted name, or a glob pattern as written */
	char *value;       /* normalized */
	char *file;        /* path as the admin sees it (without the --root prefix) */
	unsigned line;
	bool ignore_failure;   /* "-" prefix */
	bool glob;             /* key contains * ? [ */
	/*
	 * procps only: spelled with an empty component ("net..ipv4.x",
	 * ".net.x"). procps compares paths as strings, so such a line
	 * neither keeps globs off its key nor, as a glob, is kept off.
	 */
	bool odd_spelling;
};

struct bootview {
	struct sysctl_assign *all;   /* every assignment systemd-sysctl reads, in the order it reads them */
	size_t n_all;
	struct sysctl_assign *pp;    /* every assignment `sysctl --system` (procps) reads, in its order */
	size_t n_pp;
	char **files;                /* files systemd-sysctl reads, in order */
	size_t n_files;
	struct msgs warnings;        /* unparsable lines, unreadable files: "file:line: text" */
	/*
	 * systemd-sysctl's resolved table (its ordered hashmap): one entry per
	 * key or pattern, in the order it writes them. value == NULL is a
	 * "-key" line without '=': it cancels an earlier assignment of the
	 * same key or pattern and keeps globs off that key.
	 */
	struct sysctl_assign *sd;
	size_t n_sd;
	struct sysctl_assign *pp_excl;   /* procps "-key" lines (value NULL); only exact keys work in 4.0.2 */
	size_t n_pp_excl;
	char **pp_files;             /* files procps reads, in order (ends with /etc/sysctl.conf) */
	size_t n_pp_files;
};

/*
 * Load the boot view below rootfd. If overlay_path is not NULL, pretend that
 * file holds overlay_text (NULL text: the file does not exist) — this is how
 * plan/apply see the boot view with the new fragment before writing it.
 */
int sysctld_load(int rootfd, const char *overlay_path, const char *overlay_text,
		 struct bootview *ret);
/* The winning (last) systemd-sysctl assignment for key, globs matched; or NULL. */
const struct sysctl_assign *sysctld_find(const struct bootview *bv, const char *key);
/* The same for procps `sysctl --system` (which also reads /etc/sysctl.conf last). */
const struct sysctl_assign *sysctld_find_procps(const struct bootview *bv, const char *key);
void sysctld_free(struct bootview *bv);
