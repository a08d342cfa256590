/* rule.c: one rule of a profile: described, checked against a value, and the value it wants. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "profile.h"
#include "profile-internal.h"
#include "catalogue.h"

void rule_clear(struct rule *r)
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

bool rule_out_of_scope(const struct rule *r)
{
	return !r->cat && strncmp(r->key, "net.", 4) != 0;
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
