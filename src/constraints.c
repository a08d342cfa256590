/* constraints.c: the live kernel's own constraints on a plan, checked before anything is touched. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "apply.h"
#include "apply-internal.h"
#include "catalogue.h"

/* ---- the live kernel's own constraints, checked before anything is touched ---- */

static struct apply_key *find_key(struct apply_tx *tx, const char *key)
{
	for (size_t i = 0; i < tx->n_keys; i++)
		if (!strcmp(tx->keys[i].key, key))
			return &tx->keys[i];
	return NULL;
}

static bool first_number(const char *v, long long *ret)
{
	char **tok = NULL;
	size_t n = v ? value_split(v, &tok) : 0;
	bool ok = n > 0 && parse_ll(tok[0], ret) == 0;

	strv_free(tok, n);
	return ok;
}

/* What key holds once apply is done: its target when this apply sets it, else live. */
static char *final_value(const struct procsys *ps, struct apply_tx *tx, const char *key, bool *ret_ours)
{
	struct apply_key *k = find_key(tx, key);
	char *v = NULL;

	*ret_ours = k && (k->action == APPLY_SET || k->action == APPLY_KEEP) && k->after;
	if (*ret_ours)
		return xstrdup(k->after);
	if (procsys_read(ps, key, &v) < 0)
		return NULL;
	return v;
}

/*
 * The catalogue's cross-key floors (ip_local_port_range's low port >=
 * ip_unprivileged_port_start): the kernel refuses any write that breaks
 * one, so a profile whose end state breaks it fails here with exit 2.
 */
int constraints_floors(const struct procsys *ps, struct apply_tx *tx)
{
	size_t n;
	const struct catentry *all = catalogue_all(&n);
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		const struct catentry *e = &all[i];
		struct apply_key *ke, *kf, *blame;
		char *ve, *vf;
		bool ours_e, ours_f;
		long long low, floor;

		if (!e->floor_key)
			continue;
		ke = find_key(tx, e->key);
		kf = find_key(tx, e->floor_key);
		if (!ke && !kf)
			continue;
		ve = final_value(ps, tx, e->key, &ours_e);
		vf = final_value(ps, tx, e->floor_key, &ours_f);
		blame = ours_e ? ke : ours_f ? kf : NULL;
		if (blame && first_number(ve, &low) && first_number(vf, &floor) && low < floor) {
			msgs_add(&tx->errors, "%s:%u: %s: %s would start at %lld, below %s = %lld%s: "
				 "the kernel refuses that (EINVAL); raise the low end to at least %lld, "
				 "or set %s to %lld or less", blame->rule ? blame->rule->file : "?",
				 blame->rule ? blame->rule->line : 0, blame->key, e->key, low,
				 e->floor_key, floor, ours_f ? " (set by the profile)" : " (live)",
				 floor, e->floor_key, low);
			ret = -EINVAL;
		}
		free(ve);
		free(vf);
	}
	return ret;
}

/*
 * Write a floor key before the key it bounds, or after it, whichever keeps
 * every step valid for the kernel: lowering both needs the floor first,
 * raising both needs the range first. Plan says which.
 */
void constraints_order(struct apply_tx *tx)
{
	size_t n;
	const struct catentry *all = catalogue_all(&n);

	for (size_t i = 0; i < n; i++) {
		const struct catentry *e = &all[i];
		struct apply_key *ke, *kf, tmp;
		long long old_low, new_floor;
		size_t ie, jf;
		bool floor_first;

		if (!e->floor_key)
			continue;
		ke = find_key(tx, e->key);
		kf = find_key(tx, e->floor_key);
		if (!ke || !kf || ke->action != APPLY_SET || kf->action != APPLY_SET)
			continue;
		floor_first = first_number(ke->before, &old_low) && first_number(kf->after, &new_floor) &&
			      old_low >= new_floor;
		ie = (size_t)(ke - tx->keys);
		jf = (size_t)(kf - tx->keys);
		if (floor_first && jf > ie) {
			tmp = tx->keys[jf];
			memmove(&tx->keys[ie + 1], &tx->keys[ie], (jf - ie) * sizeof(tmp));
			tx->keys[ie] = tmp;
		} else if (!floor_first && ie > jf) {
			tmp = tx->keys[ie];
			memmove(&tx->keys[jf + 1], &tx->keys[jf], (ie - jf) * sizeof(tmp));
			tx->keys[jf] = tmp;
		}
		msgs_add(&tx->notes, "write order: %s before %s, so that each write keeps the low "
			 "end of %s at or above %s, as the kernel requires",
			 floor_first ? e->floor_key : e->key, floor_first ? e->key : e->floor_key,
			 e->key, e->floor_key);
	}
}

static bool has_word(const char *list, const char *w)
{
	char **tok = NULL;
	size_t n = list ? value_split(list, &tok) : 0;
	bool found = false;

	for (size_t i = 0; i < n && !found; i++)
		found = !strcmp(tok[i], w);
	strv_free(tok, n);
	return found;
}

/* A congestion control built as a module this kernel would load on demand (init netns, as root). */
static bool cc_module(const char *name)
{
	static const char *const ext[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };
	struct utsname u;

	if (uname(&u) < 0 || strpbrk(name, "/."))
		return false;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		char *path = xasprintf("/lib/modules/%s/kernel/net/ipv4/tcp_%s%s", u.release, name, ext[i]);
		bool ok = access(path, F_OK) == 0;

		free(path);
		if (ok)
			return true;
	}
	return false;
}

static bool cc_usable(const char *name, const char *avail, const char *allowed, bool child)
{
	if (child)
		return has_word(avail, name) && has_word(allowed, name);
	return has_word(avail, name) || cc_module(name);
}

/*
 * The congestion control must be one the kernel has (or can load), and in a
 * child netns one of tcp_allowed_congestion_control (else EPERM). A one_of
 * rule takes its first usable choice.
 */
int constraints_cc(const struct procsys *ps, struct apply_tx *tx)
{
	struct apply_key *k = find_key(tx, "net.ipv4.tcp_congestion_control");
	char *avail = NULL, *allowed = NULL;
	int ret = 0;

	if (!k || k->action != APPLY_SET || !k->after)
		return 0;
	if (procsys_read(ps, "net.ipv4.tcp_available_congestion_control", &avail) < 0)
		avail = NULL;
	if (tx->child_netns &&
	    procsys_read(ps, "net.ipv4.tcp_allowed_congestion_control", &allowed) < 0)
		allowed = NULL;
	if (!avail || cc_usable(k->after, avail, allowed, tx->child_netns))
		goto out;
	for (size_t i = 0; k->rule && i < k->rule->n_one_of; i++)
		if (cc_usable(k->rule->one_of[i], avail, allowed, tx->child_netns)) {
			free(k->after);
			k->after = xstrdup(k->rule->one_of[i]);
			msgs_add(&tx->notes, "%s: %s, the first choice this kernel can use", k->key, k->after);
			if (value_equal(k->before, k->after)) {
				k->action = APPLY_KEEP;
				tx->n_set--;
			}
			goto out;
		}
	msgs_add(&tx->errors, "%s:%u: %s: %s is not %s (%s: %s); the kernel would refuse it (%s)",
		 k->rule ? k->rule->file : "?", k->rule ? k->rule->line : 0, k->key, k->after,
		 has_word(avail, k->after) || cc_module(k->after) ?
			 "allowed in this network namespace" : "available on this kernel",
		 has_word(avail, k->after) ? "tcp_allowed_congestion_control" :
					     "tcp_available_congestion_control",
		 has_word(avail, k->after) ? allowed : avail,
		 has_word(avail, k->after) ? "EPERM" : "ENOENT");
	ret = -EINVAL;
out:
	free(avail);
	free(allowed);
	return ret;
}

/* ---- a new port range against listeners and Kubernetes' NodePorts ---- */

#define NODEPORT_LO 30000
#define NODEPORT_HI 32767

/* Ports in LISTEN in /proc/net/tcp{,6} below rootfd (the namespace we are in), as a bitmap. */
static void listening_ports(int rootfd, unsigned char *set)
{
	static const char *const files[] = { "proc/net/tcp", "proc/net/tcp6" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd = openat(rootfd, files[i], O_RDONLY | O_CLOEXEC);
		FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
		char line[512];

		if (!f) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while (fgets(line, sizeof(line), f)) {
			unsigned port, st;
			char *colon = strchr(line, ':');

			/* "  0: 0100007F:1F90 00000000:0000 0A ..." */
			colon = colon ? strchr(colon + 1, ':') : NULL;
			if (!colon || sscanf(colon + 1, "%x %*s %x", &port, &st) != 2 || st != 0x0A ||
			    port > 65535)
				continue;
			set[port / 8] |= (unsigned char)(1u << (port % 8));
		}
		fclose(f);
	}
}

static bool in_set(const unsigned char *set, long p)
{
	return set[p / 8] & (1u << (p % 8));
}

/* Ports in a reserved-ports list ("8080,30000-32767"), as a bitmap. */
static void reserved_set(const char *list, unsigned char *set)
{
	const char *p = list;

	while (p && *p) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;

		if (end == p)
			break;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		for (long i = lo; i <= hi && i >= 0 && i < 65536; i++)
			set[i / 8] |= (unsigned char)(1u << (i % 8));
		p = *end == ',' ? end + 1 : NULL;
	}
}

/*
 * A port range that now takes in a port something listens on, or
 * Kubernetes' NodePort range, lets an outgoing connection take that port
 * first: warn, unless ip_local_reserved_ports keeps it out.
 */
void constraints_ports(int rootfd, const struct procsys *ps, struct apply_tx *tx)
{
	static unsigned char listen[65536 / 8], reserved[65536 / 8];
	struct apply_key *k = find_key(tx, "net.ipv4.ip_local_port_range");
	long long lo, hi, old_lo = 0, old_hi = -1;
	char **tok = NULL, *res;
	size_t n, shown = 0, hits = 0;
	bool ours, nodeport = false;
	char *ports;

	if (!k || k->action != APPLY_SET || !k->after)
		return;
	ports = xstrdup("");
	n = value_split(k->after, &tok);
	if (n != 2 || parse_ll(tok[0], &lo) < 0 || parse_ll(tok[1], &hi) < 0) {
		strv_free(tok, n);
		free(ports);
		return;
	}
	strv_free(tok, n);
	n = k->before ? value_split(k->before, &tok) : 0;
	if (n != 2 || parse_ll(tok[0], &old_lo) < 0 || parse_ll(tok[1], &old_hi) < 0)
		old_hi = -1;
	strv_free(tok, n);
	memset(listen, 0, sizeof(listen));
	memset(reserved, 0, sizeof(reserved));
	listening_ports(rootfd, listen);
	res = final_value(ps, tx, "net.ipv4.ip_local_reserved_ports", &ours);
	reserved_set(res, reserved);
	free(res);
	for (long p = (long)lo; p <= (long)hi && p < 65536; p++) {
		bool was_in = p >= old_lo && p <= old_hi;

		if (in_set(reserved, p) || was_in)
			continue;
		if (p >= NODEPORT_LO && p <= NODEPORT_HI)
			nodeport = true;
		if (in_set(listen, p)) {
			hits++;
			if (shown++ < 8) {
				char *t = xasprintf("%s%s%ld", ports, *ports ? ", " : "", p);
				free(ports);
				ports = t;
			}
		}
	}
	if (hits)
		msgs_add(&tx->warnings, "net.ipv4.ip_local_port_range %lld-%lld now takes in port%s %s%s "
			 "that %s listening here: an outgoing connection may take %s first; reserve "
			 "%s with net.ipv4.ip_local_reserved_ports or move the listener", lo, hi,
			 hits == 1 ? "" : "s", ports, hits > shown ? ", ..." : "",
			 hits == 1 ? "a process is" : "processes are", hits == 1 ? "it" : "one",
			 hits == 1 ? "it" : "them");
	if (nodeport)
		msgs_add(&tx->warnings, "net.ipv4.ip_local_port_range %lld-%lld now overlaps Kubernetes' "
			 "NodePort range %d-%d: on a Kubernetes node, reserve it with "
			 "net.ipv4.ip_local_reserved_ports = \"%d-%d\" in the profile", lo, hi,
			 NODEPORT_LO, NODEPORT_HI, NODEPORT_LO, NODEPORT_HI);
	free(ports);
}
