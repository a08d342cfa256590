/* SPDX-License-Identifier: ISC */
/* remedy.h: the steps the output suggests, as complete command lines that run as printed. */
#pragma once
#include "audit.h"
#include "bootfix.h"
#include "tcptune.h"

/*
 * tt_hint() with fragment, when not NULL, in place of the --fragment in
 * effect. Caller frees.
 */
char *remedy_cmd(const struct opts *o, const char *verb, char *const *names, size_t n,
		 const char *fragment);
/* A command that comments out line `line` of file (below --root), following symlinks. */
char *remedy_comment_out(const struct opts *o, const char *file, unsigned line);
/*
 * The fragment audit should reason about: --fragment when given, else the
 * one the last complete apply wrote, else the default. Caller frees.
 */
char *remedy_fragment(const struct opts *o, int rootfd);
/* The two ways out of a boot conflict, as one sentence. Caller frees. */
char *remedy_conflict(const struct opts *o, const struct boot_conflict *b, const char *winning,
		      char *const *names, size_t n);
/*
 * Fill f->fix for every finding that is not ok: what to run (full command)
 * or edit. fragment as from remedy_fragment(). Returns the plain apply
 * command when some finding's fix is "run: " and it, else NULL; caller frees.
 */
char *remedy_audit(const struct opts *o, int rootfd, const struct procsys *ps,
		  const struct profile *p, const char *fragment, struct audit *a);
