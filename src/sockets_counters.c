/* sockets_counters.c: the kernel's TCP counters in /proc/net (sockstat, netstat, snmp) and the local port range. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sockets.h"
#include "sockets-internal.h"
#include "util.h"

static long long kv_find(const char *line, const char *key)
{
	size_t kl = strlen(key);
	const char *p = line;
	long long v;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[kl] == ' ') {
			char *end;

			errno = 0;
			v = strtoll(p + kl + 1, &end, 10);
			if (errno || end == p + kl + 1 || v < 0)
				return -1;
			return v;
		}
		p += kl;
	}
	return -1;
}

int sockets_read_sockstat(int rootfd, struct sockstat *ret)
{
	struct sockstat s = { -1, -1, -1, -1, -1, -1 };
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	f = sockets_open_below(rootfd, "proc/net/sockstat");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "TCP: ", 5) != 0)
			continue;
		s.inuse4 = kv_find(line + 5, "inuse");
		s.orphan = kv_find(line + 5, "orphan");
		s.tw = kv_find(line + 5, "tw");
		s.alloc = kv_find(line + 5, "alloc");
		s.mem = kv_find(line + 5, "mem");
	}
	(void)fclose(f);
	f = sockets_open_below(rootfd, "proc/net/sockstat6");
	if (f) {
		while (getline(&line, &cap, f) > 0)
			if (strncmp(line, "TCP6: ", 6) == 0)
				s.inuse6 = kv_find(line + 6, "inuse");
		(void)fclose(f);
	}
	free(line);
	*ret = s;
	return 0;
}

/* Pairs of lines: "TcpExt: Name…" then "TcpExt: 1 2 …"; only the first pair with the prefix. */
static void read_pairs(FILE *f, const char *prefix, struct netstat *ns)
{
	char *line = NULL, *names = NULL;
	size_t cap = 0, pl = strlen(prefix);

	while (getline(&line, &cap, f) > 0) {
		char *sn, *sv, *n, *v;

		if (strncmp(line, prefix, pl) != 0)
			continue;
		if (!names) {
			names = xstrdup(line + pl);
			continue;
		}
		n = strtok_r(names, " \n", &sn);
		v = strtok_r(line + pl, " \n", &sv);
		while (n && v) {
			long long x;

			if (parse_ll(v, &x) == 0) {
				ns->names = xreallocarray(ns->names, ns->n + 1, sizeof(*ns->names));
				ns->values = xreallocarray(ns->values, ns->n + 1, sizeof(*ns->values));
				ns->names[ns->n] = xstrdup(n);
				ns->values[ns->n++] = x;
			}
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
		break;
	}
	free(line);
	free(names);
}

/* TcpExt from /proc/net/netstat, then Tcp from /proc/net/snmp (ActiveOpens, …). */
int sockets_read_netstat(int rootfd, struct netstat *ret)
{
	struct netstat ns = { NULL, NULL, 0 };
	FILE *f;

	f = sockets_open_below(rootfd, "proc/net/netstat");
	if (!f)
		return -errno;
	read_pairs(f, "TcpExt: ", &ns);
	(void)fclose(f);
	f = sockets_open_below(rootfd, "proc/net/snmp");
	if (f) {
		read_pairs(f, "Tcp: ", &ns);
		(void)fclose(f);
	}
	*ret = ns;
	return 0;
}

long long sockets_netstat_get(const struct netstat *ns, const char *name)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (strcmp(ns->names[i], name) == 0)
			return ns->values[i];
	return -1;
}

void sockets_netstat_free(struct netstat *ns)
{
	strv_free(ns->names, ns->n);
	free(ns->values);
	ns->names = NULL;
	ns->values = NULL;
	ns->n = 0;
}

int sockets_count_reserved(const char *text, unsigned low, unsigned high, unsigned *ret)
{
	char *copy = xstrdup(text), *save, *tok;
	unsigned count = 0;
	int r = 0;

	/* ranges may overlap: mark rather than add */
	unsigned char *seen = xcalloc(65536, 1);

	for (tok = strtok_r(copy, ", \t\n", &save); tok; tok = strtok_r(NULL, ", \t\n", &save)) {
		char *dash = strchr(tok, '-');
		long long a, b, p;

		if (dash)
			*dash = '\0';
		if (parse_ll(tok, &a) < 0 || (dash && parse_ll(dash + 1, &b) < 0)) {
			r = -EINVAL;
			break;
		}
		if (!dash)
			b = a;
		if (a < 0 || b > 65535 || a > b) {
			r = -EINVAL;
			break;
		}
		for (p = a; p <= b; p++)
			if (p >= low && p <= high && !seen[p]) {
				seen[p] = 1;
				count++;
			}
	}
	free(seen);
	free(copy);
	if (r == 0)
		*ret = count;
	return r;
}

int sockets_port_range(const struct procsys *ps, struct portrange *ret)
{
	char *v = NULL, *res = NULL;
	unsigned lo, hi, reserved = 0;
	int r;

	r = procsys_read(ps, "net.ipv4.ip_local_port_range", &v);
	if (r < 0)
		return r;
	if (sscanf(v, "%u %u", &lo, &hi) != 2 || lo > hi || hi > 65535) {
		free(v);
		return -EINVAL;
	}
	free(v);
	if (procsys_read(ps, "net.ipv4.ip_local_reserved_ports", &res) == 0) {
		if (*res)
			(void)sockets_count_reserved(res, lo, hi, &reserved);
		free(res);
	}
	ret->low = lo;
	ret->high = hi;
	ret->reserved = reserved;
	ret->usable = hi - lo + 1 - reserved;
	return 0;
}

