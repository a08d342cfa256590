/* plan.c: what apply would do, touching nothing: targets, the new fragment, boot overrides, stale keys. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "apply.h"
#include "apply-internal.h"
#include "catalogue.h"
#include "sysctld.h"

/* ---- plan ------------------------------------------------------------- */


static bool is_skipped_host_key(const struct rule *r, bool child)
{
	return child && r->cat &&
	       (r->cat->scope == SCOPE_HOST || r->cat->scope == SCOPE_HOST_RO ||
		r->cat->scope == SCOPE_GLOBAL);
}
/* systemd-sysctl reads /run/sysctl.d at boot, but /run is a tmpfs: by then the file is gone. */
static void check_volatile(struct apply_tx *tx)
{
	if (strncmp(tx->fragment, "/run/", 5) == 0)
		msgs_add(&tx->warnings, "%s is below /run, which is emptied at every boot: the "
			 "settings will not survive a reboot; use a file in /etc/sysctl.d", tx->fragment);
}

static void check_boot(int rootfd, const struct profile *p, struct apply_tx *tx)
{
	struct bootview bv = { 0 };
	bool read_at_boot = false;

	/* the boot view as it will be once the new fragment is in place */
	if (sysctld_load(rootfd, tx->fragment, tx->frag_new, &bv) < 0)
		return;
	for (size_t i = 0; i < bv.n_files; i++)
		if (strcmp(bv.files[i], tx->fragment) == 0)
			read_at_boot = true;
	if (!read_at_boot) {
		msgs_add(&tx->warnings, "%s is not read at boot by systemd-sysctl (not a *.conf file in "
			 "a sysctl.d directory, or shadowed by a file of the same name earlier in "
			 "the search order): the settings will not survive a reboot", tx->fragment);
		goto out;
	}
	/* a later file that beats the fragment is not for apply to overwrite: plan names it */
	(void)bootfix_find(rootfd, p, tx->child_netns, tx->fragment, tx->frag_new, &tx->conflicts);
out:
	sysctld_free(&bv);
}


/* Kubernetes' safe sysctls (kubelet pkg/kubelet/sysctl/safe_sysctls.go, 1.29): the others are "unsafe". */
static const char *const k8s_safe[] = {
	"net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports",
	"net.ipv4.ip_unprivileged_port_start", "net.ipv4.ping_group_range",
	"net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_syncookies",
};

static bool k8s_is_safe(const char *key)
{
	for (size_t i = 0; i < sizeof(k8s_safe) / sizeof(k8s_safe[0]); i++)
		if (strcmp(key, k8s_safe[i]) == 0)
			return true;
	return false;
}

static void note_scope(struct apply_tx *tx)
{
	char *safe = xstrdup("");
	size_t n = 0, nsafe = 0;

	if (tx->child_netns)
		goto out;
	for (size_t i = 0; i < tx->n_keys; i++) {
		const struct rule *r = tx->keys[i].rule;

		if (!r || !r->cat || r->cat->scope != SCOPE_NETNS)
			continue;
		n++;
		if (k8s_is_safe(r->key)) {
			char *t = xasprintf("%s%s%s", safe, nsafe++ ? ", " : "", r->key);
			free(safe);
			safe = t;
		}
	}
	if (n)
		msgs_add(&tx->notes, "%zu of these keys %s per network namespace: containers and new "
			 "network namespaces start from kernel defaults, not from this fragment; set "
			 "them per container with docker run --sysctl KEY=VALUE or Kubernetes "
			 "securityContext.sysctls (%s%s%s)", n, n == 1 ? "is" : "are",
			 nsafe ? "safe there: " : "none is a Kubernetes safe sysctl", safe,
			 nsafe && nsafe < n ? "; the others need the kubelet's --allowed-unsafe-sysctls" :
			 !nsafe ? ": the kubelet must allow them with --allowed-unsafe-sysctls" : "");
out:
	free(safe);
}

/*
 * A profile as the journal names it: a name from the profile path as it
 * is, a file by its absolute path (a relative one means nothing from
 * another directory).
 */
static char *shown_name(const char *name)
{
	char *abs;

	if (!strchr(name, '/') && (strlen(name) < 5 || strcmp(name + strlen(name) - 5, ".conf")))
		return xstrdup(name);
	abs = realpath(name, NULL);
	return abs ? abs : xstrdup(name);
}


static bool named(const struct apply_tx *tx, const char *key)
{
	for (size_t i = 0; i < tx->n_keys; i++)
		if (strcmp(tx->keys[i].key, key) == 0)
			return true;
	return false;
}

/*
 * Keys an earlier apply in this namespace set that these profiles no
 * longer name would stay set live yet leave the fragment: the host would
 * change at the next boot. Put them back to their value before tcptune
 * first set them, unless --keep-stale. Then record what this apply sets.
 */
static int plan_stale(int rootfd, const struct procsys *ps, const struct apply_opts *ao,
		      struct apply_tx *tx)
{
	struct msgs m = { 0 };
	struct journal j;
	bool found;
	int r = journal_load(rootfd, &j, &found, &m);

	/* a journal that cannot be read now (EIO) would drop the stale keys and the originals */
	if (r < 0 && r != -EINVAL)
		msgs_add(&tx->errors, "%s", msgs_last(&m));
	msgs_free(&m);
	if (r < 0 && r != -EINVAL)
		return r;
	if (r == 0 && found && journal_same_netns(&j, ao)) {
		/* originals carried over keep the opt-in they were set under */
		tx->allow_uncatalogued = tx->allow_uncatalogued || j.allow_uncatalogued;
		for (size_t i = 0; i < j.n_originals; i++) {
			const struct apply_orig *o = &j.originals[i];
			struct apply_key *k;
			int rr;

			journal_origs_add(&tx->originals, &tx->n_originals, o->key, o->value);
			if (named(tx, o->key))
				continue;
			k = apply_add_key(tx, o->key);
			rr = procsys_read(ps, o->key, &k->before);
			/* gone is gone; a value we cannot read (EIO) is not */
			if (rr < 0 && rr != -ENOENT) {
				msgs_add(&tx->errors, "%s: set by an earlier apply: cannot read the live "
					 "value: %s", o->key, strerror(-rr));
				journal_free(&j);
				return rr;
			}
			if (rr < 0) {
				k->before = NULL;
				k->action = APPLY_SKIP_GONE;
				continue;
			}
			tx->n_stale++;
			k->after = xstrdup(ao->keep_stale ? k->before : o->value);
			k->action = value_equal(k->before, k->after) ? APPLY_KEEP : APPLY_SET;
			if (k->action == APPLY_SET) {
				tx->n_set++;
				msgs_add(&tx->notes, "%s: set by an earlier apply and named by none of these "
					 "profiles: back to %s, its value before tcptune first set it "
					 "(--keep-stale keeps %s)", o->key, o->value, k->before);
			} else if (ao->keep_stale && !value_equal(k->before, o->value)) {
				msgs_add(&tx->warnings, "%s: set by an earlier apply and named by none of "
					 "these profiles: kept at %s (--keep-stale); it is not in the fragment, "
					 "so the next boot sets it back to %s or whatever sysctl.d says",
					 o->key, k->before, o->value);
			}
		}
	}
	if (found)
		journal_free(&j);
	for (size_t i = 0; i < tx->n_keys; i++)
		if (tx->keys[i].action == APPLY_SET)
			journal_origs_add(&tx->originals, &tx->n_originals, tx->keys[i].key, tx->keys[i].before);
	return 0;
}

enum apply_outcome apply_plan(int rootfd, const struct procsys *ps, const struct profile *p,
			      const struct apply_opts *ao, struct apply_tx *tx)
{
	int r;

	*tx = (struct apply_tx){ 0 };
	tx->allow_uncatalogued = p->n_allow_uncatalogued > 0;
	tx->profiles = xcalloc(p->n_names + 1, sizeof(*tx->profiles));
	tx->n_profiles = p->n_names;
	for (size_t i = 0; i < p->n_names; i++)
		tx->profiles[i] = shown_name(p->names[i]);
	tx->fragment = xstrdup(ao->fragment);
	tx->child_netns = procsys_in_child_netns(ps);
	tx->frag_old_mode = 0644;
	r = apply_read_file(rootfd, ao->fragment, &tx->frag_old, &tx->frag_old_len, &tx->frag_old_mode);
	if (r < 0) {
		msgs_add(&tx->errors, "%s: %s", ao->fragment, apply_file_error(r));
		return APPLY_FAILED;
	}
	/* what audit and doctor use later: the files as read now, not the names as typed */
	r = provenance_collect(p, &tx->sources, &tx->n_sources, &tx->errors);
	if (r < 0)
		return APPLY_INVALID;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct rule *r0 = &p->rules[i];
		struct apply_key *k = apply_add_key(tx, r0->key);
		int rr;

		k->rule = r0;
		rr = procsys_read(ps, r0->key, &k->before);
		if (rr < 0)
			k->before = NULL;
		k->after = rule_target(r0, k->before);
		if (is_skipped_host_key(r0, tx->child_netns)) {
			k->action = APPLY_SKIP_SCOPE;
			msgs_add(&tx->notes, "%s: skipped: host-wide (%s), not set from a child network "
				 "namespace; apply it on the host", r0->key,
				 catalogue_scope_name(r0->cat->scope));
		} else if (rr == -ENOENT && r0->optional) {
			k->action = APPLY_SKIP_MISSING;
			msgs_add(&tx->notes, "%s: skipped: optional, and this kernel does not have it",
				 r0->key);
		} else if (rr == -ENOENT) {
			msgs_add(&tx->errors, "%s:%u: %s: this kernel does not have the key; mark the "
				 "rule optional = true to skip it where it is missing",
				 r0->file, r0->line, r0->key);
			r = -EINVAL;
		} else if (rr < 0) {
			msgs_add(&tx->errors, "%s: cannot read the live value: %s", r0->key, strerror(-rr));
			if (r == 0)
				r = rr;
		} else if (!k->after) {
			k->action = APPLY_KEEP;
		} else if (value_equal(k->before, k->after)) {
			k->action = APPLY_KEEP;
		} else {
			k->action = APPLY_SET;
			tx->n_set++;
		}
	}
	if (r == 0 && constraints_floors(ps, tx) < 0)
		r = -EINVAL;
	if (r == 0 && constraints_cc(ps, tx) < 0)
		r = -EINVAL;
	if (r == 0) {
		constraints_order(tx);
		constraints_ports(rootfd, ps, tx);
	}
	if (r < 0)
		return r == -EINVAL ? APPLY_INVALID : APPLY_FAILED;
	r = plan_stale(rootfd, ps, ao, tx);
	if (r < 0)
		return APPLY_FAILED;
	if (ao->netns) {
		/*
		 * The fragment below our root configures the host at boot, not
		 * the namespace we entered: leave it as it is.
		 */
		if (tx->frag_old) {
			tx->frag_new = xmalloc(tx->frag_old_len + 1);
			memcpy(tx->frag_new, tx->frag_old, tx->frag_old_len + 1);
		}
		tx->frag_new_len = tx->frag_old_len;
		tx->frag_new_mode = tx->frag_old_mode;
		msgs_add(&tx->notes, "--netns: %s is left alone: it configures the host at boot, not "
			 "this namespace, whose values last as long as it does; to keep them for a "
			 "container, set them in its runtime (docker run --sysctl, Kubernetes "
			 "securityContext.sysctls)", ao->fragment);
		return APPLY_OK;
	}
	r = apply_render_for(rootfd, p, ps, ao->fragment, &tx->frag_new);
	if (r < 0) {
		msgs_add(&tx->errors, "cannot render the fragment: %s", strerror(-r));
		return APPLY_FAILED;
	}
	tx->frag_new_len = strlen(tx->frag_new);
	tx->frag_new_mode = 0644;
	tx->frag_changes = !apply_same_bytes(tx->frag_old, tx->frag_old_len, tx->frag_new, tx->frag_new_len);
	check_boot(rootfd, p, tx);
	check_volatile(tx);
	note_scope(tx);
	return APPLY_OK;
}

