/* profile-internal.h: what the profile files (path, read, schema, perms, profile, rule) share; not for commands. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <libconfig.h>
#include "profile.h"

/*
 * The text libconfig parses: the profile with each @include line replaced
 * by the bytes of that file, read here once through the descriptor we
 * checked, and for each line of the text the file and line it came from.
 * libconfig 1.5 has no include hook and would open the file again by name:
 * a FIFO swapped in after our check would hang it, a bigger file would get
 * round the size limit.
 */
struct composed {
	char *text;
	size_t len, cap;
	char **files;                 /* [0] the profile, then each included file */
	size_t n_files;
	unsigned *file_of, *line_of;  /* per line of text */
	size_t n_lines, cap_lines;
};

struct frame {
	dev_t dev;
	ino_t ino;
	char *name;                   /* stack: for the cycle message */
	char *description;            /* done: for a name given again */
};

struct loader {
	const struct profile_path *pp;
	const struct procsys *ps;
	struct msgs *errors;
	struct msgs warnings;
	size_t n_errors;
	struct frame *stack;          /* profiles being loaded, for cycles */
	size_t n_stack;
	struct frame *done;           /* profiles merged already: each only once */
	size_t n_done;
	struct rule *rules;
	size_t n_rules;
	char **files;
	size_t n_files;
	char **allowed_by;
	size_t n_allowed_by;
	char *description;
	const struct composed *map;   /* of the file being walked: lines back to files */
	int io_error;                 /* the first failed read, -errno: the disk, not the profile */
};

/* Where a setting sits: its file (an @include may differ from the profile) and line. */
struct site {
	const char *file;
	unsigned line;
	const char *key;
};

struct filectx {
	const char *path;
	const char *profile;
	bool allow_uncatalogued;
	struct rule *rules;
	size_t n_rules;
};

/* profile_path.c: profile names and paths */
bool profile_path_ends_with(const char *s, const char *suffix);
bool profile_path_is_file(const char *name);
bool profile_path_name_valid(const char *name);
char *profile_path_name(const char *path);
char *profile_path_dir(const char *path);

/* profile_read.c: open a profile file once (fstat in st), then parse it with its @includes */
int profile_read_open(const char *path, struct stat *st, struct msgs *m);
int profile_read_parse(int fd, const char *path, config_t *c, struct composed *ret_comp, struct msgs *m);
void profile_read_free(struct composed *c);
const char *profile_read_where(const struct composed *c, int n, unsigned *ret_line);

/* profile.c: the loader's messages and where a setting sits */
/* "FILE:LINE: KEY: [field: ]message" */
void profile_serr(struct loader *l, const struct site *s, const char *field, const char *fmt, ...)
	TT_PRINTF(4, 5);
struct site profile_site_of(const struct loader *l, const config_setting_t *st, const char *file,
			    const char *key);

/* profile_schema.c: a setting's type in words; the settings of one group, into f->rules */
const char *profile_schema_type(const config_setting_t *v);
void profile_schema_walk(struct loader *l, struct filectx *f, const config_setting_t *g,
			 const char *prefix);

/* profile_perms.c: warn when others could change the profile at path */
void profile_perms_check(struct loader *l, const char *path, const struct stat *st);

/* rule.c */
void rule_clear(struct rule *r);
