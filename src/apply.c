/* SPDX-License-Identifier: ISC */
/* apply.c: the transaction: lock, journal, fragment, live writes, read-back, roll back.
 *
 * The journal (TT_JOURNAL_PATH, 0600, JSON format 2; format 1 is still read)
 * is the only way back. Every change of it is one atomic replace under the
 * lock; a replace that fails may have failed after its rename, so a step
 * that gives up puts the previous bytes back (journal_put_back()).
 *
 *   (none) --apply: journal written-------------> incomplete
 *   incomplete --every key written, read back---> complete
 *   incomplete --a step failed, all restored----> previous journal put back
 *   incomplete --a step failed, not restored----> incomplete (rollback retries)
 *   incomplete --killed-------------------------> incomplete: the next apply
 *                                                 or rollback restores first
 *   complete --rollback starts------------------> rolling-back
 *   rolling-back --all restored-----------------> rolled-back
 *   rolling-back --killed or a key refused------> rolling-back (rollback or
 *                                                 apply finishes it first)
 *   complete, rolled-back --apply, changes------> incomplete (a new journal,
 *                                                 carrying "originals")
 *   rolled-back --apply, nothing to change------> complete (for the profiles
 *                                                 now applied, no keys)
 *   any, even unreadable --rollback --forget----> (none), the old one kept as
 *                                                 TT_JOURNAL_FORGOTTEN
 *
 * Recovery and rollback act only in the network namespace the journal
 * records (nsfs device, inode and netns cookie); elsewhere they refuse and
 * leave it as it is. A key gone from the kernel has nothing to restore.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "apply.h"
#include "audit.h"
#include "bytes.h"
#include "catalogue.h"
#include "fileio.h"
#include "journal_check.h"
#include "sysctld.h"
#include "tcptune.h"

#define JOURNAL_FORMAT 2
/* where `rollback --forget` keeps a journal it sets aside */
#define TT_JOURNAL_FORGOTTEN TT_JOURNAL_PATH ".forgotten"

/*
 * Test builds only (configure --enable-test-hooks): TCPTUNE_TEST_CRASH_AT
 * names a step ("journal", "fragment", "key:2", ...) at which we die with
 * SIGKILL, as a power cut would; TCPTUNE_TEST_DELAY_MS sleeps at every
 * step so concurrent runs overlap.
 */
#ifdef TCPTUNE_TEST_HOOKS
static void test_hook(const char *step, size_t n)
{
	const char *at = getenv("TCPTUNE_TEST_CRASH_AT");
	const char *delay = getenv("TCPTUNE_TEST_DELAY_MS");
	char name[64];
	long long ms;

	if (n)
		(void)snprintf(name, sizeof(name), "%s:%zu", step, n);
	else
		(void)snprintf(name, sizeof(name), "%s", step);
	if (delay && parse_ll(delay, &ms) == 0 && ms > 0) {
		struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
		(void)nanosleep(&ts, NULL);
	}
	if (at && strcmp(at, name) == 0)
		(void)raise(SIGKILL);
}
#else
static void test_hook(const char *step, size_t n)
{
	(void)step;
	(void)n;
}
#endif

/* ---- the fragment ------------------------------------------------------ */

/* Comments come from profiles: one line each, no control characters. */
static void put_comment_text(FILE *f, const char *s)
{
	for (; s && *s; s++)
		putc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, f);
}

static bool is_skipped_host_key(const struct rule *r, bool child)
{
	return child && r->cat &&
	       (r->cat->scope == SCOPE_HOST || r->cat->scope == SCOPE_HOST_RO ||
		r->cat->scope == SCOPE_GLOBAL);
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

/* ---- small helpers ----------------------------------------------------- */

static int read_file(int rootfd, const char *path, char **ret, size_t *ret_len, unsigned *ret_mode)
{
	char *name;
	struct stat st;
	int dfd, r;

	*ret = NULL;
	*ret_len = 0;
	dfd = fileio_open_parent(rootfd, path, false, &name);
	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0)
		return dfd;
	r = fileio_read_at(dfd, name, ret, ret_len);
	if (r == 0 && ret_mode)
		*ret_mode = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_mode & 07777 : 0644;
	if (r == -ENOENT)
		r = 0;
	free(name);
	(void)close(dfd);
	return r;
}

/* Temp files of a writer killed between create and rename (we hold the lock). */
static void remove_temps(int rootfd, const char *path)
{
	char *name;
	int dfd = fileio_open_parent(rootfd, path, false, &name);

	if (dfd < 0)
		return;
	(void)fileio_remove_temps(dfd, name);
	free(name);
	(void)close(dfd);
}

/* Leave `path` holding data (NULL: absent), atomically. */
static int put_file(int rootfd, const char *path, const char *data, size_t len, unsigned mode)
{
	char *name;
	int dfd, r;

	dfd = fileio_open_parent(rootfd, path, data != NULL, &name);
	if (dfd == -ENOENT && !data)
		return 0;
	if (dfd < 0)
		return dfd;
	if (data)
		r = fileio_replace_at(dfd, name, data, len, mode ? mode : 0644);
	else
		r = fileio_unlink_at(dfd, name);
	free(name);
	(void)close(dfd);
	return r;
}

/* ELOOP from O_NOFOLLOW means a symlink where we keep our own files: say so. */
static const char *file_error(int r)
{
	return r == -ELOOP ? "a symlink (or one on its path): refusing to follow or replace it"
			   : strerror(-r);
}

static bool same_bytes(const char *a, size_t la, const char *b, size_t lb)
{
	if (!a || !b)
		return !a && !b;
	return la == lb && memcmp(a, b, la) == 0;
}

/* Does path hold exactly data with mode (data NULL: is it absent)? */
static bool file_holds(int rootfd, const char *path, const char *data, size_t len, unsigned mode)
{
	char *cur = NULL;
	size_t cur_len = 0;
	unsigned cur_mode = 0;
	bool same = read_file(rootfd, path, &cur, &cur_len, &cur_mode) == 0 &&
		    same_bytes(cur, cur_len, data, len) && (!data || cur_mode == (mode ? mode : 0644));

	free(cur);
	return same;
}

static char *join(char *const *v, size_t n)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < n; i++) {
		char *t = xasprintf("%s%s%s", s, i ? ", " : "", v[i]);
		free(s);
		s = t;
	}
	return s;
}

/* "a b c" for a command line: the profile names of a journal, for a hint. */
static char *join_words(char *const *v, size_t n)
{
	char *s = xstrdup("");

	for (size_t i = 0; i < n; i++) {
		char *t = xasprintf("%s%s%s", s, i ? " " : "", v[i]);
		free(s);
		s = t;
	}
	return s;
}

static void origs_free(struct apply_orig *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

static const struct apply_orig *origs_find(const struct apply_orig *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].key, key) == 0)
			return &v[i];
	return NULL;
}

/* The first value recorded for a key wins: it is the one before tcptune. */
static void origs_add(struct apply_orig **v, size_t *n, const char *key, const char *value)
{
	if (!value || origs_find(*v, *n, key))
		return;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = (struct apply_orig){ xstrdup(key), xstrdup(value) };
}

static struct apply_key *add_key(struct apply_tx *tx, const char *key)
{
	struct apply_key *k;

	tx->keys = xreallocarray(tx->keys, tx->n_keys + 1, sizeof(*tx->keys));
	k = &tx->keys[tx->n_keys++];
	*k = (struct apply_key){ .key = xstrdup(key) };
	return k;
}

void apply_tx_free(struct apply_tx *tx)
{
	if (!tx)
		return;
	strv_free(tx->profiles, tx->n_profiles);
	free(tx->fragment);
	free(tx->frag_old);
	free(tx->frag_new);
	for (size_t i = 0; i < tx->n_keys; i++) {
		free(tx->keys[i].key);
		free(tx->keys[i].before);
		free(tx->keys[i].after);
	}
	free(tx->keys);
	provenance_free(tx->sources, tx->n_sources);
	origs_free(tx->originals, tx->n_originals);
	msgs_free(&tx->errors);
	msgs_free(&tx->unrestored);
	msgs_free(&tx->warnings);
	msgs_free(&tx->notes);
	bootfix_free(&tx->conflicts);
	msgs_free(&tx->edits);
	*tx = (struct apply_tx){ 0 };
}

/* Write one value and read it back: vectors are not atomic in the kernel. */
static int set_live(const struct procsys *ps, const char *key, const char *value, char **ret_seen)
{
	char *seen = NULL;
	int r = procsys_write(ps, key, value), rr;

	rr = procsys_read(ps, key, &seen);
	if (r == 0 && rr < 0)
		r = rr;
	if (r == 0 && !value_equal(seen, value))
		r = -EIO;
	if (ret_seen)
		*ret_seen = seen;
	else
		free(seen);
	return r;
}

/* ---- the journal --------------------------------------------------------- */

struct jkey {
	char *key, *before, *after;
};

struct journal {
	enum apply_state state;
	long long pid;
	char **profiles;
	size_t n_profiles;
	char *netns;            /* --netns as given, or NULL */
	bool has_ns;            /* the namespace's identity is known (format 2) */
	unsigned long long ns_dev, ns_ino;   /* of its nsfs file */
	unsigned long long ns_cookie;        /* SO_NETNS_COOKIE, or 0 */
	char *fragment;
	char *frag_before;      /* NULL: absent */
	size_t frag_before_len;
	unsigned frag_before_mode;
	char *frag_after;       /* what the apply left; NULL: absent or not recorded */
	size_t frag_after_len;
	bool has_after;         /* frag_after is known (journals since format 2) */
	bool allow_uncatalogued; /* the profile opted in to keys outside the network scope */
	struct jkey *keys;
	size_t n_keys;
	struct provenance *sources;
	size_t n_sources;
	struct apply_orig *originals;
	size_t n_originals;
};

static void journal_free(struct journal *j)
{
	strv_free(j->profiles, j->n_profiles);
	free(j->netns);
	free(j->fragment);
	free(j->frag_before);
	free(j->frag_after);
	for (size_t i = 0; i < j->n_keys; i++) {
		free(j->keys[i].key);
		free(j->keys[i].before);
		free(j->keys[i].after);
	}
	free(j->keys);
	provenance_free(j->sources, j->n_sources);
	origs_free(j->originals, j->n_originals);
	*j = (struct journal){ 0 };
}

static const char *const state_names[] = {
	[APPLY_STATE_NONE] = "none",
	[APPLY_STATE_INCOMPLETE] = "incomplete",
	[APPLY_STATE_COMPLETE] = "complete",
	[APPLY_STATE_ROLLING_BACK] = "rolling-back",
	[APPLY_STATE_ROLLED_BACK] = "rolled-back",
};

const char *apply_state_name(enum apply_state s)
{
	return (size_t)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "unknown";
}

static bool interrupted(enum apply_state s)
{
	return s == APPLY_STATE_INCOMPLETE || s == APPLY_STATE_ROLLING_BACK;
}

/*
 * Values that are text to us but bytes to the kernel and the file system
 * (paths, profile names): a JSON string when they are UTF-8, else
 * { "base64": "..." }. NULL when the value cannot be stored.
 */
static json_t *jtext(const char *s)
{
	json_t *v, *o;
	char *b;

	if (!s)
		return json_null();
	v = json_string(s);
	if (v)
		return v;
	b = bytes_b64_encode(s, strlen(s));
	o = json_object();
	if (o && json_object_set_new(o, "base64", json_string(b)) < 0) {
		json_decref(o);
		o = NULL;
	}
	free(b);
	return o;
}

/* The reverse of jtext(): 0 (*ret NULL for null or absent), or -EINVAL. */
static int jtext_get(json_t *v, char **ret)
{
	const char *b;
	size_t len;

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		if (strlen(json_string_value(v)) != json_string_length(v))
			return -EINVAL;
		*ret = xstrdup(json_string_value(v));
		return 0;
	}
	b = json_string_value(json_object_get(v, "base64"));
	if (!b || bytes_b64_decode(b, ret, &len) < 0)
		return -EINVAL;
	if (strlen(*ret) != len) {
		free(*ret);
		*ret = NULL;
		return -EINVAL;
	}
	return 0;
}

/* Builders that remember a failure (out of memory, a value jansson refuses). */
static void jput(json_t *o, const char *name, json_t *v, bool *ok)
{
	if (!o || !v || json_object_set_new(o, name, v) < 0)
		*ok = false;
}

static void jpush(json_t *a, json_t *v, bool *ok)
{
	if (!a || !v || json_array_append_new(a, v) < 0)
		*ok = false;
}

/* File bytes, any of them (NUL, CRLF, not UTF-8): base64, or null when absent. */
static json_t *jfile(const char *data, size_t len)
{
	char *b;
	json_t *v;

	if (!data)
		return json_null();
	b = bytes_b64_encode(data, len);
	v = json_string(b);
	free(b);
	return v;
}

/*
 * Format 2 holds file bytes as "NAME_b64". Format 1 held them as a JSON
 * string (which may carry \u0000: loaded with JSON_ALLOW_NUL) or, when not
 * UTF-8, as "NAME_hex".
 */
static int get_bytes(json_t *o, const char *name, char **ret, size_t *ret_len)
{
	char *key = xasprintf("%s_b64", name);
	json_t *b = json_object_get(o, key), *s = json_object_get(o, name), *h;

	free(key);
	*ret = NULL;
	*ret_len = 0;
	if (json_is_string(b))
		return bytes_b64_decode(json_string_value(b), ret, ret_len);
	if (b && !json_is_null(b))
		return -EINVAL;
	if (json_is_string(s)) {
		*ret_len = json_string_length(s);
		*ret = xmalloc(*ret_len + 1);
		memcpy(*ret, json_string_value(s), *ret_len);
		(*ret)[*ret_len] = '\0';
		return 0;
	}
	key = xasprintf("%s_hex", name);
	h = json_object_get(o, key);
	free(key);
	if (json_is_string(h)) {
		const char *x = json_string_value(h);
		size_t n = strlen(x) / 2;

		if (strlen(x) % 2)
			return -EINVAL;
		*ret = xmalloc(n + 1);
		for (size_t i = 0; i < n; i++) {
			unsigned v;
			if (sscanf(x + 2 * i, "%2x", &v) != 1) {
				free(*ret);
				*ret = NULL;
				return -EINVAL;
			}
			(*ret)[i] = (char)v;
		}
		(*ret)[n] = '\0';
		*ret_len = n;
		return 0;
	}
	return json_is_null(s) || !s ? 0 : -EINVAL;
}

/* The journal's text, or NULL when a value cannot be stored (nothing is touched then). */
static char *journal_dump(const struct journal *j)
{
	json_t *o = json_object(), *pr = json_array(), *keys = json_array();
	char *text, *out = NULL;
	bool ok = true;

	jput(o, "format", json_integer(JOURNAL_FORMAT), &ok);
	jput(o, "state", json_string(apply_state_name(j->state)), &ok);
	jput(o, "pid", json_integer(j->pid), &ok);
	for (size_t i = 0; i < j->n_profiles; i++)
		jpush(pr, jtext(j->profiles[i]), &ok);
	jput(o, "profiles", pr, &ok);
	jput(o, "netns", jtext(j->netns), &ok);
	if (j->has_ns) {
		jput(o, "netns_dev", json_integer((json_int_t)j->ns_dev), &ok);
		jput(o, "netns_ino", json_integer((json_int_t)j->ns_ino), &ok);
		if (j->ns_cookie)
			jput(o, "netns_cookie", json_integer((json_int_t)j->ns_cookie), &ok);
	}
	json_t *src = json_array();
	for (size_t i = 0; i < j->n_sources; i++) {
		json_t *f = json_object();
		jput(f, "path", jtext(j->sources[i].path), &ok);
		jput(f, "sha256", json_string(j->sources[i].sha256), &ok);
		jput(f, "role", json_string(j->sources[i].profile ? "profile" : "include"), &ok);
		jpush(src, f, &ok);
	}
	jput(o, "sources", src, &ok);
	jput(o, "fragment", jtext(j->fragment), &ok);
	jput(o, "fragment_before_b64", jfile(j->frag_before, j->frag_before_len), &ok);
	jput(o, "fragment_before_mode", json_integer(j->frag_before_mode), &ok);
	jput(o, "fragment_after_b64", jfile(j->frag_after, j->frag_after_len), &ok);
	for (size_t i = 0; i < j->n_keys; i++) {
		json_t *k = json_object();
		jput(k, "key", json_string(j->keys[i].key), &ok);
		jput(k, "before", json_string(j->keys[i].before), &ok);
		jput(k, "after", json_string(j->keys[i].after), &ok);
		jpush(keys, k, &ok);
	}
	jput(o, "keys", keys, &ok);
	if (j->allow_uncatalogued)
		jput(o, "allow_uncatalogued", json_true(), &ok);
	json_t *orig = json_array();
	for (size_t i = 0; i < j->n_originals; i++) {
		json_t *k = json_object();
		jput(k, "key", json_string(j->originals[i].key), &ok);
		jput(k, "value", json_string(j->originals[i].value), &ok);
		jpush(orig, k, &ok);
	}
	jput(o, "originals", orig, &ok);
	text = ok ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (text)
		out = xasprintf("%s\n", text);
	free(text);
	return out;
}

static int journal_parse(const char *text, size_t len, struct journal *j, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb(text, len, JSON_ALLOW_NUL, &je), *v, *keys, *pr;
	const char *state;
	json_int_t format;
	int r = -EINVAL;

	*j = (struct journal){ 0 };
	if (!o) {
		(void)snprintf(err, errlen, "line %d: %s", je.line, je.text);
		return -EINVAL;
	}
	v = json_object_get(o, "format");
	format = json_is_integer(v) ? json_integer_value(v) : 0;
	if (format < 1 || format > JOURNAL_FORMAT) {
		(void)snprintf(err, errlen, "unknown journal format (this tcptune reads formats 1 to %d)",
			       JOURNAL_FORMAT);
		goto out;
	}
	/* what rollback and recovery would act on: keys a profile could set, sane values */
	char *why = journal_check_json(o);
	if (why) {
		(void)snprintf(err, errlen, "%s", why);
		free(why);
		r = -EBADMSG;	/* refused, not unreadable: apply says exit 2 too */
		goto out;
	}
	j->allow_uncatalogued = json_is_true(json_object_get(o, "allow_uncatalogued"));
	state = json_string_value(json_object_get(o, "state"));
	for (size_t i = APPLY_STATE_INCOMPLETE; state && i <= APPLY_STATE_ROLLED_BACK; i++)
		if (strcmp(state, state_names[i]) == 0)
			j->state = (enum apply_state)i;
	if (j->state == APPLY_STATE_NONE) {
		(void)snprintf(err, errlen, "no valid \"state\"");
		goto out;
	}
	j->pid = json_integer_value(json_object_get(o, "pid"));
	pr = json_object_get(o, "profiles");
	for (size_t i = 0; i < json_array_size(pr); i++) {
		char *s;

		if (jtext_get(json_array_get(pr, i), &s) < 0 || !s) {
			(void)snprintf(err, errlen, "bad entry %zu in \"profiles\"", i + 1);
			goto out;
		}
		j->profiles = xreallocarray(j->profiles, j->n_profiles + 1, sizeof(char *));
		j->profiles[j->n_profiles++] = s;
	}
	if (jtext_get(json_object_get(o, "netns"), &j->netns) < 0) {
		(void)snprintf(err, errlen, "bad \"netns\"");
		goto out;
	}
	if (json_is_integer(json_object_get(o, "netns_dev")) &&
	    json_is_integer(json_object_get(o, "netns_ino"))) {
		j->has_ns = true;
		j->ns_dev = (unsigned long long)json_integer_value(json_object_get(o, "netns_dev"));
		j->ns_ino = (unsigned long long)json_integer_value(json_object_get(o, "netns_ino"));
		j->ns_cookie = (unsigned long long)json_integer_value(json_object_get(o, "netns_cookie"));
	}
	pr = json_object_get(o, "sources");
	j->sources = xcalloc(json_array_size(pr) + 1, sizeof(*j->sources));
	for (size_t i = 0; i < json_array_size(pr); i++) {
		json_t *f = json_array_get(pr, i);
		const char *sha = json_string_value(json_object_get(f, "sha256"));
		const char *role = json_string_value(json_object_get(f, "role"));
		struct provenance *pv = &j->sources[j->n_sources];

		if (jtext_get(json_object_get(f, "path"), &pv->path) < 0 || !pv->path ||
		    pv->path[0] != '/' || !sha || strlen(sha) != 64 || !role) {
			free(pv->path);
			(void)snprintf(err, errlen, "bad entry %zu in \"sources\"", i + 1);
			goto out;
		}
		memcpy(pv->sha256, sha, 65);
		pv->profile = strcmp(role, "profile") == 0;
		j->n_sources++;
	}
	if (jtext_get(json_object_get(o, "fragment"), &j->fragment) < 0 || !j->fragment ||
	    j->fragment[0] != '/') {
		(void)snprintf(err, errlen, "no absolute \"fragment\" path");
		goto out;
	}
	if (get_bytes(o, "fragment_before", &j->frag_before, &j->frag_before_len) < 0) {
		(void)snprintf(err, errlen, "bad \"fragment_before\"");
		goto out;
	}
	j->frag_before_mode = (unsigned)json_integer_value(json_object_get(o, "fragment_before_mode")) & 07777;
	j->has_after = json_object_get(o, "fragment_after_b64") != NULL;
	if (get_bytes(o, "fragment_after", &j->frag_after, &j->frag_after_len) < 0) {
		(void)snprintf(err, errlen, "bad \"fragment_after\"");
		goto out;
	}
	keys = json_object_get(o, "keys");
	if (!json_is_array(keys)) {
		(void)snprintf(err, errlen, "no \"keys\" list");
		goto out;
	}
	j->keys = xcalloc(json_array_size(keys) + 1, sizeof(*j->keys));
	for (size_t i = 0; i < json_array_size(keys); i++) {
		json_t *k = json_array_get(keys, i);
		const char *key = json_string_value(json_object_get(k, "key"));
		const char *before = json_string_value(json_object_get(k, "before"));
		const char *after = json_string_value(json_object_get(k, "after"));

		if (!key || !key_valid(key) || !before || !after) {
			(void)snprintf(err, errlen, "bad entry %zu in \"keys\"", i + 1);
			goto out;
		}
		j->keys[j->n_keys++] = (struct jkey){ xstrdup(key), value_normalize(before),
						      value_normalize(after) };
	}
	keys = json_object_get(o, "originals");
	for (size_t i = 0; i < json_array_size(keys); i++) {
		json_t *k = json_array_get(keys, i);
		const char *key = json_string_value(json_object_get(k, "key"));
		const char *value = json_string_value(json_object_get(k, "value"));
		char *nv;

		if (!key || !key_valid(key) || !value) {
			(void)snprintf(err, errlen, "bad entry %zu in \"originals\"", i + 1);
			goto out;
		}
		nv = value_normalize(value);
		origs_add(&j->originals, &j->n_originals, key, nv);
		free(nv);
	}
	/* format 1 kept no originals: its keys' "before" are the best there is */
	for (size_t i = 0; i < j->n_keys; i++)
		origs_add(&j->originals, &j->n_originals, j->keys[i].key, j->keys[i].before);
	r = 0;
out:
	json_decref(o);
	if (r < 0)
		journal_free(j);
	return r;
}

/* 0 with *found false when there is no journal. */
static int journal_load(int rootfd, struct journal *j, bool *found, char *err, size_t errlen)
{
	char *text, sub[256];
	size_t len;
	int r;

	*found = false;
	*j = (struct journal){ 0 };
	r = read_file(rootfd, TT_JOURNAL_PATH, &text, &len, NULL);
	if (r < 0) {
		(void)snprintf(err, errlen, "%s: %s", TT_JOURNAL_PATH, file_error(r));
		return r;
	}
	if (!text)
		return 0;
	char *why = journal_check_file(rootfd, TT_JOURNAL_PATH);
	if (why) {
		(void)snprintf(err, errlen, "%s: %s", TT_JOURNAL_PATH, why);
		free(why);
		free(text);
		return -EBADMSG;
	}
	r = journal_parse(text, len, j, sub, sizeof(sub));
	free(text);
	if (r < 0) {
		(void)snprintf(err, errlen, "%s: %s", TT_JOURNAL_PATH, sub);
		return r;
	}
	*found = true;
	return 0;
}

/* The journal holds the previous fragment's bytes: only root may read it. */
static int journal_store(int rootfd, const struct journal *j)
{
	char *text = journal_dump(j);
	int r;

	if (!text)
		return -EINVAL;
	r = put_file(rootfd, TT_JOURNAL_PATH, text, strlen(text), 0600);
	free(text);
	return r;
}

int apply_last_read(int rootfd, struct apply_last *ret, char *err, size_t errlen)
{
	struct journal j;
	bool found;
	int r;

	*ret = (struct apply_last){ .state = APPLY_STATE_NONE };
	r = journal_load(rootfd, &j, &found, err, errlen);
	if (r < 0 || !found)
		return r;
	ret->state = j.state;
	ret->profiles = j.profiles;
	ret->n_profiles = j.n_profiles;
	ret->fragment = j.fragment;
	ret->pid = j.pid;
	ret->sources = j.sources;
	ret->n_sources = j.n_sources;
	ret->originals = j.originals;
	ret->n_originals = j.n_originals;
	j.sources = NULL;
	j.n_sources = 0;
	j.originals = NULL;
	j.n_originals = 0;
	j.profiles = NULL;
	j.n_profiles = 0;
	j.fragment = NULL;
	journal_free(&j);
	return 0;
}

void apply_last_free(struct apply_last *l)
{
	if (!l)
		return;
	strv_free(l->profiles, l->n_profiles);
	free(l->fragment);
	provenance_free(l->sources, l->n_sources);
	origs_free(l->originals, l->n_originals);
	*l = (struct apply_last){ 0 };
}

char *apply_last_advice(const struct apply_last *l)
{
	char *names, *s;

	if (!interrupted(l->state))
		return NULL;
	names = join(l->profiles, l->n_profiles);
	if (l->state == APPLY_STATE_INCOMPLETE) {
		char *words = join_words(l->profiles, l->n_profiles);

		s = xasprintf("the apply of %s by pid %lld did not finish (%s says \"incomplete\"): "
			      "settings may be half applied; run `tcptune rollback` to restore the "
			      "state before it, or `tcptune apply %s` to restore it and apply again",
			      names, l->pid, TT_JOURNAL_PATH, words);
		free(words);
	}
	else
		s = xasprintf("the rollback of %s by pid %lld did not finish (%s says \"rolling-back\"): "
			      "run `tcptune rollback` again to complete it", names, l->pid,
			      TT_JOURNAL_PATH);
	free(names);
	return s;
}

/* ---- plan ------------------------------------------------------------- */

/* systemd-sysctl reads /run/sysctl.d at boot, but /run is a tmpfs: by then the file is gone. */
static void check_volatile(struct apply_tx *tx)
{
	if (strncmp(tx->fragment, "/run/", 5) == 0)
		msgs_add(&tx->warnings, "%s is below /run, which is emptied at every boot: the "
			 "settings will not survive a reboot; use a file in /etc/sysctl.d", tx->fragment);
}

static void check_boot(int rootfd, const struct profile *p, struct apply_tx *tx)
{
	struct bootview bv = { 0 };
	bool read_at_boot = false;

	/* the boot view as it will be once the new fragment is in place */
	if (sysctld_load(rootfd, tx->fragment, tx->frag_new, &bv) < 0)
		return;
	for (size_t i = 0; i < bv.n_files; i++)
		if (strcmp(bv.files[i], tx->fragment) == 0)
			read_at_boot = true;
	if (!read_at_boot) {
		msgs_add(&tx->warnings, "%s is not read at boot by systemd-sysctl (not a *.conf file in "
			 "a sysctl.d directory, or shadowed by a file of the same name earlier in "
			 "the search order): the settings will not survive a reboot", tx->fragment);
		goto out;
	}
	/* a later file that beats the fragment is not for apply to overwrite: plan names it */
	(void)bootfix_find(rootfd, p, tx->child_netns, tx->fragment, tx->frag_new, &tx->conflicts);
out:
	sysctld_free(&bv);
}

/* ---- the live kernel's own constraints, checked before anything is touched ---- */

static struct apply_key *find_key(struct apply_tx *tx, const char *key)
{
	for (size_t i = 0; i < tx->n_keys; i++)
		if (!strcmp(tx->keys[i].key, key))
			return &tx->keys[i];
	return NULL;
}

static bool first_number(const char *v, long long *ret)
{
	char **tok = NULL;
	size_t n = v ? value_split(v, &tok) : 0;
	bool ok = n > 0 && parse_ll(tok[0], ret) == 0;

	strv_free(tok, n);
	return ok;
}

/* What key holds once apply is done: its target when this apply sets it, else live. */
static char *final_value(const struct procsys *ps, struct apply_tx *tx, const char *key, bool *ret_ours)
{
	struct apply_key *k = find_key(tx, key);
	char *v = NULL;

	*ret_ours = k && (k->action == APPLY_SET || k->action == APPLY_KEEP) && k->after;
	if (*ret_ours)
		return xstrdup(k->after);
	if (procsys_read(ps, key, &v) < 0)
		return NULL;
	return v;
}

/*
 * The catalogue's cross-key floors (ip_local_port_range's low port >=
 * ip_unprivileged_port_start): the kernel refuses any write that breaks
 * one, so a profile whose end state breaks it fails here with exit 2.
 */
static int check_floors(const struct procsys *ps, struct apply_tx *tx)
{
	size_t n;
	const struct catentry *all = catalogue_all(&n);
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		const struct catentry *e = &all[i];
		struct apply_key *ke, *kf, *blame;
		char *ve, *vf;
		bool ours_e, ours_f;
		long long low, floor;

		if (!e->floor_key)
			continue;
		ke = find_key(tx, e->key);
		kf = find_key(tx, e->floor_key);
		if (!ke && !kf)
			continue;
		ve = final_value(ps, tx, e->key, &ours_e);
		vf = final_value(ps, tx, e->floor_key, &ours_f);
		blame = ours_e ? ke : ours_f ? kf : NULL;
		if (blame && first_number(ve, &low) && first_number(vf, &floor) && low < floor) {
			msgs_add(&tx->errors, "%s:%u: %s: %s would start at %lld, below %s = %lld%s: "
				 "the kernel refuses that (EINVAL); raise the low end to at least %lld, "
				 "or set %s to %lld or less", blame->rule ? blame->rule->file : "?",
				 blame->rule ? blame->rule->line : 0, blame->key, e->key, low,
				 e->floor_key, floor, ours_f ? " (set by the profile)" : " (live)",
				 floor, e->floor_key, low);
			ret = -EINVAL;
		}
		free(ve);
		free(vf);
	}
	return ret;
}

/*
 * Write a floor key before the key it bounds, or after it, whichever keeps
 * every step valid for the kernel: lowering both needs the floor first,
 * raising both needs the range first. Plan says which.
 */
static void order_writes(struct apply_tx *tx)
{
	size_t n;
	const struct catentry *all = catalogue_all(&n);

	for (size_t i = 0; i < n; i++) {
		const struct catentry *e = &all[i];
		struct apply_key *ke, *kf, tmp;
		long long old_low, new_floor;
		size_t ie, jf;
		bool floor_first;

		if (!e->floor_key)
			continue;
		ke = find_key(tx, e->key);
		kf = find_key(tx, e->floor_key);
		if (!ke || !kf || ke->action != APPLY_SET || kf->action != APPLY_SET)
			continue;
		floor_first = first_number(ke->before, &old_low) && first_number(kf->after, &new_floor) &&
			      old_low >= new_floor;
		ie = (size_t)(ke - tx->keys);
		jf = (size_t)(kf - tx->keys);
		if (floor_first && jf > ie) {
			tmp = tx->keys[jf];
			memmove(&tx->keys[ie + 1], &tx->keys[ie], (jf - ie) * sizeof(tmp));
			tx->keys[ie] = tmp;
		} else if (!floor_first && ie > jf) {
			tmp = tx->keys[ie];
			memmove(&tx->keys[jf + 1], &tx->keys[jf], (ie - jf) * sizeof(tmp));
			tx->keys[jf] = tmp;
		}
		msgs_add(&tx->notes, "write order: %s before %s, so that each write keeps the low "
			 "end of %s at or above %s, as the kernel requires",
			 floor_first ? e->floor_key : e->key, floor_first ? e->key : e->floor_key,
			 e->key, e->floor_key);
	}
}

static bool has_word(const char *list, const char *w)
{
	char **tok = NULL;
	size_t n = list ? value_split(list, &tok) : 0;
	bool found = false;

	for (size_t i = 0; i < n && !found; i++)
		found = !strcmp(tok[i], w);
	strv_free(tok, n);
	return found;
}

/* A congestion control built as a module this kernel would load on demand (init netns, as root). */
static bool cc_module(const char *name)
{
	static const char *const ext[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };
	struct utsname u;

	if (uname(&u) < 0 || strpbrk(name, "/."))
		return false;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		char *path = xasprintf("/lib/modules/%s/kernel/net/ipv4/tcp_%s%s", u.release, name, ext[i]);
		bool ok = access(path, F_OK) == 0;

		free(path);
		if (ok)
			return true;
	}
	return false;
}

static bool cc_usable(const char *name, const char *avail, const char *allowed, bool child)
{
	if (child)
		return has_word(avail, name) && has_word(allowed, name);
	return has_word(avail, name) || cc_module(name);
}

/*
 * The congestion control must be one the kernel has (or can load), and in a
 * child netns one of tcp_allowed_congestion_control (else EPERM). A one_of
 * rule takes its first usable choice.
 */
static int check_cc(const struct procsys *ps, struct apply_tx *tx)
{
	struct apply_key *k = find_key(tx, "net.ipv4.tcp_congestion_control");
	char *avail = NULL, *allowed = NULL;
	int ret = 0;

	if (!k || k->action != APPLY_SET || !k->after)
		return 0;
	if (procsys_read(ps, "net.ipv4.tcp_available_congestion_control", &avail) < 0)
		avail = NULL;
	if (tx->child_netns &&
	    procsys_read(ps, "net.ipv4.tcp_allowed_congestion_control", &allowed) < 0)
		allowed = NULL;
	if (!avail || cc_usable(k->after, avail, allowed, tx->child_netns))
		goto out;
	for (size_t i = 0; k->rule && i < k->rule->n_one_of; i++)
		if (cc_usable(k->rule->one_of[i], avail, allowed, tx->child_netns)) {
			free(k->after);
			k->after = xstrdup(k->rule->one_of[i]);
			msgs_add(&tx->notes, "%s: %s, the first choice this kernel can use", k->key, k->after);
			if (value_equal(k->before, k->after)) {
				k->action = APPLY_KEEP;
				tx->n_set--;
			}
			goto out;
		}
	msgs_add(&tx->errors, "%s:%u: %s: %s is not %s (%s: %s); the kernel would refuse it (%s)",
		 k->rule ? k->rule->file : "?", k->rule ? k->rule->line : 0, k->key, k->after,
		 has_word(avail, k->after) || cc_module(k->after) ?
			 "allowed in this network namespace" : "available on this kernel",
		 has_word(avail, k->after) ? "tcp_allowed_congestion_control" :
					     "tcp_available_congestion_control",
		 has_word(avail, k->after) ? allowed : avail,
		 has_word(avail, k->after) ? "EPERM" : "ENOENT");
	ret = -EINVAL;
out:
	free(avail);
	free(allowed);
	return ret;
}

/* ---- a new port range against listeners and Kubernetes' NodePorts ---- */

#define NODEPORT_LO 30000
#define NODEPORT_HI 32767

/* Ports in LISTEN in /proc/net/tcp{,6} below rootfd (the namespace we are in), as a bitmap. */
static void listening_ports(int rootfd, unsigned char *set)
{
	static const char *const files[] = { "proc/net/tcp", "proc/net/tcp6" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd = openat(rootfd, files[i], O_RDONLY | O_CLOEXEC);
		FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
		char line[512];

		if (!f) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while (fgets(line, sizeof(line), f)) {
			unsigned port, st;
			char *colon = strchr(line, ':');

			/* "  0: 0100007F:1F90 00000000:0000 0A ..." */
			colon = colon ? strchr(colon + 1, ':') : NULL;
			if (!colon || sscanf(colon + 1, "%x %*s %x", &port, &st) != 2 || st != 0x0A ||
			    port > 65535)
				continue;
			set[port / 8] |= (unsigned char)(1u << (port % 8));
		}
		fclose(f);
	}
}

static bool in_set(const unsigned char *set, long p)
{
	return set[p / 8] & (1u << (p % 8));
}

/* Ports in a reserved-ports list ("8080,30000-32767"), as a bitmap. */
static void reserved_set(const char *list, unsigned char *set)
{
	const char *p = list;

	while (p && *p) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (end == p)
			break;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		for (long i = lo; i <= hi && i >= 0 && i < 65536; i++)
			set[i / 8] |= (unsigned char)(1u << (i % 8));
		p = *end == ',' ? end + 1 : NULL;
	}
}

/*
 * A port range that now takes in a port something listens on, or
 * Kubernetes' NodePort range, lets an outgoing connection take that port
 * first: warn, unless ip_local_reserved_ports keeps it out.
 */
static void check_port_overlap(int rootfd, const struct procsys *ps, struct apply_tx *tx)
{
	static unsigned char listen[65536 / 8], reserved[65536 / 8];
	struct apply_key *k = find_key(tx, "net.ipv4.ip_local_port_range");
	long long lo, hi, old_lo = 0, old_hi = -1;
	char **tok = NULL, *res;
	size_t n, shown = 0, hits = 0;
	bool ours, nodeport = false;
	char *ports;

	if (!k || k->action != APPLY_SET || !k->after)
		return;
	ports = xstrdup("");
	n = value_split(k->after, &tok);
	if (n != 2 || parse_ll(tok[0], &lo) < 0 || parse_ll(tok[1], &hi) < 0) {
		strv_free(tok, n);
		free(ports);
		return;
	}
	strv_free(tok, n);
	n = k->before ? value_split(k->before, &tok) : 0;
	if (n != 2 || parse_ll(tok[0], &old_lo) < 0 || parse_ll(tok[1], &old_hi) < 0)
		old_hi = -1;
	strv_free(tok, n);
	memset(listen, 0, sizeof(listen));
	memset(reserved, 0, sizeof(reserved));
	listening_ports(rootfd, listen);
	res = final_value(ps, tx, "net.ipv4.ip_local_reserved_ports", &ours);
	reserved_set(res, reserved);
	free(res);
	for (long p = (long)lo; p <= (long)hi && p < 65536; p++) {
		bool was_in = p >= old_lo && p <= old_hi;

		if (in_set(reserved, p) || was_in)
			continue;
		if (p >= NODEPORT_LO && p <= NODEPORT_HI)
			nodeport = true;
		if (in_set(listen, p)) {
			hits++;
			if (shown++ < 8) {
				char *t = xasprintf("%s%s%ld", ports, *ports ? ", " : "", p);
				free(ports);
				ports = t;
			}
		}
	}
	if (hits)
		msgs_add(&tx->warnings, "net.ipv4.ip_local_port_range %lld-%lld now takes in port%s %s%s "
			 "that %s listening here: an outgoing connection may take %s first; reserve "
			 "%s with net.ipv4.ip_local_reserved_ports or move the listener", lo, hi,
			 hits == 1 ? "" : "s", ports, hits > shown ? ", ..." : "",
			 hits == 1 ? "a process is" : "processes are", hits == 1 ? "it" : "one",
			 hits == 1 ? "it" : "them");
	if (nodeport)
		msgs_add(&tx->warnings, "net.ipv4.ip_local_port_range %lld-%lld now overlaps Kubernetes' "
			 "NodePort range %d-%d: on a Kubernetes node, reserve it with "
			 "net.ipv4.ip_local_reserved_ports = \"%d-%d\" in the profile", lo, hi,
			 NODEPORT_LO, NODEPORT_HI, NODEPORT_LO, NODEPORT_HI);
	free(ports);
}

/* Kubernetes' safe sysctls (kubelet pkg/kubelet/sysctl/safe_sysctls.go, 1.29): the others are "unsafe". */
static const char *const k8s_safe[] = {
	"net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports",
	"net.ipv4.ip_unprivileged_port_start", "net.ipv4.ping_group_range",
	"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_syncookies",
};

static bool k8s_is_safe(const char *key)
{
	for (size_t i = 0; i < sizeof(k8s_safe) / sizeof(k8s_safe[0]); i++)
		if (strcmp(key, k8s_safe[i]) == 0)
			return true;
	return false;
}

static void note_scope(struct apply_tx *tx)
{
	char *safe = xstrdup("");
	size_t n = 0, nsafe = 0;

	if (tx->child_netns)
		goto out;
	for (size_t i = 0; i < tx->n_keys; i++) {
		const struct rule *r = tx->keys[i].rule;

		if (!r || !r->cat || r->cat->scope != SCOPE_NETNS)
			continue;
		n++;
		if (k8s_is_safe(r->key)) {
			char *t = xasprintf("%s%s%s", safe, nsafe++ ? ", " : "", r->key);
			free(safe);
			safe = t;
		}
	}
	if (n)
		msgs_add(&tx->notes, "%zu of these keys %s per network namespace: containers and new "
			 "network namespaces start from kernel defaults, not from this fragment; set "
			 "them per container with docker run --sysctl KEY=VALUE or Kubernetes "
			 "securityContext.sysctls (%s%s%s)", n, n == 1 ? "is" : "are",
			 nsafe ? "safe there: " : "none is a Kubernetes safe sysctl", safe,
			 nsafe && nsafe < n ? "; the others need the kubelet's --allowed-unsafe-sysctls" :
			 !nsafe ? ": the kubelet must allow them with --allowed-unsafe-sysctls" : "");
out:
	free(safe);
}

/*
 * A profile as the journal names it: a name from the profile path as it
 * is, a file by its absolute path (a relative one means nothing from
 * another directory).
 */
static char *shown_name(const char *name)
{
	char *abs;

	if (!strchr(name, '/') && (strlen(name) < 5 || strcmp(name + strlen(name) - 5, ".conf")))
		return xstrdup(name);
	abs = realpath(name, NULL);
	return abs ? abs : xstrdup(name);
}

static bool same_netns(const struct journal *j, const struct apply_opts *ao);

static bool named(const struct apply_tx *tx, const char *key)
{
	for (size_t i = 0; i < tx->n_keys; i++)
		if (strcmp(tx->keys[i].key, key) == 0)
			return true;
	return false;
}

/*
 * Keys an earlier apply in this namespace set that these profiles no
 * longer name would stay set live yet leave the fragment: the host would
 * change at the next boot. Put them back to their value before tcptune
 * first set them, unless --keep-stale. Then record what this apply sets.
 */
static void plan_stale(int rootfd, const struct procsys *ps, const struct apply_opts *ao,
		       struct apply_tx *tx)
{
	struct journal j;
	char err[512];
	bool found;

	if (journal_load(rootfd, &j, &found, err, sizeof(err)) == 0 && found && same_netns(&j, ao)) {
		/* originals carried over keep the opt-in they were set under */
		tx->allow_uncatalogued = tx->allow_uncatalogued || j.allow_uncatalogued;
		for (size_t i = 0; i < j.n_originals; i++) {
			const struct apply_orig *o = &j.originals[i];
			struct apply_key *k;
			int rr;

			origs_add(&tx->originals, &tx->n_originals, o->key, o->value);
			if (named(tx, o->key))
				continue;
			k = add_key(tx, o->key);
			rr = procsys_read(ps, o->key, &k->before);
			if (rr < 0) {
				k->before = NULL;
				k->action = APPLY_SKIP_GONE;
				continue;
			}
			tx->n_stale++;
			k->after = xstrdup(ao->keep_stale ? k->before : o->value);
			k->action = value_equal(k->before, k->after) ? APPLY_KEEP : APPLY_SET;
			if (k->action == APPLY_SET) {
				tx->n_set++;
				msgs_add(&tx->notes, "%s: set by an earlier apply and named by none of these "
					 "profiles: back to %s, its value before tcptune first set it "
					 "(--keep-stale keeps %s)", o->key, o->value, k->before);
			} else if (ao->keep_stale && !value_equal(k->before, o->value)) {
				msgs_add(&tx->warnings, "%s: set by an earlier apply and named by none of "
					 "these profiles: kept at %s (--keep-stale); it is not in the fragment, "
					 "so the next boot sets it back to %s or whatever sysctl.d says",
					 o->key, k->before, o->value);
			}
		}
	}
	if (found)
		journal_free(&j);
	for (size_t i = 0; i < tx->n_keys; i++)
		if (tx->keys[i].action == APPLY_SET)
			origs_add(&tx->originals, &tx->n_originals, tx->keys[i].key, tx->keys[i].before);
}

int apply_plan(int rootfd, const struct procsys *ps, const struct profile *p,
	       const struct apply_opts *ao, struct apply_tx *tx)
{
	int r;

	*tx = (struct apply_tx){ .outcome = APPLY_OK };
	tx->allow_uncatalogued = p->n_allow_uncatalogued > 0;
	tx->profiles = xcalloc(p->n_names + 1, sizeof(*tx->profiles));
	tx->n_profiles = p->n_names;
	for (size_t i = 0; i < p->n_names; i++)
		tx->profiles[i] = shown_name(p->names[i]);
	tx->fragment = xstrdup(ao->fragment);
	tx->child_netns = procsys_in_child_netns(ps);
	tx->frag_old_mode = 0644;
	r = read_file(rootfd, ao->fragment, &tx->frag_old, &tx->frag_old_len, &tx->frag_old_mode);
	if (r < 0) {
		msgs_add(&tx->errors, "%s: %s", ao->fragment, file_error(r));
		tx->outcome = APPLY_FAILED;
		return r;
	}
	/* what audit and doctor use later: the files as read now, not the names as typed */
	r = provenance_collect(p, &tx->sources, &tx->n_sources, &tx->errors);
	if (r < 0) {
		tx->outcome = APPLY_INVALID;
		return r;
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct rule *r0 = &p->rules[i];
		struct apply_key *k = add_key(tx, r0->key);
		int rr;

		k->rule = r0;
		rr = procsys_read(ps, r0->key, &k->before);
		if (rr < 0)
			k->before = NULL;
		k->after = rule_target(r0, k->before);
		if (is_skipped_host_key(r0, tx->child_netns)) {
			k->action = APPLY_SKIP_SCOPE;
			msgs_add(&tx->notes, "%s: skipped: host-wide (%s), not set from a child network "
				 "namespace; apply it on the host", r0->key,
				 catalogue_scope_name(r0->cat->scope));
		} else if (rr == -ENOENT && r0->optional) {
			k->action = APPLY_SKIP_MISSING;
			msgs_add(&tx->notes, "%s: skipped: optional, and this kernel does not have it",
				 r0->key);
		} else if (rr == -ENOENT) {
			msgs_add(&tx->errors, "%s:%u: %s: this kernel does not have the key; mark the "
				 "rule optional = true to skip it where it is missing",
				 r0->file, r0->line, r0->key);
			r = -EINVAL;
		} else if (rr < 0) {
			msgs_add(&tx->errors, "%s: cannot read the live value: %s", r0->key, strerror(-rr));
			if (r == 0)
				r = rr;
		} else if (!k->after) {
			k->action = APPLY_KEEP;
		} else if (value_equal(k->before, k->after)) {
			k->action = APPLY_KEEP;
		} else {
			k->action = APPLY_SET;
			tx->n_set++;
		}
	}
	if (r == 0 && check_floors(ps, tx) < 0)
		r = -EINVAL;
	if (r == 0 && check_cc(ps, tx) < 0)
		r = -EINVAL;
	if (r == 0) {
		order_writes(tx);
		check_port_overlap(rootfd, ps, tx);
	}
	if (r < 0) {
		tx->outcome = r == -EINVAL ? APPLY_INVALID : APPLY_FAILED;
		return r;
	}
	plan_stale(rootfd, ps, ao, tx);
	if (ao->netns) {
		/*
		 * The fragment below our root configures the host at boot, not
		 * the namespace we entered: leave it as it is.
		 */
		if (tx->frag_old) {
			tx->frag_new = xmalloc(tx->frag_old_len + 1);
			memcpy(tx->frag_new, tx->frag_old, tx->frag_old_len + 1);
		}
		tx->frag_new_len = tx->frag_old_len;
		tx->frag_new_mode = tx->frag_old_mode;
		msgs_add(&tx->notes, "--netns: %s is left alone: it configures the host at boot, not "
			 "this namespace, whose values last as long as it does; to keep them for a "
			 "container, set them in its runtime (docker run --sysctl, Kubernetes "
			 "securityContext.sysctls)", ao->fragment);
		return 0;
	}
	r = apply_render_for(rootfd, p, ps, ao->fragment, &tx->frag_new);
	if (r < 0) {
		msgs_add(&tx->errors, "cannot render the fragment: %s", strerror(-r));
		tx->outcome = APPLY_FAILED;
		return r;
	}
	tx->frag_new_len = strlen(tx->frag_new);
	tx->frag_new_mode = 0644;
	tx->frag_changes = !same_bytes(tx->frag_old, tx->frag_old_len, tx->frag_new, tx->frag_new_len);
	check_boot(rootfd, p, tx);
	check_volatile(tx);
	note_scope(tx);
	return 0;
}

/* ---- restore ------------------------------------------------------------ */

/* A key that no longer exists holds nothing to put back: say so, it is not a failure. */
static void note_gone(struct apply_tx *tx, const char *key)
{
	msgs_add(&tx->notes, "%s: gone since the apply (an interface removed, a module unloaded): "
		 "nothing to restore", key);
}

/*
 * Put every touched key back, newest first, then the fragment. Whatever
 * cannot be put back is named in tx->unrestored. 0 when all is as before.
 */
static int undo(int rootfd, const struct procsys *ps, struct apply_tx *tx, bool frag_touched)
{
	int ret = 0;

	for (size_t i = tx->n_keys; i-- > 0;) {
		struct apply_key *k = &tx->keys[i];
		char *seen = NULL;
		int r;

		if (!k->touched)
			continue;
		r = set_live(ps, k->key, k->before, &seen);
		/* a refused write that left the old value is not a failure */
		if (r < 0 && seen && value_equal(seen, k->before))
			r = 0;
		if (r == -ENOENT) {
			note_gone(tx, k->key);
			r = 0;
		}
		if (r < 0) {
			msgs_add(&tx->unrestored, "%s: is %s, was %s (%s)", k->key, seen ? seen : "unreadable",
				 k->before, r == -EIO ? "read back differs" : strerror(-r));
			ret = r;
		}
		free(seen);
	}
	/* a replace that failed before its rename left the old file: nothing to put back */
	if (frag_touched && !file_holds(rootfd, tx->fragment, tx->frag_old, tx->frag_old_len, tx->frag_old_mode)) {
		int r = put_file(rootfd, tx->fragment, tx->frag_old, tx->frag_old_len, tx->frag_old_mode);
		if (r < 0) {
			msgs_add(&tx->unrestored, "%s: could not put the previous %s back (%s)", tx->fragment,
				 tx->frag_old ? "file" : "absence of the file", file_error(r));
			ret = r;
		}
	}
	return ret;
}

/* Restore the state a journal recorded; used by rollback and by apply's recovery. */
static int restore_journal(int rootfd, const struct procsys *ps, struct journal *j,
			   struct apply_tx *tx, bool dry_run)
{
	const char *step = tx->recovered ? "recover" : "rollback";
	char step_key[32];
	int ret = 0, r;

	(void)snprintf(step_key, sizeof(step_key), "%s-key", step);
	tx->fragment = xstrdup(j->fragment);
	tx->profiles = strv_dup(j->profiles, j->n_profiles);
	tx->n_profiles = j->n_profiles;
	tx->child_netns = procsys_in_child_netns(ps);
	tx->frag_old_mode = 0644;
	r = read_file(rootfd, j->fragment, &tx->frag_old, &tx->frag_old_len, &tx->frag_old_mode);
	if (r < 0) {
		msgs_add(&tx->errors, "%s: %s", j->fragment, file_error(r));
		tx->outcome = APPLY_FAILED;
		return r;
	}
	if (j->frag_before) {
		tx->frag_new = xmalloc(j->frag_before_len + 1);
		memcpy(tx->frag_new, j->frag_before, j->frag_before_len + 1);
	}
	tx->frag_new_len = j->frag_before_len;
	tx->frag_new_mode = j->frag_before_mode ? j->frag_before_mode : 0644;
	tx->frag_changes = !same_bytes(tx->frag_old, tx->frag_old_len, tx->frag_new, tx->frag_new_len);
	for (size_t i = 0; i < j->n_keys; i++) {
		struct apply_key *k = add_key(tx, j->keys[i].key);
		int rr = procsys_read(ps, k->key, &k->before);

		if (rr < 0)
			k->before = NULL;
		k->after = xstrdup(j->keys[i].before);
		if (rr == -ENOENT) {
			k->action = APPLY_SKIP_GONE;
			note_gone(tx, k->key);
			continue;
		}
		k->action = k->before && value_equal(k->before, k->after) ? APPLY_KEEP : APPLY_SET;
		if (k->action == APPLY_SET)
			tx->n_set++;
	}
	if (dry_run)
		return 0;
	if (tx->frag_changes) {
		r = put_file(rootfd, tx->fragment, tx->frag_new, tx->frag_new_len, tx->frag_new_mode);
		if (r < 0) {
			msgs_add(&tx->unrestored, "%s: could not put the previous %s back (%s)", tx->fragment,
				 tx->frag_new ? "file" : "absence of the file", file_error(r));
			ret = r;
		} else {
			tx->changed = true;
		}
		(void)snprintf(step_key, sizeof(step_key), "%s-fragment", step);
		test_hook(step_key, 0);
		(void)snprintf(step_key, sizeof(step_key), "%s-key", step);
	}
	/* newest first, as the apply wrote them */
	for (size_t i = tx->n_keys, n = 0; i-- > 0;) {
		struct apply_key *k = &tx->keys[i];
		char *seen = NULL;

		if (k->action != APPLY_SET)
			continue;
		r = set_live(ps, k->key, k->after, &seen);
		if (r < 0 && seen && value_equal(seen, k->after))
			r = 0;
		if (r == -ENOENT) {
			/* gone between the read and the write */
			k->action = APPLY_SKIP_GONE;
			tx->n_set--;
			note_gone(tx, k->key);
		} else if (r < 0) {
			msgs_add(&tx->unrestored, "%s: is %s, was %s before the apply (%s)", k->key,
				 seen ? seen : "unreadable", k->after,
				 r == -EIO ? "read back differs" : strerror(-r));
			ret = r;
		} else {
			tx->changed = true;
		}
		free(seen);
		test_hook(step_key, ++n);
	}
	return ret;
}

/* ---- the namespace a journal belongs to ------------------------------------ */

/*
 * The network namespace of this thread (after --netns) by identity: the
 * device and inode of its nsfs file, which a new namespace of the same
 * name (a restarted container) does not share.
 */
static int netns_self(unsigned long long *ret_dev, unsigned long long *ret_ino)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return -errno;
	*ret_dev = (unsigned long long)st.st_dev;
	*ret_ino = (unsigned long long)st.st_ino;
	return 0;
}

/*
 * nsfs inode numbers are reused once a namespace is freed: a container
 * restarted under the same name may get its predecessor's inode. The
 * netns cookie (SO_NETNS_COOKIE, Linux 5.14) is never reused while the
 * machine runs. 0 when the kernel has none.
 */
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
static unsigned long long netns_cookie(void)
{
	unsigned long long c = 0;
	socklen_t len = sizeof(c);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &c, &len) < 0 || len != sizeof(c))
		c = 0;
	(void)close(fd);
	return c;
}

static char *netns_describe(const char *name, bool has_ns, unsigned long long dev, unsigned long long ino,
			    unsigned long long cookie)
{
	char *id = !has_ns ? xstrdup("") : cookie ?
		xasprintf(" (nsfs device %u:%u, inode %llu, cookie %llu)", major((dev_t)dev),
			  minor((dev_t)dev), ino, cookie) :
		xasprintf(" (nsfs device %u:%u, inode %llu)", major((dev_t)dev), minor((dev_t)dev), ino);
	char *s = name ? xasprintf("network namespace --netns %s%s", name, id)
		       : xasprintf("the network namespace tcptune runs in without --netns%s", id);

	free(id);
	return s;
}

static bool same_netns(const struct journal *j, const struct apply_opts *ao)
{
	unsigned long long dev = 0, ino = 0;

	if (j->has_ns && netns_self(&dev, &ino) == 0)
		return j->ns_dev == dev && j->ns_ino == ino &&
		       (!j->ns_cookie || j->ns_cookie == netns_cookie());
	return (!j->netns && !ao->netns) || (j->netns && ao->netns && !strcmp(j->netns, ao->netns));
}

/*
 * Was the journal made in the namespace we are in now? By identity when
 * the journal records it (format 2), else by the name given. When not,
 * -EXDEV with a message naming both and the ways out; nothing is touched.
 */
static int check_netns(const struct journal *j, const struct apply_opts *ao, const char *what,
		       struct apply_tx *tx)
{
	unsigned long long dev = 0, ino = 0, cookie = netns_cookie();
	bool have = netns_self(&dev, &ino) == 0, same;
	char *then, *now, *names;

	same = same_netns(j, ao);
	if (same)
		return 0;
	then = netns_describe(j->netns, j->has_ns, j->ns_dev, j->ns_ino, j->ns_cookie);
	now = netns_describe(ao->netns, have, dev, ino, cookie);
	names = join(j->profiles, j->n_profiles);
	msgs_add(&tx->errors, "the %s of %s recorded in %s was made in %s; this is %s: refusing to %s "
		 "into another network namespace. Run `tcptune%s%s rollback` there; if that namespace "
		 "is gone (a restarted container gets a new one, and the old one's values went with "
		 "it), `tcptune%s%s rollback --forget` sets the journal aside as %s",
		 j->state == APPLY_STATE_ROLLING_BACK ? "rollback" : "apply", names, TT_JOURNAL_PATH,
		 then, now, what, j->netns ? " --netns " : "", j->netns ? j->netns : "",
		 ao->netns ? " --netns " : "", ao->netns ? ao->netns : "", TT_JOURNAL_FORGOTTEN);
	free(then);
	free(now);
	free(names);
	tx->outcome = APPLY_INVALID;
	return -EXDEV;
}


/* ---- apply and rollback ---------------------------------------------------- */

/* The uid that runs PID, or (uid_t)-1 when /proc cannot say. */
static uid_t pid_uid(pid_t pid)
{
	char path[32];
	struct stat st;

	(void)snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	return stat(path, &st) == 0 ? st.st_uid : (uid_t)-1;
}

static int take_lock(int rootfd, const struct apply_opts *ao, struct fileio_lock *l, struct apply_tx *tx)
{
	pid_t holder = 0;
	int r = fileio_lock(rootfd, TT_LOCK_PATH, ao->lock_timeout_ms, l, &holder);
	uid_t uid = r == -EWOULDBLOCK && holder > 0 ? pid_uid(holder) : (uid_t)-1;

	if (r == -EWOULDBLOCK && holder > 0 && uid != (uid_t)-1 && uid != geteuid())
		msgs_add(&tx->errors, "%s: held by pid %ld of another user (uid %ld); "
			 "gave up after %u ms", TT_LOCK_PATH, (long)holder, (long)uid, ao->lock_timeout_ms);
	else if (r == -EWOULDBLOCK && holder > 0)
		msgs_add(&tx->errors, "%s: another tcptune (pid %ld) is applying or rolling back; "
			 "gave up after %u ms", TT_LOCK_PATH, (long)holder, ao->lock_timeout_ms);
	else if (r == -EWOULDBLOCK)
		msgs_add(&tx->errors, "%s: held by a process that cannot be named from here "
			 "(another PID namespace); gave up after %u ms", TT_LOCK_PATH, ao->lock_timeout_ms);
	else if (r == -EPERM)
		msgs_add(&tx->errors, "%s: owned by another user, who could hold it forever: "
			 "refusing it; remove it", TT_LOCK_PATH);
	else if (r == -EMLINK)
		msgs_add(&tx->errors, "%s: has more than one link (a hard link to another file?): "
			 "refusing it; remove it", TT_LOCK_PATH);
	else if (r == -EACCES || r == -EROFS)
		msgs_add(&tx->errors, "%s: %s (apply and rollback need root, or a writable --root)",
			 TT_LOCK_PATH, strerror(-r));
	else if (r < 0)
		msgs_add(&tx->errors, "%s: %s", TT_LOCK_PATH, file_error(r));
	if (r < 0)
		tx->outcome = APPLY_FAILED;
	return r;
}

static void journal_from_tx(struct journal *j, const struct apply_tx *tx, const struct apply_opts *ao)
{
	*j = (struct journal){ .state = APPLY_STATE_INCOMPLETE, .pid = getpid() };
	j->profiles = tx->profiles;
	j->n_profiles = tx->n_profiles;
	j->netns = (char *)ao->netns;
	j->has_ns = netns_self(&j->ns_dev, &j->ns_ino) == 0;
	j->ns_cookie = j->has_ns ? netns_cookie() : 0;
	j->fragment = tx->fragment;
	j->sources = tx->sources;
	j->n_sources = tx->n_sources;
	j->originals = tx->originals;
	j->n_originals = tx->n_originals;
	j->frag_before = tx->frag_old;
	j->frag_before_len = tx->frag_old_len;
	j->frag_before_mode = tx->frag_old_mode;
	j->frag_after = tx->frag_new;
	j->frag_after_len = tx->frag_new_len;
	j->has_after = true;
	j->allow_uncatalogued = tx->allow_uncatalogued;
	j->keys = xcalloc(tx->n_set ? tx->n_set : 1, sizeof(*j->keys));
	for (size_t i = 0; i < tx->n_keys; i++)
		if (tx->keys[i].action == APPLY_SET)
			j->keys[j->n_keys++] = (struct jkey){ tx->keys[i].key, tx->keys[i].before,
							      tx->keys[i].after };
}

/*
 * A journal write that failed may have failed after its rename (an EIO
 * from the directory's fsync): the file may already hold the new state.
 * Put the previous bytes back, so that a failure that changed nothing
 * does not take the previous apply's way back with it.
 */
static void journal_put_back(int rootfd, const char *old, size_t old_len, struct apply_tx *tx)
{
	int r;

	if (file_holds(rootfd, TT_JOURNAL_PATH, old, old_len, 0600) ||
	    (old && file_holds(rootfd, TT_JOURNAL_PATH, old, old_len, 0644)))
		return;
	r = put_file(rootfd, TT_JOURNAL_PATH, old, old_len, 0600);
	if (r < 0)
		msgs_add(&tx->warnings, "%s: could not put the previous journal back (%s): the way "
			 "back to before the previous apply may be lost; `tcptune rollback -n` shows "
			 "what the journal holds now", TT_JOURNAL_PATH, file_error(r));
}

/* The journal names the fragment this run writes, or it is refused (exit 2). */
static int journal_fragment_ok(const struct journal *j, const struct apply_opts *ao, struct apply_tx *tx)
{
	char *why = journal_check_fragment(j->fragment, ao->fragment);

	if (!why)
		return 0;
	msgs_add(&tx->errors, "%s: \"fragment\" %s: %s; if it is not needed for a rollback, "
		 "`tcptune rollback --forget` sets it aside as %s", TT_JOURNAL_PATH, j->fragment, why,
		 TT_JOURNAL_FORGOTTEN);
	free(why);
	tx->outcome = APPLY_INVALID;
	return -EBADMSG;
}

/* Finish an interrupted apply or rollback before anything else (lock held). */
static int recover(int rootfd, const struct procsys *ps, const struct apply_opts *ao,
		   struct apply_tx *tx)
{
	struct apply_tx rtx = { .recovered = true };
	struct journal j;
	char err[512];
	bool found;
	int r;

	r = journal_load(rootfd, &j, &found, err, sizeof(err));
	if (r < 0) {
		msgs_add(&tx->errors, "%s; if it is not needed for a rollback, `tcptune rollback "
			 "--forget` sets it aside as %s", err, TT_JOURNAL_FORGOTTEN);
		tx->outcome = r == -EBADMSG ? APPLY_INVALID : APPLY_FAILED;
		return r;
	}
	if (!found || !interrupted(j.state)) {
		journal_free(&j);
		return 0;
	}
	r = journal_fragment_ok(&j, ao, tx);
	if (r < 0) {
		journal_free(&j);
		return r;
	}
	/* another namespace's interrupted transaction: neither restore it here nor drop it */
	r = check_netns(&j, ao, "restore it", tx);
	if (r < 0) {
		journal_free(&j);
		return r;
	}
	char *names = join(j.profiles, j.n_profiles);
	msgs_add(&tx->warnings, "the %s of %s by pid %lld did not finish: restoring the state "
		 "before it first", j.state == APPLY_STATE_INCOMPLETE ? "apply" : "rollback", names, j.pid);
	free(names);
	r = restore_journal(rootfd, ps, &j, &rtx, false);
	if (r == 0) {
		j.state = APPLY_STATE_ROLLED_BACK;
		r = journal_store(rootfd, &j);
		if (r < 0)
			msgs_add(&tx->errors, "%s: %s", TT_JOURNAL_PATH, strerror(-r));
	}
	if (r < 0) {
		for (size_t i = 0; i < rtx.unrestored.n; i++)
			msgs_add(&tx->unrestored, "%s", rtx.unrestored.v[i]);
		msgs_add(&tx->errors, "could not finish restoring the interrupted transaction; "
			 "nothing new was applied");
		tx->outcome = APPLY_BROKEN;
	}
	for (size_t i = 0; i < rtx.notes.n; i++)
		msgs_add(&tx->notes, "%s", rtx.notes.v[i]);
	tx->recovered = true;
	tx->changed = rtx.changed;
	apply_tx_free(&rtx);
	journal_free(&j);
	return r;
}

/*
 * apply A, apply B, rollback, apply A: the last step changes nothing, yet
 * the journal must not say "B, rolled back" for ever (audit and doctor
 * use it). Record A as complete, with no keys: its rollback changes nothing.
 */
static void record_noop(int rootfd, struct apply_tx *tx, const struct apply_opts *ao)
{
	struct journal old, j;
	char err[512];
	bool found;

	if (journal_load(rootfd, &old, &found, err, sizeof(err)) < 0 || !found)
		return;
	if (old.state == APPLY_STATE_ROLLED_BACK && same_netns(&old, ao)) {
		journal_from_tx(&j, tx, ao);
		j.state = APPLY_STATE_COMPLETE;
		if (journal_store(rootfd, &j) < 0)
			msgs_add(&tx->warnings, "%s: could not record this apply; it still names the "
				 "apply rolled back before", TT_JOURNAL_PATH);
		free(j.keys);
	}
	journal_free(&old);
}

static const char *why(int r)
{
	return r == -EIO ? "read back differs" : strerror(-r);
}

int apply_run(int rootfd, const struct procsys *ps, const struct profile *p,
	      const struct apply_opts *ao, struct apply_tx *ret)
{
	struct fileio_lock lock = { -1 };
	struct apply_tx pre = { 0 };
	struct journal j = { 0 };
	char *old_journal = NULL;
	size_t old_journal_len = 0, n = 0;
	unsigned old_journal_mode = 0644;
	bool frag_touched = false;
	int r;

	*ret = (struct apply_tx){ 0 };
	r = take_lock(rootfd, ao, &lock, &pre);
	if (r < 0)
		goto fail_pre;
	test_hook("lock", 0);
	remove_temps(rootfd, TT_JOURNAL_PATH);
	remove_temps(rootfd, ao->fragment);
	r = recover(rootfd, ps, ao, &pre);
	if (r < 0)
		goto fail_pre;
	r = apply_plan(rootfd, ps, p, ao, ret);
	/* carry what recovery said into the result */
	for (size_t i = 0; i < pre.warnings.n; i++)
		msgs_add(&ret->warnings, "%s", pre.warnings.v[i]);
	for (size_t i = 0; i < pre.notes.n; i++)
		msgs_add(&ret->notes, "%s", pre.notes.v[i]);
	ret->recovered = pre.recovered;
	ret->changed = pre.changed;
	apply_tx_free(&pre);
	if (r < 0)
		goto out;
	if (!ret->frag_changes && ret->n_set == 0) {
		record_noop(rootfd, ret, ao);
		goto out;
	}

	r = read_file(rootfd, TT_JOURNAL_PATH, &old_journal, &old_journal_len, &old_journal_mode);
	if (r < 0) {
		msgs_add(&ret->errors, "%s: %s", TT_JOURNAL_PATH, file_error(r));
		ret->outcome = APPLY_FAILED;
		goto out;
	}
	journal_from_tx(&j, ret, ao);
	r = journal_store(rootfd, &j);
	if (r < 0) {
		msgs_add(&ret->errors, "%s: cannot write the journal: %s; nothing was changed",
			 TT_JOURNAL_PATH, r == -EINVAL ? "a value cannot be stored" : file_error(r));
		journal_put_back(rootfd, old_journal, old_journal_len, ret);
		ret->outcome = APPLY_FAILED;
		goto out;
	}
	test_hook("journal", 0);

	if (ret->frag_changes) {
		frag_touched = true;
		r = put_file(rootfd, ret->fragment, ret->frag_new, ret->frag_new_len, ret->frag_new_mode);
		if (r < 0) {
			msgs_add(&ret->errors, "%s: %s", ret->fragment, file_error(r));
			goto undo;
		}
		ret->changed = true;
		test_hook("fragment", 0);
	}
	for (size_t i = 0; i < ret->n_keys; i++) {
		struct apply_key *k = &ret->keys[i];
		char *seen = NULL;

		if (k->action != APPLY_SET)
			continue;
		/* touched before the write: a refused vector write may have stored part of it */
		k->touched = true;
		r = set_live(ps, k->key, k->after, &seen);
		if (r < 0) {
			if (r == -EIO)
				msgs_add(&ret->errors, "%s: wrote %s, the kernel kept %s", k->key, k->after,
					 seen ? seen : "(unreadable)");
			else
				msgs_add(&ret->errors, "%s: writing %s: %s", k->key, k->after, why(r));
			free(seen);
			goto undo;
		}
		free(seen);
		ret->changed = true;
		test_hook("key", ++n);
	}
	test_hook("complete", 0);
	j.state = APPLY_STATE_COMPLETE;
	r = journal_store(rootfd, &j);
	if (r < 0) {
		msgs_add(&ret->errors, "%s: cannot mark the journal complete: %s", TT_JOURNAL_PATH,
			 strerror(-r));
		goto undo;
	}
	test_hook("done", 0);
	goto out;

undo:
	if (undo(rootfd, ps, ret, frag_touched) < 0) {
		/* the journal stays "incomplete": rollback will retry from it */
		ret->outcome = APPLY_BROKEN;
	} else {
		ret->outcome = APPLY_FAILED;
		ret->changed = ret->recovered;
		if (put_file(rootfd, TT_JOURNAL_PATH, old_journal, old_journal_len, 0600) < 0)
			msgs_add(&ret->warnings, "%s: could not put the previous journal back; it now "
				 "records this failed apply, whose rollback changes nothing",
				 TT_JOURNAL_PATH);
	}
	if (r >= 0)
		r = -EIO;
out:
	free(j.keys);
	free(old_journal);
	fileio_unlock(&lock);
	return r;
fail_pre:
	ret->outcome = pre.outcome;
	ret->recovered = pre.recovered;
	ret->changed = pre.changed;
	ret->fragment = xstrdup(ao->fragment);
	ret->errors = pre.errors;
	ret->unrestored = pre.unrestored;
	ret->warnings = pre.warnings;
	pre.errors = pre.unrestored = pre.warnings = (struct msgs){ 0 };
	apply_tx_free(&pre);
	fileio_unlock(&lock);
	return r;
}

/* Lines of a that b lacks, up to three, quoted; and how many. */
static size_t lines_not_in(const char *a, size_t la, const char *b, size_t lb, char **ret)
{
	size_t n = 0;

	*ret = xstrdup("");
	for (const char *p = a; a && p < a + la;) {
		const char *e = memchr(p, '\n', (size_t)(a + la - p));
		size_t len = e ? (size_t)(e - p) : (size_t)(a + la - p);
		bool found = false;

		for (const char *q = b; b && q < b + lb && !found;) {
			const char *f = memchr(q, '\n', (size_t)(b + lb - q));
			size_t ql = f ? (size_t)(f - q) : (size_t)(b + lb - q);

			found = ql == len && memcmp(p, q, len) == 0;
			q += ql + 1;
		}
		if (!found && len && n++ < 3) {
			char *t = xasprintf("%s%s\"%.*s\"", *ret, **ret ? ", " : "", (int)len, p);
			free(*ret);
			*ret = t;
		}
		p += len + 1;
	}
	return n;
}

/*
 * What changed by hand since a complete apply: a live value it set that
 * is no longer what it left, a fragment that is no longer what it wrote.
 * Rollback would silently undo these: it shows them and wants --force.
 */
static void hand_edits(int rootfd, const struct procsys *ps, const struct journal *j, struct msgs *ret)
{
	char *cur = NULL;
	size_t cur_len = 0;

	for (size_t i = 0; i < j->n_keys; i++) {
		char *live = NULL;

		/* already back at the value before: rollback changes nothing there */
		if (procsys_read(ps, j->keys[i].key, &live) == 0 && !value_equal(live, j->keys[i].after) &&
		    !value_equal(live, j->keys[i].before))
			msgs_add(ret, "%s: %s by hand since the apply, which left %s; rollback sets %s",
				 j->keys[i].key, live, j->keys[i].after, j->keys[i].before);
		free(live);
	}
	if (!j->has_after || read_file(rootfd, j->fragment, &cur, &cur_len, NULL) < 0)
		return;
	if (!same_bytes(cur, cur_len, j->frag_after, j->frag_after_len)) {
		char *added, *removed;
		size_t na = lines_not_in(cur, cur_len, j->frag_after, j->frag_after_len, &added);
		size_t nr = lines_not_in(j->frag_after, j->frag_after_len, cur, cur_len, &removed);

		if (!cur)
			msgs_add(ret, "%s: removed by hand since the apply", j->fragment);
		else
			msgs_add(ret, "%s: edited by hand since the apply: %zu line%s added%s%s%s, %zu "
				 "removed%s%s%s; rollback replaces the file", j->fragment, na,
				 na == 1 ? "" : "s", na ? " (" : "", added, na ? ")" : "", nr,
				 nr ? " (" : "", removed, nr ? ")" : "");
		free(added);
		free(removed);
	}
	free(cur);
}

int apply_rollback(int rootfd, const struct procsys *ps, const struct apply_opts *ao,
		   bool dry_run, struct apply_tx *tx)
{
	struct fileio_lock lock = { -1 };
	struct journal j = { 0 };
	char err[512];
	bool found;
	int r;

	*tx = (struct apply_tx){ .outcome = APPLY_OK };
	if (!dry_run) {
		r = take_lock(rootfd, ao, &lock, tx);
		if (r < 0)
			return r;
		remove_temps(rootfd, TT_JOURNAL_PATH);
	}
	r = journal_load(rootfd, &j, &found, err, sizeof(err));
	if (r < 0 || !found) {
		if (r < 0)
			msgs_add(&tx->errors, "%s; if it is not needed, `tcptune rollback --forget` sets "
				 "it aside as %s", err, TT_JOURNAL_FORGOTTEN);
		else
			msgs_add(&tx->errors, "nothing to roll back: no apply is recorded in %s",
				 TT_JOURNAL_PATH);
		tx->outcome = APPLY_INVALID;
		tx->fragment = xstrdup(ao->fragment);
		r = r < 0 ? r : -ENOENT;
		goto out;
	}
	r = check_netns(&j, ao, "roll it back", tx);
	if (r < 0) {
		tx->fragment = xstrdup(j.fragment);
		goto out;
	}
	if (j.state == APPLY_STATE_ROLLED_BACK) {
		char *names = join(j.profiles, j.n_profiles);
		msgs_add(&tx->notes, "the last apply (%s) is already rolled back; nothing to do", names);
		free(names);
		tx->fragment = xstrdup(j.fragment);
		tx->profiles = strv_dup(j.profiles, j.n_profiles);
		tx->n_profiles = j.n_profiles;
		r = 0;
		goto out;
	}
	/* before anything reads or writes the file it names (hand_edits() shows its lines) */
	r = journal_fragment_ok(&j, ao, tx);
	if (r < 0) {
		tx->fragment = xstrdup(ao->fragment);
		goto out;
	}
	if (interrupted(j.state)) {
		char *names = join(j.profiles, j.n_profiles);
		msgs_add(&tx->warnings, "the %s of %s by pid %lld did not finish: completing the restore",
			 j.state == APPLY_STATE_INCOMPLETE ? "apply" : "rollback", names, j.pid);
		free(names);
	}
	if (j.state == APPLY_STATE_COMPLETE)
		hand_edits(rootfd, ps, &j, &tx->edits);
	if (ao->force) {
		for (size_t i = 0; i < tx->edits.n; i++)
			msgs_add(&tx->warnings, "undone by --force: %s", tx->edits.v[i]);
		msgs_free(&tx->edits);
	}
	if (tx->edits.n && !ao->force && !dry_run) {
		msgs_add(&tx->errors, "changed by hand since the apply (above); rollback would undo "
			 "that too: `tcptune%s%s rollback --force` rolls back anyway", ao->netns ? " --netns " : "",
			 ao->netns ? ao->netns : "");
		tx->outcome = APPLY_REFUSED;
		tx->fragment = xstrdup(j.fragment);
		r = -EBUSY;
		goto out;
	}
	if (!dry_run && j.state == APPLY_STATE_COMPLETE) {
		char *old = NULL;
		size_t old_len = 0;

		/* a rollback that dies half way must be noticed like an apply that does */
		j.state = APPLY_STATE_ROLLING_BACK;
		r = read_file(rootfd, TT_JOURNAL_PATH, &old, &old_len, NULL);
		if (r == 0)
			r = journal_store(rootfd, &j);
		if (r < 0) {
			msgs_add(&tx->errors, "%s: %s; nothing was changed", TT_JOURNAL_PATH, strerror(-r));
			/* left "complete": the next apply must not take this for a rollback to finish */
			if (old)
				journal_put_back(rootfd, old, old_len, tx);
			free(old);
			tx->outcome = APPLY_FAILED;
			tx->fragment = xstrdup(j.fragment);
			goto out;
		}
		free(old);
		test_hook("rollback-journal", 0);
	}
	r = restore_journal(rootfd, ps, &j, tx, dry_run);
	if (dry_run || tx->outcome != APPLY_OK)
		goto out;
	if (r < 0) {
		msgs_add(&tx->errors, "rollback incomplete; %s keeps the values to retry with "
			 "`tcptune rollback`", TT_JOURNAL_PATH);
		tx->outcome = APPLY_BROKEN;
		goto out;
	}
	j.state = APPLY_STATE_ROLLED_BACK;
	r = journal_store(rootfd, &j);
	if (r < 0) {
		/* everything is restored; a rerun only rewrites the same values */
		msgs_add(&tx->warnings, "%s: could not mark the journal rolled back: %s",
			 TT_JOURNAL_PATH, strerror(-r));
		r = 0;
	}
	test_hook("rollback-done", 0);
out:
	journal_free(&j);
	fileio_unlock(&lock);
	return r;
}

int apply_forget(int rootfd, const struct apply_opts *ao, struct apply_tx *tx)
{
	struct fileio_lock lock = { -1 };
	char *text = NULL;
	size_t len = 0;
	int r;

	*tx = (struct apply_tx){ .outcome = APPLY_OK, .fragment = xstrdup(ao->fragment) };
	r = take_lock(rootfd, ao, &lock, tx);
	if (r < 0)
		return r;
	r = read_file(rootfd, TT_JOURNAL_PATH, &text, &len, NULL);
	if (r == 0 && !text) {
		msgs_add(&tx->notes, "no journal in %s: nothing to forget", TT_JOURNAL_PATH);
		goto out;
	}
	/* copy, then remove: a crash between the two leaves both, and a rerun finishes */
	if (r == 0)
		r = put_file(rootfd, TT_JOURNAL_FORGOTTEN, text, len, 0600);
	if (r == 0)
		r = put_file(rootfd, TT_JOURNAL_PATH, NULL, 0, 0);
	if (r < 0) {
		msgs_add(&tx->errors, "%s: %s", TT_JOURNAL_PATH, file_error(r));
		tx->outcome = APPLY_FAILED;
		goto out;
	}
	msgs_add(&tx->notes, "%s set aside as %s: nothing else was changed, and the next apply "
		 "starts without a way back to what it recorded", TT_JOURNAL_PATH, TT_JOURNAL_FORGOTTEN);
out:
	free(text);
	fileio_unlock(&lock);
	return r;
}
