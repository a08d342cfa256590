/* journal.c: the journal: its format, its life cycle, and what it says about the last apply.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "apply.h"
#include "apply-internal.h"
#include "journal_check.h"
#include "bytes.h"
#include "netns.h"

#define JOURNAL_FORMAT 2

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

void journal_origs_free(struct apply_orig *v, size_t n)
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
void journal_origs_add(struct apply_orig **v, size_t *n, const char *key, const char *value)
{
	if (!value || origs_find(*v, *n, key))
		return;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = (struct apply_orig){ xstrdup(key), xstrdup(value) };
}


void journal_free(struct journal *j)
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
	journal_origs_free(j->originals, j->n_originals);
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

bool journal_interrupted(enum apply_state s)
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

static int journal_parse(const char *text, size_t len, struct journal *j, struct msgs *m)
{
	json_error_t je;
	json_t *o = json_loadb(text, len, JSON_ALLOW_NUL, &je), *v, *keys, *pr;
	const char *state;
	json_int_t format;
	int r = -EINVAL;

	*j = (struct journal){ 0 };
	if (!o) {
		msgs_add(m, "line %d: %s", je.line, je.text);
		return -EINVAL;
	}
	v = json_object_get(o, "format");
	format = json_is_integer(v) ? json_integer_value(v) : 0;
	if (format < 1 || format > JOURNAL_FORMAT) {
		msgs_add(m, "unknown journal format (this tcptune reads formats 1 to %d)",
			 JOURNAL_FORMAT);
		goto out;
	}
	/* what rollback and recovery would act on: keys a profile could set, sane values */
	char *why = journal_check_json(o);
	if (why) {
		msgs_add(m, "%s", why);
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
		msgs_add(m, "no valid \"state\"");
		goto out;
	}
	j->pid = json_integer_value(json_object_get(o, "pid"));
	pr = json_object_get(o, "profiles");
	for (size_t i = 0; i < json_array_size(pr); i++) {
		char *s;

		if (jtext_get(json_array_get(pr, i), &s) < 0 || !s) {
			msgs_add(m, "bad entry %zu in \"profiles\"", i + 1);
			goto out;
		}
		j->profiles = xreallocarray(j->profiles, j->n_profiles + 1, sizeof(char *));
		j->profiles[j->n_profiles++] = s;
	}
	if (jtext_get(json_object_get(o, "netns"), &j->netns) < 0) {
		msgs_add(m, "bad \"netns\"");
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
			msgs_add(m, "bad entry %zu in \"sources\"", i + 1);
			goto out;
		}
		memcpy(pv->sha256, sha, 65);
		pv->profile = strcmp(role, "profile") == 0;
		j->n_sources++;
	}
	if (jtext_get(json_object_get(o, "fragment"), &j->fragment) < 0 || !j->fragment ||
	    j->fragment[0] != '/') {
		msgs_add(m, "no absolute \"fragment\" path");
		goto out;
	}
	if (get_bytes(o, "fragment_before", &j->frag_before, &j->frag_before_len) < 0) {
		msgs_add(m, "bad \"fragment_before\"");
		goto out;
	}
	j->frag_before_mode = (unsigned)json_integer_value(json_object_get(o, "fragment_before_mode")) & 07777;
	j->has_after = json_object_get(o, "fragment_after_b64") != NULL;
	if (get_bytes(o, "fragment_after", &j->frag_after, &j->frag_after_len) < 0) {
		msgs_add(m, "bad \"fragment_after\"");
		goto out;
	}
	keys = json_object_get(o, "keys");
	if (!json_is_array(keys)) {
		msgs_add(m, "no \"keys\" list");
		goto out;
	}
	j->keys = xcalloc(json_array_size(keys) + 1, sizeof(*j->keys));
	for (size_t i = 0; i < json_array_size(keys); i++) {
		json_t *k = json_array_get(keys, i);
		const char *key = json_string_value(json_object_get(k, "key"));
		const char *before = json_string_value(json_object_get(k, "before"));
		const char *after = json_string_value(json_object_get(k, "after"));

		if (!key || !key_valid(key) || !before || !after) {
			msgs_add(m, "bad entry %zu in \"keys\"", i + 1);
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
			msgs_add(m, "bad entry %zu in \"originals\"", i + 1);
			goto out;
		}
		nv = value_normalize(value);
		journal_origs_add(&j->originals, &j->n_originals, key, nv);
		free(nv);
	}
	/* format 1 kept no originals: its keys' "before" are the best there is */
	for (size_t i = 0; i < j->n_keys; i++)
		journal_origs_add(&j->originals, &j->n_originals, j->keys[i].key, j->keys[i].before);
	r = 0;
out:
	json_decref(o);
	if (r < 0)
		journal_free(j);
	return r;
}

/* 0 with *found false when there is no journal. */
int journal_load(int rootfd, struct journal *j, bool *found, struct msgs *m)
{
	struct msgs sub = { 0 };
	char *text;
	size_t len;
	int r;

	*found = false;
	*j = (struct journal){ 0 };
	r = apply_read_file(rootfd, TT_JOURNAL_PATH, &text, &len, NULL);
	if (r < 0) {
		msgs_add(m, "%s: %s", TT_JOURNAL_PATH, apply_file_error(r));
		/* -EIO alone means the storage failed: -EBADMSG below is a refused journal */
		return errno_is_io(r) ? -EIO : r;
	}
	if (!text)
		return 0;
	char *why = journal_check_file(rootfd, TT_JOURNAL_PATH);
	if (why) {
		msgs_add(m, "%s: %s", TT_JOURNAL_PATH, why);
		free(why);
		free(text);
		return -EBADMSG;
	}
	r = journal_parse(text, len, j, &sub);
	free(text);
	if (r < 0) {
		msgs_add(m, "%s: %s", TT_JOURNAL_PATH, msgs_last(&sub));
		msgs_free(&sub);
		return r;
	}
	*found = true;
	return 0;
}

/* The journal holds the previous fragment's bytes: only root may read it. */
int journal_store(int rootfd, const struct journal *j)
{
	char *text = journal_dump(j);
	int r;

	if (!text)
		return -EINVAL;
	r = apply_put_file(rootfd, TT_JOURNAL_PATH, text, strlen(text), 0600);
	free(text);
	return r;
}

int apply_last_read(int rootfd, struct apply_last *ret, struct msgs *m)
{
	struct journal j;
	bool found;
	int r;

	*ret = (struct apply_last){ .state = APPLY_STATE_NONE };
	r = journal_load(rootfd, &j, &found, m);
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
	ret->here = journal_same_netns(&j, &(struct apply_opts){ .netns = j.netns });
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
	journal_origs_free(l->originals, l->n_originals);
	*l = (struct apply_last){ 0 };
}

char *apply_last_advice(const struct apply_last *l)
{
	char *names, *s;

	if (!journal_interrupted(l->state))
		return NULL;
	names = apply_join(l->profiles, l->n_profiles);
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


bool journal_same_netns(const struct journal *j, const struct apply_opts *ao)
{
	unsigned long long dev = 0, ino = 0, cookie;

	/* no cookie now (a socket() that failed): device and inode, as for a journal without one */
	if (j->has_ns && netns_self(&dev, &ino) == 0)
		return j->ns_dev == dev && j->ns_ino == ino &&
		       (!j->ns_cookie || !(cookie = netns_cookie()) || j->ns_cookie == cookie);
	return (!j->netns && !ao->netns) || (j->netns && ao->netns && !strcmp(j->netns, ao->netns));
}

/*
 * Was the journal made in the namespace we are in now? By identity when
 * the journal records it (format 2), else by the name given. When not,
 * -EXDEV with a message naming both and the ways out; nothing is touched.
 */
int journal_check_netns(const struct journal *j, const struct apply_opts *ao, const char *what,
			struct apply_tx *tx)
{
	unsigned long long dev = 0, ino = 0, cookie = netns_cookie();
	bool have = netns_self(&dev, &ino) == 0, same;
	char *then, *now, *names;

	same = journal_same_netns(j, ao);
	if (same)
		return 0;
	then = netns_describe(j->netns, j->has_ns, j->ns_dev, j->ns_ino, j->ns_cookie);
	now = netns_describe(ao->netns, have, dev, ino, cookie);
	names = apply_join(j->profiles, j->n_profiles);
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
	return -EXDEV;
}

