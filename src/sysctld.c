/* SPDX-License-Identifier: ISC */
/* sysctld.c: the boot view, resolved as systemd-sysctl 252 and procps 4.0.2 `sysctl --system` do. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "sysctld.h"
#include "sysctld-internal.h"

/*
 * How the two tools find and read their files; every rule below was read
 * in the sources and then checked against the binaries of Debian 12
 * (systemd 252.38, procps-ng 4.0.2) in a private namespace:
 *
 * systemd src/sysctl/sysctl.c run(): conf_files_list_strv(".conf",
 * CONF_PATHS_STRV("sysctl.d")), i.e. /etc, /run, /usr/local/lib, /usr/lib
 * and, built with split-usr as Debian 12 is, /lib. src/basic/conf-files.c:
 * the directories are resolved and de-duplicated first
 * (path_strv_resolve_uniq: /lib/sysctl.d is dropped where /lib -> usr/lib),
 * names starting with '.' are skipped (FOREACH_DIRENT), the first directory
 * holding a name wins, and the winners are sorted by file name
 * (base_cmp). Flags are 0, so nothing is stat'ed: a same-named empty file
 * or a /dev/null symlink "masks" simply by being read and holding nothing.
 * /etc/sysctl.conf is read only through Debian's
 * /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf.
 *
 * procps src/sysctl.c PreloadSystem(): the same five directories in the
 * same order (since 3.3.17, Debian #950788), no de-duplication, no
 * hidden-file filter, first name wins, sorted by name (sortpairs), then
 * /etc/sysctl.conf when stat() says it is a regular file.
 *
 * Not modelled: systemd's "sysctl.extra" credential (252+, lives only in
 * the service's credential directory at boot), the udev-triggered
 * per-interface runs (--prefix=/net/ipv4/conf/IF, which re-apply the same
 * files), and sysctl.* on the kernel command line.
 */
static const char *const conf_dirs[] = {
	"/etc/sysctl.d",
	"/run/sysctl.d",
	"/usr/local/lib/sysctl.d",
	"/usr/lib/sysctl.d",
	"/lib/sysctl.d",
};
#define MAX_FILE_SIZE (4 << 20)

/* Room for one more element in *v (of size sz) holding n, doubling *cap. */
void sysctld_grow(void *v, size_t n, size_t *cap, size_t sz)
{
	void **p = v;

	if (n < *cap)
		return;
	*cap = *cap ? *cap * 2 : 16;
	*p = xreallocarray(*p, *cap, sz);
}

/* Every path below --root goes through here: symlinks resolve inside the root. */
int sysctld_open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

static char *strip(char *s)
{
	char *e;

	while (*s && strchr(" \t\n\r", *s))
		s++;
	e = s + strlen(s);
	while (e > s && strchr(" \t\n\r", e[-1]))
		*--e = '\0';
	return s;
}

static bool glob_char(char c)
{
	return strchr("*?[]!^\\", c) != NULL;
}

/*
 * systemd's sysctl_normalize() plus path_simplify(): when the first
 * separator is '/', '.' and '/' swap roles; empty components vanish.
 * Exact keys must then pass key_valid(); patterns may also hold glob
 * characters and capitals (only in the pattern, keys never have them).
 */
static int conf_key(const char *in, char **ret_key, bool *ret_glob)
{
	const char *sep = strpbrk(in, "./");
	char *k = xmalloc(strlen(in) + 1), *q = k;
	bool glob = strpbrk(in, "*?[") != NULL, start = true;

	for (const char *p = in; *p; p++) {
		char c = *p;

		if (sep && *sep == '/')
			c = c == '/' ? '.' : c == '.' ? '/' : c;
		if (c == '.') {
			if (!start)
				*q++ = '.';
			start = true;
			continue;
		}
		if (glob && !(isalnum((unsigned char)c) || c == '_' || c == '-' || glob_char(c)))
			goto bad;
		*q++ = c;
		start = false;
	}
	if (q > k && q[-1] == '.')
		q--;
	*q = '\0';
	if (!*k || (!glob && !key_valid(k)))
		goto bad;
	*ret_key = k;
	*ret_glob = glob;
	return 0;
bad:
	free(k);
	return -EINVAL;
}

/* Does a dotted pattern match a dotted key, as glob(3) on /proc/sys would? */
bool sysctld_glob_match(const char *pattern, const char *key)
{
	char *p = xstrdup(pattern), *k = xstrdup(key);
	bool m;

	for (char *c = p; *c; c++)
		*c = *c == '.' ? '/' : *c == '/' ? '.' : *c;
	for (char *c = k; *c; c++)
		if (*c == '.')
			*c = '/';
	m = fnmatch(p, k, FNM_PATHNAME | FNM_PERIOD) == 0;
	free(p);
	free(k);
	return m;
}

enum {
	WARN_COMMON = 1,    /* what both tools would complain about */
	WARN_PROCPS = 2,    /* lines only procps gets wrong */
	SPLIT_SYSTEMD = 4,  /* read_line(): "\n", "\r", "\r\n" and NUL end a line; procps: "\n" only */
};

/* Where the line starting at text[i] ends, and where the next one starts. */
static size_t line_end(const char *text, size_t len, size_t i, int flags, size_t *ret_next)
{
	size_t e = i;

	while (e < len && text[e] != '\n' && !((flags & SPLIT_SYSTEMD) && (text[e] == '\r' || !text[e])))
		e++;
	*ret_next = e + (e < len);
	if ((flags & SPLIT_SYSTEMD) && e < len && text[e] == '\r' && e + 1 < len && text[e + 1] == '\n')
		(*ret_next)++;
	return e;
}

/*
 * Parse one file the way systemd's parse_file() does: strip, skip blank
 * and '#'/';' lines, split at the first '=', a leading '-' means "ignore
 * failure", or without '=' a "negative match" that keeps globs off a key.
 * procps's parse_setting_line() agrees except that it does not strip
 * after the '-' (so "- key = v" names a key with a leading space), and a
 * NUL cuts its line short (it works on C strings).
 */
static void parse_text(struct loader *L, const char *path, const char *text, size_t len, int flags,
		       struct line **ret, size_t *ret_n)
{
	size_t cap = *ret_n;

	unsigned no = 0;

	for (size_t i = 0, next; i < len; i = next) {
		size_t e = line_end(text, len, i, flags, &next);
		char *buf = xstrndup(text + i, e - i), *p, *eq, *value = NULL, *key;
		struct line ln = { 0 };

		ln.no = ++no;
		p = strip(buf);
		if (!*p || *p == '#' || *p == ';')
			goto next;
		eq = strchr(p, '=');
		if (!eq && *p != '-') {
			if (flags & WARN_COMMON)
				msgs_add(&L->bv->warnings, "%s:%u: line is not an assignment, ignored: %.200s",
					 path, no, p);
			goto next;
		}
		if (*p == '-') {
			ln.ignore_failure = eq != NULL;
			ln.procps_skip = isspace((unsigned char)p[1]);
			p++;
		}
		if (eq) {
			*eq = '\0';
			value = strip(eq + 1);
		}
		key = strip(p);
		if (conf_key(key, &ln.key, &ln.glob) < 0) {
			if (flags & WARN_COMMON)
				msgs_add(&L->bv->warnings,
					 "%s:%u: '%.200s' is not a sysctl name tcptune can resolve, ignored",
					 path, no, key);
			goto next;
		}
		if (ln.procps_skip) {
			if (flags & WARN_PROCPS)
				msgs_add(&L->bv->warnings,
					 "%s:%u: space after '-': `sysctl --system` (procps) takes it as part of the key and ignores the line",
					 path, no);
		} else if (sysctld_procps_trailing_miss(key, ln.glob)) {
			ln.procps_skip = true;
			if (flags & WARN_PROCPS)
				msgs_add(&L->bv->warnings,
					 "%s:%u: trailing separator: `sysctl --system` (procps) finds no such key and ignores the line",
					 path, no);
		}
		ln.odd = sysctld_procps_odd_spelling(key);
		ln.raw = value ? xstrdup(value) : NULL;
		sysctld_grow(ret, *ret_n, &cap, sizeof(**ret));
		(*ret)[(*ret_n)++] = ln;
next:
		free(buf);
	}
}

/* Read a whole file below the root; the overlay replaces it by name or by inode. */
static int read_text(struct loader *L, const struct entry *e, char **ret, size_t *ret_len)
{
	struct stat st;
	int fd, r;

	*ret_len = 0;
	if (e->overlay) {
		if (!L->ov_text)
			return -ENOENT;
		*ret = xstrdup(L->ov_text);
		*ret_len = strlen(L->ov_text);
		return 0;
	}
	if (e->devnull) {
		*ret = xstrdup("");
		return 0;
	}
	fd = sysctld_open_in_root(L->rootfd, e->path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = fstat(fd, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		(void)close(fd);
		/* /dev/null reached through a chain of links (with --root /) */
		if (r == -EINVAL && S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) {
			*ret = xstrdup("");
			return 0;
		}
		return r;
	}
	if (L->ov_have_ino && st.st_dev == L->ov_dev && st.st_ino == L->ov_ino) {
		/* a symlink (99-sysctl.conf) to the overlaid file */
		(void)close(fd);
		if (!L->ov_text)
			return -ENOENT;
		*ret = xstrdup(L->ov_text);
		*ret_len = strlen(L->ov_text);
		return 0;
	}
	r = read_all(fd, MAX_FILE_SIZE, ret, ret_len);
	(void)close(fd);
	return r;
}

/* Parse a file once; systemd and procps usually read the same ones. */
struct pfile *sysctld_load_file(struct loader *L, const struct entry *e, bool quiet_enoent)
{
	struct pfile *pf;
	char *text = NULL;
	size_t len = 0;
	int r;

	size_t at = strindex_get(&L->file_index, e->path);

	if (at != (size_t)-1)
		return &L->files[at];
	sysctld_grow(&L->files, L->n_files, &L->cap_files, sizeof(*L->files));
	pf = &L->files[L->n_files++];
	*pf = (struct pfile){ .path = xstrdup(e->path) };
	strindex_put(&L->file_index, pf->path, L->n_files - 1);
	r = read_text(L, e, &text, &len);
	if (r < 0) {
		pf->err = r;
		/* both tools skip a dangling name silently */
		if (!(r == -ENOENT && quiet_enoent))
			msgs_add(&L->bv->warnings, "%s: %s, not read", e->path, strerror(-r));
		return pf;
	}
	if (!memchr(text, '\r', len) && !memchr(text, '\0', len)) {
		parse_text(L, pf->path, text, len, WARN_COMMON | WARN_PROCPS, &pf->lines, &pf->n);
		pf->pp_lines = pf->lines;
		pf->n_pp = pf->n;
	} else {
		parse_text(L, pf->path, text, len, WARN_COMMON | SPLIT_SYSTEMD, &pf->lines, &pf->n);
		parse_text(L, pf->path, text, len, WARN_PROCPS, &pf->pp_lines, &pf->n_pp);
	}
	free(text);
	return pf;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* The entries of sysctld_list_files(), with an index of their names. */
struct entries {
	struct entry *v;
	size_t n, cap;
	struct strindex names;
};

static bool have_name(const struct entries *es, const char *name)
{
	return strindex_get(&es->names, name) != (size_t)-1;
}

static void add_entry(struct entries *es, const char *dir, const char *name, bool devnull, bool overlay)
{
	sysctld_grow(&es->v, es->n, &es->cap, sizeof(*es->v));
	es->v[es->n++] = (struct entry){
		.name = xstrdup(name),
		.path = xasprintf("%s/%s", dir, name),
		.devnull = devnull,
		.overlay = overlay,
	};
	strindex_put(&es->names, es->v[es->n - 1].name, es->n - 1);
}

static bool is_devnull_link(int dfd, const char *name)
{
	char target[16];
	struct stat st;
	ssize_t n;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
		return false;
	n = readlinkat(dfd, name, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return !strcmp(target, "/dev/null");
}

/*
 * The file list of one tool: first directory wins per name, sorted by
 * name. systemd drops directories that resolve to one already listed and
 * names starting with '.'; procps does neither.
 */
void sysctld_list_files(struct loader *L, bool systemd, struct entry **ret, size_t *ret_n)
{
	struct entries es = { 0 };
	struct stat seen[sizeof(conf_dirs) / sizeof(conf_dirs[0])];
	size_t n_seen = 0;

	for (size_t i = 0; i < sizeof(conf_dirs) / sizeof(conf_dirs[0]); i++) {
		const char *dir = conf_dirs[i];
		bool ovdir = L->ov_dir && !strcmp(L->ov_dir, dir), dup = false;
		struct stat st;
		DIR *d = NULL;
		int fd;

		fd = sysctld_open_in_root(L->rootfd, dir, O_RDONLY | O_DIRECTORY);
		if (fd < 0 && fd != -ENOENT && systemd)
			msgs_add(&L->bv->warnings, "%s: %s, not read", dir, strerror(-fd));
		if (fd >= 0 && fstat(fd, &st) == 0) {
			for (size_t j = 0; j < n_seen; j++)
				dup |= seen[j].st_dev == st.st_dev && seen[j].st_ino == st.st_ino;
			seen[n_seen++] = st;
		}
		if (fd >= 0 && dup) {
			(void)close(fd);
			/* procps reads it again, but every name in it is already taken */
			continue;
		}
		if (fd >= 0 && !(d = fdopendir(fd)))
			(void)close(fd);
		for (struct dirent *de; d && (de = readdir(d));) {
			size_t len = strlen(de->d_name);

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (len < 5 || strcmp(de->d_name + len - 5, ".conf"))
				continue;
			if (systemd && de->d_name[0] == '.')
				continue;
			if (have_name(&es, de->d_name))
				continue;
			if (ovdir && !strcmp(de->d_name, L->ov_name))
				continue;	/* the overlay decides below */
			add_entry(&es, dir, de->d_name, is_devnull_link(dirfd(d), de->d_name), false);
		}
		if (d)
			(void)closedir(d);
		if (ovdir && L->ov_text && !have_name(&es, L->ov_name))
			add_entry(&es, dir, L->ov_name, false, true);
	}
	strindex_free(&es.names);
	if (es.n)
		qsort(es.v, es.n, sizeof(*es.v), cmp_entry);
	*ret = es.v;
	*ret_n = es.n;
}

void sysctld_free_entries(struct entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].path);
	}
	free(v);
}

struct sysctl_assign sysctld_assign_of(const struct line *l, const char *file)
{
	return (struct sysctl_assign){
		.key = xstrdup(l->key),
		.value = l->raw ? value_normalize(l->raw) : NULL,
		.file = xstrdup(file),
		.line = l->no,
		.ignore_failure = l->ignore_failure,
		.glob = l->glob,
	};
}

void sysctld_assign_free(struct sysctl_assign *a)
{
	free(a->key);
	free(a->value);
	free(a->file);
}

void sysctld_push(struct sysctl_assign **v, size_t *n, size_t *cap, struct sysctl_assign a)
{
	sysctld_grow(v, *n, cap, sizeof(**v));
	(*v)[(*n)++] = a;
}

static void lines_free(struct line *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].raw);
	}
	free(v);
}

static int overlay_init(struct loader *L, const char *path, const char *text)
{
	const char *slash;
	struct stat st;
	int fd;

	if (!path)
		return 0;
	slash = strrchr(path, '/');
	if (path[0] != '/' || !slash || !slash[1])
		return -EINVAL;
	L->ov_path = path;
	L->ov_text = text;
	L->ov_dir = xstrndup(path, (size_t)(slash - path));
	L->ov_name = slash + 1;
	/* 99-sysctl.conf -> ../sysctl.conf: catch links to the overlaid file by inode */
	fd = sysctld_open_in_root(L->rootfd, path, O_PATH);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			L->ov_have_ino = true;
			L->ov_dev = st.st_dev;
			L->ov_ino = st.st_ino;
		}
		(void)close(fd);
	}
	return 0;
}

int sysctld_load(int rootfd, const char *overlay_path, const char *overlay_text,
		 struct bootview *ret)
{
	struct loader L = { .rootfd = rootfd, .bv = ret };
	int r, fd;

	*ret = (struct bootview){ 0 };
	/* openat2() or nothing: without RESOLVE_IN_ROOT a symlink could leave --root */
	fd = sysctld_open_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
	if (fd < 0)
		return fd;
	(void)close(fd);
	r = overlay_init(&L, overlay_path, overlay_text);
	if (r < 0)
		return r;
	sysctld_systemd_load(&L);
	sysctld_procps_load(&L);
	for (size_t i = 0; i < L.n_files; i++) {
		struct pfile *pf = &L.files[i];

		if (pf->pp_lines != pf->lines)
			lines_free(pf->pp_lines, pf->n_pp);
		lines_free(pf->lines, pf->n);
		free(pf->path);
	}
	free(L.files);
	strindex_free(&L.file_index);
	free(L.ov_dir);
	return 0;
}

static void assigns_free(struct sysctl_assign *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sysctld_assign_free(&v[i]);
	free(v);
}

void sysctld_free(struct bootview *bv)
{
	if (!bv)
		return;
	assigns_free(bv->all, bv->n_all);
	assigns_free(bv->pp, bv->n_pp);
	assigns_free(bv->sd, bv->n_sd);
	assigns_free(bv->pp_excl, bv->n_pp_excl);
	strv_free(bv->files, bv->n_files);
	strv_free(bv->pp_files, bv->n_pp_files);
	msgs_free(&bv->warnings);
	*bv = (struct bootview){ 0 };
}
