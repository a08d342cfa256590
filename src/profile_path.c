/* profile_path.c: where profiles are found: the search path, profile names and paths, the listing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "profile.h"
#include "profile-internal.h"

#ifndef PROFILEDIR
#define PROFILEDIR "/usr/share/tcptune/profiles"
#endif

/* ---- search path ------------------------------------------------------ */

static void path_add(struct profile_path *pp, const char *dir)
{
	if (!dir || !*dir)
		return;
	/* The same directory twice would list every profile as shadowing itself. */
	for (size_t i = 0; i < pp->n; i++)
		if (strcmp(pp->dirs[i], dir) == 0)
			return;
	pp->dirs = xreallocarray(pp->dirs, pp->n + 1, sizeof(*pp->dirs));
	pp->dirs[pp->n++] = xstrdup(dir);
}

void profile_path_init(struct profile_path *pp, const char *root, char *const *dirs, size_t n_dirs)
{
	const char *env = getenv("TCPTUNE_PROFILE_PATH");
	size_t rlen = root ? strlen(root) : 0;
	char *etc;

	pp->dirs = NULL;
	pp->n = 0;
	for (size_t i = 0; i < n_dirs; i++)
		path_add(pp, dirs[i]);
	if (env) {
		char *copy = xstrdup(env), *save = NULL;

		for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
			path_add(pp, d);
		free(copy);
	}
	while (rlen > 0 && root[rlen - 1] == '/')
		rlen--;
	etc = xasprintf("%.*s/etc/tcptune/profiles", (int)rlen, rlen ? root : "");
	path_add(pp, etc);
	free(etc);
	path_add(pp, PROFILEDIR);
}

void profile_path_free(struct profile_path *pp)
{
	if (!pp)
		return;
	strv_free(pp->dirs, pp->n);
	pp->dirs = NULL;
	pp->n = 0;
}

/* "A, B, C": where names are looked up, for messages. */
static char *path_joined(const struct profile_path *pp)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < pp->n; i++) {
		char *t = xasprintf("%s%s%s", s, i ? ", " : "", pp->dirs[i]);

		free(s);
		s = t;
	}
	return s;
}

char *profile_path_text(const struct profile_path *pp)
{
	char *s = path_joined(pp);

	if (!*s) {
		free(s);
		s = xstrdup("(empty profile path)");
	}
	return s;
}

bool profile_path_ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

bool profile_path_is_file(const char *name)
{
	return strchr(name, '/') || profile_path_ends_with(name, ".conf");
}

/* A bare profile name becomes part of a path: keep it to a plain word. */
bool profile_path_name_valid(const char *name)
{
	if (!*name || *name == '.' || *name == '-')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._+-", *p)))
			return false;
	return true;
}

/* "dir/crawler.conf" -> "crawler" */
char *profile_path_name(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (profile_path_ends_with(base, ".conf") && len > 5)
		len -= 5;
	return xstrndup(base, len);
}

char *profile_path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* ---- listing -------------------------------------------------------------- */

struct listed {
	struct profile_info info;
	size_t order;
};

static int listed_cmp(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;
	int c = strcmp(x->info.name, y->info.name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Only the top-level settings matter for a listing; no validation of keys. */
static void list_read(struct profile_info *pi, struct msgs *warnings)
{
	struct composed comp;
	struct stat st;
	config_t c;
	const char *s;
	int fd = profile_read_open(pi->file, &st, warnings);

	if (fd < 0)
		return;
	if (profile_read_parse(fd, pi->file, &c, &comp, warnings) < 0)
		return;
	profile_read_free(&comp);
	if (config_lookup_string(&c, "description", &s))
		pi->description = xstrdup(s);
	const config_setting_t *inh = config_lookup(&c, "inherits");
	if (inh && config_setting_type(inh) == CONFIG_TYPE_STRING) {
		pi->inherits = xstrdup(config_setting_get_string(inh));
	} else if (inh && config_setting_is_aggregate(inh)) {
		char *acc = NULL;

		for (int i = 0; i < config_setting_length(inh); i++) {
			const char *e = config_setting_get_string_elem(inh, (unsigned)i);
			char *t;

			if (!e)
				continue;
			t = acc ? xasprintf("%s,%s", acc, e) : xstrdup(e);
			free(acc);
			acc = t;
		}
		pi->inherits = acc;
	}
	config_destroy(&c);
}

int profile_list(const struct profile_path *pp, struct profile_info **ret, size_t *ret_n,
		 struct msgs *warnings)
{
	struct msgs dropped = { 0 };
	struct listed *v = NULL;
	size_t n = 0;

	if (!warnings)
		warnings = &dropped;
	for (size_t d = 0; d < pp->n; d++) {
		DIR *dp = opendir(pp->dirs[d]);
		char **names = NULL;
		size_t nn = 0;
		struct dirent *de;

		if (!dp) {
			/* Most of the path need not exist: that is not worth a word. */
			if (errno != ENOENT && errno != ENOTDIR)
				msgs_add(warnings, "%s: %s", pp->dirs[d], strerror(errno));
			continue;
		}
		while ((de = readdir(dp))) {
			struct stat st;

			if (de->d_name[0] == '.' || !profile_path_ends_with(de->d_name, ".conf") ||
			    strlen(de->d_name) <= 5)
				continue;
			if (fstatat(dirfd(dp), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
				continue;
			names = xreallocarray(names, nn + 1, sizeof(*names));
			names[nn++] = xstrdup(de->d_name);
		}
		(void)closedir(dp);
		if (nn)
			qsort(names, nn, sizeof(*names), name_cmp);
		for (size_t i = 0; i < nn; i++) {
			struct listed x = { .order = n };

			x.info.file = xasprintf("%s/%s", pp->dirs[d], names[i]);
			x.info.name = profile_path_name(names[i]);
			for (size_t j = 0; j < n; j++)
				if (strcmp(v[j].info.name, x.info.name) == 0)
					x.info.shadowed = true;
			list_read(&x.info, warnings);
			v = xreallocarray(v, n + 1, sizeof(*v));
			v[n++] = x;
		}
		strv_free(names, nn);
	}
	if (n)
		qsort(v, n, sizeof(*v), listed_cmp);
	*ret = xcalloc(n, sizeof(**ret));
	for (size_t i = 0; i < n; i++)
		(*ret)[i] = v[i].info;
	*ret_n = n;
	free(v);
	msgs_free(&dropped);
	return 0;
}

void profile_info_free(struct profile_info *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].file);
		free(v[i].description);
		free(v[i].inherits);
	}
	free(v);
}

