/* SPDX-License-Identifier: ISC */
/* bootfix.h: boot conflicts: a later sysctl.d line that beats the fragment, and a name that wins. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "profile.h"

struct boot_conflict {
	char *key;
	char *file;          /* as the admin sees it */
	unsigned line;
	char *value;         /* what that line sets */
	bool procps;         /* only `sysctl --system` (procps) reads it (/etc/sysctl.conf) */
};

struct boot_conflicts {
	struct boot_conflict *v;
	size_t n;
	size_t n_systemd;           /* conflicts systemd-sysctl sees (the others are procps only) */
	/*
	 * A fragment path in /etc/sysctl.d that systemd-sysctl reads after
	 * every conflicting file, checked to clear them; NULL when there is
	 * none or no such name works.
	 */
	char *winning_fragment;
};

/*
 * With frag_text in place at fragment (NULL text: no fragment), which rules
 * of p does the boot view still break, and where? Host-wide keys are left
 * out when child_netns. 0 or -errno.
 */
int bootfix_find(int rootfd, const struct profile *p, bool child_netns, const char *fragment,
		 const char *frag_text, struct boot_conflicts *ret);
/* The conflict for key, or NULL. */
const struct boot_conflict *bootfix_lookup(const struct boot_conflicts *c, const char *key);
void bootfix_free(struct boot_conflicts *c);
