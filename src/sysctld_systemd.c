/* sysctld_systemd.c: the boot view as systemd-sysctl 252 builds and applies its table. */
#include <stdlib.h>
#include <string.h>
#include "sysctld.h"
#include "sysctld-internal.h"

/*
 * systemd parse_file(): an OrderedHashmap keyed by the normalized key or
 * pattern. The same value again only ORs ignore_failure and keeps the
 * entry where it is; a different value (or a "-key" line) removes the
 * entry and appends the new one, so it moves to the end. We keep the
 * entry's place but report the latest line that states the value: that
 * is the line an admin has to edit.
 */
static void sd_add(struct loader *L, const struct line *l, const char *file)
{
	size_t at = strindex_get(&L->sd_index, l->key);

	if (at != (size_t)-1) {
		struct sd_opt *o = &L->sd[at];

		if ((!o->raw && !l->raw) || (o->raw && l->raw && !strcmp(o->raw, l->raw))) {
			bool ign = o->a.ignore_failure || l->ignore_failure;
			char *key = o->a.key;

			/* the index borrows the key: keep that string, take the rest anew */
			o->a.key = NULL;
			sysctld_assign_free(&o->a);
			o->a = sysctld_assign_of(l, file);
			free(o->a.key);
			o->a.key = key;
			o->a.ignore_failure = ign;
			return;
		}
		/* removed here and appended below: marked now, dropped when the table is done */
		o->dead = true;
	}
	sysctld_grow(&L->sd, L->n_sd, &L->cap_sd, sizeof(*L->sd));
	L->sd[L->n_sd++] = (struct sd_opt){
		.a = sysctld_assign_of(l, file),
		.raw = l->raw ? xstrdup(l->raw) : NULL,
	};
	strindex_put(&L->sd_index, L->sd[L->n_sd - 1].a.key, L->n_sd - 1);
}

void sysctld_systemd_load(struct loader *L)
{
	struct bootview *bv = L->bv;
	struct entry *v;
	size_t n;

	sysctld_list_files(L, true, &v, &n);
	for (size_t i = 0; i < n; i++) {
		struct pfile *pf = sysctld_load_file(L, &v[i], true);

		sysctld_grow(&bv->files, bv->n_files, &L->cap_bv_files, sizeof(*bv->files));
		bv->files[bv->n_files++] = xstrdup(v[i].path);
		for (size_t j = 0; j < pf->n; j++) {
			const struct line *l = &pf->lines[j];

			if (l->raw)
				sysctld_push(&bv->all, &bv->n_all, &L->cap_all, sysctld_assign_of(l, pf->path));
			sd_add(L, l, pf->path);
		}
	}
	sysctld_free_entries(v, n);
	strindex_free(&L->sd_index);
	bv->sd = xcalloc(L->n_sd ? L->n_sd : 1, sizeof(*bv->sd));
	bv->n_sd = 0;
	for (size_t i = 0; i < L->n_sd; i++) {
		if (L->sd[i].dead)
			sysctld_assign_free(&L->sd[i].a);
		else
			bv->sd[bv->n_sd++] = L->sd[i].a;
		free(L->sd[i].raw);
	}
	free(L->sd);
	L->sd = NULL;
	L->n_sd = 0;
}

/*
 * systemd apply_all(): an exact entry is written as is (or, as a "-key"
 * line, not at all); a glob is expanded on /proc/sys and each match is
 * skipped when the table holds that key exactly ("explicit setting
 * exists"), wherever that entry stands. Otherwise globs are written in
 * table order, so the last matching glob wins.
 */
const struct sysctl_assign *sysctld_find(const struct bootview *bv, const char *key)
{
	const struct sysctl_assign *win = NULL;

	if (!bv || !key_valid(key))
		return NULL;
	for (size_t i = 0; i < bv->n_sd; i++)
		if (!bv->sd[i].glob && !strcmp(bv->sd[i].key, key))
			return bv->sd[i].value ? &bv->sd[i] : NULL;
	for (size_t i = 0; i < bv->n_sd; i++)
		if (bv->sd[i].glob && bv->sd[i].value && sysctld_glob_match(bv->sd[i].key, key))
			win = &bv->sd[i];
	return win;
}

