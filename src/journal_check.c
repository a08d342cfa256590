/* journal_check.c: what a journal may name before rollback or crash recovery trusts it.
 *
 * The journal is root's own 0600 file, but it is also the one input that
 * rollback and crash recovery act on without a profile: whatever it names,
 * they write to /proc/sys and to the fragment. A journal edited by hand, left
 * by another tool or restored from elsewhere must not turn that into a way to
 * set kernel.core_pattern or to overwrite /etc/passwd. So every key must be one
 * a profile could have set, every value one /proc/sys takes, and the fragment
 * the file this run's apply would write. What fails is refused (exit 2) with
 * the field and the reason; `tcptune rollback --forget` sets the journal aside.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "catalogue.h"
#include "fileio.h"
#include "journal_check.h"
#include "profile.h"
#include "util.h"

char *journal_check_key(const char *key, bool allow_uncatalogued)
{
	if (!key || !*key)
		return xstrdup("an empty key");
	if (strlen(key) > 255)
		return xstrdup("a key longer than 255 bytes");
	if (!key_valid(key))
		return xstrdup("not a sysctl name (dotted components of a-z, 0-9, '_' and '-'; "
			       "no '/', no \"..\", no empty component)");
	if (strncmp(key, "net.", 4) != 0 && !catalogue_find(key) && !allow_uncatalogued)
		return xstrdup("outside the network keys a profile may set, and the journal does not "
			       "record allow_uncatalogued");
	return NULL;
}

char *journal_check_value(const char *value, size_t len)
{
	if (!value)
		return xstrdup("no value");
	if (len > JOURNAL_VALUE_MAX)
		return xasprintf("a value of %zu bytes (a sysctl takes at most %d)", len, JOURNAL_VALUE_MAX);
	if (strlen(value) != len)
		return xstrdup("a NUL byte inside the value");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if ((c < 0x20 && c != ' ' && c != '\t' && c != '\n') || c == 0x7f)
			return xasprintf("a control character (0x%02x) in the value", c);
	}
	return NULL;
}

/* At most 64 bytes of s for a message, anything unprintable as '?'. */
static char *shown(const char *s)
{
	size_t n = strnlen(s, 64);
	char *out = xstrndup(s, n);

	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	return out;
}

/* One entry of "keys" or "originals": its key, then each value field. */
static char *check_entry(json_t *e, const char *list, size_t i, const char *const *fields, bool allow)
{
	json_t *k = json_object_get(e, "key");
	char *why, *s, *ret;

	if (!json_is_string(k))
		return xasprintf("%s[%zu].key: not a string", list, i);
	s = shown(json_string_value(k));
	why = strlen(json_string_value(k)) != json_string_length(k) ? xstrdup("a NUL byte in the key")
								      : journal_check_key(json_string_value(k), allow);
	if (why) {
		ret = xasprintf("%s[%zu].key \"%s\": %s", list, i, s, why);
		free(why);
		free(s);
		return ret;
	}
	for (; *fields; fields++) {
		json_t *v = json_object_get(e, *fields);

		why = json_is_string(v) ? journal_check_value(json_string_value(v), json_string_length(v))
					: xstrdup("not a string");
		if (why) {
			ret = xasprintf("%s[%zu].%s (of %s): %s", list, i, *fields, s, why);
			free(why);
			free(s);
			return ret;
		}
	}
	free(s);
	return NULL;
}

char *journal_check_json(const void *obj)
{
	static const char *const key_fields[] = { "before", "after", NULL };
	static const char *const orig_fields[] = { "value", NULL };
	json_t *o = (json_t *)obj, *a;
	bool allow = json_is_true(json_object_get(o, "allow_uncatalogued"));
	char *why = NULL;

	a = json_object_get(o, "keys");
	for (size_t i = 0; !why && i < json_array_size(a); i++)
		why = check_entry(json_array_get(a, i), "keys", i, key_fields, allow);
	a = json_object_get(o, "originals");
	for (size_t i = 0; !why && i < json_array_size(a); i++)
		why = check_entry(json_array_get(a, i), "originals", i, orig_fields, allow);
	return why;
}

/* "/a//b/./c" -> "/a/b/c"; NULL for a relative path or one with a ".." component. */
static char *path_normal(const char *path)
{
	char *out, *q;
	const char *p = path;

	if (!path || path[0] != '/')
		return NULL;
	out = q = xmalloc(strlen(path) + 2);
	while (*p) {
		const char *e;
		size_t n;

		while (*p == '/')
			p++;
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			return NULL;
		}
		if (n && !(n == 1 && p[0] == '.')) {
			*q++ = '/';
			memcpy(q, p, n);
			q += n;
		}
		p = e;
	}
	if (q == out)
		*q++ = '/';
	*q = '\0';
	return out;
}

/* A normalised path naming a file directly in /etc/sysctl.d, as "NAME.conf" (not hidden). */
static bool in_sysctl_d(const char *path)
{
	static const char dir[] = "/etc/sysctl.d/";
	const char *name = path + sizeof(dir) - 1;
	size_t n;

	if (strncmp(path, dir, sizeof(dir) - 1) != 0 || strchr(name, '/') || name[0] == '.')
		return false;
	n = strlen(name);
	return n > 5 && strcmp(name + n - 5, ".conf") == 0;
}

char *journal_check_fragment(const char *recorded, const char *expected)
{
	char *r, *e, *why = NULL;

	if (!recorded || recorded[0] != '/')
		return xstrdup("not an absolute path");
	r = path_normal(recorded);
	if (!r)
		return xstrdup("a \"..\" component in the path");
	e = path_normal(expected);
	if ((!e || strcmp(r, e) != 0) && !in_sysctl_d(r))
		why = xasprintf("neither the fragment this apply writes (%s) nor a .conf file in "
				"/etc/sysctl.d; if the apply wrote that file, give it with --fragment",
				expected ? expected : "(none)");
	free(r);
	free(e);
	return why;
}

char *journal_check_file(int rootfd, const char *path)
{
	struct stat st;
	char *name, *why = NULL;
	int dfd = fileio_open_parent(rootfd, path, false, &name);

	if (dfd < 0)
		return xasprintf("%s", strerror(-dfd));
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		why = xasprintf("%s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		why = xstrdup("not a regular file");
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		why = xasprintf("owned by uid %u, not root", (unsigned)st.st_uid);
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		why = xasprintf("writable by %s (mode %04o): it must be 0600",
				st.st_mode & S_IWOTH ? "everyone" : "its group", (unsigned)(st.st_mode & 07777));
	free(name);
	(void)close(dfd);
	return why;
}

int journal_open_source(const char *path, struct msgs *m)
{
	struct stat st;
	char *refusal;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0) {
		int r = -errno;

		msgs_add(m, "%s", r == -ELOOP ? "a symbolic link" : strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		msgs_add(m, "not a regular file");
		(void)close(fd);
		return -EPERM;
	}
	if (geteuid() == 0) {
		int r = profile_perms_refusal(path, &st, &refusal);

		if (refusal) {
			if (r < 0)
				msgs_add(m, "%s", refusal);
			else
				msgs_add(m, "refused as root: %s", refusal);
			free(refusal);
			(void)close(fd);
			return r < 0 ? r : -EPERM;
		}
	}
	return fd;
}
