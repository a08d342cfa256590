/* SPDX-License-Identifier: ISC */
/* render.c: a merged profile written for a pod's securityContext or docker run's --sysctl flags. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalogue.h"
#include "render.h"
#include "util.h"

static const char *const as_names[] = { "sysctl.d", "kubernetes", "docker" };

/*
 * The kubelet's default safe set (pkg/kubelet/sysctl/safe_sysctls.go,
 * Kubernetes 1.32): keepalive and fin_timeout since 1.29, tcp_rmem and
 * tcp_wmem since 1.32. Older kubelets need the newer ones unlocked.
 */
static const char *const kubelet_safe[] = {
	"net.ipv4.ip_local_port_range",  "net.ipv4.ip_local_reserved_ports",
	"net.ipv4.ip_unprivileged_port_start", "net.ipv4.ping_group_range",
	"net.ipv4.tcp_syncookies",       "net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_keepalive_intvl",  "net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_fin_timeout",      "net.ipv4.tcp_rmem",
	"net.ipv4.tcp_wmem",
};

int render_as_parse(const char *word, enum render_as *ret)
{
	for (size_t i = 0; i < sizeof(as_names) / sizeof(as_names[0]); i++)
		if (!strcmp(word, as_names[i])) {
			*ret = (enum render_as)i;
			return 0;
		}
	return -EINVAL;
}

const char *render_as_name(enum render_as as)
{
	return as_names[as];
}

bool render_kubelet_safe(const char *key)
{
	for (size_t i = 0; i < sizeof(kubelet_safe) / sizeof(kubelet_safe[0]); i++)
		if (!strcmp(key, kubelet_safe[i]))
			return true;
	return false;
}

/* A key a container's own network namespace holds: per netns, by the catalogue. */
static bool per_netns(const struct rule *r)
{
	return r->cat && (r->cat->scope == SCOPE_NETNS || r->cat->scope == SCOPE_NETNS_COPY);
}

/*
 * The value for a fresh namespace. It starts at the kernel default, except
 * the keys it copies from its creator (the host); a min/max or one_of rule
 * keeps that start when it already passes, like apply does on a host.
 */
static char *target(const struct rule *r, const struct procsys *ps)
{
	char *live = NULL, *t;

	if (r->cat->scope == SCOPE_NETNS && r->cat->dflt)
		return rule_target(r, r->cat->dflt);
	if (r->cat->scope == SCOPE_NETNS_COPY && ps && procsys_read(ps, r->key, &live) < 0)
		live = NULL;
	t = rule_target(r, live);
	free(live);
	return t;
}

/* Profile names and keys are [a-z0-9_.-] or file paths: keep comments one line. */
static void put_line_text(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static void put_head(FILE *f, enum render_as as, const struct profile *p)
{
	fprintf(f, "# %s for tcptune profile%s ",
		as == RENDER_KUBERNETES ? "Pod securityContext.sysctls" : "docker run --sysctl flags",
		p->n_names > 1 ? "s" : "");
	for (size_t i = 0; i < p->n_names; i++) {
		if (i)
			fputs(", ", f);
		put_line_text(f, p->names[i]);
	}
	fputs(": the per-network-namespace keys only.\n"
	      "# A container's network namespace starts from kernel defaults: the host's\n"
	      "# sysctl.d fragment never reaches it.\n", f);
	if (as == RENDER_DOCKER)
		fputs("# Not with --network host, which shares the host's namespace.\n", f);
}

/* The keys left out, named so nobody wonders where they went. */
static void put_left_out(FILE *f, const struct profile *p)
{
	bool any = false;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct rule *r = &p->rules[i];

		if (per_netns(r))
			continue;
		fputs(any ? ", " : "# Left out, host-wide or of unknown scope (tcptune apply on the node): ", f);
		put_line_text(f, r->key);
		any = true;
	}
	if (any)
		fputc('\n', f);
}

static void yaml_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void put_kubernetes(FILE *f, const struct profile *p, const struct procsys *ps)
{
	bool any = false;

	fputs("securityContext:\n  sysctls:", f);
	for (int safe = 1; safe >= 0; safe--) {
		bool first = true;

		for (size_t i = 0; i < p->n_rules; i++) {
			const struct rule *r = &p->rules[i];
			char *v;

			if (!per_netns(r) || render_kubelet_safe(r->key) != safe)
				continue;
			v = target(r, ps);
			if (!v)
				continue;
			if (first && safe)
				fputs("\n    # safe: the kubelet allows these by default (Kubernetes >= 1.32)", f);
			else if (first)
				fputs("\n    # unsafe: the pod is refused unless each node's kubelet runs with\n"
				      "    # --allowed-unsafe-sysctls naming these (or a pattern such as 'net.*')", f);
			fputs("\n    - name: ", f);
			put_line_text(f, r->key);
			fputs("\n      value: ", f);
			yaml_quoted(f, v);
			free(v);
			first = false;
			any = true;
		}
	}
	fputs(any ? "\n" : " []\n", f);
}

/* One flag a line, continued, to paste after `docker run`. */
static void put_docker(FILE *f, const struct profile *p, const struct procsys *ps)
{
	bool any = false;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct rule *r = &p->rules[i];
		char *v;

		if (!per_netns(r) || !(v = target(r, ps)))
			continue;
		if (any)
			fputs(" \\\n", f);
		/* values are numbers and words; a space needs quoting for the shell */
		fprintf(f, strchr(v, ' ') ? "--sysctl '%s=%s'" : "--sysctl %s=%s", r->key, v);
		free(v);
		any = true;
	}
	if (any)
		fputc('\n', f);
}

char *render_container(enum render_as as, const struct profile *p, const struct procsys *ps)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	put_head(f, as, p);
	put_left_out(f, p);
	if (as == RENDER_KUBERNETES)
		put_kubernetes(f, p, ps);
	else
		put_docker(f, p, ps);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
