/* profile_read.c: one profile file, opened once and checked, @include composed in, libconfig worked around. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "profile.h"
#include "profile-internal.h"

#define PROFILE_MAX_BYTES (1024 * 1024)
/* libconfig 1.5's MAX_INCLUDE_DEPTH */
#define INCLUDE_MAX_DEPTH 10

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
 * hang us before fstat() says it is not a regular file. The fd, or -errno
 * with one message in m.
 */
int profile_read_open(const char *path, struct stat *st, struct msgs *m)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0) {
		int e = errno;
		msgs_add(m, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, st) < 0) {
		int e = errno;
		msgs_add(m, "%s: %s", path, strerror(e));
		(void)close(fd);
		return -e;
	}
	if (!S_ISREG(st->st_mode)) {
		msgs_add(m, "%s: not a regular file", path);
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


void profile_read_free(struct composed *c)
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
const char *profile_read_where(const struct composed *c, int n, unsigned *ret_line)
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

/* A file's bytes can be a profile: no NUL byte, every string closed. */
static int text_ok(const char *buf, size_t len, const char *path, struct msgs *m)
{
	unsigned bad_line, open_line;

	if (memchr(buf, '\0', len)) {
		msgs_add(m, "%s: contains a NUL byte: not a profile", path);
		return -EINVAL;
	}
	free(widen_ints(buf, &bad_line, &open_line));
	if (open_line) {
		msgs_add(m, "%s:%u: string not closed before the end of the file", path, open_line);
		return -EINVAL;
	}
	return 0;
}

/* One @include NAME at line `line` of c->files[from]: open it once, check it, read it, compose it. */
static int include_one(struct composed *c, unsigned from, unsigned line, const char *dir,
		       const char *name, unsigned depth, size_t *total, struct msgs *m)
{
	/* as libconfig: a name from / is taken as it is, others below the profile's directory */
	char *path = name[0] == '/' ? xstrdup(name) : xasprintf("%s/%s", dir, name), *buf = NULL;
	const char *file = c->files[from];
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
		char *why;

		r = profile_perms_refusal(path, &st, &why);
		if (r < 0) {
			msgs_add(m, "%s:%u: @include \"%s\": %s: %s", file, line, name, path, why);
			free(why);
			goto out;
		}
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
	r = text_ok(buf, len, path, m);
	if (r < 0)
		goto out;
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
int profile_read_parse(int fd, const char *path, config_t *c, struct composed *ret_comp, struct msgs *m)
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
	r = text_ok(buf, len, path, m);
	if (r < 0)
		goto out;
	dir = profile_path_dir(path);
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
		f = profile_read_where(ret_comp, config_error_line(c), &at);

		char *hint = dotted_hint(ret_comp->text ? ret_comp->text : buf, config_error_line(c),
					 (int)at - config_error_line(c));

		msgs_add(m, "%s:%u: %s%s", f ? f : path, at, config_error_text(c), hint ? hint : "");
		free(hint);
		config_destroy(c);
		r = -EINVAL;
	} else if (bad_line) {
		f = profile_read_where(ret_comp, (int)bad_line, &at);
		msgs_add(m, "%s:%u: integer outside the signed 64-bit range", f ? f : path, at);
		config_destroy(c);
		r = -EINVAL;
	}
out:
	if (r < 0)
		profile_read_free(ret_comp);
	free(wide);
	free(dir);
	free(buf);
	(void)close(fd);
	return r;
}

