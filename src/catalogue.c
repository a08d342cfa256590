/* catalogue.c: the sysctl keys tcptune knows, with sane ranges, defaults and caveats. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "util.h"

/* Kept sorted by key (strcmp order): catalogue_find() bsearches it. */
static const struct catentry entries[] = {
	{
		.key = "net.core.somaxconn",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 65535,
		.dflt = "4096",
		.scope = SCOPE_NETNS,
		.meaning = "upper bound on the accept queue length given to listen()",
		.caveat = "the application's listen() backlog is capped by this",
		.source = "net/core/sysctl_net_core.c netns_core_table; net/core/net_namespace.c",
	},
	{
		.key = "net.ipv4.ip_local_port_range",
		.type = CAT_VEC, .arity = 2, .min = 1, .max = 65535,
		.dflt = "32768 60999",
		.scope = SCOPE_NETNS,
		.meaning = "ephemeral ports for outgoing connections (low high)",
		.caveat = "port exhaustion is per destination 4-tuple",
		.source = "net/ipv4/sysctl_net_ipv4.c ipv4_local_port_range()",
	},
	{
		.key = "net.ipv4.tcp_keepalive_time",
		.type = CAT_INT, .arity = 1, .min = 1, .max = 32767,
		.dflt = "7200",
		.scope = SCOPE_NETNS,
		.meaning = "idle seconds before the first keepalive probe",
		.caveat = "only for sockets with SO_KEEPALIVE",
		.source = "net/ipv4/tcp_ipv4.c tcp_sk_init()",
	},
	{
		.key = "net.ipv4.tcp_rmem",
		.type = CAT_VEC, .arity = 3, .min = 1, .max = 2147483647,
		.dflt = "4096 131072 6291456",
		.scope = SCOPE_NETNS_COPY,
		.meaning = "receive buffer per socket: min default max (bytes)",
		.caveat = NULL,
		.source = "net/ipv4/tcp.c tcp_init()",
	},
	{
		.key = "net.ipv4.tcp_wmem",
		.type = CAT_VEC, .arity = 3, .min = 1, .max = 2147483647,
		.dflt = "4096 16384 4194304",
		.scope = SCOPE_NETNS_COPY,
		.meaning = "send buffer per socket: min default max (bytes)",
		.caveat = NULL,
		.source = "net/ipv4/tcp.c tcp_init()",
	},
};

#define N_ENTRIES (sizeof(entries) / sizeof(entries[0]))

static int entry_cmp(const void *k, const void *e)
{
	return strcmp(k, ((const struct catentry *)e)->key);
}

const struct catentry *catalogue_find(const char *key)
{
	if (!key)
		return NULL;
	return bsearch(key, entries, N_ENTRIES, sizeof(entries[0]), entry_cmp);
}

const struct catentry *catalogue_all(size_t *ret_n)
{
	if (ret_n)
		*ret_n = N_ENTRIES;
	return entries;
}

const char *catalogue_scope_name(enum cat_scope s)
{
	switch (s) {
	case SCOPE_NETNS:
		return "netns";
	case SCOPE_NETNS_COPY:
		return "netns-copied";
	case SCOPE_HOST:
		return "host";
	case SCOPE_HOST_RO:
		return "host-readonly";
	case SCOPE_GLOBAL:
		return "global";
	}
	return "unknown";
}

const char *catalogue_type_name(enum cat_type t)
{
	switch (t) {
	case CAT_INT:
		return "integer";
	case CAT_VEC:
		return "vector";
	case CAT_STR:
		return "string";
	}
	return "unknown";
}

static const char *last_component(const char *key)
{
	const char *dot = strrchr(key, '.');

	return dot ? dot + 1 : key;
}

/* A distance is close enough when it is small and well under half the word. */
static bool close_enough(size_t d, size_t len)
{
	return d <= 3 && d * 2 < len;
}

const char *catalogue_suggest(const char *key)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	bool dotted;

	if (!key || !*key)
		return NULL;
	dotted = strchr(key, '.') != NULL;
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const char *k = entries[i].key;
		size_t d = edit_distance(key, k);

		if (close_enough(d, strlen(key)) && d < best_d) {
			best = k;
			best_d = d;
		}
	}
	if (best)
		return best;
	/*
	 * "tcp_keepalive_tim" or "net.ipv6.tcp_keepalive_time": compare the
	 * last components only, so a missing or wrong prefix still finds it.
	 */
	const char *lk = last_component(key);
	for (size_t i = 0; i < N_ENTRIES; i++) {
		const char *k = entries[i].key;
		size_t d = edit_distance(lk, last_component(k));

		if (close_enough(d, strlen(lk)) && d < best_d) {
			best = k;
			best_d = d;
		}
	}
	(void)dotted;
	return best;
}

static int check_int(const struct catentry *e, const char *tok, long long *ret,
		     char *err, size_t errlen)
{
	long long v;
	int r = parse_ll(tok, &v);

	if (r < 0 || v < e->min || v > e->max) {
		(void)snprintf(err, errlen, "must be an integer in %lld..%lld, not %s",
			       e->min, e->max, tok);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int check_str(const char *value, char *err, size_t errlen)
{
	long long dummy;
	char **tok;
	size_t n = value_split(value, &tok);
	int r = 0;

	if (n == 0) {
		(void)snprintf(err, errlen, "expects a word, got nothing");
		r = -EINVAL;
	} else if (parse_ll(tok[0], &dummy) == 0) {
		(void)snprintf(err, errlen, "expects a word, got a number%s",
			       n > 1 ? " list" : "");
		r = -EINVAL;
	} else if (n > 1) {
		(void)snprintf(err, errlen, "expects one word, got %zu", n);
		r = -EINVAL;
	} else {
		for (const char *p = tok[0]; *p; p++)
			if (!word_char(*p)) {
				(void)snprintf(err, errlen,
					       "expects a word of [a-z0-9_-], not \"%s\"", tok[0]);
				r = -EINVAL;
				break;
			}
	}
	strv_free(tok, n);
	return r;
}

int catalogue_check(const struct catentry *e, const char *value, char *err, size_t errlen)
{
	long long v[8];
	char **tok;
	size_t n;
	int r = 0;

	if (!e || !value) {
		(void)snprintf(err, errlen, "no value");
		return -EINVAL;
	}
	if (e->type == CAT_STR)
		return check_str(value, err, errlen);

	n = value_split(value, &tok);
	if (e->type == CAT_INT && n != 1) {
		(void)snprintf(err, errlen, "needs 1 integer, got %zu", n);
		r = -EINVAL;
		goto out;
	}
	if (e->type == CAT_VEC && n != e->arity) {
		(void)snprintf(err, errlen, "needs %u integers, got %zu", e->arity, n);
		r = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < n && i < 8; i++) {
		r = check_int(e, tok[i], &v[i], err, errlen);
		if (r < 0)
			goto out;
	}
out:
	strv_free(tok, n);
	return r;
}
