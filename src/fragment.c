/* fragment.c: the sysctl.d fragment apply writes, rendered from a merged profile. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "apply.h"
#include "audit.h"
#include "catalogue.h"
#include "sysctld.h"

/* ---- the fragment ------------------------------------------------------ */

/* Comments come from profiles: one line each, no control characters. */
static void put_comment_text(FILE *f, const char *s)
{
	for (; s && *s; s++)
		putc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
}

/*
 * What the fragment pins for r, given the boot value the other files or the
 * kernel default give (NULL: unknown). An exact rule pins its value. A
 * min/max/one_of rule pins nothing when that boot value already satisfies it,
 * nor when it is optional and the kernel computes the value at boot; else
 * min/max pin the bound nearest that boot value (the bound itself when it is
 * unknown) and one_of its first choice, or the live value when listed. The
 * live value of a min/max key is never copied: it may be this host's
 * computed value, and the fragment is meant for many hosts. NULL: nothing.
 */
static char *render_target(const struct rule *r, const char *boot, const char *live)
{
	if (r->value)
		return xstrdup(r->value);
	if (boot && rule_check(r, boot))
		return NULL;
	if (!boot && r->optional)
		return NULL;
	if (r->n_one_of)
		return rule_target(r, live);
	if (r->min || r->max || r->covers)
		return rule_target(r, boot ? boot : "");
	return NULL;
}

static char *boot_without_fragment(const struct rule *r, const struct procsys *ps,
				   const struct bootview *bv)
{
	const struct sysctl_assign *a = bv ? sysctld_find(bv, r->key) : NULL;
	const char *how;
	char *v;

	if (a)
		return xstrdup(a->value);
	if (r->cat && r->cat->dflt)
		return value_normalize(r->cat->dflt);
	if (audit_computed_boot(ps, r->key, &v, &how) == 0)
		return v;
	return NULL;
}

char *apply_render_boot(const struct profile *p, const struct procsys *ps, const struct bootview *bv)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fputs("# sysctl.d fragment written by tcptune for profile", f);
	fputs(p->n_names > 1 ? "s " : " ", f);
	for (size_t i = 0; i < p->n_names; i++) {
		if (i)
			fputs(", ", f);
		put_comment_text(f, p->names[i]);
	}
	fputs(".\n# `tcptune apply` writes it, `tcptune rollback` restores the file it replaced.\n"
	      "# Change the profile and apply again rather than editing this file.\n", f);
	if (p->n_allow_uncatalogued)
		fputs("# allow_uncatalogued = true: the profile sets keys outside the network scope\n"
		      "# (marked \"outside the network scope\" below).\n", f);
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct rule *r = &p->rules[i];
		char *live = NULL, *boot, *target, *desc;
		int rr = ps ? procsys_read(ps, r->key, &live) : -ENOENT;

		/* a value we cannot read is not a value we may pin (a bound would lower it at boot) */
		if (rr < 0 && rr != -ENOENT) {
			(void)fclose(f);
			free(buf);
			errno = -rr;
			return NULL;
		}
		/* an optional computed key is left to the kernel on every host alike */
		boot = boot_without_fragment(r, r->optional ? NULL : ps, bv);
		target = render_target(r, boot, live);
		free(live);
		desc = rule_describe(r);
		fputs("\n# rule: ", f);
		put_comment_text(f, desc);
		fputs(" (", f);
		put_comment_text(f, r->profile);
		fputs(r->optional ? "; optional)" : ")", f);
		if (rule_out_of_scope(r))
			fputs(" [outside the network scope]", f);
		if (r->note && *r->note) {
			fputs(": ", f);
			put_comment_text(f, r->note);
		}
		if (!target) {
			fprintf(f, "\n# %s: not pinned: ", r->key);
			if (boot) {
				fputs("the boot value ", f);
				put_comment_text(f, boot);
				fputs(" already satisfies the rule\n", f);
			} else {
				fputs("optional, and the kernel computes it at boot\n", f);
			}
		} else {
			/* "-": systemd-sysctl and procps ignore a failure, as optional means */
			fprintf(f, "\n%s%s = %s\n", r->optional ? "-" : "", r->key, target);
		}
		free(boot);
		free(desc);
		free(target);
	}
	if (ferror(f)) {
		(void)fclose(f);
		free(buf);
		errno = EIO;
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

char *apply_render(const struct profile *p, const struct procsys *ps)
{
	return apply_render_boot(p, ps, NULL);
}

int apply_render_for(int rootfd, const struct profile *p, const struct procsys *ps,
		     const char *fragment, char **ret)
{
	struct bootview bv = { 0 };
	int r = sysctld_load(rootfd, fragment, NULL, &bv);

	*ret = NULL;
	if (r < 0)
		return r;
	*ret = apply_render_boot(p, ps, &bv);
	r = *ret ? 0 : errno ? -errno : -EIO;
	sysctld_free(&bv);
	return r;
}
