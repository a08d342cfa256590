/* SPDX-License-Identifier: ISC */
/* netns.c: finding and entering network namespaces. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>
#include <linux/nsfs.h>
#include "netns.h"
#include "util.h"


char *netns_path(const char *spec)
{
	if (strchr(spec, '/'))
		return xstrdup(spec);
	if (str_digits(spec))
		return xasprintf("/proc/%s/ns/net", spec);
	return xasprintf("/run/netns/%s", spec);
}

int netns_enter(const char *path)
{
	/* O_NONBLOCK: a FIFO named by mistake must not hang us before setns() refuses it */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0)
		r = -errno;
	close(fd);
	return r;
}

int netns_owned_by_us(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), ufd, r;
	struct stat a, b;

	if (fd < 0)
		return -errno;
	ufd = ioctl(fd, NS_GET_USERNS);
	r = ufd < 0 ? -errno : 0;
	(void)close(fd);
	if (r < 0)
		return r;
	if (fstat(ufd, &a) < 0 || stat("/proc/self/ns/user", &b) < 0)
		r = -errno;
	else
		r = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	(void)close(ufd);
	return r;
}

/* Find or add the namespace with this identity. */
static struct netns *lookup(struct netns **v, size_t *n, const struct stat *st, const char *path)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].dev == st->st_dev && (*v)[i].ino == st->st_ino)
			return &(*v)[i];
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[*n] = (struct netns){ .dev = st->st_dev, .ino = st->st_ino, .path = xstrdup(path) };
	return &(*v)[(*n)++];
}

static char *read_comm(const char *proc, const char *pid)
{
	char *path = xasprintf("%s/%s/comm", proc, pid), buf[64] = "";
	FILE *f = fopen(path, "re");

	free(path);
	if (!f)
		return xstrdup("?");
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return xstrdup(buf);
}

/* Kernel threads have an empty command line; they are not what an admin looks for. */
static bool kernel_thread(const char *proc, const char *pid)
{
	char *path = xasprintf("%s/%s/cmdline", proc, pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char c;
	bool kthread = fd >= 0 && read(fd, &c, 1) == 0;

	if (fd >= 0)
		close(fd);
	free(path);
	return kthread;
}

static void add_named(const char *run_netns, struct netns **v, size_t *n)
{
	DIR *d = opendir(run_netns);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct stat st;
		struct statfs sf;
		char *path;

		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", run_netns, de->d_name);
		/* a name whose namespace is gone is a plain file, no longer nsfs */
		if (statfs(path, &sf) == 0 && sf.f_type == NSFS_MAGIC && stat(path, &st) == 0) {
			struct netns *ns = lookup(v, n, &st, path);
			if (!ns->name)
				ns->name = xstrdup(de->d_name);
		}
		free(path);
	}
	closedir(d);
}

static int by_pid(const void *a, const void *b)
{
	const struct netns_proc *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

int netns_list(const char *proc, const char *run_netns, struct netns **ret, size_t *ret_n,
	       size_t *ret_hidden)
{
	struct netns *v = NULL;
	size_t n = 0, hidden = 0;
	struct stat self;
	char *selfpath = xasprintf("%s/self/ns/net", proc);
	DIR *d;
	struct dirent *de;

	if (stat(selfpath, &self) < 0) {
		int r = -errno;
		free(selfpath);
		return r;
	}
	lookup(&v, &n, &self, selfpath)->self = true;
	free(selfpath);
	add_named(run_netns, &v, &n);
	d = opendir(proc);
	if (!d) {
		int r = -errno;
		netns_free(v, n);
		return r;
	}
	while ((de = readdir(d))) {
		struct stat st;
		char *path;

		if (!str_digits(de->d_name) || kernel_thread(proc, de->d_name))
			continue;
		path = xasprintf("%s/%s/ns/net", proc, de->d_name);
		if (stat(path, &st) < 0) {
			/* gone, a kernel thread, or not ours to inspect */
			hidden += errno == EACCES || errno == EPERM;
			free(path);
			continue;
		}
		struct netns *ns = lookup(&v, &n, &st, path);
		ns->procs = xreallocarray(ns->procs, ns->n_procs + 1, sizeof(*ns->procs));
		ns->procs[ns->n_procs++] = (struct netns_proc){ (pid_t)atol(de->d_name),
								read_comm(proc, de->d_name) };
		free(path);
	}
	closedir(d);
	for (size_t i = 0; i < n; i++)
		if (v[i].n_procs)
			qsort(v[i].procs, v[i].n_procs, sizeof(*v[i].procs), by_pid);
	*ret = v;
	*ret_n = n;
	if (ret_hidden)
		*ret_hidden = hidden;
	return 0;
}

void netns_free(struct netns *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].path);
		for (size_t j = 0; j < v[i].n_procs; j++)
			free(v[i].procs[j].comm);
		free(v[i].procs);
	}
	free(v);
}

/* ---- the namespace we are in, by identity (the journal records it) ---------- */

/*
 * The network namespace of this thread (after --netns) by identity: the
 * device and inode of its nsfs file, which a new namespace of the same
 * name (a restarted container) does not share.
 */
int netns_self(unsigned long long *ret_dev, unsigned long long *ret_ino)
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
unsigned long long netns_cookie(void)
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

char *netns_describe(const char *name, bool has_ns, unsigned long long dev, unsigned long long ino,
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
