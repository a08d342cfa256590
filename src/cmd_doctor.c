/* cmd_doctor.c: the doctor command: sockets and settings turned into findings with a fix. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "apply.h"
#include "audit.h"
#include "doctor.h"
#include "output.h"
#include "sockets.h"
#include "sysctld.h"
#include "remedy.h"
#include "tcptune.h"

static int census(const struct opts *o, const struct ctx *cx, enum sockets_source src,
		  const struct census_query *base, struct census *ret)
{
	struct census_query cq = *base;
	char err[512] = "";
	int r;

	cq.q.family = AF_UNSPEC;
	cq.q.source = src;
	if (sockets_query_env(&cq.q, o->root) < 0) {
		tt_error(o, "doctor: TCPTUNE_SOCKETS_SOURCE wants auto, netlink or proc");
		return EXIT_USAGE;
	}
	r = census_run(cx->rootfd, &cq, ret, err, sizeof(err));
	if (r < 0) {
		char *esc = output_escape(err);

		tt_error(o, "doctor: %s", esc);
		free(esc);
		return cq.q.replay || strcmp(o->root, "/") ? EXIT_USAGE : EXIT_RESTORED;
	}
	return EXIT_OK;
}

/*
 * Two walks: every socket for the per-destination port pressure, and the
 * CLOSE_WAIT ones alone (a kernel-filtered dump) with owners and idle
 * times, so /proc/PID/fd is read only for those inodes.
 */
static int gather(const struct opts *o, const struct ctx *cx, enum sockets_source src,
		  const struct tcpenv *e, struct census *ret)
{
	struct census_query cq;
	struct census cw;
	int r;

	memset(&cq, 0, sizeof(cq));
	cq.remotes = true;
	cq.exact = true;
	cq.range = e->range;
	r = census(o, cx, src, &cq, ret);
	if (r != EXIT_OK)
		return r;
	memset(&cq, 0, sizeof(cq));
	cq.q.states = 1u << TCPS_CLOSE_WAIT;
	cq.q.info = true;
	cq.owners = true;
	r = census(o, cx, src, &cq, &cw);
	if (r != EXIT_OK) {
		census_free(ret);
		return r;
	}
	/* hand the owners over; the counts stay those of the full walk */
	ret->owners = cw.owners;
	ret->n_owners = cw.n_owners;
	ret->unowned = cw.unowned;
	ret->procs_denied = cw.procs_denied;
	ret->procs_vanished = cw.procs_vanished;
	if (cw.states[TCPS_CLOSE_WAIT] > ret->states[TCPS_CLOSE_WAIT]) {
		ret->total += cw.states[TCPS_CLOSE_WAIT] - ret->states[TCPS_CLOSE_WAIT];
		ret->states[TCPS_CLOSE_WAIT] = cw.states[TCPS_CLOSE_WAIT];
	}
	cw.owners = NULL;
	cw.n_owners = 0;
	census_free(&cw);
	return EXIT_OK;
}

/*
 * The profiles named, or those of the last apply, audited. The findings
 * point into p: the caller frees both after use.
 */
static int audit_profiles(const struct opts *o, struct ctx *cx, char **names, size_t n,
			  struct profile *p, struct audit *a, bool *ret_have)
{
	struct bootview bv = { 0 };
	char **recorded = NULL, *why = NULL;
	int r;

	*ret_have = false;
	if (n == 0) {
		ctx_recorded_profiles(o, cx, &recorded, &n, &why);
		if (!recorded) {
			if (o->verbose)
				tt_warn(o, "doctor: %s; settings are not audited", why);
			free(why);
			return EXIT_OK;
		}
		names = recorded;
	}
	r = ctx_load_profiles(o, cx, names, n, p);
	strv_free(recorded, recorded ? n : 0);
	/* the sockets still deserve a diagnosis when the recorded profiles are gone */
	if (r != EXIT_OK && recorded) {
		tt_warn(o, "doctor: the profiles of the last apply could not be loaded; settings are not audited");
		return EXIT_OK;
	}
	if (r != EXIT_OK)
		return r;
	r = sysctld_load(cx->rootfd, NULL, NULL, &bv);
	if (r < 0) {
		tt_error(o, "doctor: reading sysctl.d: %s", strerror(-r));
		profile_free(p);
		return EXIT_USAGE;
	}
	tt_print_msgs(o, &bv.warnings, true);
	r = audit_run(p, &cx->ps, &bv, a);
	sysctld_free(&bv);
	if (r < 0) {
		profile_free(p);
		tt_error(o, "doctor: audit: %s", strerror(-r));
		return EXIT_RESTORED;
	}
	{
		/* each finding's fix as a full command, boot conflicts named (as audit prints them) */
		char *frag = remedy_fragment(o, cx->rootfd);
		free(remedy_audit(o, cx->rootfd, &cx->ps, p, frag, a));
		free(frag);
	}
	*ret_have = true;
	return EXIT_OK;
}

static json_t *jstr(const char *s)
{
	char *e = output_escape(s);
	json_t *j = json_string(e);

	free(e);
	return j;
}

static void print_json(const struct doctor *d, const struct census *c)
{
	json_t *doc = json_object(), *arr = json_array(), *sk = json_object(), *st = json_object();
	size_t i;
	int s;

	for (i = 0; i < d->n; i++) {
		json_t *f = json_object();

		json_object_set_new(f, "id", json_string(d->f[i].id));
		json_object_set_new(f, "severity", json_string(doctor_severity_name(d->f[i].severity)));
		json_object_set_new(f, "summary", jstr(d->f[i].summary));
		json_object_set_new(f, "evidence", jstr(d->f[i].evidence));
		json_object_set_new(f, "fix", jstr(d->f[i].fix));
		json_array_append_new(arr, f);
	}
	json_object_set_new(doc, "findings", arr);
	for (s = 1; s < TCPS_MAX; s++)
		json_object_set_new(st, sockets_state_name(s), json_integer((json_int_t)c->states[s]));
	json_object_set_new(sk, "total", json_integer((json_int_t)c->total));
	json_object_set_new(sk, "states", st);
	json_object_set_new(doc, "sockets", sk);
	(void)output_json(stdout, doc);
}

static void print_prom(const struct doctor *d)
{
	size_t n[3] = { 0, 0, 0 }, i;
	int s;

	for (i = 0; i < d->n; i++)
		n[d->f[i].severity]++;
	output_prom_header(stdout, "tcptune_doctor_findings", "gauge", "doctor findings by severity.");
	for (s = SEV_INFO; s <= SEV_CRITICAL; s++)
		printf("tcptune_doctor_findings{severity=\"%s\"} %zu\n", doctor_severity_name(s), n[s]);
}

static void print_text(const struct opts *o, const struct doctor *d)
{
	static const enum style sty[] = { STYLE_DIM, STYLE_WARN, STYLE_BAD };
	size_t n[3] = { 0, 0, 0 }, i;

	for (i = 0; i < d->n; i++) {
		const struct dfinding *f = &d->f[i];
		char *sum = output_escape(f->summary), *ev = output_escape(f->evidence);
		char *fix = output_escape(f->fix);

		n[f->severity]++;
		if (!(o->quiet && f->severity == SEV_INFO)) {
			printf("%s%-8s%s %s: %s\n", output_style_on(sty[f->severity], o->color),
			       doctor_severity_name(f->severity), output_style_off(o->color), f->id, sum);
			printf("  evidence: %s\n  fix: %s\n\n", ev, fix);
		}
		free(sum);
		free(ev);
		free(fix);
	}
	if (!o->quiet)
		printf("%zu finding%s: %zu critical, %zu warning, %zu info\n", d->n, d->n == 1 ? "" : "s",
		       n[SEV_CRITICAL], n[SEV_WARNING], n[SEV_INFO]);
}

/*
 * The audit findings' fix names the profile that set the key, which may be
 * a parent (apply baseline would drop the rest of crawler) and lacks the
 * run's --root, --netns…: name the profiles doctor audited, as they paste.
 * Every other "`tcptune ..." in a fix gets the run's global options.
 */
static void complete_fixes(const struct opts *o, const struct profile *p, struct doctor *d)
{
	char *apply = p ? tt_hint(o, "apply", p->names, p->n_names) : NULL;
	char *plan = p ? tt_hint(o, "plan", p->names, p->n_names) : NULL;

	for (size_t i = 0; i < d->n; i++) {
		struct dfinding *f = &d->f[i];
		char *fix;

		if (p && (!strcmp(f->id, "audit-drift") || !strcmp(f->id, "audit-boot-drift")))
			fix = xasprintf("`%s` (`%s` shows the change first)", apply, plan);
		else
			fix = tt_hint_complete(o, f->fix);
		free(f->fix);
		f->fix = fix;
	}
	free(apply);
	free(plan);
}

int cmd_doctor(const struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "source", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	enum sockets_source src = SRC_AUTO;
	struct profile p = { 0 };
	struct audit a = { 0 };
	struct doctor d = { 0 };
	struct census c;
	struct tcpenv e;
	struct ctx cx;
	bool have_audit = false;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'S' && sockets_source_parse(optarg, &src) == 0)
			continue;
		tt_error(o, ch == 'S' ? "doctor: --source wants auto, netlink or proc" :
			 "doctor: see tcptune doctor --help");
		return EXIT_USAGE;
	}
	r = ctx_open(o, &cx);
	if (r != EXIT_OK)
		return r;
	r = audit_profiles(o, &cx, argv + optind, (size_t)(argc - optind), &p, &a, &have_audit);
	if (r != EXIT_OK)
		goto out;
	doctor_env_read(cx.rootfd, &cx.ps, &e);
	r = gather(o, &cx, src, &e, &c);
	if (r == EXIT_OK) {
		doctor_run(&c, &e, have_audit ? &a : NULL, &d);
		complete_fixes(o, have_audit ? &p : NULL, &d);
		if (o->format == FMT_JSON)
			print_json(&d, &c);
		else if (o->format == FMT_PROMETHEUS)
			print_prom(&d);
		else
			print_text(o, &d);
		r = doctor_worst(&d) > SEV_INFO ? EXIT_FINDINGS : EXIT_OK;
		doctor_free(&d);
		census_free(&c);
	}
	doctor_env_free(&e);
out:
	if (have_audit) {
		audit_free(&a);
		profile_free(&p);
	}
	ctx_close(&cx);
	return r;
}
