/* profile_schema.c: a profile's settings against the schema and the catalogue: keys, rule groups, values. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "profile.h"
#include "profile-internal.h"
#include "catalogue.h"

static const char *const rule_fields[] = { "value", "min", "max", "one_of", "covers", "optional", "note" };

/* ---- values ------------------------------------------------------------- */

const char *profile_schema_type(const config_setting_t *v)
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
			profile_serr(l, s, field, "must be %s, not a number", want);
		else
			text = xasprintf("%lld", config_setting_get_int64(v));
	} else if (t == CONFIG_TYPE_STRING) {
		if (has_control(config_setting_get_string(v)))
			profile_serr(l, s, field, "control character in value");
		else if (cat && cat->type != CAT_STR)
			profile_serr(l, s, field, "must be %s, not a string", want);
		else
			text = value_normalize(config_setting_get_string(v));
		if (text && !*text) {
			profile_serr(l, s, field, "empty value");
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
			profile_serr(l, s, field, "must be %s, not a list", want);
			ok = false;
		} else if (n == 0) {
			profile_serr(l, s, field, "empty list");
		}
		for (int i = 0; ok && i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(v, (unsigned)i);
			char *tok, *next;

			if (is_int(e)) {
				tok = xasprintf("%lld", config_setting_get_int64(e));
			} else if (!cat && config_setting_type(e) == CONFIG_TYPE_STRING) {
				if (has_control(config_setting_get_string(e))) {
					profile_serr(l, s, field, "control character in value");
					ok = false;
					break;
				}
				tok = value_normalize(config_setting_get_string(e));
			} else {
				profile_serr(l, s, field, "list elements must be %s, not %s",
				     cat ? "integers" : "integers or strings", profile_schema_type(e));
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
			profile_serr(l, s, field, "must be %s, not %s", want, profile_schema_type(v));
		else
			profile_serr(l, s, field, "must be an integer, a string or a list, not %s",
			     profile_schema_type(v));
	}
	if (text && cat) {
		struct msgs m = { 0 };

		if (catalogue_check(cat, text, &m) < 0) {
			profile_serr(l, s, field, "%s", msgs_last(&m));
			free(text);
			text = NULL;
		}
		msgs_free(&m);
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
		profile_serr(l, s, field, "a string key has no order: use value or one_of");
		return NULL;
	}
	text = value_of(l, s, field, v, cat);
	if (!text || cat)
		return text;
	n = value_split(text, &tok);
	for (size_t i = 0; i < n; i++)
		if (parse_ll(tok[i], &x) < 0) {
			profile_serr(l, s, field, "must be an integer or a list of integers, not \"%s\"",
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
		profile_serr(l, s, NULL, "min has %zu elements and max %zu", na, nb);
	} else {
		for (size_t i = 0; i < na; i++)
			if (parse_ll(a[i], &x) == 0 && parse_ll(b[i], &y) == 0 && x > y) {
				profile_serr(l, s, NULL, "min %s is greater than max %s", min, max);
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
	size_t n = 0, best_d = (size_t)-1;

	if (!ps || !dot)
		return NULL;
	parent = xstrndup(key, (size_t)(dot - key));
	leaf = dot + 1;
	if (procsys_list(ps, parent, &names, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			size_t d = edit_near(leaf, names[i]);

			if (d < best_d) {
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
		profile_serr(l, s, NULL, "%s", catalogue_removed(s->key));
		return;
	}
	if (!l->ps || catalogue_find(s->key))
		return;
	r = procsys_stat(l->ps, s->key);
	if (r == -EISDIR) {
		profile_serr(l, s, NULL, "a /proc/sys directory, not a key");
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
		profile_serr(l, s, NULL, "unknown key (not in the catalogue, not in /proc/sys); did you mean %s?",
		     cs ? cs : sib);
	else
		profile_serr(l, s, NULL, "unknown key (not in the catalogue, not in /proc/sys)");
	free(sib);
}

/*
 * covers is "low high" for any key. The catalogue checks its own range keys;
 * an uncatalogued one is checked here, or its target ("0 0" from one number)
 * would fail the rule's own check.
 */
static bool covers_ok(struct loader *l, const struct site *s, const char *covers)
{
	char **t = NULL;
	size_t n = value_split(covers, &t);
	long long lo = 0, hi = 0;
	bool ok = n == 2 && parse_ll(t[0], &lo) == 0 && parse_ll(t[1], &hi) == 0;

	strv_free(t, n);
	if (!ok)
		profile_serr(l, s, "covers", "must be two integers, low and high, not %s", covers);
	else if (lo > hi)
		profile_serr(l, s, "covers", "low %lld is above high %lld", lo, hi);
	return ok && lo <= hi;
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
		struct site fs = profile_site_of(l, f, s->file, s->key);

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
				profile_serr(l, &fs, name, "must be true or false, not %s", profile_schema_type(f));
		} else if (strcmp(name, "note") == 0) {
			if (config_setting_type(f) == CONFIG_TYPE_STRING)
				r->note = xstrdup(config_setting_get_string(f));
			else
				profile_serr(l, &fs, name, "must be a string, not %s", profile_schema_type(f));
		} else {
			profile_serr(l, &fs, NULL,
			     "unknown rule field \"%s\" (expected value, min, max, one_of, covers, optional, note)",
			     name);
		}
	}
	check_known(l, s, r->optional);
	if (v && (mn || mx || one || cov))
		profile_serr(l, s, NULL, "value cannot be combined with min, max, one_of or covers");
	else if (one && (mn || mx || cov))
		profile_serr(l, s, NULL, "one_of cannot be combined with min, max or covers");
	else if (cov && (mn || mx))
		profile_serr(l, s, NULL, "covers cannot be combined with min or max");
	else if (!v && !mn && !mx && !one && !cov)
		profile_serr(l, s, NULL, "a rule needs value, min, max, one_of or covers");
	if (cov) {
		struct site cs = profile_site_of(l, cov, s->file, s->key);

		if (r->cat && !(r->cat->type == CAT_VEC && r->cat->arity == 2))
			profile_serr(l, &cs, "covers", "is for range keys (two numbers, low and high), "
			     "such as net.ipv4.ip_local_port_range");
		else
			r->covers = value_of(l, &cs, "covers", cov, r->cat);
		if (r->covers && !covers_ok(l, &cs, r->covers)) {
			free(r->covers);
			r->covers = NULL;
		}
	}
	if (v) {
		struct site vs = profile_site_of(l, v, s->file, s->key);
		r->value = value_of(l, &vs, "value", v, r->cat);
	}
	if (mn) {
		struct site vs = profile_site_of(l, mn, s->file, s->key);
		r->min = bound_of(l, &vs, "min", mn, r->cat);
	}
	if (mx) {
		struct site vs = profile_site_of(l, mx, s->file, s->key);
		r->max = bound_of(l, &vs, "max", mx, r->cat);
	}
	if (r->min && r->max)
		check_min_max(l, s, r->min, r->max);
	if (one) {
		struct site os = profile_site_of(l, one, s->file, s->key);
		int t = config_setting_type(one), k = config_setting_length(one);

		if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
			profile_serr(l, &os, "one_of", "must be a list of values, not %s", profile_schema_type(one));
		} else if (k == 0) {
			profile_serr(l, &os, "one_of", "must not be empty");
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


void profile_schema_walk(struct loader *l, struct filectx *f, const config_setting_t *g,
			 const char *prefix)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(m);
		char *key = prefix ? xasprintf("%s.%s", prefix, name) : xstrdup(name);
		struct site s = profile_site_of(l, m, f->path, key);
		struct rule *r = NULL;

		if (!key_valid(key)) {
			profile_serr(l, &s, NULL, "invalid key name: use lower-case letters, digits, '_' and '-'");
		} else if (config_setting_type(m) == CONFIG_TYPE_GROUP && !is_rule_group(l, m, key)) {
			profile_schema_walk(l, f, m, key);
		} else {
			r = config_setting_type(m) == CONFIG_TYPE_GROUP ?
				parse_rule_group(l, m, &s, f->profile) :
				parse_plain(l, m, &s, f->profile);
		}
		if (r && rule_out_of_scope(r) && !f->allow_uncatalogued) {
			profile_serr(l, &s, NULL, "outside the network keys tcptune knows (not in its catalogue): "
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

