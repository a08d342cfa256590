/* SPDX-License-Identifier: ISC */
/* bootfix.c: boot conflicts: a later sysctl.d line that beats the fragment, and a name that wins. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bootfix.h"
#include "sysctld.h"

#define SYSCTL_D_ETC "/etc/sysctl.d/"
#define WIN_NAME "99-zz-tcptune.conf"

static bool host_key(const struct rule *r)
{
	return r->cat && (r->cat->scope == SCOPE_HOST || r->cat->scope == SCOPE_HOST_RO ||
			  r->cat->scope == SCOPE_GLOBAL);
}

static void add(struct boot_conflicts *c, const struct rule *r, const struct sysctl_assign *a,
		bool procps)
{
	struct boot_conflict *b;

	c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
	b = &c->v[c->n++];
	*b = (struct boot_conflict){ .key = xstrdup(r->key), .file = xstrdup(a->file),
				     .line = a->line, .value = xstrdup(a->value), .procps = procps };
	c->n_systemd += !procps;
}

static void scan(const struct bootview *bv, const struct profile *p, bool child_netns,
		 const char *fragment, struct boot_conflicts *c)
{
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct rule *r = &p->rules[i];
		const struct sysctl_assign *sd, *pp;

		if (child_netns && host_key(r))
			continue;
		sd = sysctld_find(bv, r->key);
		pp = sysctld_find_procps(bv, r->key);
		if (sd && strcmp(sd->file, fragment) && !rule_check(r, sd->value))
			add(c, r, sd, false);
		else if (pp && strcmp(pp->file, fragment) && !rule_check(r, pp->value))
			add(c, r, pp, true);
	}
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/*
 * systemd-sysctl reads the files of all its directories in the order of
 * their names: a name after every conflicting one wins. "99-zz-tcptune.conf"
 * unless a conflicting name sorts after it; then that name with
 * ".zz-tcptune.conf" in place of ".conf".
 */
static char *winning_name(const struct boot_conflicts *c)
{
	const char *last = WIN_NAME;
	char *stem, *dot, *ret;

	for (size_t i = 0; i < c->n; i++)
		if (!c->v[i].procps && strcmp(base_name(c->v[i].file), last) >= 0)
			last = base_name(c->v[i].file);
	if (!strcmp(last, WIN_NAME))
		return xasprintf("%s%s", SYSCTL_D_ETC, WIN_NAME);
	stem = xstrdup(last);
	dot = strrchr(stem, '.');
	if (dot && !strcmp(dot, ".conf"))
		*dot = '\0';
	ret = xasprintf("%s%s.zz-tcptune.conf", SYSCTL_D_ETC, stem);
	free(stem);
	return ret;
}

int bootfix_find(int rootfd, const struct profile *p, bool child_netns, const char *fragment,
		 const char *frag_text, struct boot_conflicts *ret)
{
	struct bootview bv = { 0 };
	struct boot_conflicts again = { 0 };
	char *win;
	int r;

	*ret = (struct boot_conflicts){ 0 };
	r = sysctld_load(rootfd, fragment, frag_text, &bv);
	if (r < 0)
		return r;
	scan(&bv, p, child_netns, fragment, ret);
	sysctld_free(&bv);
	if (!ret->n_systemd || !frag_text)
		return 0;
	/* check the name: the same text there must leave no systemd-sysctl conflict */
	win = winning_name(ret);
	r = sysctld_load(rootfd, win, frag_text, &bv);
	if (r < 0) {
		free(win);
		return 0;
	}
	scan(&bv, p, child_netns, win, &again);
	sysctld_free(&bv);
	if (again.n_systemd == 0)
		ret->winning_fragment = win;
	else
		free(win);
	bootfix_free(&again);
	return 0;
}

const struct boot_conflict *bootfix_lookup(const struct boot_conflicts *c, const char *key)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (!strcmp(c->v[i].key, key))
			return &c->v[i];
	return NULL;
}

void bootfix_free(struct boot_conflicts *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].key);
		free(c->v[i].file);
		free(c->v[i].value);
	}
	free(c->v);
	free(c->winning_fragment);
	*c = (struct boot_conflicts){ 0 };
}
