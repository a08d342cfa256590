/* SPDX-License-Identifier: ISC */
/* sample.c: one look at a host's TCP sockets and counters, for doctor's rules to compare two. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "sample.h"
#include "util.h"

static int sample_visit(const struct sock *sk, void *data)
{
	struct sample *s = data;
	struct ssock *x;

	if ((s->n & (s->n - 1)) == 0 && s->n >= 64)
		s->s = xreallocarray(s->s, s->n * 2, sizeof(*s->s));
	else if (s->n == 0)
		s->s = xreallocarray(NULL, 64, sizeof(*s->s));
	x = &s->s[s->n++];
	x->family = sk->family;
	x->state = sk->state;
	x->sport = sk->sport;
	x->dport = sk->dport;
	memcpy(x->src, sk->src, 16);
	memcpy(x->dst, sk->dst, 16);
	x->inode = sk->inode;
	x->uid = sk->uid;
	x->rqueue = sk->rqueue;
	x->wqueue = sk->wqueue;
	x->idle_ms = sk->idle_ms;
	x->expires_ms = sk->expires_ms;
	x->pid = 0;
	s->states[sk->state]++;
	s->total++;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_proc(const void *a, const void *b)
{
	const struct sproc *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static size_t uniq_u32(uint32_t *v, size_t n)
{
	size_t i, m = 0;

	if (n)
		qsort(v, n, sizeof(*v), cmp_u32);
	for (i = 0; i < n; i++)
		if (m == 0 || v[m - 1] != v[i])
			v[m++] = v[i];
	return m;
}

void sample_fd_limit(int rootfd, int pid, long long *ret_fds, long long *ret_limit)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	struct dirent *de;
	long long n = 0;
	FILE *f;
	DIR *d;
	int fd;

	*ret_fds = *ret_limit = -1;
	(void)snprintf(path, sizeof(path), "proc/%d/fd", pid);
	fd = openat(rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && (d = fdopendir(fd))) {
		while ((de = readdir(d)))
			n += isdigit((unsigned char)de->d_name[0]) != 0;
		(void)closedir(d);
		*ret_fds = n;
	} else if (fd >= 0) {
		(void)close(fd);
	}
	(void)snprintf(path, sizeof(path), "proc/%d/limits", pid);
	fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || !(f = fdopen(fd, "r"))) {
		if (fd >= 0)
			(void)close(fd);
		return;
	}
	/* "Max open files            1024                 524288               files" */
	while (getline(&line, &cap, f) > 0) {
		char soft[32];
		long long v;

		if (strncmp(line, "Max open files", 14) != 0)
			continue;
		if (sscanf(line + 14, "%31s", soft) == 1 && parse_ll(soft, &v) == 0)
			*ret_limit = v;
		break;
	}
	free(line);
	(void)fclose(f);
}

/* How many fds of pid are sockets among the look's inodes (sorted). */
static long long count_tcp(int rootfd, int pid, const uint32_t *inodes, size_t n)
{
	char path[64], link[64];
	struct dirent *de;
	long long c = 0;
	DIR *d;
	int fd;

	(void)snprintf(path, sizeof(path), "proc/%d/fd", pid);
	fd = openat(rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		(void)close(fd);
		return -1;
	}
	while ((de = readdir(d))) {
		unsigned long ino;
		uint32_t key;
		ssize_t l;
		char *end;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		l = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (l < 9 || memcmp(link, "socket:[", 8) != 0)
			continue;
		link[l] = '\0';
		ino = strtoul(link + 8, &end, 10);
		if (*end != ']' || ino > UINT32_MAX)
			continue;
		key = (uint32_t)ino;
		c += bsearch(&key, inodes, n, sizeof(*inodes), cmp_u32) != NULL;
	}
	(void)closedir(d);
	return c;
}

static int find_owners(int rootfd, struct sample *s)
{
	uint32_t *want, *all, uids[16];
	size_t i, j, nw = 0, na = 0, nu = 0;
	int *pids, r;

	want = xreallocarray(NULL, s->n + 1, sizeof(*want));
	all = xreallocarray(NULL, s->n + 1, sizeof(*all));
	for (i = 0; i < s->n; i++) {
		const struct ssock *x = &s->s[i];

		if (!x->inode)
			continue;
		all[na++] = x->inode;
		if (x->state != TCPS_CLOSE_WAIT && x->state != TCPS_LISTEN)
			continue;
		want[nw++] = x->inode;
		for (j = 0; j < nu && uids[j] != x->uid; j++)
			;
		if (j == nu && nu < 16)
			uids[nu++] = x->uid;
	}
	nw = uniq_u32(want, nw);
	na = uniq_u32(all, na);
	pids = xcalloc(nw + 1, sizeof(*pids));
	r = sockets_owners(rootfd, want, nw, uids, nu, pids, &s->procs_denied, &s->procs_vanished);
	for (i = 0; r == 0 && i < s->n; i++) {
		struct ssock *x = &s->s[i];
		const uint32_t *hit;
		struct sproc key, *p;

		if (!x->inode || (x->state != TCPS_CLOSE_WAIT && x->state != TCPS_LISTEN))
			continue;
		hit = bsearch(&x->inode, want, nw, sizeof(*want), cmp_u32);
		if (!hit || !(x->pid = pids[hit - want]))
			continue;
		key.pid = x->pid;
		if (s->n_procs && bsearch(&key, s->procs, s->n_procs, sizeof(*s->procs), cmp_proc))
			continue;
		s->procs = xreallocarray(s->procs, s->n_procs + 1, sizeof(*s->procs));
		p = &s->procs[s->n_procs++];
		memset(p, 0, sizeof(*p));
		p->pid = x->pid;
		p->comm = sockets_comm(rootfd, p->pid);
		if (!p->comm)
			p->comm = xstrdup("?");
		sample_fd_limit(rootfd, p->pid, &p->fds, &p->fd_limit);
		p->tcp = count_tcp(rootfd, p->pid, all, na);
		qsort(s->procs, s->n_procs, sizeof(*s->procs), cmp_proc);
	}
	free(want);
	free(all);
	free(pids);
	return r;
}

int sample_take(int rootfd, const struct sockets_query *q, struct sample *ret, struct msgs *m)
{
	struct sockets_query sq = *q;
	struct timespec ts;
	int r;

	memset(ret, 0, sizeof(*ret));
	sq.states = 0;
	sq.info = true;
	r = sockets_walk(rootfd, &sq, sample_visit, ret, &ret->source, m);
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	ret->t = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	if (r == 0) {
		r = find_owners(rootfd, ret);
		if (r < 0)
			msgs_add(m, "/proc: %s", strerror(-r));
	}
	if (r == 0 && sockets_read_netstat(rootfd, &ret->ns) < 0)
		memset(&ret->ns, 0, sizeof(ret->ns));
	if (r < 0)
		sample_free(ret);
	return r;
}

const struct sproc *sample_proc(const struct sample *s, int pid)
{
	struct sproc key;

	if (pid <= 0 || s->n_procs == 0)
		return NULL;
	key.pid = pid;
	return bsearch(&key, s->procs, s->n_procs, sizeof(*s->procs), cmp_proc);
}

void sample_free(struct sample *s)
{
	size_t i;

	for (i = 0; i < s->n_procs; i++)
		free(s->procs[i].comm);
	free(s->procs);
	free(s->s);
	sockets_netstat_free(&s->ns);
	memset(s, 0, sizeof(*s));
}
