/* SPDX-License-Identifier: ISC */
/* cmd_sockets.c: the sockets command: its options, the census, the --watch loop and the note line. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "cmd_sockets.h"
#include "output.h"
#include "report.h"
#include "sample.h"
#include "tcptune.h"

/*
 * The note's look holds every socket (doctor's sample, ~100 bytes each):
 * above this many, plain sockets keeps its constant memory and says nothing.
 */
#define NOTE_LOOK_MAX 65536

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static const char *const by_names[] = { "state", "owner", "remote", "local-port", "owner,remote" };
#define N_BY (sizeof(by_names) / sizeof(by_names[0]))

/* The netstat names, for "did you mean": "close_wiat", "TIMEWAIT". */
static const char *state_suggest(const char *word)
{
	const char *names[TCPS_MAX];
	size_t n = 0;

	for (int s = 1; s < TCPS_MAX; s++)
		names[n++] = sockets_state_name(s);
	return suggest_word(word, names, n);
}

static int parse_states(const struct opts *o, const char *arg, uint32_t *states)
{
	char *copy = xstrdup(arg), *save, *tok;
	int r = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int st = strcmp(tok, "all") == 0 ? 0 : sockets_state_parse(tok);

		if (st < 0) {
			char *e = output_escape(tok);

			const char *near = state_suggest(tok);

			tt_error(o, "sockets: --state %s: not a TCP state (ESTABLISHED, close-wait, time-wait, …)%s%s%s",
				 e, near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
			free(e);
			r = -EINVAL;
			break;
		}
		*states |= st == 0 ? TCPS_ALL : 1u << st;
	}
	free(copy);
	return r;
}

static int parse_args(const struct opts *o, int argc, char **argv, struct sopts *so)
{
	static const struct option lo[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "state", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 'N' },
		{ "watch", required_argument, NULL, 'w' },
		{ "exact", no_argument, NULL, 'x' },
		{ "source", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	bool v4 = false, v6 = false;
	long long n;
	size_t i;
	int c;

	memset(so, 0, sizeof(*so));
	while ((c = getopt_long(argc, argv, "46b:s:N:n:w:", lo, NULL)) != -1) {
		switch (c) {
		case '4': v4 = true; break;
		case '6': v6 = true; break;
		case 'x': so->exact = true; break;
		case 'b':
			for (i = 0; i < N_BY && strcmp(optarg, by_names[i]) != 0; i++)
				;
			if (i == N_BY) {
				const char *near = suggest_word(optarg, by_names, N_BY);

				tt_error(o, "sockets: --by wants state, owner, remote, local-port or owner,remote%s%s%s",
					 near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
				return EXIT_USAGE;
			}
			so->by = (enum by)i;
			break;
		case 's':
			if (parse_states(o, optarg, &so->states) < 0)
				return EXIT_USAGE;
			break;
		case 'n':
			/* -n is --dry-run for apply and rollback: kept here, not taught */
			tt_warn(o, "sockets: -n N is an older spelling of -N N (--top N)");
			/* fall through */
		case 'N':
			if (parse_ll(optarg, &n) < 0 || n < 0) {
				tt_error(o, "sockets: --top wants a number (0 for all)");
				return EXIT_USAGE;
			}
			so->top = (size_t)n;
			so->top_given = true;
			break;
		case 'w':
			if (parse_ll(optarg, &n) < 0 || n < 1 || n > 86400) {
				tt_error(o, "sockets: --watch wants seconds, 1 to 86400");
				return EXIT_USAGE;
			}
			so->watch = (long)n;
			break;
		case 'S':
			if (sockets_source_parse(optarg, &so->source) < 0) {
				tt_error(o, "sockets: --source wants auto, netlink or proc");
				return EXIT_USAGE;
			}
			break;
		default:
			tt_error(o, "sockets: see tcptune sockets --help");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		tt_error(o, "sockets: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	so->family = v4 == v6 ? AF_UNSPEC : v4 ? AF_INET : AF_INET6;
	return EXIT_OK;
}
/* --- shared by every view ------------------------------------------------- */

/* A remote's or pair's 32-bit counts, widened for the shared cells. */
const unsigned long long *cmd_sockets_wide(const uint32_t *states, unsigned long long *buf)
{
	for (int i = 0; i < TCPS_MAX; i++)
		buf[i] = states[i];
	return buf;
}

size_t cmd_sockets_limit(const struct sopts *so, size_t n)
{
	return so->top && so->top < n ? so->top : n;
}

/* "10.0.0.10:3128", or "inbound to :8080" for every client of a listening port. */
char *cmd_sockets_remote_name(const struct remote *r, char *buf, size_t len)
{
	if (r->inbound)
		(void)snprintf(buf, len, "inbound to :%u", r->port);
	else
		(void)sockets_addr_str(r->family, r->addr, r->port, buf, len);
	return buf;
}

const char *cmd_sockets_owner_comm(const struct census *c, int pid)
{
	for (size_t i = 0; i < c->n_owners; i++)
		if (c->owners[i].pid == pid)
			return c->owners[i].comm;
	return "?";
}

/* --- the command ----------------------------------------------------------- */

static int run_census(const struct opts *o, const struct ctx *cx, const struct sopts *so,
		      const struct tcpenv *e, uint32_t states, bool owners, struct census *ret)
{
	struct census_query cq;
	struct msgs m = { 0 };
	int r;

	memset(&cq, 0, sizeof(cq));
	cq.q.states = states;
	cq.q.family = so->family;
	cq.q.source = so->source;
	cq.exact = so->exact;
	cq.owners = owners || so->by == BY_OWNER_REMOTE;
	cq.pairs = so->by == BY_OWNER_REMOTE;
	/* the port headroom metric needs each destination's ports */
	cq.remotes = so->by == BY_REMOTE || so->by == BY_OWNER_REMOTE || o->format == FMT_PROMETHEUS;
	cq.lports = so->by == BY_LPORT;
	cq.range = e->range;
	if (sockets_query_env(&cq.q, o->root) < 0) {
		tt_error(o, "sockets: TCPTUNE_SOCKETS_SOURCE wants auto, netlink or proc");
		return EXIT_USAGE;
	}
	r = census_run(cx->rootfd, &cq, ret, &m);
	if (r < 0) {
		char *esc = output_escape(msgs_last(&m));

		tt_error(o, "sockets: %s", esc);
		free(esc);
		msgs_free(&m);
		return cq.q.replay || strcmp(o->root, "/") ? EXIT_USAGE : EXIT_RESTORED;
	}
	if (o->verbose && ret->from_counters)
		tt_warn(o, "ESTABLISHED and TIME_WAIT come from /proc/net/sockstat, the rest from a "
			   "filtered dump (not one snapshot; --exact for a full dump)");
	return EXIT_OK;
}

static void render(const struct opts *o, const struct sopts *so, const struct census *c,
		   const struct census *prev, const struct census *cw, const struct tcpenv *e)
{
	if (o->format == FMT_JSON)
		cmd_sockets_doc_json(o->out, c, so, e);
	else if (o->format == FMT_PROMETHEUS)
		cmd_sockets_doc_prom(o->out, c, cw, so, e);
	else
		cmd_sockets_table(o->out, o, so, c, prev, e);
}

/*
 * Plain `tcptune sockets`: one line when doctor, given one look (its --once
 * verdicts: a destination that holds nearly all usable ports, a CLOSE_WAIT
 * pile that has been quiet for a minute), would report a port exhaustion or
 * a CLOSE_WAIT leak. The look is taken only when the counts allow one, on
 * hosts of at most NOTE_LOOK_MAX sockets.
 */
static void doctor_line(const struct opts *o, const struct ctx *cx, const struct sopts *so,
			const struct census *c, const struct tcpenv *e)
{
	const struct dfinding *f;
	struct sockets_query q;
	struct sample last;
	struct doctor d;
	char *line;
	size_t more;

	if (c->total > NOTE_LOOK_MAX || !doctor_note_worth(c->states, c->total, e))
		return;
	memset(&q, 0, sizeof(q));
	q.family = AF_UNSPEC;
	q.source = so->source;
	if (sockets_query_env(&q, o->root) < 0 || sample_take(cx->rootfd, &q, &last, NULL) < 0)
		return;
	doctor_run(NULL, &last, e, NULL, &d);
	f = doctor_note_pick(&d, &more);
	if (f && strcmp(f->id, "tw-port-exhaustion") == 0)
		line = xasprintf("%s uses %.0f%% of its ephemeral ports (%lld of %u)", f->remote,
				 e->range.usable ? 100.0 * (double)f->count / e->range.usable : 0, f->count,
				 e->range.usable);
	else if (f && f->pid)
		line = xasprintf("PID %d (%s) keeps %lld CLOSE_WAIT toward %s", f->pid, f->comm ? f->comm : "?",
				 f->count, f->remote);
	else if (f)
		line = xasprintf("uid %lld keeps %lld CLOSE_WAIT toward %s", f->uid, f->count, f->remote);
	else
		line = NULL;
	if (line) {
		/* the writer escapes the line (a process name) */
		report_text(o->out, STYLE_PLAIN, "\nnote: %s%s; run `tcptune doctor`", line, more ? " (and more)" : "");
		free(line);
	}
	doctor_free(&d);
	sample_free(&last);
}

/* Sleep, waking early on SIGINT/SIGTERM; returns false when asked to stop. */
static bool nap(long secs)
{
	struct timespec ts = { secs, 0 };

	while (!stop_requested && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return !stop_requested;
}

/* --watch: the frame's heading; on a terminal the frame replaces the last one. */
static void frame_head(struct report *out, const struct sopts *so, bool have_prev)
{
	time_t now = time(NULL);
	char ts[64];

	if (report_on_tty(out))
		report_redraw(out);
	else if (have_prev)
		report_text(out, STYLE_PLAIN, "%s", "");
	(void)strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&now));
	report_text(out, STYLE_PLAIN, "%s  every %lds%s\n", ts, so->watch, have_prev ? ", change since the last" : "");
}

int cmd_sockets(const struct opts *o, int argc, char **argv)
{
	struct census cur, prev, cw;
	bool have_prev = false, have_cw = false;
	struct sigaction sa;
	struct sopts so;
	struct tcpenv e;
	struct ctx cx;
	int r;

	r = parse_args(o, argc, argv, &so);
	if (r != EXIT_OK)
		return r;
	r = ctx_open(o, &cx);
	if (r != EXIT_OK)
		return r;
	if (so.watch) {
		/* one compact document a line, each written as its sample ends */
		report_set_lines(o->out, true);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;      /* no SA_RESTART: the sleep must end */
		(void)sigaction(SIGINT, &sa, NULL);
		(void)sigaction(SIGTERM, &sa, NULL);
	}
	memset(&prev, 0, sizeof(prev));
	for (;;) {
		doctor_env_read(cx.rootfd, &cx.ps, &e);
		r = run_census(o, &cx, &so, &e, so.states, so.by == BY_OWNER, &cur);
		/* the CLOSE_WAIT metric needs owners, asked of the kernel for that state only */
		if (r == EXIT_OK && o->format == FMT_PROMETHEUS) {
			struct sopts s2 = so;

			s2.by = BY_STATE;
			r = run_census(o, &cx, &s2, &e, 1u << TCPS_CLOSE_WAIT, true, &cw);
			have_cw = r == EXIT_OK;
			if (r != EXIT_OK)
				census_free(&cur);
		}
		if (r != EXIT_OK) {
			doctor_env_free(&e);
			break;
		}
		if (so.watch && o->format == FMT_TABLE)
			frame_head(o->out, &so, have_prev);
		render(o, &so, &cur, have_prev ? &prev : NULL, have_cw ? &cw : NULL, &e);
		if (o->format == FMT_TABLE && so.by == BY_STATE && !so.watch && !o->quiet &&
		    (!so.states || so.states == TCPS_ALL))
			doctor_line(o, &cx, &so, &cur, &e);
		doctor_env_free(&e);
		if (have_cw)
			census_free(&cw);
		have_cw = false;
		if (have_prev)
			census_free(&prev);
		prev = cur;
		have_prev = true;
		/* a frame is seen when it is drawn, also through a pipe; a failed write ends the watch */
		if (!so.watch || report_next(o->out) < 0 || !nap(so.watch))
			break;
	}
	if (have_prev)
		census_free(&prev);
	ctx_close(&cx);
	return r;
}