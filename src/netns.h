/* SPDX-License-Identifier: ISC */
/* netns.h: finding and entering network namespaces. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct netns_proc {
	pid_t pid;
	char *comm;
};

struct netns {
	dev_t dev;
	ino_t ino;
	char *name;               /* from /run/netns, or NULL */
	char *path;               /* a file that opens it: /run/netns/NAME or /proc/PID/ns/net */
	bool self;                /* the namespace tcptune started in */
	struct netns_proc *procs; /* processes in it, by PID */
	size_t n_procs;
};

/*
 * The file to open for --netns NAME|PATH|PID: a PATH has a '/', a PID is
 * all digits, anything else is an `ip netns` name below /run/netns.
 */
char *netns_path(const char *spec);

/*
 * Enter the namespace behind path (setns CLONE_NEWNET). 0 or -errno:
 * -EINVAL when it is not a network namespace, -EPERM without privilege.
 */
int netns_enter(const char *path);

/*
 * 1 when the network namespace behind path is owned by the user namespace
 * we run in (the host's, for root), 0 when by another one (an unprivileged
 * user's private namespace, a rootless container), -errno when the kernel
 * will not say (then it is not ours either).
 */
int netns_owned_by_us(const char *path);

/*
 * Every network namespace reachable from procfs (whose /proc is given)
 * and the /run/netns directory: named ones first, then by inode; each
 * once, with the processes in it. Processes we may not inspect are
 * skipped and counted in *ret_hidden.
 */
int netns_list(const char *proc, const char *run_netns, struct netns **ret, size_t *ret_n,
	       size_t *ret_hidden);
void netns_free(struct netns *v, size_t n);

/*
 * The network namespace of this thread by identity: its nsfs file's device
 * and inode (0 or -errno), and its netns cookie (SO_NETNS_COOKIE; 0 when
 * the kernel has none). netns_describe: a sentence naming a namespace by the
 * name given (NULL: the one tcptune runs in) and, when has_ns, its
 * identity. Caller frees.
 */
int netns_self(unsigned long long *ret_dev, unsigned long long *ret_ino);
unsigned long long netns_cookie(void);
char *netns_describe(const char *name, bool has_ns, unsigned long long dev, unsigned long long ino,
		     unsigned long long cookie);
