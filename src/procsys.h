/* SPDX-License-Identifier: ISC */
/* procsys.h: /proc/sys below a root directory, through dirfds. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct procsys {
	int sysfd;     /* <root>/proc/sys, O_PATH|O_DIRECTORY; -1 when closed */
};

/* Open <rootfd>/proc/sys. 0 or -errno. */
int procsys_open(int rootfd, struct procsys *ret);
void procsys_close(struct procsys *ps);

/*
 * Read one key (canonical dotted name; validated here too) and return the
 * normalized value. 0, -ENOENT (the kernel lacks it), -EACCES, -EINVAL
 * (bad key name) or another -errno.
 */
int procsys_read(const struct procsys *ps, const char *key, char **ret_value);
/*
 * Write one value in a single write() at offset 0 (a second write() is
 * silently ignored under sysctl_writes_strict). Does not read back.
 */
int procsys_write(const struct procsys *ps, const char *key, const char *value);
/* 0 when the key exists, -ENOENT when not, other -errno. */
int procsys_stat(const struct procsys *ps, const char *key);
/* Names (not full keys) in the directory of a dotted prefix ("net.ipv4"), sorted. */
int procsys_list(const struct procsys *ps, const char *prefix, char ***ret_names, size_t *ret_n);
/*
 * True when this /proc/sys belongs to a child network namespace: the
 * host-wide net.ipv4.tcp_mem is hidden there while net.ipv4 exists.
 */
bool procsys_in_child_netns(const struct procsys *ps);
