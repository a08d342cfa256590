/* SPDX-License-Identifier: ISC */
/* fileio.h: atomic file replacement, whole-file reads and lock files below a root directory. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Largest file fileio_read_at() accepts: fragments and journals are small. */
#define FILEIO_READ_MAX (4u << 20)

/*
 * Open the directory `path` below rootfd, one component at a time with
 * O_NOFOLLOW, so a symlink anywhere on the way (even one pointing back
 * into the root) is refused with -ELOOP or -ENOTDIR. ".." is -EINVAL.
 * With create, missing directories are made 0755. Returns an
 * O_RDONLY|O_DIRECTORY fd (usable for fsync) or -errno.
 */
int fileio_open_dir(int rootfd, const char *path, bool create);

/*
 * Open the parent directory of the file `path` below rootfd (as
 * fileio_open_dir) and return its last component in *ret_name (caller
 * frees). Returns the directory fd or -errno.
 */
int fileio_open_parent(int rootfd, const char *path, bool create, char **ret_name);

/*
 * Read the regular file `name` below dirfd whole, without following a
 * symlink (-ELOOP). *ret_data is NUL-terminated (the NUL is not counted
 * in *ret_len; the data itself may hold NULs). -ENOENT when absent,
 * -EFBIG above FILEIO_READ_MAX, -EINVAL when not a regular file.
 */
int fileio_read_at(int dirfd, const char *name, char **ret_data, size_t *ret_len);

/*
 * Replace `name` below dirfd with data atomically: a temp file with an
 * unpredictable name in the same directory (O_EXCL|O_NOFOLLOW), written
 * whole, fchmod(mode), fsync, renameat over the target, fsync of the
 * directory. On any failure the temp file is removed and the old file is
 * left as it was. A symlink (or anything but a regular file) in place of
 * the target is refused: -ELOOP / -EINVAL. 0 or -errno.
 */
int fileio_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/*
 * Remove the temp files a fileio_replace_at() of `name` killed half-way
 * left in dirfd (".NAME." and 16 hex digits). Only for a caller holding
 * the lock that serializes all writers of `name`. Returns how many.
 */
int fileio_remove_temps(int dirfd, const char *name);

/*
 * Remove the regular file `name` below dirfd and fsync the directory.
 * Absent is success. A symlink in its place is refused (-ELOOP).
 */
int fileio_unlink_at(int dirfd, const char *name);
/*
 * Rename `name` below dirfd to `aside`, whatever it is (a file, a symlink,
 * a directory: it is not opened or read), replacing an older `aside` that
 * is a file, a symlink or an empty directory; a regular file is left 0600;
 * the directory is fsynced. 1 when set aside, 0 when absent, -EEXIST when
 * the older `aside` is a directory with entries, else -errno. Once renamed
 * it returns 1: *ret_after is then 0, or the -errno of the chmod or fsync
 * after the rename (set aside, but maybe still readable by others, or not
 * yet durable).
 */
int fileio_set_aside_at(int dirfd, const char *name, const char *aside, int *ret_after);

/*
 * An exclusive lock: the file `path` below rootfd (created 0600 with its
 * parents; it must be a regular file we own with one link), a POSIX
 * record lock and a flock(LOCK_EX) tried until timeout_ms has passed,
 * then our PID written into it for people to read. Waiters learn the
 * holder from the kernel (F_GETLK), never from the file. Released by
 * fileio_unlock() or when the process dies.
 */
struct fileio_lock {
	int fd;     /* -1 when not held */
};

/*
 * 0 with the lock held; -EWOULDBLOCK on timeout (*ret_holder is the
 * holder's PID, or -1 when it cannot be named from here, e.g. it is in
 * another PID namespace); -ELOOP for a symlink, -EPERM when another user
 * owns the file, -EMLINK when it has more than one link, -EINVAL when it
 * is not a regular file, or another -errno.
 */
int fileio_lock(int rootfd, const char *path, unsigned timeout_ms, struct fileio_lock *ret,
		pid_t *ret_holder);
void fileio_unlock(struct fileio_lock *l);
