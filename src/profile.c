/* SPDX-License-Identifier: ISC */
/* profile.c: libconfig profiles: lookup on the path, inheritance, merging, rules and validation. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "profile.h"

#ifndef PROFILEDIR
#define PROFILEDIR "/usr/share/tcptune/profiles"
#endif

#define PROFILE_MAX_BYTES (1024 * 1024)
/* libconfig 1.5's MAX_INCLUDE_DEPTH */
#define INCLUDE_MAX_DEPTH 10
/* inherits chains deeper than this are a mistake, and would exhaust the stack */
#define INHERIT_MAX_DEPTH 32

static const char *const rule_fields[] = { "value", "min", "max", "one_of", "covers", "optional", "note" };

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

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

static bool name_is_path(const char *name)
{
	return strchr(name, '/') || ends_with(name, ".conf");
}

/* A bare profile name becomes part of a path: keep it to a plain word. */
static bool name_valid(const char *name)
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
static char *name_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (ends_with(base, ".conf") && len > 5)
		len -= 5;
	return xstrndup(base, len);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* ---- reading one file ------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_xdigit(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
	       c == '_' || c == '*' || c == '-' || c == '.';
}

/*
 * libconfig 1.5 silently truncates an integer literal beyond 32 bits unless
 * it carries an L suffix (5000000000 reads as 705032704). Append the L
 * where a literal needs it, so "file-max = 9223372036854775807;" means what
 * it says. Line numbers stay the same; strings and comments are skipped.
 * A literal beyond 64 bits is reported at its line (*ret_bad_line), a
 * string still open at the end at the line it starts (*ret_open_line):
 * libconfig 1.5 leaks its buffer on that error, so we report it instead.
 */
static char *widen_ints(const char *text, unsigned *ret_bad_line, unsigned *ret_open_line)
{
	size_t len = strlen(text), n = 0;
	char *out = xmalloc(len * 2 + 1);
	unsigned line = 1;
	const char *p = text;

	*ret_bad_line = 0;
	*ret_open_line = 0;
	while (*p) {
		if (*p == '"') {
			unsigned start = line;

			out[n++] = *p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					out[n++] = *p++;
				if (*p == '\n')
					line++;
				out[n++] = *p++;
			}
			if (*p)
				out[n++] = *p++;
			else if (!*ret_open_line)
				*ret_open_line = start;
		} else if (*p == '#' || (*p == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				out[n++] = *p++;
		} else if (*p == '/' && p[1] == '*') {
			out[n++] = *p++;
			out[n++] = *p++;
			while (*p && !(*p == '*' && p[1] == '/')) {
				if (*p == '\n')
					line++;
				out[n++] = *p++;
			}
		} else if (is_digit(*p) && (p == text || !name_char(p[-1]) ||
					    ((p[-1] == '-' || p[-1] == '+') &&
					     (p - 1 == text || !name_char(p[-2]))))) {
			const char *s = p;
			bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
			unsigned long long u;

			if (hex)
				p += 2;
			while (hex ? is_xdigit(*p) : is_digit(*p))
				p++;
			memcpy(out + n, s, (size_t)(p - s));
			n += (size_t)(p - s);
			if (*p == '.' || *p == 'e' || *p == 'E' || *p == 'L' || name_char(*p))
				continue;	/* a float, already 64-bit, or not a number */
			errno = 0;
			u = strtoull(s, NULL, hex ? 16 : 10);
			/* a hex literal above LLONG_MAX would wrap to a negative number (0xFF..FF is -1) */
			if (errno == ERANGE || (hex && u > (unsigned long long)LLONG_MAX) ||
			    (!hex && u > (unsigned long long)LLONG_MAX + 1) ||
			    (!hex && u == (unsigned long long)LLONG_MAX + 1 &&
			     !(s > text && s[-1] == '-'))) {
				if (!*ret_bad_line)
					*ret_bad_line = line;
			} else if (u > INT_MAX) {
				out[n++] = 'L';
			}
		} else {
			if (*p == '\n')
				line++;
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	return out;
}

/*
 * Open a profile file. O_NONBLOCK so that a FIFO given by mistake cannot
 * hang us before fstat() says it is not a regular file.
 */
static int file_open(const char *path, struct stat *st, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0) {
		int e = errno;
		(void)snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, st) < 0) {
		int e = errno;
		(void)snprintf(err, errlen, "%s: %s", path, strerror(e));
		(void)close(fd);
		return -e;
	}
	if (!S_ISREG(st->st_mode)) {
		(void)snprintf(err, errlen, "%s: not a regular file", path);
		(void)close(fd);
		return -EINVAL;
	}
	return fd;
}

/*
 * Read at most max bytes of fd into a NUL-terminated buffer: 0, -EFBIG
 * when there is more, or -errno. *ret_buf is the caller's to free (also
 * on error).
 */
static int read_capped(int fd, size_t max, char **ret_buf, size_t *ret_len)
{
	/* grow as needed: most profiles are a few hundred bytes, not max */
	size_t len = 0, cap = 4096 < max + 1 ? 4096 : max + 1;
	char *buf = xmalloc(cap + 1);
	ssize_t k;

	*ret_len = 0;
	for (;;) {
		if (len == cap) {
			cap = cap * 2 < max + 1 ? cap * 2 : max + 1;
			buf = xrealloc(buf, cap + 1);
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
		if (len > max)
			break;
	}
	*ret_buf = buf;
	if (k < 0)
		return -errno;
	if (len > max)
		return -EFBIG;
	buf[len] = '\0';
	*ret_len = len;
	return 0;
}

/*
 * The text libconfig parses: the profile with each @include line replaced
 * by the bytes of that file, read here once through the descriptor we
 * checked, and for each line of the text the file and line it came from.
 * libconfig 1.5 has no include hook and would open the file again by name:
 * a FIFO swapped in after our check would hang it, a bigger file would get
 * round the size limit.
 */
struct composed {
	char *text;
	size_t len, cap;
	char **files;                 /* [0] the profile, then each included file */
	size_t n_files;
	unsigned *file_of, *line_of;  /* per line of text */
	size_t n_lines, cap_lines;
};

static void composed_free(struct composed *c)
{
	free(c->text);
	strv_free(c->files, c->n_files);
	free(c->file_of);
	free(c->line_of);
	memset(c, 0, sizeof(*c));
}

static void composed_line(struct composed *c, const char *s, size_t n, unsigned file, unsigned line)
{
	if (c->len + n + 2 > c->cap) {
		c->cap = (c->len + n + 2) * 2;
		c->text = xrealloc(c->text, c->cap);
	}
	memcpy(c->text + c->len, s, n);
	c->len += n;
	c->text[c->len++] = '\n';
	c->text[c->len] = '\0';
	if (c->n_lines == c->cap_lines) {
		c->cap_lines = c->cap_lines ? c->cap_lines * 2 : 64;
		c->file_of = xreallocarray(c->file_of, c->cap_lines, sizeof(*c->file_of));
		c->line_of = xreallocarray(c->line_of, c->cap_lines, sizeof(*c->line_of));
	}
	c->file_of[c->n_lines] = file;
	c->line_of[c->n_lines++] = line;
}

/* The file and line of line n (1-based) of the composed text; file is NULL when out of range. */
static const char *composed_where(const struct composed *c, int n, unsigned *ret_line)
{
	if (!c || n < 1 || (size_t)n > c->n_lines) {
		*ret_line = n > 0 ? (unsigned)n : 0;
		return NULL;
	}
	*ret_line = c->line_of[n - 1];
	return c->files[c->file_of[n - 1]];
}

static int compose(struct composed *c, const char *text, unsigned file, const char *dir,
		   unsigned depth, size_t *total, struct msgs *m);

/* One @include NAME at line `line` of c->files[from]: open it once, check it, read it, compose it. */
static int include_one(struct composed *c, unsigned from, unsigned line, const char *dir,
		       const char *name, unsigned depth, size_t *total, struct msgs *m)
{
	char *path = xasprintf("%s/%s", dir, name), *buf = NULL;
	const char *file = c->files[from];
	unsigned bad_line, open_line;
	struct stat st;
	size_t len;
	int fd, r = 0;

	if (depth >= INCLUDE_MAX_DEPTH) {
		msgs_add(m, "%s:%u: @include \"%s\": nested more than %d deep", file, line, name,
			 INCLUDE_MAX_DEPTH);
		free(path);
		return -ELOOP;
	}
	/* O_NONBLOCK: a FIFO cannot hang the open; O_NOFOLLOW: no symlink as the last step */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		msgs_add(m, "%s:%u: @include \"%s\": %s", file, line, name,
			 r == -ELOOP ? "a symbolic link: name the file itself" : strerror(-r));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		msgs_add(m, "%s:%u: @include \"%s\": not a regular file", file, line, name);
		r = -EINVAL;
		goto out;
	}
	if (geteuid() == 0) {
		char *why = profile_perms_refusal(path, &st);

		if (why) {
			msgs_add(m, "%s:%u: @include \"%s\": %s: %s: refusing it as root, "
				 "others could change what tcptune applies", file, line, name, path, why);
			free(why);
			r = -EINVAL;
			goto out;
		}
	}
	r = read_capped(fd, PROFILE_MAX_BYTES - *total, &buf, &len);
	if (r == -EFBIG)
		msgs_add(m, "%s:%u: @include \"%s\": the profile and its @include files are larger than %d bytes",
			 file, line, name, PROFILE_MAX_BYTES);
	else if (r < 0)
		msgs_add(m, "%s:%u: @include \"%s\": %s", file, line, name, strerror(-r));
	if (r < 0)
		goto out;
	*total += len;
	if (memchr(buf, '\0', len)) {
		msgs_add(m, "%s: contains a NUL byte: not a profile", path);
		r = -EINVAL;
		goto out;
	}
	free(widen_ints(buf, &bad_line, &open_line));
	if (open_line) {
		msgs_add(m, "%s:%u: string not closed before the end of the file", path, open_line);
		r = -EINVAL;
		goto out;
	}
	c->files = xreallocarray(c->files, c->n_files + 1, sizeof(*c->files));
	c->files[c->n_files++] = path;
	path = NULL;
	r = compose(c, buf, (unsigned)c->n_files - 1, dir, depth + 1, total, m);
out:
	if (fd >= 0)
		(void)close(fd);
	free(buf);
	free(path);
	return r;
}

/*
 * Append text (from c->files[file]) to c, each @include replaced by the
 * file it names. The directives are found as libconfig 1.5 finds them:
 * at the start of a line, the name relative to the include directory, for
 * nested ones too. Comments are not skipped: a commented-out @include of a
 * FIFO is refused too. *total counts the bytes of the profile and of every
 * file it pulls in, each time it is pulled in.
 */
static int compose(struct composed *c, const char *text, unsigned file, const char *dir,
		   unsigned depth, size_t *total, struct msgs *m)
{
	unsigned line = 1;

	for (const char *p = text; *p; line++) {
		const char *q = p + strspn(p, " \t"), *eol = strchrnul(p, '\n'), *e;
		const char *bol = p;

		p = *eol ? eol + 1 : eol;
		if (strncmp(q, "@include", 8) != 0 || (q[8] != ' ' && q[8] != '\t') ||
		    q[8 + strspn(q + 8, " \t")] != '"') {
			composed_line(c, bol, (size_t)(eol - bol), file, line);
			continue;	/* not a directive, or libconfig's syntax error */
		}
		q += 8 + strspn(q + 8, " \t");
		for (e = q + 1; e < eol && *e != '"' && *e != '\\'; e++)
			;
		if (e >= eol || *e != '"') {
			msgs_add(m, "%s:%u: @include: the name must be a plain quoted file name",
				 c->files[file], line);
			return -EINVAL;
		}
		char *name = xstrndup(q + 1, (size_t)(e - q - 1));
		int r = include_one(c, file, line, dir, name, depth, total, m);

		free(name);
		if (r < 0)
			return r;
		/* whatever follows the name on its line, as libconfig reads it after the file */
		if (e + 1 < eol)
			composed_line(c, e + 1, (size_t)(eol - e - 1), file, line);
	}
	return 0;
}

/* Line n (from 1) of text, without its newline; NULL past the end. */
static char *line_at(const char *text, int n)
{
	for (int i = 1; i < n && text; i++) {
		text = strchr(text, '\n');
		if (text)
			text++;
	}
	return text ? xstrndup(text, strcspn(text, "\n")) : NULL;
}

/* { and } before line n outside strings and comments: is the line inside a group? */
static int depth_before(const char *text, int n)
{
	int depth = 0, line = 1;
	char q = 0;

	for (const char *p = text; *p && line < n; p++) {
		if (*p == '\n') {
			line++;
			continue;
		}
		if (q) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == q)
				q = 0;
		} else if (*p == '"') {
			q = '"';
		} else if (*p == '#' || (*p == '/' && p[1] == '/')) {
			p += strcspn(p, "\n") - 1;
		} else if (*p == '{') {
			depth++;
		} else if (*p == '}') {
			depth--;
		}
	}
	return depth;
}

/*
 * Admins coming from sysctl.conf write "net.ipv4.tcp_sack = 1;", which
 * libconfig cannot parse (names have no dots): for such a line, the text
 * to add to the syntax error, with the line rewritten as nested groups.
 * shift turns a line of text into the line of the file it came from.
 */
static char *dotted_hint(const char *text, int n, int shift)
{
	char *line = NULL, *key, *val, *nested, *tail, *out = NULL;
	char **parts = NULL, **toks = NULL;
	size_t np = 0, nt = 0, klen;
	const char *v;

	/* libconfig may stop on the line after one without a ';' */
	for (int k = n; k >= 1 && k >= n - 1 && !out; k--) {
		free(line);
		line = line_at(text, k);
		if (!line)
			continue;
		key = line + strspn(line, " \t");
		klen = strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./");
		v = key + klen + strspn(key + klen, " \t");
		if (!memchr(key, '.', klen) || (*v != '=' && *v != ':'))
			continue;
		key = xstrndup(key, klen);
		if (key_normalize(key, &nested) < 0) {
			free(key);
			continue;
		}
		free(key);
		val = xstrndup(v + 1, strcspn(v + 1, ";#\n"));
		toks = NULL;
		nt = value_split(val, &toks);
		np = 0;
		parts = NULL;
		for (char *save = NULL, *c = strtok_r(nested, ".", &save); c; c = strtok_r(NULL, ".", &save)) {
			parts = xreallocarray(parts, np + 1, sizeof(*parts));
			parts[np++] = xstrdup(c);
		}
		/* "4096 87380 6291456" is a vector: an array in libconfig */
		char *value = xstrdup("");
		for (size_t i = 0; i < nt; i++) {
			char *t = xasprintf("%s%s%s", value, i ? ", " : "", toks[i]);
			free(value);
			value = t;
		}
		if (nt > 1) {
			char *t = xasprintf("[ %s ]", value);
			free(value);
			value = t;
		}
		bool top = depth_before(text, k) == 0 && strcmp(parts[0], "sysctl") != 0;
		tail = xasprintf("%s = %s;", parts[np - 1], value);
		for (size_t i = np - 1; i-- > 0;) {
			char *t = xasprintf("%s = { %s };", parts[i], tail);
			free(tail);
			tail = t;
		}
		if (top) {
			char *t = xasprintf("sysctl = { %s };", tail);
			free(tail);
			tail = t;
		}
		out = xasprintf(" (libconfig needs nested groups, not dotted names: write line %d as %s)",
				k + shift, tail);
		free(tail);
		free(value);
		free(val);
		free(nested);
		strv_free(parts, np);
		strv_free(toks, nt);
	}
	free(line);
	return out;
}

/*
 * Read and parse an opened profile; closes fd. Errors go to msgs. On
 * success ret_comp maps the lines libconfig reports back to files.
 */
static int file_parse(int fd, const char *path, config_t *c, struct composed *ret_comp, struct msgs *m)
{
	char *buf = NULL, *wide = NULL, *dir = NULL;
	size_t len = 0, total = 0;
	unsigned bad_line, open_line, at;
	const char *f;
	int r;

	memset(ret_comp, 0, sizeof(*ret_comp));
	r = read_capped(fd, PROFILE_MAX_BYTES, &buf, &len);
	if (r == -EFBIG)
		msgs_add(m, "%s: larger than %d bytes: not a profile", path, PROFILE_MAX_BYTES);
	else if (r < 0)
		msgs_add(m, "%s: %s", path, strerror(-r));
	if (r < 0)
		goto out;
	if (memchr(buf, '\0', len)) {
		msgs_add(m, "%s: contains a NUL byte: not a profile", path);
		r = -EINVAL;
		goto out;
	}
	free(widen_ints(buf, &bad_line, &open_line));
	if (open_line) {
		msgs_add(m, "%s:%u: string not closed before the end of the file", path, open_line);
		r = -EINVAL;
		goto out;
	}
	dir = dir_of(path);
	total = len;
	ret_comp->files = xcalloc(1, sizeof(*ret_comp->files));
	ret_comp->files[0] = xstrdup(path);
	ret_comp->n_files = 1;
	r = compose(ret_comp, buf, 0, dir, 0, &total, m);
	if (r < 0)
		goto out;
	wide = widen_ints(ret_comp->text ? ret_comp->text : "", &bad_line, &open_line);
	config_init(c);
	/* every @include was replaced: one libconfig would still open must fail, never be read */
	config_set_include_dir(c, "/dev/null");
	if (!config_read_string(c, wide)) {
		f = composed_where(ret_comp, config_error_line(c), &at);

		char *hint = dotted_hint(ret_comp->text ? ret_comp->text : buf, config_error_line(c),
					 (int)at - config_error_line(c));

		msgs_add(m, "%s:%u: %s%s", f ? f : path, at, config_error_text(c), hint ? hint : "");
		free(hint);
		config_destroy(c);
		r = -EINVAL;
	} else if (bad_line) {
		f = composed_where(ret_comp, (int)bad_line, &at);
		msgs_add(m, "%s:%u: integer outside the signed 64-bit range", f ? f : path, at);
		config_destroy(c);
		r = -EINVAL;
	}
out:
	if (r < 0)
		composed_free(ret_comp);
	free(wide);
	free(dir);
	free(buf);
	(void)close(fd);
	return r;
}

/* ---- loading: state ----------------------------------------------------- */

struct frame {
	dev_t dev;
	ino_t ino;
	char *name;                   /* stack: for the cycle message */
	char *description;            /* done: for a name given again */
};

struct loader {
	const struct profile_path *pp;
	const struct procsys *ps;
	struct msgs *errors;
	struct msgs warnings;
	size_t n_errors;
	struct frame *stack;          /* profiles being loaded, for cycles */
	size_t n_stack;
	struct frame *done;           /* profiles merged already: each only once */
	size_t n_done;
	struct rule *rules;
	size_t n_rules;
	char **files;
	size_t n_files;
	char **allowed_by;
	size_t n_allowed_by;
	char *description;
	const struct composed *map;   /* of the file being walked: lines back to files */
	int io_error;                 /* the first failed read, -errno: the disk, not the profile */
};

/* Where a setting sits: its file (an @include may differ from the profile) and line. */
struct site {
	const char *file;
	unsigned line;
	const char *key;
};

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
static void serr(struct loader *l, const struct site *s, const char *field, const char *fmt, ...)
	TT_PRINTF(4, 5);
static void serr(struct loader *l, const struct site *s, const char *field, const char *fmt, ...)
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

static struct site site_of(const struct loader *l, const config_setting_t *st, const char *file,
			   const char *key)
{
	unsigned line;
	const char *f = composed_where(l->map, (int)config_setting_source_line(st), &line);

	return (struct site){ .file = f ? f : file, .line = line, .key = key };
}

static void rule_clear(struct rule *r)
{
	free(r->key);
	free(r->value);
	free(r->min);
	free(r->max);
	strv_free(r->one_of, r->n_one_of);
	free(r->covers);
	free(r->note);
	free(r->profile);
	free(r->file);
	memset(r, 0, sizeof(*r));
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

/* ---- values ------------------------------------------------------------- */

static const char *type_word(const config_setting_t *v)
{
	switch (config_setting_type(v)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_FLOAT:
		return "a fraction";
	case CONFIG_TYPE_BOOL:
		return "true/false";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "a number";
	}
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t' && *s != ' ')
			return true;
	return false;
}

static bool is_int(const config_setting_t *v)
{
	int t = config_setting_type(v);

	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
}

/* What a catalogued key wants, for messages. */
static char *want_word(const struct catentry *cat)
{
	if (cat->type == CAT_STR)
		return xstrdup("a string");
	if (cat->type == CAT_VEC)
		return xasprintf("an array of %u integers", cat->arity);
	return xstrdup("an integer");
}

/*
 * One value of a rule (a plain leaf, value, min, max or an element of
 * one_of) as normalized text. Uncatalogued keys take numbers, strings or
 * lists of them; catalogued keys take what their type says. NULL after
 * reporting an error.
 */
static char *value_of(struct loader *l, const struct site *s, const char *field,
		      const config_setting_t *v, const struct catentry *cat)
{
	int t = config_setting_type(v);
	char *text = NULL, *want = cat ? want_word(cat) : NULL;

	if (is_int(v)) {
		if (cat && cat->type == CAT_STR)
			serr(l, s, field, "must be %s, not a number", want);
		else
			text = xasprintf("%lld", config_setting_get_int64(v));
	} else if (t == CONFIG_TYPE_STRING) {
		if (has_control(config_setting_get_string(v)))
			serr(l, s, field, "control character in value");
		else if (cat && cat->type != CAT_STR)
			serr(l, s, field, "must be %s, not a string", want);
		else
			text = value_normalize(config_setting_get_string(v));
		if (text && !*text) {
			serr(l, s, field, "empty value");
			free(text);
			text = NULL;
		}
		if (text && cat) {
			/* a set (reserved ports): kept as the kernel prints it, so read-back compares */
			char *canon = catalogue_canonical(cat, text);
			if (canon) {
				free(text);
				text = canon;
			}
		}
	} else if (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST) {
		int n = config_setting_length(v);
		char *acc = xstrdup("");
		bool ok = n > 0;

		if (cat && cat->type != CAT_VEC) {
			serr(l, s, field, "must be %s, not a list", want);
			ok = false;
		} else if (n == 0) {
			serr(l, s, field, "empty list");
		}
		for (int i = 0; ok && i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(v, (unsigned)i);
			char *tok, *next;

			if (is_int(e)) {
				tok = xasprintf("%lld", config_setting_get_int64(e));
			} else if (!cat && config_setting_type(e) == CONFIG_TYPE_STRING) {
				if (has_control(config_setting_get_string(e))) {
					serr(l, s, field, "control character in value");
					ok = false;
					break;
				}
				tok = value_normalize(config_setting_get_string(e));
			} else {
				serr(l, s, field, "list elements must be %s, not %s",
				     cat ? "integers" : "integers or strings", type_word(e));
				ok = false;
				break;
			}
			next = *acc ? xasprintf("%s %s", acc, tok) : xstrdup(tok);
			free(acc);
			free(tok);
			acc = next;
		}
		if (ok)
			text = acc;
		else
			free(acc);
	} else {
		if (cat)
			serr(l, s, field, "must be %s, not %s", want, type_word(v));
		else
			serr(l, s, field, "must be an integer, a string or a list, not %s",
			     type_word(v));
	}
	if (text && cat) {
		char err[256];

		if (catalogue_check(cat, text, err, sizeof(err)) < 0) {
			serr(l, s, field, "%s", err);
			free(text);
			text = NULL;
		}
	}
	free(want);
	return text;
}

/* min and max are element-wise integer bounds. */
static char *bound_of(struct loader *l, const struct site *s, const char *field,
		      const config_setting_t *v, const struct catentry *cat)
{
	char *text, **tok;
	size_t n;
	long long x;

	if (cat && cat->type == CAT_STR) {
		serr(l, s, field, "a string key has no order: use value or one_of");
		return NULL;
	}
	text = value_of(l, s, field, v, cat);
	if (!text || cat)
		return text;
	n = value_split(text, &tok);
	for (size_t i = 0; i < n; i++)
		if (parse_ll(tok[i], &x) < 0) {
			serr(l, s, field, "must be an integer or a list of integers, not \"%s\"",
			     tok[i]);
			free(text);
			text = NULL;
			break;
		}
	strv_free(tok, n);
	return text;
}

static void check_min_max(struct loader *l, const struct site *s, const char *min, const char *max)
{
	char **a, **b;
	size_t na = value_split(min, &a), nb = value_split(max, &b);
	long long x, y;

	if (na != nb) {
		serr(l, s, NULL, "min has %zu elements and max %zu", na, nb);
	} else {
		for (size_t i = 0; i < na; i++)
			if (parse_ll(a[i], &x) == 0 && parse_ll(b[i], &y) == 0 && x > y) {
				serr(l, s, NULL, "min %s is greater than max %s", min, max);
				break;
			}
	}
	strv_free(a, na);
	strv_free(b, nb);
}

/* ---- keys ----------------------------------------------------------------- */

static bool is_rule_field(const char *name)
{
	for (size_t i = 0; i < sizeof(rule_fields) / sizeof(rule_fields[0]); i++)
		if (strcmp(name, rule_fields[i]) == 0)
			return true;
	return false;
}

/*
 * A group is a rule when it names a known key (catalogued, or a file in
 * /proc/sys) or when any member is named like a rule field; otherwise it is
 * one more /proc/sys level. No sysctl directory has a file called value,
 * min, max, one_of, optional or note, so the rule cannot hide a real key.
 */
static bool is_rule_group(const struct loader *l, const config_setting_t *g, const char *key)
{
	int n = config_setting_length(g);

	if (catalogue_find(key) || (l->ps && procsys_stat(l->ps, key) == 0))
		return true;
	for (int i = 0; i < n; i++)
		if (is_rule_field(config_setting_name(config_setting_get_elem(g, (unsigned)i))))
			return true;
	return false;
}

/* The closest name in the key's /proc/sys directory, for "did you mean". */
static char *suggest_sibling(const struct procsys *ps, const char *key)
{
	const char *dot = strrchr(key, '.'), *leaf;
	char *parent, **names = NULL, *best = NULL;
	size_t n = 0, best_d = (size_t)-1, len;

	if (!ps || !dot)
		return NULL;
	parent = xstrndup(key, (size_t)(dot - key));
	leaf = dot + 1;
	len = strlen(leaf);
	if (procsys_list(ps, parent, &names, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			size_t d = edit_distance(leaf, names[i]);

			if (d <= 3 && d * 2 < len && d < best_d) {
				best_d = d;
				free(best);
				best = xasprintf("%s.%s", parent, names[i]);
			}
		}
		strv_free(names, n);
	}
	free(parent);
	return best;
}

/*
 * Is the key known? A key in neither the catalogue nor the kernel is an
 * error, except an optional key with no close match: that is how a profile
 * names a key of a module this host has not loaded.
 */
static void check_known(struct loader *l, const struct site *s, bool optional)
{
	const char *cs;
	char *sib = NULL;
	int r;

	if (catalogue_removed(s->key)) {
		serr(l, s, NULL, "%s", catalogue_removed(s->key));
		return;
	}
	if (!l->ps || catalogue_find(s->key))
		return;
	r = procsys_stat(l->ps, s->key);
	if (r == -EISDIR) {
		serr(l, s, NULL, "a /proc/sys directory, not a key");
		return;
	}
	/* ENOTDIR: a level below a file (tcp_fin_timeout = { maximum = 30; }). */
	if (r != -ENOENT && r != -ENOTDIR)
		return;
	cs = catalogue_suggest(s->key);
	if (!cs)
		sib = suggest_sibling(l->ps, s->key);
	if (!cs && !sib && optional)
		return;
	if (cs || sib)
		serr(l, s, NULL, "unknown key (not in the catalogue, not in /proc/sys); did you mean %s?",
		     cs ? cs : sib);
	else
		serr(l, s, NULL, "unknown key (not in the catalogue, not in /proc/sys)");
	free(sib);
}

static struct rule *rule_new(const struct site *s, const char *profile)
{
	struct rule *r = xcalloc(1, sizeof(*r));

	r->key = xstrdup(s->key);
	r->cat = catalogue_find(s->key);
	r->profile = xstrdup(profile);
	r->file = xstrdup(s->file);
	r->line = s->line;
	return r;
}

/* key = { value | min / max | one_of ; optional ; note } */
static struct rule *parse_rule_group(struct loader *l, const config_setting_t *g,
				     const struct site *s, const char *profile)
{
	struct rule *r = rule_new(s, profile);
	int n = config_setting_length(g), errs = (int)l->n_errors;
	const config_setting_t *v = NULL, *mn = NULL, *mx = NULL, *one = NULL, *cov = NULL;

	for (int i = 0; i < n; i++) {
		const config_setting_t *f = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(f);
		struct site fs = site_of(l, f, s->file, s->key);

		if (strcmp(name, "value") == 0)
			v = f;
		else if (strcmp(name, "min") == 0)
			mn = f;
		else if (strcmp(name, "max") == 0)
			mx = f;
		else if (strcmp(name, "one_of") == 0)
			one = f;
		else if (strcmp(name, "covers") == 0)
			cov = f;
		else if (strcmp(name, "optional") == 0) {
			if (config_setting_type(f) == CONFIG_TYPE_BOOL)
				r->optional = config_setting_get_bool(f);
			else
				serr(l, &fs, name, "must be true or false, not %s", type_word(f));
		} else if (strcmp(name, "note") == 0) {
			if (config_setting_type(f) == CONFIG_TYPE_STRING)
				r->note = xstrdup(config_setting_get_string(f));
			else
				serr(l, &fs, name, "must be a string, not %s", type_word(f));
		} else {
			serr(l, &fs, NULL,
			     "unknown rule field \"%s\" (expected value, min, max, one_of, covers, optional, note)",
			     name);
		}
	}
	check_known(l, s, r->optional);
	if (v && (mn || mx || one || cov))
		serr(l, s, NULL, "value cannot be combined with min, max, one_of or covers");
	else if (one && (mn || mx || cov))
		serr(l, s, NULL, "one_of cannot be combined with min, max or covers");
	else if (cov && (mn || mx))
		serr(l, s, NULL, "covers cannot be combined with min or max");
	else if (!v && !mn && !mx && !one && !cov)
		serr(l, s, NULL, "a rule needs value, min, max, one_of or covers");
	if (cov) {
		struct site cs = site_of(l, cov, s->file, s->key);

		if (r->cat && !(r->cat->type == CAT_VEC && r->cat->arity == 2))
			serr(l, &cs, "covers", "is for range keys (two numbers, low and high), "
			     "such as net.ipv4.ip_local_port_range");
		else
			r->covers = value_of(l, &cs, "covers", cov, r->cat);
	}
	if (v) {
		struct site vs = site_of(l, v, s->file, s->key);
		r->value = value_of(l, &vs, "value", v, r->cat);
	}
	if (mn) {
		struct site vs = site_of(l, mn, s->file, s->key);
		r->min = bound_of(l, &vs, "min", mn, r->cat);
	}
	if (mx) {
		struct site vs = site_of(l, mx, s->file, s->key);
		r->max = bound_of(l, &vs, "max", mx, r->cat);
	}
	if (r->min && r->max)
		check_min_max(l, s, r->min, r->max);
	if (one) {
		struct site os = site_of(l, one, s->file, s->key);
		int t = config_setting_type(one), k = config_setting_length(one);

		if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
			serr(l, &os, "one_of", "must be a list of values, not %s", type_word(one));
		} else if (k == 0) {
			serr(l, &os, "one_of", "must not be empty");
		} else {
			r->one_of = xcalloc((size_t)k, sizeof(*r->one_of));
			for (int i = 0; i < k; i++) {
				char *x = value_of(l, &os, "one_of",
						   config_setting_get_elem(one, (unsigned)i), r->cat);
				if (x)
					r->one_of[r->n_one_of++] = x;
			}
		}
	}
	if ((int)l->n_errors != errs) {
		rule_clear(r);
		free(r);
		return NULL;
	}
	return r;
}

static struct rule *parse_plain(struct loader *l, const config_setting_t *v,
				const struct site *s, const char *profile)
{
	struct rule *r = rule_new(s, profile);

	check_known(l, s, false);
	r->value = value_of(l, s, NULL, v, r->cat);
	if (!r->value) {
		rule_clear(r);
		free(r);
		return NULL;
	}
	return r;
}

struct filectx {
	const char *path;
	const char *profile;
	bool allow_uncatalogued;
	struct rule *rules;
	size_t n_rules;
};

static void walk_level(struct loader *l, struct filectx *f, const config_setting_t *g,
		       const char *prefix)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char *key = prefix ? xasprintf("%s.%s", prefix, name) : xstrdup(name);
		struct site s = site_of(l, m, f->path, key);
		struct rule *r = NULL;

		if (!key_valid(key)) {
			serr(l, &s, NULL, "invalid key name: use lower-case letters, digits, '_' and '-'");
		} else if (config_setting_type(m) == CONFIG_TYPE_GROUP && !is_rule_group(l, m, key)) {
			walk_level(l, f, m, key);
		} else {
			r = config_setting_type(m) == CONFIG_TYPE_GROUP ?
				parse_rule_group(l, m, &s, f->profile) :
				parse_plain(l, m, &s, f->profile);
		}
		if (r && rule_out_of_scope(r) && !f->allow_uncatalogued) {
			serr(l, &s, NULL, "outside the network keys tcptune knows (not in its catalogue): "
			     "to set it, put allow_uncatalogued = true; at the top of %s", f->path);
			rule_clear(r);
			free(r);
			r = NULL;
		}
		if (r) {
			f->rules = xreallocarray(f->rules, f->n_rules + 1, sizeof(*f->rules));
			f->rules[f->n_rules++] = *r;
			free(r);
		}
		free(key);
	}
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
		struct site s = site_of(l, m, path, name);
		int t = config_setting_type(m);

		if (strcmp(name, "description") == 0) {
			if (t == CONFIG_TYPE_STRING)
				*ret_desc = xstrdup(config_setting_get_string(m));
			else
				serr(l, &s, NULL, "must be a string, not %s", type_word(m));
		} else if (strcmp(name, "inherits") == 0) {
			bool one = t == CONFIG_TYPE_STRING;
			int k = one ? 1 : config_setting_length(m);

			if (!one && t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
				serr(l, &s, NULL, "must be a profile name or a list of names, not %s",
				     type_word(m));
				continue;
			}
			for (int j = 0; j < k; j++) {
				const config_setting_t *e = one ? m : config_setting_get_elem(m, (unsigned)j);
				const char *pn = config_setting_get_string(e);

				if (config_setting_type(e) != CONFIG_TYPE_STRING) {
					serr(l, &s, NULL, "must be a profile name or a list of names, not a list of %s",
					     type_word(e));
					break;
				}
				if (!*pn) {
					serr(l, &s, NULL, "empty profile name");
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
				serr(l, &s, NULL, "must be true or false, not %s", type_word(m));
		} else if (strcmp(name, "sysctl") == 0) {
			if (t != CONFIG_TYPE_GROUP)
				serr(l, &s, NULL, "must be a group: sysctl = { net = { ... }; };");
		} else {
			serr(l, &s, NULL, "unknown top-level setting (expected description, inherits, "
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
		if (de->d_name[0] != '.' && ends_with(de->d_name, ".conf") && strlen(de->d_name) > 5) {
			*v = xreallocarray(*v, *n + 1, sizeof(**v));
			(*v)[(*n)++] = name_from_path(de->d_name);
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

	if (name_is_path(name)) {
		if (name[0] != '/' && reldir)
			return xasprintf("%s/%s", reldir, name);
		return xstrdup(name);
	}
	if (!name_valid(name)) {
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

/* The uid the kernel shows for an owner outside our user namespace. */
static uid_t overflow_uid(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/kernel/overflowuid", O_RDONLY | O_CLOEXEC);
	long long v;

	if (fd >= 0) {
		ssize_t k = read(fd, buf, sizeof(buf) - 1);

		buf[k > 0 ? k : 0] = '\0';
		(void)close(fd);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return parse_ll(buf, &v) == 0 && v >= 0 ? (uid_t)v : 65534;
}

/* A read that failed because of the storage, not because of what the profile says. */
static bool is_io_error(int r)
{
	return r == -EIO || r == -ESTALE || r == -EREMOTEIO || r == -ETIMEDOUT || r == -EBADMSG ||
	       r == -EUCLEAN || r == -ENOLINK || r == -ENOMEM;
}

/* Are we in a user namespace other than the initial one (uid_map not the identity)? */
static bool in_child_userns(void)
{
	char buf[128] = "";
	int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	unsigned long a = 0, b = 0, n = 0;

	if (fd < 0)
		return false;
	ssize_t k = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	buf[k > 0 ? k : 0] = '\0';
	if (sscanf(buf, "%lu %lu %lu", &a, &b, &n) != 3)
		return false;
	return !(a == 0 && b == 0 && n == 4294967295UL);
}

/*
 * An owner root may trust: root, or in a child user namespace the overflow
 * uid, which is how the kernel shows owners outside it (the host's root
 * among them: from inside we cannot tell them apart).
 */
static bool owner_trusted(uid_t uid)
{
	return uid == 0 || (uid == overflow_uid() && in_child_userns());
}

/*
 * Why root must not read `path` (fstat in st), as OpenSSH's StrictModes and
 * doas judge: writable by group or others, owned by someone other than root,
 * or below a directory that is (writable by group or others without the
 * sticky bit, or owned by another user). NULL when it is safe. Caller frees.
 */
char *profile_perms_refusal(const char *path, const struct stat *st)
{
	char *dir = dir_of(path), *real, *why = NULL;

	if (st->st_mode & (S_IWGRP | S_IWOTH))
		why = xasprintf("writable by %s", st->st_mode & S_IWOTH ? "everyone" : "its group");
	else if (!owner_trusted(st->st_uid))
		why = xasprintf("owned by uid %u, not root", (unsigned)st->st_uid);
	real = why ? NULL : realpath(dir, NULL);
	if (!why && !real)
		why = xasprintf("its directory %s: %s", dir, strerror(errno));
	/* every directory up to /: whoever can rename in one of them can swap the file */
	for (bool last = false; real && !why && !last;) {
		struct stat ds;
		char *slash;

		if (stat(real, &ds) < 0)
			why = xasprintf("directory %s: %s", real, strerror(errno));
		else if ((ds.st_mode & (S_IWGRP | S_IWOTH)) && !(ds.st_mode & S_ISVTX))
			why = xasprintf("below %s, which %s can write (no sticky bit)", real,
					ds.st_mode & S_IWOTH ? "everyone" : "its group");
		else if (!owner_trusted(ds.st_uid))
			why = xasprintf("below %s, owned by uid %u, not root", real, (unsigned)ds.st_uid);
		slash = strrchr(real, '/');
		if (!slash || (slash == real && real[1] == '\0'))
			last = true;
		else
			slash[slash == real] = '\0';
	}
	free(real);
	free(dir);
	return why;
}

/*
 * Warn, as sudo and doas do for their configuration, when someone other
 * than root or us could change what tcptune is about to apply: the file
 * is writable by group or others or owned by another user, or its
 * directory lets others replace it (writable and not sticky). An owner
 * outside our user namespace shows as the overflow uid: unknowable, so no
 * warning for that.
 */
static void check_perms(struct loader *l, const char *path, const struct stat *st)
{
	char *dir = dir_of(path);
	struct stat ds;

	if (st->st_mode & (S_IWGRP | S_IWOTH))
		msgs_add(&l->warnings, "%s: writable by %s: they can change what tcptune applies",
			 path, st->st_mode & S_IWOTH ? "everyone" : "its group");
	if (st->st_uid != 0 && st->st_uid != geteuid() && st->st_uid != overflow_uid())
		msgs_add(&l->warnings, "%s: owned by uid %u, neither root nor you: they can change what tcptune applies",
			 path, (unsigned)st->st_uid);
	if (stat(dir, &ds) == 0 && (ds.st_mode & (S_IWGRP | S_IWOTH)) && !(ds.st_mode & S_ISVTX))
		msgs_add(&l->warnings, "%s: directory %s is writable by %s: they can replace the profile",
			 path, dir, ds.st_mode & S_IWOTH ? "everyone" : "its group");
	free(dir);
}

static void load_one(struct loader *l, const char *name, const char *reldir, const char *where,
		     bool top)
{
	char err[PATH_MAX + 128], *path, *pname, *desc = NULL, *dir;
	struct parent *parents = NULL;
	size_t n_parents = 0, at, done_i;
	bool allow = false;
	struct composed comp;
	struct stat st;
	config_t c;
	int fd;

	if (l->n_stack >= INHERIT_MAX_DEPTH) {
		lerr(l, "%s%s: inherits nested more than %d deep", where, name, INHERIT_MAX_DEPTH);
		return;
	}
	path = resolve(l, name, reldir, where);
	if (!path)
		return;
	fd = file_open(path, &st, err, sizeof(err));
	if (fd < 0) {
		if (is_io_error(fd) && !l->io_error)
			l->io_error = fd;
		lerr(l, "%s%s", where, err);
		free(path);
		return;
	}
	pname = name_from_path(path);
	if (geteuid() == 0) {
		char *why = profile_perms_refusal(path, &st);

		if (why) {
			lerr(l, "%s%s: %s: refusing it as root, others could change what tcptune applies",
			     where, path, why);
			free(why);
			goto out_close;
		}
	} else if (!frame_has(l->done, l->n_done, &st, NULL)) {
		check_perms(l, path, &st);
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
	int pr = file_parse(fd, path, &c, &comp, l->errors);

	if (pr < 0) {
		if (is_io_error(pr) && !l->io_error)
			l->io_error = pr;
		l->n_errors++;
		goto out;
	}

	l->map = &comp;
	parse_top(l, &c, path, &parents, &n_parents, &desc, &allow);
	l->stack = xreallocarray(l->stack, l->n_stack + 1, sizeof(*l->stack));
	l->stack[l->n_stack++] = (struct frame){ .dev = st.st_dev, .ino = st.st_ino, .name = pname };
	dir = dir_of(path);
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
		walk_level(l, &f, sys, NULL);
	if (allow) {
		l->allowed_by = xreallocarray(l->allowed_by, l->n_allowed_by + 1, sizeof(*l->allowed_by));
		l->allowed_by[l->n_allowed_by++] = xstrdup(path);
	}
	for (size_t i = 0; i < f.n_rules; i++)
		rules_merge(l, &f.rules[i]);
	free(f.rules);
	config_destroy(&c);
	l->map = NULL;
	composed_free(&comp);

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

bool rule_out_of_scope(const struct rule *r)
{
	return !r->cat && strncmp(r->key, "net.", 4) != 0;
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
	char err[PATH_MAX + 128];
	struct composed comp;
	struct stat st;
	config_t c;
	const char *s;
	int fd = file_open(pi->file, &st, err, sizeof(err));

	if (fd < 0) {
		msgs_add(warnings, "%s", err);
		return;
	}
	if (file_parse(fd, pi->file, &c, &comp, warnings) < 0)
		return;
	composed_free(&comp);
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

			if (de->d_name[0] == '.' || !ends_with(de->d_name, ".conf") ||
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
			x.info.name = name_from_path(names[i]);
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

/* ---- rules ---------------------------------------------------------------- */

static char *bracketed(const char *v)
{
	return strchr(v, ' ') ? xasprintf("[%s]", v) : xstrdup(v);
}

char *rule_describe(const struct rule *r)
{
	if (r->value)
		return xstrdup(r->value);
	if (r->covers) {
		char **t = NULL;
		size_t n = value_split(r->covers, &t);
		char *d = n == 2 ? xasprintf("covers %s..%s", t[0], t[1]) : xasprintf("covers %s", r->covers);

		strv_free(t, n);
		return d;
	}
	if (r->min && r->max)
		return xasprintf("%s..%s", r->min, r->max);
	if (r->min)
		return xasprintf(">= %s", r->min);
	if (r->max)
		return xasprintf("<= %s", r->max);
	if (r->n_one_of) {
		char *s = xstrdup("one of");

		for (size_t i = 0; i < r->n_one_of; i++) {
			char *b = bracketed(r->one_of[i]), *t = xasprintf("%s %s", s, b);

			free(b);
			free(s);
			s = t;
		}
		return s;
	}
	return xstrdup("");
}

/* Element i of a bound, or false when the bound is absent or too short. */
static bool bound_at(char **tok, size_t n, size_t i, long long *ret)
{
	return tok && i < n && parse_ll(tok[i], ret) == 0;
}

static bool rule_check_value(const struct rule *r, const char *value);

bool rule_check(const struct rule *r, const char *value)
{
	char *canon = r->cat && value ? catalogue_canonical(r->cat, value) : NULL;
	bool ok = rule_check_value(r, canon ? canon : value);

	free(canon);
	return ok;
}

/* Does the range "a b" contain lo..hi? Both parsed as two integers. */
static bool covers_range(const char *value, const char *covers, long long *ret_a, long long *ret_b)
{
	char **v = NULL, **c = NULL;
	size_t nv = value_split(value, &v), nc = value_split(covers, &c);
	long long a = 0, b = 0, lo = 0, hi = 0;
	bool parsed = nv == 2 && nc == 2 && parse_ll(v[0], &a) == 0 && parse_ll(v[1], &b) == 0 &&
		      parse_ll(c[0], &lo) == 0 && parse_ll(c[1], &hi) == 0;

	strv_free(v, nv);
	strv_free(c, nc);
	if (ret_a) {
		/* the smallest range that contains both: what apply sets */
		*ret_a = parsed && a < lo ? a : lo;
		*ret_b = parsed && b > hi ? b : hi;
	}
	return parsed && a <= lo && b >= hi;
}

static bool rule_check_value(const struct rule *r, const char *value)
{
	char **live = NULL, **lo = NULL, **hi = NULL;
	size_t nl, nlo = 0, nhi = 0;
	bool ok = true;

	if (!value)
		return false;
	if (r->value)
		return value_equal(r->value, value);
	if (r->covers)
		return covers_range(value, r->covers, NULL, NULL);
	if (r->n_one_of) {
		for (size_t i = 0; i < r->n_one_of; i++)
			if (value_equal(r->one_of[i], value))
				return true;
		return false;
	}
	if (!r->min && !r->max)
		return false;
	nl = value_split(value, &live);
	if (r->min)
		nlo = value_split(r->min, &lo);
	if (r->max)
		nhi = value_split(r->max, &hi);
	if ((r->min && nl != nlo) || (r->max && nl != nhi))
		ok = false;
	for (size_t i = 0; ok && i < nl; i++) {
		long long x, b;

		if (parse_ll(live[i], &x) < 0)
			ok = false;
		else if (bound_at(lo, nlo, i, &b) && x < b)
			ok = false;
		else if (bound_at(hi, nhi, i, &b) && x > b)
			ok = false;
	}
	strv_free(live, nl);
	strv_free(lo, nlo);
	strv_free(hi, nhi);
	return ok;
}

/*
 * Clamp element-wise. Without a usable live value (missing key, wrong
 * arity, not a number) the nearest bound is not defined: take min, else max.
 */
static char *clamp(const struct rule *r, const char *live)
{
	char **lv = NULL, **lo = NULL, **hi = NULL, *out = NULL;
	size_t nl = 0, nlo = 0, nhi = 0, n;

	if (r->min)
		nlo = value_split(r->min, &lo);
	if (r->max)
		nhi = value_split(r->max, &hi);
	n = r->min ? nlo : nhi;
	if (live)
		nl = value_split(live, &lv);
	if (nl != n || (r->min && r->max && nlo != nhi)) {
		out = xstrdup(r->min ? r->min : r->max);
		goto done;
	}
	out = xstrdup("");
	for (size_t i = 0; i < n; i++) {
		long long x, b;
		char *t;

		if (parse_ll(lv[i], &x) < 0) {
			if (!bound_at(lo, nlo, i, &x))
				(void)bound_at(hi, nhi, i, &x);
		} else {
			if (bound_at(lo, nlo, i, &b) && x < b)
				x = b;
			if (bound_at(hi, nhi, i, &b) && x > b)
				x = b;
		}
		t = i ? xasprintf("%s %lld", out, x) : xasprintf("%lld", x);
		free(out);
		out = t;
	}
done:
	strv_free(lv, nl);
	strv_free(lo, nlo);
	strv_free(hi, nhi);
	return out;
}

char *rule_target(const struct rule *r, const char *live)
{
	if (r->value)
		return xstrdup(r->value);
	if (r->covers) {
		long long a, b;

		/* a wider range is left alone; a narrower one grows to contain lo..hi */
		if (live && covers_range(live, r->covers, &a, &b))
			return value_normalize(live);
		(void)covers_range(live ? live : "", r->covers, &a, &b);
		return xasprintf("%lld %lld", a, b);
	}
	if (r->n_one_of) {
		for (size_t i = 0; live && i < r->n_one_of; i++)
			if (value_equal(r->one_of[i], live))
				return value_normalize(live);
		return xstrdup(r->one_of[0]);
	}
	if (r->min || r->max)
		return clamp(r, live);
	return live ? value_normalize(live) : NULL;
}
