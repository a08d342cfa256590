/* sockets_owners.c: which processes hold which sockets, from /proc/PID/fd (a threaded scan). */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sockets.h"
#include "sockets-internal.h"
#include "util.h"


int sockets_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Finding owners costs one readlink per fd, in the kernel (2.5-8 us each),
 * so the order matters: without knowing which process holds the sockets,
 * the search goes breadth-first, a chunk of fds from each process in turn
 * (the processes running as the sockets' uids first), on a few threads
 * sharing the count of inodes found. It stops when every inode has its
 * process, however large the processes not yet read to the end.
 */
#define SCAN_CHUNK 256
#define SCAN_THREADS 4

struct proc {
	int pid;
	int *fds;
	size_t nfds;
};

struct chunk {
	uint32_t proc;
	uint32_t start, end;
};

struct scan {
	int procfd;
	const struct proc *procs;
	const struct chunk *chunks;
	size_t nchunks, next;
	const uint32_t *inodes;
	size_t n;
	int *ret_pid;
	size_t found;
};

static void scan_chunk(struct scan *s, const struct chunk *c)
{
	const struct proc *p = &s->procs[c->proc];
	char path[48], link[64];
	uint32_t i;

	for (i = c->start; i < c->end && __atomic_load_n(&s->found, __ATOMIC_RELAXED) < s->n; i++) {
		ssize_t l;
		unsigned long ino;
		const uint32_t *hit;
		uint32_t key;
		char *end;
		int zero = 0;

		(void)snprintf(path, sizeof(path), "%d/fd/%d", p->pid, p->fds[i]);
		l = readlinkat(s->procfd, path, link, sizeof(link) - 1);
		if (l < 9 || memcmp(link, "socket:[", 8) != 0)
			continue;
		link[l] = '\0';
		ino = strtoul(link + 8, &end, 10);
		if (*end != ']' || ino > UINT32_MAX)
			continue;
		key = (uint32_t)ino;
		hit = bsearch(&key, s->inodes, s->n, sizeof(*s->inodes), sockets_cmp_u32);
		/* a socket shared after fork() goes to whichever holder is seen first */
		if (hit && __atomic_compare_exchange_n(&s->ret_pid[hit - s->inodes], &zero, p->pid, false,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			__atomic_add_fetch(&s->found, 1, __ATOMIC_RELAXED);
	}
}

static void *scan_run(void *arg)
{
	struct scan *s = arg;

	while (__atomic_load_n(&s->found, __ATOMIC_RELAXED) < s->n) {
		size_t i = __atomic_fetch_add(&s->next, 1, __ATOMIC_RELAXED);

		if (i >= s->nchunks)
			break;
		scan_chunk(s, &s->chunks[i]);
	}
	return NULL;
}

/* The fd numbers of one process: 0, or -errno when it vanished or denies access. */
static int read_fds(int procfd, int pid, struct proc *ret)
{
	char path[32];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int fd;

	(void)snprintf(path, sizeof(path), "%d/fd", pid);
	fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		(void)close(fd);
		return r;
	}
	memset(ret, 0, sizeof(*ret));
	ret->pid = pid;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (ret->nfds == cap) {
			cap = cap ? cap * 2 : 64;
			ret->fds = xreallocarray(ret->fds, cap, sizeof(*ret->fds));
		}
		ret->fds[ret->nfds++] = atoi(de->d_name);
	}
	(void)closedir(d);
	return 0;
}

static bool uid_wanted(int procfd, int pid, const uint32_t *uids, size_t n_uids)
{
	char name[16];
	struct stat st;
	size_t k;

	(void)snprintf(name, sizeof(name), "%d", pid);
	if (fstatat(procfd, name, &st, 0) < 0)
		return false;
	for (k = 0; k < n_uids; k++)
		if (st.st_uid == uids[k])
			return true;
	return false;
}

/* Round-robin chunks over procs[from, to). */
static size_t add_chunks(struct chunk *c, size_t nc, const struct proc *procs, size_t from, size_t to)
{
	size_t round, i;
	bool more = true;

	for (round = 0; more; round++) {
		more = false;
		for (i = from; i < to; i++) {
			size_t start = round * SCAN_CHUNK;

			if (start >= procs[i].nfds)
				continue;
			c[nc].proc = (uint32_t)i;
			c[nc].start = (uint32_t)start;
			c[nc].end = (uint32_t)(procs[i].nfds - start > SCAN_CHUNK ? start + SCAN_CHUNK : procs[i].nfds);
			nc++;
			more = true;
		}
	}
	return nc;
}

int sockets_owners(int rootfd, const uint32_t *inodes, size_t n, const uint32_t *uids, size_t n_uids,
		   int *ret_pid, unsigned *ret_denied, unsigned *ret_vanished)
{
	struct scan s = { .inodes = inodes, .n = n, .ret_pid = ret_pid };
	pthread_t th[SCAN_THREADS];
	bool started[SCAN_THREADS] = { false };
	struct proc *procs, *pref = NULL, *rest = NULL;
	size_t np, npref = 0, nrest = 0, total = 0, i, nc;
	struct chunk *chunks;
	struct dirent *de;
	long ncpu;
	int t, nt;
	DIR *d;

	*ret_denied = *ret_vanished = 0;
	memset(ret_pid, 0, n * sizeof(*ret_pid));
	if (n == 0)
		return 0;
	s.procfd = openat(rootfd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.procfd < 0)
		return -errno;
	d = fdopendir(dup(s.procfd));
	if (!d) {
		int r = -errno;

		(void)close(s.procfd);
		return r;
	}
	while ((de = readdir(d))) {
		struct proc p = { 0, NULL, 0 };
		long long pid;
		int r;

		if (!str_digits(de->d_name) || parse_ll(de->d_name, &pid) < 0 || pid <= 0 || pid > INT32_MAX)
			continue;
		r = read_fds(s.procfd, (int)pid, &p);
		if (r == -ENOENT || r == -ESRCH)
			(*ret_vanished)++;
		else if (r == -EACCES || r == -EPERM)
			(*ret_denied)++;
		if (r < 0 || p.nfds == 0) {
			free(p.fds);
			continue;
		}
		total += p.nfds;
		/* the sockets' uids first, /proc order kept within each class */
		if (n_uids && uid_wanted(s.procfd, p.pid, uids, n_uids)) {
			pref = xreallocarray(pref, npref + 1, sizeof(*pref));
			pref[npref++] = p;
		} else {
			rest = xreallocarray(rest, nrest + 1, sizeof(*rest));
			rest[nrest++] = p;
		}
	}
	(void)closedir(d);
	np = npref + nrest;
	procs = xreallocarray(NULL, np + 1, sizeof(*procs));
	if (npref)
		memcpy(procs, pref, npref * sizeof(*procs));
	if (nrest)
		memcpy(procs + npref, rest, nrest * sizeof(*procs));
	free(pref);
	free(rest);
	chunks = xreallocarray(NULL, total / SCAN_CHUNK + np + 1, sizeof(*chunks));
	nc = add_chunks(chunks, 0, procs, 0, npref);
	nc = add_chunks(chunks, nc, procs, npref, np);
	s.procs = procs;
	s.chunks = chunks;
	s.nchunks = nc;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	nt = ncpu > 1 ? (ncpu < SCAN_THREADS ? (int)ncpu : SCAN_THREADS) : 1;
	for (t = 1; t < nt; t++)
		started[t] = pthread_create(&th[t], NULL, scan_run, &s) == 0;
	(void)scan_run(&s);
	for (t = 1; t < nt; t++)
		if (started[t])
			(void)pthread_join(th[t], NULL);
	for (i = 0; i < np; i++)
		free(procs[i].fds);
	free(procs);
	free(chunks);
	(void)close(s.procfd);
	return 0;
}

char *sockets_comm(int rootfd, int pid)
{
	char path[64], buf[64];
	ssize_t n;
	int fd;

	(void)snprintf(path, sizeof(path), "proc/%d/comm", pid);
	fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n < 0)
		return NULL;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	return xstrndup(buf, (size_t)n);
}

char *sockets_addr_str(int family, const uint8_t *addr, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, a, sizeof(a)))
		(void)snprintf(a, sizeof(a), "?");
	if (family == AF_INET6)
		(void)snprintf(buf, len, "[%s]:%u", a, port);
	else
		(void)snprintf(buf, len, "%s:%u", a, port);
	return buf;
}

