/* SPDX-License-Identifier: ISC */
/* profile.c: loading profiles: each file once, inheritance, merging, every error with its file and line. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "profile.h"
#include "profile-internal.h"

/* inherits chains deeper than this are a mistake, and would exhaust the stack */
#define INHERIT_MAX_DEPTH 32
/* ---- loading: state ----------------------------------------------------- */


static void lerr(struct loader *l, const char *fmt, ...) TT_PRINTF(2, 3);
static void lerr(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	l->n_errors++;
	va_start(ap, fmt);
	msgs_addv(l->errors, fmt, ap);
	va_end(ap);
}

/* "FILE:LINE: KEY: [field: ]message" */
void profile_serr(struct loader *l, const struct site *s, const char *field, const char *fmt, ...)
	TT_PRINTF(4, 5);
void profile_serr(struct loader *l, const struct site *s, const char *field, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	lerr(l, "%s:%u: %s: %s%s%s", s->file, s->line, s->key, field ? field : "",
	     field ? ": " : "", msg ? msg : "out of memory");
	free(msg);
}

struct site profile_site_of(const struct loader *l, const config_setting_t *st, const char *file,
			    const char *key)
{
	unsigned line;
	const char *f = profile_read_where(l->map, (int)config_setting_source_line(st), &line);

	return (struct site){ .file = f ? f : file, .line = line, .key = key };
}

/* Children override parents and later profiles override earlier ones: the whole rule. */
static void rules_merge(struct loader *l, struct rule *r)
{
	for (size_t i = 0; i < l->n_rules; i++)
		if (strcmp(l->rules[i].key, r->key) == 0) {
			rule_clear(&l->rules[i]);
			l->rules[i] = *r;
			return;
		}
	l->rules = xreallocarray(l->rules, l->n_rules + 1, sizeof(*l->rules));
	l->rules[l->n_rules++] = *r;
}

/* ---- loading: files and inheritance ------------------------------------- */

struct parent {
	char *name;
	unsigned line;
	const char *file;
};

/* description, inherits, sysctl: nothing else at the top. */
static void parse_top(struct loader *l, config_t *c, const char *path, struct parent **ret_parents,
		      size_t *ret_n, char **ret_desc, bool *ret_allow)
{
	const config_setting_t *root = config_root_setting(c);
	int n = config_setting_length(root);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(m);
		struct site s = profile_site_of(l, m, path, name);
		int t = config_setting_type(m);

		if (strcmp(name, "description") == 0) {
			if (t == CONFIG_TYPE_STRING)
				*ret_desc = xstrdup(config_setting_get_string(m));
			else
				profile_serr(l, &s, NULL, "must be a string, not %s", profile_schema_type(m));
		} else if (strcmp(name, "inherits") == 0) {
			bool one = t == CONFIG_TYPE_STRING;
			int k = one ? 1 : config_setting_length(m);

			if (!one && t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
				profile_serr(l, &s, NULL, "must be a profile name or a list of names, not %s",
				     profile_schema_type(m));
				continue;
			}
			for (int j = 0; j < k; j++) {
				const config_setting_t *e = one ? m : config_setting_get_elem(m, (unsigned)j);
				const char *pn = config_setting_get_string(e);

				if (config_setting_type(e) != CONFIG_TYPE_STRING) {
					profile_serr(l, &s, NULL, "must be a profile name or a list of names, not a list of %s",
					     profile_schema_type(e));
					break;
				}
				if (!*pn) {
					profile_serr(l, &s, NULL, "empty profile name");
					continue;
				}
				*ret_parents = xreallocarray(*ret_parents, *ret_n + 1, sizeof(**ret_parents));
				(*ret_parents)[(*ret_n)++] = (struct parent){
					.name = xstrdup(pn), .line = s.line, .file = s.file };
			}
		} else if (strcmp(name, "allow_uncatalogued") == 0) {
			if (t == CONFIG_TYPE_BOOL)
				*ret_allow = config_setting_get_bool(m);
			else
				profile_serr(l, &s, NULL, "must be true or false, not %s", profile_schema_type(m));
		} else if (strcmp(name, "sysctl") == 0) {
			if (t != CONFIG_TYPE_GROUP)
				profile_serr(l, &s, NULL, "must be a group: sysctl = { net = { ... }; };");
		} else {
			profile_serr(l, &s, NULL, "unknown top-level setting (expected description, inherits, "
			     "allow_uncatalogued, sysctl)");
		}
	}
}

static bool frame_has(const struct frame *v, size_t n, const struct stat *st, size_t *ret_i)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].dev == st->st_dev && v[i].ino == st->st_ino) {
			if (ret_i)
				*ret_i = i;
			return true;
		}
	return false;
}

static char *cycle_text(const struct loader *l, size_t from, const char *again)
{
	char *s = xstrdup("");

	for (size_t i = from; i < l->n_stack; i++) {
		char *t = xasprintf("%s%s -> ", s, l->stack[i].name);
		free(s);
		s = t;
	}
	char *t = xasprintf("%s%s", s, again);
	free(s);
	return t;
}

static bool dir_on_path(const struct profile_path *pp, const char *dir)
{
	char *rd = realpath(dir, NULL);
	bool on = false;

	for (size_t i = 0; i < pp->n && !on; i++) {
		char *rp = rd ? realpath(pp->dirs[i], NULL) : NULL;

		on = strcmp(pp->dirs[i], dir) == 0 || (rp && strcmp(rp, rd) == 0);
		free(rp);
	}
	free(rd);
	return on;
}

/* The profile names (without .conf) in dir, added to *v. */
static void names_in(const char *dir, char ***v, size_t *n)
{
	DIR *dp = opendir(dir);
	struct dirent *de;

	if (!dp)
		return;
	while ((de = readdir(dp)))
		if (de->d_name[0] != '.' && profile_path_ends_with(de->d_name, ".conf") && strlen(de->d_name) > 5) {
			*v = xreallocarray(*v, *n + 1, sizeof(**v));
			(*v)[(*n)++] = profile_path_name(de->d_name);
		}
	(void)closedir(dp);
}

/*
 * "NAME: no such profile; looked in A, B; did you mean X?" plus the way
 * to add a directory: what a newcomer in a fresh checkout needs.
 */
static char *not_found_text(const struct profile_path *pp, const char *name, const char *reldir)
{
	char **names = NULL, *where = profile_path_text(pp), *s;
	const char *near;
	size_t n = 0;
	struct stat st;

	if (reldir && !dir_on_path(pp, reldir)) {
		char *t = xasprintf("%s (beside the file that inherits it), %s", reldir, where);

		free(where);
		where = t;
		names_in(reldir, &names, &n);
	}
	for (size_t i = 0; i < pp->n; i++)
		names_in(pp->dirs[i], &names, &n);
	near = suggest_word(name, (const char *const *)names, n);
	s = xasprintf("%s: no such profile; looked in %s%s%s%s", name, where,
		      near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
	free(where);
	where = xasprintf("profiles/%s.conf", name);
	if (!near && stat(where, &st) == 0) {
		char *t = xasprintf("%s; ./%s exists: add --profile-dir ./profiles", s, where);
		free(s);
		s = t;
	} else if (!near) {
		char *t = xasprintf("%s; add a directory with --profile-dir DIR or TCPTUNE_PROFILE_PATH, "
				    "or name the file (./%s.conf)", s, name);
		free(s);
		s = t;
	}
	free(where);
	strv_free(names, n);
	return s;
}

/*
 * Find a profile by name on the path, or take a path (relative to reldir
 * when it comes from an inherits line). where is "" on the command line,
 * "FILE:LINE: inherits: " for a parent.
 */
static char *resolve(struct loader *l, const char *name, const char *reldir, const char *where)
{
	char *dirs;

	if (profile_path_is_file(name)) {
		if (name[0] != '/' && reldir)
			return xasprintf("%s/%s", reldir, name);
		return xstrdup(name);
	}
	if (!profile_path_name_valid(name)) {
		lerr(l, "%s%s: invalid profile name", where, name);
		return NULL;
	}
	/*
	 * A parent beside a child that is not on the path first, so that a
	 * checkout or a copied pair works as it is; on the path, the path's
	 * order decides, so that a local baseline shadows the shipped one
	 * for the shipped crawler too.
	 */
	if (reldir && !dir_on_path(l->pp, reldir)) {
		char *p = xasprintf("%s/%s.conf", reldir, name);
		struct stat st;

		if (stat(p, &st) == 0)
			return p;
		free(p);
	}
	for (size_t i = 0; i < l->pp->n; i++) {
		char *p = xasprintf("%s/%s.conf", l->pp->dirs[i], name);
		struct stat st;

		if (stat(p, &st) == 0)
			return p;
		free(p);
	}
	dirs = not_found_text(l->pp, name, reldir);
	lerr(l, "%s%s", where, dirs);
	free(dirs);
	return NULL;
}

static void load_one(struct loader *l, const char *name, const char *reldir, const char *where,
		     bool top)
{
	char *path, *pname, *desc = NULL, *dir;
	struct parent *parents = NULL;
	size_t n_parents = 0, at, done_i;
	bool allow = false;
	struct composed comp;
	struct stat st;
	config_t c;
	struct msgs m = { 0 };
	int fd;

	if (l->n_stack >= INHERIT_MAX_DEPTH) {
		lerr(l, "%s%s: inherits nested more than %d deep", where, name, INHERIT_MAX_DEPTH);
		return;
	}
	path = resolve(l, name, reldir, where);
	if (!path)
		return;
	fd = profile_read_open(path, &st, &m);
	if (fd < 0) {
		if (errno_is_io(fd) && !l->io_error)
			l->io_error = fd;
		lerr(l, "%s%s", where, msgs_last(&m));
		msgs_free(&m);
		free(path);
		return;
	}
	pname = profile_path_name(path);
	if (geteuid() == 0) {
		char *why;
		int pr = profile_perms_refusal(path, &st, &why);

		if (pr < 0) {
			if (errno_is_io(pr) && !l->io_error)
				l->io_error = pr;
			lerr(l, "%s%s: %s", where, path, why);
			free(why);
			goto out_close;
		}
		if (why) {
			lerr(l, "%s%s: %s: refusing it as root, others could change what tcptune applies",
			     where, path, why);
			free(why);
			goto out_close;
		}
	} else if (!frame_has(l->done, l->n_done, &st, NULL)) {
		profile_perms_check(l, path, &st);
	}
	if (frame_has(l->stack, l->n_stack, &st, &at)) {
		char *chain = cycle_text(l, at, pname);

		lerr(l, "%sinheritance cycle: %s", where, chain);
		free(chain);
		goto out_close;
	}
	if (frame_has(l->done, l->n_done, &st, &at)) {
		/* merged already as a parent: only its description is news */
		if (top) {
			free(l->description);
			l->description = l->done[at].description ? xstrdup(l->done[at].description) : NULL;
		}
		goto out_close;
	}
	l->done = xreallocarray(l->done, l->n_done + 1, sizeof(*l->done));
	l->done[l->n_done++] = (struct frame){ .dev = st.st_dev, .ino = st.st_ino };
	done_i = l->n_done - 1;
	int pr = profile_read_parse(fd, path, &c, &comp, l->errors);

	if (pr < 0) {
		if (errno_is_io(pr) && !l->io_error)
			l->io_error = pr;
		l->n_errors++;
		goto out;
	}

	l->map = &comp;
	parse_top(l, &c, path, &parents, &n_parents, &desc, &allow);
	l->stack = xreallocarray(l->stack, l->n_stack + 1, sizeof(*l->stack));
	l->stack[l->n_stack++] = (struct frame){ .dev = st.st_dev, .ino = st.st_ino, .name = pname };
	dir = profile_path_dir(path);
	for (size_t i = 0; i < n_parents; i++) {
		char *w = xasprintf("%s:%u: inherits: ", parents[i].file, parents[i].line);

		load_one(l, parents[i].name, dir, w, false);
		free(w);
		free(parents[i].name);
	}
	free(parents);
	free(dir);
	l->n_stack--;

	struct filectx f = { .path = path, .profile = pname, .allow_uncatalogued = allow };

	l->map = &comp;	/* the parents have walked theirs */
	const config_setting_t *sys = config_lookup(&c, "sysctl");

	if (sys && config_setting_type(sys) == CONFIG_TYPE_GROUP)
		profile_schema_walk(l, &f, sys, NULL);
	if (allow) {
		l->allowed_by = xreallocarray(l->allowed_by, l->n_allowed_by + 1, sizeof(*l->allowed_by));
		l->allowed_by[l->n_allowed_by++] = xstrdup(path);
	}
	for (size_t i = 0; i < f.n_rules; i++)
		rules_merge(l, &f.rules[i]);
	free(f.rules);
	config_destroy(&c);
	l->map = NULL;
	profile_read_free(&comp);

	l->files = xreallocarray(l->files, l->n_files + 1, sizeof(*l->files));
	l->files[l->n_files++] = xstrdup(path);
	if (top) {
		free(l->description);
		l->description = desc ? xstrdup(desc) : NULL;
	}
	l->done[done_i].description = desc;
	goto out;
out_close:
	(void)close(fd);
out:
	free(pname);
	free(path);
}

static int rule_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rule *)a)->key, ((const struct rule *)b)->key);
}

int profile_load(const struct profile_path *pp, const struct procsys *ps,
		 char *const *names, size_t n, struct profile *ret, struct msgs *errors)
{
	struct msgs dropped = { 0 };
	struct loader l = { .pp = pp, .ps = ps, .errors = errors ? errors : &dropped };

	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < n; i++) {
		if (!names[i] || !*names[i]) {
			lerr(&l, "empty profile name");
			continue;
		}
		load_one(&l, names[i], NULL, "", true);
	}
	free(l.stack);
	for (size_t i = 0; i < l.n_done; i++)
		free(l.done[i].description);
	free(l.done);
	if (l.n_rules)
		qsort(l.rules, l.n_rules, sizeof(*l.rules), rule_cmp);
	ret->names = strv_dup(names, n);
	ret->n_names = n;
	ret->description = l.description;
	ret->files = l.files;
	ret->n_files = l.n_files;
	ret->allow_uncatalogued = l.allowed_by;
	ret->n_allow_uncatalogued = l.n_allowed_by;
	ret->rules = l.rules;
	ret->n_rules = l.n_rules;
	msgs_free(&dropped);
	if (l.n_errors) {
		profile_free(ret);
		ret->warnings = l.warnings;
		return l.io_error ? l.io_error : -EINVAL;
	}
	ret->warnings = l.warnings;
	return 0;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	strv_free(p->names, p->n_names);
	free(p->description);
	strv_free(p->files, p->n_files);
	strv_free(p->allow_uncatalogued, p->n_allow_uncatalogued);
	for (size_t i = 0; i < p->n_rules; i++)
		rule_clear(&p->rules[i]);
	free(p->rules);
	msgs_free(&p->warnings);
	memset(p, 0, sizeof(*p));
}

