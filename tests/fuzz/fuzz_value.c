/* SPDX-License-Identifier: ISC */
/*
 * fuzz_value.c: the value comparator: token lists, key names, catalogue
 * checks and rules. Input: a selector byte, then strings split at '\n'
 * (field 0 the live value, 1 a value or min, 2 max, 3.. one_of, the last
 * a key). Checks properties, not only crashes: normalization is
 * idempotent, equality symmetric, and rule_target() satisfies rule_check().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "catalogue.h"
#include "fuzz.h"
#include "profile.h"
#include "util.h"

#define MAX_FIELDS 8

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void must(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_value: property broken: %s\n", what);
		abort();
	}
}

/* A bound as the loader makes it: a list of integers, or NULL. */
static char *as_bound(const char *text)
{
	char *n = value_normalize(text), **tok;
	size_t k = value_split(n, &tok);
	long long x;
	bool ok = k > 0;

	for (size_t i = 0; ok && i < k; i++)
		ok = parse_ll(tok[i], &x) == 0;
	strv_free(tok, k);
	if (!ok) {
		free(n);
		return NULL;
	}
	return n;
}

/* The loader refuses min > max and bounds of different lengths. */
static bool bounds_ok(const char *min, const char *max)
{
	char **a, **b;
	size_t na, nb;
	bool ok;

	if (!min || !max)
		return true;
	na = value_split(min, &a);
	nb = value_split(max, &b);
	ok = na == nb;
	for (size_t i = 0; ok && i < na; i++) {
		long long x, y;

		ok = parse_ll(a[i], &x) == 0 && parse_ll(b[i], &y) == 0 && x <= y;
	}
	strv_free(a, na);
	strv_free(b, nb);
	return ok;
}

static void check_tokens(const char *s)
{
	char *n = value_normalize(s), *nn = value_normalize(n), **tok;
	size_t k = value_split(s, &tok);

	must(strcmp(n, nn) == 0, "value_normalize is idempotent");
	must(value_equal(s, n), "a value equals its normal form");
	for (size_t i = 0; i < k; i++)
		must(*tok[i] && !strpbrk(tok[i], " \t\n"), "tokens are non-empty words");
	strv_free(tok, k);
	free(n);
	free(nn);
}

static void check_key(uint8_t sel, const char *s)
{
	char *k = NULL;

	if (key_normalize(s, &k) == 0) {
		must(key_valid(k), "a normalized key is valid");
		must(!strstr(k, "..") && !strchr(k, '/') && k[0] != '.', "no .. or / in a key");
		free(k);
	}
	(void)catalogue_find(s);
	(void)catalogue_removed(s);
	/* every catalogue key's edit distance: slow, so one input in eight */
	if ((sel & 0xe0) == 0xe0 && strlen(s) < 40)
		(void)catalogue_suggest(s);
}

static void check_catalogue(uint8_t sel, const char *value)
{
	size_t n;
	const struct catentry *all = catalogue_all(&n);
	char *v = value_normalize(value);

	if (n) {
		const struct catentry *e = &all[sel % n];
		struct msgs m = { 0 };

		if (catalogue_check(e, v, &m) < 0)
			must(m.n == 1 && m.v[0][0] != '\0', "catalogue_check says why");
		msgs_free(&m);
		(void)catalogue_scope_name(e->scope);
		(void)catalogue_type_name(e->type);
	}
	free(v);
}

static void check_rule(uint8_t sel, char **f, size_t nf)
{
	struct rule r = { .key = (char *)"net.ipv4.fuzz" };
	char *one[MAX_FIELDS], *target, *desc;
	const char *live = f[0];
	size_t n_one = 0;

	switch (sel & 3) {
	case 0:
		r.value = nf > 1 ? value_normalize(f[1]) : NULL;
		if (r.value && !*r.value) {
			free(r.value);
			r.value = NULL;
		}
		break;
	case 1:
		r.min = nf > 1 ? as_bound(f[1]) : NULL;
		r.max = nf > 2 ? as_bound(f[2]) : NULL;
		if (sel & 4) {
			free(r.max);
			r.max = NULL;
		} else if (sel & 8) {
			free(r.min);
			r.min = NULL;
		}
		if (!bounds_ok(r.min, r.max))
			goto out;
		break;
	default:
		for (size_t i = 1; i < nf; i++) {
			char *v = value_normalize(f[i]);

			if (*v)
				one[n_one++] = v;
			else
				free(v);
		}
		r.one_of = n_one ? one : NULL;
		r.n_one_of = n_one;
		break;
	}
	if (!r.value && !r.min && !r.max && !r.n_one_of)
		goto out;
	desc = rule_describe(&r);
	free(desc);
	(void)rule_check(&r, live);
	target = rule_target(&r, (sel & 16) ? NULL : live);
	must(target != NULL, "a rule always has a target");
	must(rule_check(&r, target), "rule_target satisfies rule_check");
	free(target);
out:
	free(r.value);
	free(r.min);
	free(r.max);
	for (size_t i = 0; i < n_one; i++)
		free(one[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *f[MAX_FIELDS];
	size_t nf = 0;
	uint8_t sel;

	if (size < 1 || size > 4096)
		return 0;
	sel = data[0];
	text = fuzz_str(data + 1, size - 1);
	for (char *p = text, *q; nf < MAX_FIELDS; p = q + 1) {
		q = strchr(p, '\n');
		f[nf++] = p;
		if (!q)
			break;
		*q = '\0';
	}
	for (size_t i = 0; i < nf; i++) {
		long long x;

		check_tokens(f[i]);
		(void)parse_ll(f[i], &x);
	}
	if (nf > 1) {
		must(value_equal(f[0], f[1]) == value_equal(f[1], f[0]), "value_equal is symmetric");
		if (strlen(f[0]) < 64 && strlen(f[1]) < 64) {
			size_t d = edit_distance(f[0], f[1]);

			must(d == edit_distance(f[1], f[0]), "edit_distance is symmetric");
			must(edit_distance(f[0], f[0]) == 0, "edit_distance to itself is 0");
			(void)d;
		}
	}
	check_key(sel, f[nf - 1]);
	check_catalogue(sel, f[0]);
	check_rule(sel, f, nf);
	free(text);
	return 0;
}
