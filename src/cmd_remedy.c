/* SPDX-License-Identifier: ISC */
/* cmd_remedy.c: the steps the output suggests, as complete command lines that run as printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "apply.h"
#include "remedy.h"

char *remedy_cmd(const struct opts *o, const char *verb, char *const *names, size_t n,
		 const char *fragment)
{
	struct opts here = *o;

	if (fragment)
		here.fragment = fragment;
	return tt_hint(&here, verb, names, n);
}

char *remedy_comment_out(const struct opts *o, const char *file, unsigned line)
{
	char *path = xasprintf("%s%s", o->root && strcmp(o->root, "/") ? o->root : "", file);
	char *q = tt_shell_word(path);
	char *ret = xasprintf("sed --follow-symlinks -i '%us/^/# /' %s", line, q);

	free(q);
	free(path);
	return ret;
}

char *remedy_fragment(const struct opts *o, int rootfd)
{
	struct apply_last last = { 0 };
	char *ret = NULL;

	if (strcmp(o->fragment, TT_FRAGMENT_DEFAULT))
		return xstrdup(o->fragment);
	if (apply_last_read(rootfd, &last, NULL) == 0 &&
	    last.state == APPLY_STATE_COMPLETE && last.fragment)
		ret = xstrdup(last.fragment);
	apply_last_free(&last);
	return ret ? ret : xstrdup(o->fragment);
}

char *remedy_conflict(const struct opts *o, const struct boot_conflict *b, const char *winning,
		      char *const *names, size_t n)
{
	char *sed = remedy_comment_out(o, b->file, b->line), *cmd, *ret;

	if (b->procps) {
		ret = xasprintf("%s:%u sets %s for `sysctl --system` (procps), which reads "
				"/etc/sysctl.conf after every sysctl.d file, so no fragment can win "
				"there: edit that line, or comment it out: %s", b->file, b->line,
				b->value, sed);
		free(sed);
		return ret;
	}
	if (!winning) {
		ret = xasprintf("%s:%u sets %s at boot after the fragment: edit that line, or "
				"comment it out: %s", b->file, b->line, b->value, sed);
		free(sed);
		return ret;
	}
	cmd = remedy_cmd(o, "apply", names, n, winning);
	ret = xasprintf("%s:%u sets %s at boot after the fragment; two ways out: write the "
			"fragment where it is read last: %s (and keep that --fragment for later "
			"applies), or comment that line out: %s", b->file, b->line, b->value, cmd, sed);
	free(cmd);
	free(sed);
	return ret;
}

/*
 * A key an earlier apply set and no profile names: apply puts it back to
 * its value before tcptune (plan_stale()), which turns it green when that
 * is what the next boot sets too. true when the fix is to run apply.
 */
static bool remedy_stale(const struct opts *o, struct finding *f, const char *apply)
{
	bool back = !f->boot || f->boot_lo || value_equal(f->original, f->boot);
	char *sq = tt_shell_word(f->boot ? f->boot : "");

	if (back)
		f->fix = xasprintf("run: %s (without --keep-stale it puts the key back to %s, its value "
				   "before tcptune first set it), or name the key in a profile to keep "
				   "a value at boot", apply, f->original);
	else
		f->fix = xasprintf("%s would put it back to %s, its value before tcptune first set it, "
				   "but the next boot sets %s: name the key in a profile to keep a value at "
				   "boot, or set the boot value live: %ssysctl -w %s=%s", apply, f->original,
				   f->boot, o->netns ? "(in that network namespace) " : "", f->rule->key, sq);
	free(sq);
	return back;
}

char *remedy_audit(const struct opts *o, int rootfd, const struct procsys *ps,
		   const struct profile *p, const char *fragment, struct audit *a)
{
	struct boot_conflicts bc = { 0 };
	char *text = NULL, *apply;
	bool used = false;

	if (a->compliant)
		return NULL;
	if (apply_render_for(rootfd, p, ps, fragment, &text) < 0)
		text = apply_render(p, ps);
	(void)bootfix_find(rootfd, p, a->child_netns, fragment, text, &bc);
	apply = remedy_cmd(o, "apply", p->names, p->n_names,
			   strcmp(fragment, TT_FRAGMENT_DEFAULT) ? fragment : NULL);
	for (size_t i = 0; i < a->n; i++) {
		struct finding *f = &a->f[i];
		const struct boot_conflict *b = bootfix_lookup(&bc, f->rule->key);

		if (f->stale) {
			used |= remedy_stale(o, f, apply);
			continue;
		}
		if (f->status == AUDIT_OK || f->status == AUDIT_NOT_IN_NETNS ||
		    (f->rule->optional && (f->status == AUDIT_BOOT_UNKNOWN || f->status == AUDIT_MISSING)))
			continue;
		if ((f->status == AUDIT_DRIFT || f->status == AUDIT_BOOT_DRIFT ||
		     f->status == AUDIT_BOOT_UNKNOWN) && b)
			f->fix = remedy_conflict(o, b, bc.winning_fragment, p->names, p->n_names);
		else if (f->status == AUDIT_DRIFT || f->status == AUDIT_BOOT_DRIFT) {
			/* its fragment sets the key at boot, after every earlier file */
			f->fix = xasprintf("run: %s", apply);
			used = true;
		} else if (f->status == AUDIT_BOOT_UNKNOWN)
			f->fix = xasprintf("run: %s (its fragment %s then sets the key at boot), or mark "
					   "the rule optional = true at %s:%u to accept the kernel's value",
					   apply, fragment, f->rule->file, f->rule->line);
		else if (f->status == AUDIT_MISSING && !f->rule->optional)
			f->fix = xasprintf("this kernel lacks the key: mark the rule optional = true at "
					   "%s:%u, or remove it", f->rule->file, f->rule->line);
		else if (f->status == AUDIT_UNREADABLE)
			f->fix = xstrdup("run as root, or check the permissions of /proc/sys");
	}
	free(text);
	bootfix_free(&bc);
	if (!used) {
		free(apply);
		return NULL;
	}
	return apply;
}
