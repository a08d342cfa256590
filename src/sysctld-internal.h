/* sysctld-internal.h: what the boot view's files (sysctld, sysctld_systemd, sysctld_procps) share; not for commands. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "strindex.h"
#include "sysctld.h"

/* One parsed line of a sysctl.d file. */
struct line {
	unsigned no;
	char *key;          /* canonical dotted key or pattern */
	char *raw;          /* value as written, stripped; NULL for "-key" */
	bool ignore_failure;
	bool glob;
	bool procps_skip;   /* "- key", "key.": procps names no file with it */
	bool odd;           /* procps's path has an empty component: see sysctl_assign */
};

struct pfile {
	char *path;
	struct line *lines;     /* as systemd splits the text */
	size_t n;
	struct line *pp_lines;  /* as procps does; the same array unless the text has CR or NUL */
	size_t n_pp;
	int err;                /* not readable: nothing applies */
};

/* A systemd-sysctl hashmap entry, with the raw value it compares on. */
struct sd_opt {
	struct sysctl_assign a;
	char *raw;
	bool dead;          /* replaced by a later entry: dropped when the table is done */
};

struct entry {
	char *name;
	char *path;         /* as the admin sees it */
	bool devnull;       /* a symlink to /dev/null: read as empty, never opened */
	bool overlay;
};

struct loader {
	int rootfd;
	const char *ov_path;
	const char *ov_text;
	char *ov_dir;
	const char *ov_name;
	bool ov_have_ino;
	dev_t ov_dev;
	ino_t ov_ino;
	struct pfile *files;
	size_t n_files, cap_files;
	struct strindex file_index;   /* path -> files[i] */
	struct sd_opt *sd;
	size_t n_sd, cap_sd;
	struct strindex sd_index;     /* key -> its live entry in sd */
	size_t cap_all, cap_pp, cap_pp_excl, cap_bv_files, cap_pp_files;
	struct bootview *bv;
};

/* sysctld.c: the files and lines both models read */
/* Room for one more element in *v (of size sz) holding n, doubling *cap. */
void sysctld_grow(void *v, size_t n, size_t *cap, size_t sz);
/* Every path below --root goes through here: symlinks resolve inside the root. */
int sysctld_open_in_root(int rootfd, const char *path, int flags);
/* Does a dotted pattern match a dotted key, as glob(3) on /proc/sys would? */
bool sysctld_glob_match(const char *pattern, const char *key);
/* Parse a file once; systemd and procps usually read the same ones. */
struct pfile *sysctld_load_file(struct loader *L, const struct entry *e, bool quiet_enoent);
/* The file list of one tool: first directory wins per name, sorted by name. */
void sysctld_list_files(struct loader *L, bool systemd, struct entry **ret, size_t *ret_n);
void sysctld_free_entries(struct entry *v, size_t n);
struct sysctl_assign sysctld_assign_of(const struct line *l, const char *file);
void sysctld_assign_free(struct sysctl_assign *a);
void sysctld_push(struct sysctl_assign **v, size_t *n, size_t *cap, struct sysctl_assign a);

/* sysctld_systemd.c: systemd-sysctl's table, into L->bv->sd (and every assignment into L->bv->all) */
void sysctld_systemd_load(struct loader *L);

/* sysctld_procps.c: procps' lines, into L->bv->pp and L->bv->pp_excl; its spellings that name no file */
void sysctld_procps_load(struct loader *L);
bool sysctld_procps_odd_spelling(const char *key);
bool sysctld_procps_trailing_miss(const char *key, bool glob);
