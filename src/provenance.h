/* SPDX-License-Identifier: ISC */
/* provenance.h: which files an apply read (profiles and their @include files), by absolute path and SHA-256. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "profile.h"
#include "util.h"

struct provenance {
	char *path;            /* absolute, symlinks resolved */
	char sha256[65];       /* of the bytes; "" when it could not be read */
	bool profile;          /* a profile (top or parent), not an @include */
};

/*
 * Every file of a loaded profile: p->files in load order, each followed by
 * the files it @includes (found as libconfig finds them: relative to the
 * profile's directory, nested ones too). 0, or -errno with a message.
 */
int provenance_collect(const struct profile *p, struct provenance **ret, size_t *ret_n,
		       struct msgs *errors);
void provenance_free(struct provenance *v, size_t n);

/*
 * Compare recorded files with the disk now: one message per file that
 * changed or vanished since. Returns how many vanished.
 */
size_t provenance_check(const struct provenance *v, size_t n, struct msgs *ret);
