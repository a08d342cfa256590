/* SPDX-License-Identifier: ISC */
/* cmd_doctor.c: the doctor command: sockets and settings turned into findings with a fix. */
#include <errno.h>
#include <math.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "apply.h"
#include "audit.h"
#include "doctor.h"
#include "output.h"
#include "report.h"
#include "sample.h"
#include "sockets.h"
#include "sysctld.h"
#include "remedy.h"
#include "tcptune.h"

/*
 * Two looks --interval seconds apart (one with --once): every socket with
 * INET_DIAG_INFO, the owners of CLOSE_WAIT and LISTEN sockets, the counters.
 */
/* The default --interval: long enough to see growth, short enough to wait for. */
#define DOCTOR_INTERVAL_S 3.0

static int gather(const struct opts *o, const struct ctx *cx, enum sockets_source src, double interval,
		  struct sample *ret_first, struct sample *ret_last)
{
	struct sockets_query q;
	struct msgs m = { 0 };
	struct timespec ts;
	int r;

	memset(&q, 0, sizeof(q));
	memset(ret_first, 0, sizeof(*ret_first));
	q.family = AF_UNSPEC;
	q.source = src;
	if (sockets_query_env(&q, o->root) < 0) {
		tt_error(o, "doctor: TCPTUNE_SOCKETS_SOURCE wants auto, netlink or proc");
		return EXIT_USAGE;
	}
	r = sample_take(cx->rootfd, &q, interval > 0 ? ret_first : ret_last, &m);
	if (r == 0 && interval > 0) {
		ts.tv_sec = (time_t)interval;
		ts.tv_nsec = (long)((interval - (double)ts.tv_sec) * 1e9);
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		r = sample_take(cx->rootfd, &q, ret_last, &m);
		if (r < 0)
			sample_free(ret_first);
	}
	if (r < 0) {
		char *esc = output_escape(msgs_last(&m));

		tt_error(o, "doctor: %s", esc);
		free(esc);
		msgs_free(&m);
		return q.replay || strcmp(o->root, "/") ? EXIT_USAGE : EXIT_RESTORED;
	}
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
	audit_run(p, &cx->ps, &bv, a);
	/* the sockets' diagnosis stands; the settings' part is said to be short */
	if (audit_stale(a, cx->rootfd, p, &cx->ps, &bv) == -EIO)
		tt_warn(o, "doctor: %s: %s: the keys earlier applies set are not checked", TT_JOURNAL_PATH,
			strerror(EIO));
	sysctld_free(&bv);
	{
		/* each finding's fix as a full command, boot conflicts named (as audit prints them) */
		char *frag = remedy_fragment(o, cx->rootfd);
		free(remedy_audit(o, cx->rootfd, &cx->ps, p, frag, a));
		free(frag);
	}
	*ret_have = true;
	return EXIT_OK;
}

/* One decimal, as the findings are read; NaN (not measured) stays NaN and is left out. */
static double tenths(double v)
{
	return isnan(v) ? v : (double)(long long)(v * 10 + (v < 0 ? -0.5 : 0.5)) / 10;
}

/* A measured count: -1 means not measured, and is left out. */
static void put_count(struct report *out, const char *key, long long v)
{
	if (v >= 0)
		report_int(out, key, NULL, v);
}

/* One finding: its heading, evidence and fix as text; every machine field in the document. */
static void finding_report(struct report *out, const struct dfinding *x, bool shown)
{
	static const enum style sty[] = { STYLE_DIM, STYLE_WARN, STYLE_BAD };
	char *head = xasprintf("%-8s %s: %s", doctor_severity_name(x->severity), x->id, x->summary);

	report_kv_begin(out, NULL, sty[x->severity], shown ? head : NULL, 0);
	report_str(out, "id", NULL, x->id);
	report_str(out, "severity", NULL, doctor_severity_name(x->severity));
	report_str(out, "summary", NULL, x->summary);
	report_str(out, "evidence", shown ? "evidence:" : NULL, x->evidence);
	report_str(out, "fix", shown ? "fix:" : NULL, x->fix);
	if (x->pid > 0)
		report_int(out, "pid", NULL, x->pid);
	if (x->comm)
		report_str(out, "comm", NULL, x->comm);
	put_count(out, "uid", x->uid);
	if (x->remote)
		report_str(out, "remote", NULL, x->remote);
	put_count(out, "count", x->count);
	report_real(out, "oldest_s", NULL, tenths(x->oldest_s));
	report_real(out, "rate_per_min", NULL, tenths(x->rate_per_min));
	put_count(out, "fds", x->fds);
	put_count(out, "fd_limit", x->fd_limit);
	report_real(out, "eta_s", NULL, tenths(x->eta_s));
	report_real(out, "capacity_per_s", NULL, tenths(x->capacity_per_s));
	report_real(out, "headroom_pct", NULL, tenths(x->headroom_pct));
	report_kv_end(out);
	if (shown)
		report_text(out, STYLE_PLAIN, "%s", "");
	free(head);
}

/* The findings, the socket counts and the per-severity gauge, from one walk. */
static void doctor_report(const struct opts *o, const struct doctor *d, const struct sample *last,
			  double interval)
{
	struct report *out = o->out;
	size_t n[3] = { 0, 0, 0 };

	report_real(out, "interval_s", NULL, interval);
	if (!o->quiet && interval > 0)
		report_text(out, STYLE_PLAIN, "two looks %.1f s apart (--interval); rates and growth are between them\n",
			    interval);
	else if (!o->quiet)
		report_text(out, STYLE_PLAIN, "one look (--once): verdicts that need a rate are left out\n");
	report_array_begin(out, "findings");
	for (size_t i = 0; i < d->n; i++) {
		n[d->f[i].severity]++;
		finding_report(out, &d->f[i], !(o->quiet && d->f[i].severity == SEV_INFO));
	}
	report_array_end(out);
	report_object_begin(out, "sockets");
	report_uint(out, "total", NULL, last->total);
	report_object_begin(out, "states");
	for (int s = 1; s < TCPS_MAX; s++)
		report_uint(out, sockets_state_name(s), NULL, last->states[s]);
	report_object_end(out);
	report_object_end(out);
	report_metric(out, "tcptune_doctor_findings", "gauge", "doctor findings by severity.");
	for (int s = SEV_INFO; s <= SEV_CRITICAL; s++)
		report_sample(out, "tcptune_doctor_findings", (double)n[s], "severity",
			      doctor_severity_name(s), NULL);
	if (!o->quiet)
		report_text(out, STYLE_PLAIN, "%zu finding%s: %zu critical, %zu warning, %zu info", d->n,
			    d->n == 1 ? "" : "s", n[SEV_CRITICAL], n[SEV_WARNING], n[SEV_INFO]);
}

/*
 * The audit findings' fixes come from audit's remedy (complete commands
 * naming the profiles audited, or the file that wins at boot); every other
 * "`tcptune ..." in a fix gets the run's global options.
 */
static void complete_fixes(const struct opts *o, struct doctor *d)
{
	for (size_t i = 0; i < d->n; i++) {
		struct dfinding *f = &d->f[i];
		char *fix = tt_hint_complete(o, f->fix);

		free(f->fix);
		f->fix = fix;
	}
}

int cmd_doctor(const struct opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "source", required_argument, NULL, 'S' },
		{ "interval", required_argument, NULL, 'i' },
		{ "once", no_argument, NULL, '1' },
		{ NULL, 0, NULL, 0 },
	};
	enum sockets_source src = SRC_AUTO;
	struct profile p = { 0 };
	struct audit a = { 0 };
	struct doctor d = { 0 };
	struct sample first, last;
	double interval = DOCTOR_INTERVAL_S;
	struct tcpenv e;
	struct ctx cx;
	bool have_audit = false, once = false;
	char *end;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'S' && sockets_source_parse(optarg, &src) == 0)
			continue;
		if (ch == '1') {
			once = true;
			continue;
		}
		if (ch == 'i') {
			errno = 0;
			interval = strtod(optarg, &end);
			if (errno == 0 && end != optarg && *end == '\0' && interval >= 0.1 &&
			    interval <= 3600)
				continue;
			tt_error(o, "doctor: --interval wants seconds between 0.1 and 3600");
			return EXIT_USAGE;
		}
		tt_error(o, ch == 'S' ? "doctor: --source wants auto, netlink or proc" :
			 "doctor: see tcptune doctor --help");
		return EXIT_USAGE;
	}
	if (once)
		interval = 0;
	r = ctx_open(o, &cx);
	if (r != EXIT_OK)
		return r;
	r = audit_profiles(o, &cx, argv + optind, (size_t)(argc - optind), &p, &a, &have_audit);
	if (r != EXIT_OK)
		goto out;
	doctor_env_read(cx.rootfd, &cx.ps, &e);
	r = gather(o, &cx, src, interval, &first, &last);
	if (r == EXIT_OK) {
		doctor_run(interval > 0 ? &first : NULL, &last, &e, have_audit ? &a : NULL, &d);
		complete_fixes(o, &d);
		if (interval > 0)
			interval = last.t - first.t;
		doctor_report(o, &d, &last, interval);
		r = doctor_worst(&d) > SEV_INFO ? EXIT_FINDINGS : EXIT_OK;
		doctor_free(&d);
		sample_free(&first);
		sample_free(&last);
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
