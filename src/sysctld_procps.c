/* sysctld_procps.c: the boot view as procps 4.0.2 `sysctl --system` reads and writes it. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sysctld.h"
#include "sysctld-internal.h"

#define PROCPS_CONF "/etc/sysctl.conf"

/*
 * procps builds "/proc/sys/" + key with the separators swapped and never
 * simplifies it, then compares such paths with strcmp(): a leading or
 * doubled separator makes a path that matches no other spelling (checked
 * with sysctl 4.0.2; a single trailing one on a glob is harmless).
 */
bool sysctld_procps_odd_spelling(const char *key)
{
	const char *sep = strpbrk(key, "./");
	size_t len = strlen(key);

	if (!sep)
		return false;
	if (len > 1 && key[len - 1] == *sep)
		len--;
	if (key[0] == *sep)
		return true;
	for (size_t i = 1; i < len; i++)
		if (key[i] == *sep && key[i - 1] == *sep)
			return true;
	return false;
}

/*
 * procps does not simplify either: "/proc/sys/.../tcp_sack/" names no
 * file. glob() copes with "conf.e*.rp_filter." (it stats the literal last
 * component) but lets "tcp_s*." match directories only.
 */
bool sysctld_procps_trailing_miss(const char *key, bool glob)
{
	size_t len = strlen(key);
	const char *last;

	if (!len || !strchr("./", key[len - 1]))
		return false;
	if (!glob)
		return true;
	last = key + len - 1;
	while (last > key && !strchr("./", last[-1]))
		last--;
	return strcspn(last, "*?[") < (size_t)(key + len - 1 - last);
}

/* procps reads /etc/sysctl.conf last, and only when it is a regular file. */
static bool procps_conf_present(struct loader *L, struct entry *e)
{
	struct stat st;
	int fd;

	*e = (struct entry){ .name = (char *)"sysctl.conf", .path = (char *)PROCPS_CONF };
	if (L->ov_path && !strcmp(L->ov_path, PROCPS_CONF)) {
		e->overlay = true;
		return L->ov_text != NULL;
	}
	fd = sysctld_open_in_root(L->rootfd, PROCPS_CONF, O_PATH);
	if (fd < 0)
		return false;
	bool reg = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	(void)close(fd);
	return reg;
}

static void procps_file(struct loader *L, const struct entry *e)
{
	struct bootview *bv = L->bv;
	struct pfile *pf = sysctld_load_file(L, e, false);

	sysctld_grow(&bv->pp_files, bv->n_pp_files, &L->cap_pp_files, sizeof(*bv->pp_files));
	bv->pp_files[bv->n_pp_files++] = xstrdup(e->path);
	for (size_t j = 0; j < pf->n_pp; j++) {
		const struct line *l = &pf->pp_lines[j];
		struct sysctl_assign a;

		if (l->procps_skip || (!l->raw && l->odd))
			continue;	/* writes nothing, excludes nothing */
		a = sysctld_assign_of(l, pf->path);
		a.odd_spelling = l->odd;
		if (l->raw)
			sysctld_push(&bv->pp, &bv->n_pp, &L->cap_pp, a);
		else
			sysctld_push(&bv->pp_excl, &bv->n_pp_excl, &L->cap_pp_excl, a);
	}
}

void sysctld_procps_load(struct loader *L)
{
	struct entry *v, conf;
	size_t n;

	sysctld_list_files(L, false, &v, &n);
	for (size_t i = 0; i < n; i++)
		procps_file(L, &v[i]);
	sysctld_free_entries(v, n);
	if (procps_conf_present(L, &conf))
		procps_file(L, &conf);
}

/*
 * procps write_setting_list(): the lines are written in order. An exact
 * line always writes (a later "-key" does not cancel it); a glob skips a
 * key that some exact line or exact "-key" names anywhere, compared as
 * path strings (see sysctld_procps_odd_spelling()). Its source also fnmatch()es glob
 * exclusions, but 4.0.2 as shipped ignores them (checked), and so do we.
 */
const struct sysctl_assign *sysctld_find_procps(const struct bootview *bv, const char *key)
{
	bool blocked = false;

	if (!bv || !key_valid(key))
		return NULL;
	for (size_t i = 0; i < bv->n_pp && !blocked; i++)
		blocked = !bv->pp[i].glob && !bv->pp[i].odd_spelling && !strcmp(bv->pp[i].key, key);
	for (size_t i = 0; i < bv->n_pp_excl && !blocked; i++)
		blocked = !bv->pp_excl[i].glob && !strcmp(bv->pp_excl[i].key, key);
	for (size_t i = bv->n_pp; i-- > 0;) {
		const struct sysctl_assign *a = &bv->pp[i];

		if (!a->glob && !strcmp(a->key, key))
			return a;
		if (a->glob && (a->odd_spelling || !blocked) && sysctld_glob_match(a->key, key))
			return a;
	}
	return NULL;
}

