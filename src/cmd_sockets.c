/* SPDX-License-Identifier: ISC */
/* cmd_sockets.c: the sockets command: TCP sockets by state, owner, remote or local port. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "doctor.h"
#include "output.h"
#include "report.h"
#include "sample.h"
#include "sockets.h"
#include "tcptune.h"

enum by { BY_STATE, BY_OWNER, BY_REMOTE, BY_LPORT, BY_OWNER_REMOTE };

struct sopts {
	enum by by;
	uint32_t states;
	int family;
	size_t top;            /* 0: all */
	bool top_given;        /* else grouped tables show SOCKETS_TOP rows */
	long watch;            /* seconds; 0: once */
	bool exact;
	enum sockets_source source;
};

/*
 * The note's look holds every socket (doctor's sample, ~100 bytes each):
 * above this many, plain sockets keeps its constant memory and says nothing.
 */
#define NOTE_LOOK_MAX 65536

/* Rows of a grouped table without --top. */
#define SOCKETS_TOP 20

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

/* --- shared by every format ------------------------------------------------ */

/* A remote's or pair's 32-bit counts, widened for the shared cells. */
static const unsigned long long *wide(const uint32_t *states, unsigned long long *buf)
{
	for (int i = 0; i < TCPS_MAX; i++)
		buf[i] = states[i];
	return buf;
}

static size_t limit(const struct sopts *so, size_t n)
{
	return so->top && so->top < n ? so->top : n;
}

/* States to show as columns: every state seen in the shown rows, or the asked-for ones. */
static uint32_t columns(const struct sopts *so, const struct census *c)
{
	uint32_t m = so->states;
	size_t i;
	int s;

	if (m == 0 || m == TCPS_ALL) {
		m = 0;
		for (s = 1; s < TCPS_MAX; s++) {
			for (i = 0; i < limit(so, c->n_owners); i++)
				m |= c->owners[i].states[s] ? 1u << s : 0;
			for (i = 0; so->by == BY_REMOTE && i < limit(so, c->n_remotes); i++)
				m |= c->remotes[i].states[s] ? 1u << s : 0;
			for (i = 0; i < limit(so, c->n_pairs); i++)
				m |= c->pairs[i].states[s] ? 1u << s : 0;
			for (i = 0; i < limit(so, c->n_lports); i++)
				m |= c->lports[i].states[s] ? 1u << s : 0;
			for (i = 0; so->by == BY_OWNER && i < c->n_ownerless; i++)
				m |= c->ownerless[i].states[s] ? 1u << s : 0;
		}
	}
	return m;
}

/* "10.0.0.10:3128", or "inbound to :8080" for every client of a listening port. */
static char *remote_name(const struct remote *r, char *buf, size_t len)
{
	if (r->inbound)
		(void)snprintf(buf, len, "inbound to :%u", r->port);
	else
		(void)sockets_addr_str(r->family, r->addr, r->port, buf, len);
	return buf;
}

static const char *owner_comm(const struct census *c, int pid)
{
	for (size_t i = 0; i < c->n_owners; i++)
		if (c->owners[i].pid == pid)
			return c->owners[i].comm;
	return "?";
}

/* --- table ----------------------------------------------------------------- */

/* A table's columns: the leading ones, one per state shown, the trailing ones. */
struct cols {
	struct report_col v[TCPS_MAX + 8];
	size_t n;
};

static void col(struct cols *k, const char *header, enum report_type type, unsigned flags)
{
	k->v[k->n++] = (struct report_col){ header, NULL, NULL, type, flags };
}

static void state_cols(struct cols *k, uint32_t m)
{
	for (int s = 1; s < TCPS_MAX; s++)
		if (m & (1u << s))
			col(k, sockets_state_name(s), REPORT_UINT, 0);
}

/* One cell per state column in m; CLOSE_WAIT stands out where warn_cw. */
static void state_cells(struct report *out, uint32_t m, const unsigned long long *states, bool warn_cw)
{
	for (int s = 1; s < TCPS_MAX; s++)
		if (m & (1u << s))
			report_cell_uint(out, warn_cw && s == TCPS_CLOSE_WAIT && states[s] ? STYLE_WARN : STYLE_PLAIN,
					 states[s]);
}

static void delta_cell(struct report *out, const struct census *prev, bool have, long long now,
		       long long before)
{
	char d[32];

	if (!prev || !have) {
		report_cell_str(out, STYLE_DIM, prev ? "new" : "");
	} else if (now == before) {
		report_cell_str(out, STYLE_DIM, "0");
	} else {
		(void)snprintf(d, sizeof(d), "%+lld", now - before);
		report_cell_str(out, now > before ? STYLE_WARN : STYLE_GOOD, d);
	}
}

static void table_states(struct report *out, const struct census *c, const struct census *prev,
			 const struct sopts *so)
{
	bool change = prev || so->watch;
	struct cols k = { .n = 0 };
	int s;

	col(&k, "STATE", REPORT_STRING, 0);
	col(&k, "SOCKETS", REPORT_UINT, 0);
	if (change)
		col(&k, "CHANGE", REPORT_STRING, 0);
	report_table_begin(out, NULL, k.v, k.n);
	for (s = 1; s < TCPS_MAX; s++) {
		bool asked = so->states && so->states != TCPS_ALL && (so->states & (1u << s));

		if (!c->states[s] && !asked && !(prev && prev->states[s]))
			continue;
		report_row(out, 0, false);
		report_cell_str(out, s == TCPS_CLOSE_WAIT && c->states[s] ? STYLE_WARN : STYLE_PLAIN,
				sockets_state_name(s));
		report_cell_uint(out, STYLE_PLAIN, c->states[s]);
		if (change)
			delta_cell(out, prev, true, (long long)c->states[s], prev ? (long long)prev->states[s] : 0);
	}
	report_row(out, 0, false);
	report_cell_str(out, STYLE_BOLD, "total");
	report_cell_uint(out, STYLE_BOLD, c->total);
	if (change)
		delta_cell(out, prev, true, (long long)c->total, prev ? (long long)prev->total : 0);
	report_table_end(out);
}

static void limits_lines(struct report *out, const struct tcpenv *e)
{
	if (e->ss.tw >= 0 && e->max_tw_buckets > 0)
		report_text(out, STYLE_PLAIN, "\ntime-wait buckets: %lld of net.ipv4.tcp_max_tw_buckets %lld (%.1f%%)",
			    e->ss.tw, e->max_tw_buckets, 100.0 * (double)e->ss.tw / (double)e->max_tw_buckets);
	if (e->ss.orphan >= 0 && e->max_orphans > 0)
		report_text(out, STYLE_PLAIN, "orphans: %lld of net.ipv4.tcp_max_orphans %lld (%.1f%%)", e->ss.orphan,
			    e->max_orphans, 100.0 * (double)e->ss.orphan / (double)e->max_orphans);
	else if (e->ss.orphan >= 0)
		report_text(out, STYLE_PLAIN, "orphans: %lld (net.ipv4.tcp_max_orphans is host-wide, hidden here)",
			    e->ss.orphan);
	if (e->range.usable)
		report_text(out, STYLE_PLAIN,
			    "ephemeral ports: %u usable (%u-%u, %u reserved); busiest destination: see --by remote",
			    e->range.usable, e->range.low, e->range.high, e->range.reserved);
}

static void unowned_line(struct report *out, const struct census *c, const struct opts *o)
{
	if (!o->quiet && c->unowned && c->procs_denied)
		report_text(out, STYLE_PLAIN, "\n%llu socket%s with no readable owner: some processes could not be read, "
			    "run as root", c->unowned, c->unowned == 1 ? "" : "s");
}

static void table_owners(struct report *out, const struct census *c, const struct census *prev,
			 const struct sopts *so, const struct opts *o)
{
	uint32_t m = columns(so, c);
	struct cols k = { .n = 0 };
	size_t i, j;

	col(&k, "PID", REPORT_STRING, 0);
	col(&k, "COMMAND", REPORT_STRING, REPORT_WRAP);
	col(&k, "TOTAL", REPORT_UINT, 0);
	state_cols(&k, m);
	if (so->watch)
		col(&k, "CHANGE", REPORT_STRING, 0);
	report_table_begin(out, NULL, k.v, k.n);
	for (i = 0; i < limit(so, c->n_owners); i++) {
		const struct owner *w = &c->owners[i];
		const struct owner *pw = NULL;
		char pid[16];

		for (j = 0; prev && j < prev->n_owners; j++)
			if (prev->owners[j].pid == w->pid)
				pw = &prev->owners[j];
		(void)snprintf(pid, sizeof(pid), "%d", w->pid);
		report_row(out, 0, false);
		report_cell_str(out, STYLE_PLAIN, pid);
		report_cell_str(out, STYLE_PLAIN, w->comm);
		report_cell_uint(out, STYLE_BOLD, census_owner_total(w));
		state_cells(out, m, w->states, true);
		if (so->watch)
			delta_cell(out, prev, pw != NULL, (long long)census_owner_total(w),
				   pw ? (long long)census_owner_total(pw) : 0);
	}
	/* the sockets no process holds, as rows of their own */
	for (i = 0; i < c->n_ownerless; i++) {
		const struct ownerless *w = &c->ownerless[i];
		char name[80], shown[84];

		(void)snprintf(shown, sizeof(shown), "(%s)", census_ownerless_name(w, name, sizeof(name)));
		report_row(out, 0, false);
		report_cell_str(out, STYLE_DIM, "-");
		report_cell_str(out, STYLE_DIM, shown);
		report_cell_uint(out, STYLE_BOLD, w->total);
		state_cells(out, m, w->states, false);
		if (so->watch)
			report_cell_str(out, STYLE_DIM, "");
	}
	report_table_end(out);
	if (!o->quiet && c->n_owners == 0 && c->n_ownerless == 0)
		report_text(out, STYLE_PLAIN, "(no process holds %s)", c->total ? "these sockets" : "any matching socket");
	unowned_line(out, c, o);
}

/* The look of a destination's ephemeral ports: the level is doctor's. */
static enum style ports_style(unsigned used, unsigned usable)
{
	static const enum style st[] = {
		[SEV_INFO] = STYLE_PLAIN, [SEV_WARNING] = STYLE_WARN, [SEV_CRITICAL] = STYLE_BAD,
	};

	return st[doctor_note_ports(used, usable)];
}

static void table_remotes(struct report *out, const struct census *c, const struct census *prev,
			  const struct sopts *so, const struct tcpenv *e)
{
	uint32_t m = columns(so, c);
	struct cols k = { .n = 0 };
	size_t i, j;

	col(&k, "REMOTE", REPORT_STRING, REPORT_WRAP);
	col(&k, "TOTAL", REPORT_UINT, 0);
	state_cols(&k, m);
	col(&k, "EPHEMERAL-PORTS", REPORT_STRING, 0);
	if (so->watch)
		col(&k, "CHANGE", REPORT_STRING, 0);
	report_table_begin(out, NULL, k.v, k.n);
	for (i = 0; i < limit(so, c->n_remotes); i++) {
		const struct remote *r = &c->remotes[i], *pr = NULL;
		unsigned long long w[TCPS_MAX];
		char a[80], ports[64];

		for (j = 0; prev && j < prev->n_remotes; j++)
			if (prev->remotes[j].port == r->port && !memcmp(prev->remotes[j].addr, r->addr, 16) &&
			    prev->remotes[j].family == r->family && prev->remotes[j].inbound == r->inbound)
				pr = &prev->remotes[j];
		report_row(out, 0, false);
		report_cell_str(out, STYLE_PLAIN, remote_name(r, a, sizeof(a)));
		report_cell_uint(out, STYLE_BOLD, r->total);
		state_cells(out, m, wide(r->states, w), false);
		if (e->range.usable && r->ports_used) {
			double share = (double)r->ports_used / e->range.usable;

			(void)snprintf(ports, sizeof(ports), "%u/%u (%.1f%%)", r->ports_used, e->range.usable,
				       100 * share);
			report_cell_str(out, ports_style(r->ports_used, e->range.usable), ports);
		} else {
			report_cell_str(out, STYLE_DIM, "-");
		}
		if (so->watch)
			delta_cell(out, prev, pr != NULL, (long long)r->total, pr ? (long long)pr->total : 0);
	}
	report_table_end(out);
}

/* --by owner,remote: one row per process and remote, the processes in --by owner's order. */
static void table_pairs(struct report *out, const struct census *c, const struct sopts *so,
			const struct opts *o)
{
	uint32_t m = columns(so, c);
	struct cols k = { .n = 0 };
	size_t i;

	col(&k, "PID", REPORT_STRING, 0);
	col(&k, "COMMAND", REPORT_STRING, REPORT_WRAP);
	col(&k, "REMOTE", REPORT_STRING, REPORT_WRAP);
	col(&k, "TOTAL", REPORT_UINT, 0);
	state_cols(&k, m);
	report_table_begin(out, NULL, k.v, k.n);
	for (i = 0; i < limit(so, c->n_pairs); i++) {
		const struct opair *p = &c->pairs[i];
		unsigned long long w[TCPS_MAX];
		char a[80], pid[16];

		report_row(out, 0, false);
		if (p->pid) {
			(void)snprintf(pid, sizeof(pid), "%d", p->pid);
			report_cell_str(out, STYLE_PLAIN, pid);
			report_cell_str(out, STYLE_PLAIN, owner_comm(c, p->pid));
		} else {
			report_cell_str(out, STYLE_DIM, "-");
			report_cell_str(out, STYLE_DIM, "(no process)");
		}
		report_cell_str(out, STYLE_PLAIN, remote_name(&c->remotes[p->remote], a, sizeof(a)));
		report_cell_uint(out, STYLE_BOLD, p->total);
		state_cells(out, m, wide(p->states, w), p->pid != 0);
	}
	report_table_end(out);
	unowned_line(out, c, o);
}

static void table_lports(struct report *out, const struct census *c, const struct census *prev,
			 const struct sopts *so)
{
	uint32_t m = columns(so, c);
	struct cols k = { .n = 0 };
	size_t i, j;

	col(&k, "LOCAL-PORT", REPORT_UINT, 0);
	col(&k, "TOTAL", REPORT_UINT, 0);
	state_cols(&k, m);
	if (so->watch)
		col(&k, "CHANGE", REPORT_STRING, 0);
	report_table_begin(out, NULL, k.v, k.n);
	for (i = 0; i < limit(so, c->n_lports); i++) {
		const struct lport *l = &c->lports[i], *pl = NULL;

		for (j = 0; prev && j < prev->n_lports; j++)
			if (prev->lports[j].port == l->port)
				pl = &prev->lports[j];
		report_row(out, 0, false);
		report_cell_uint(out, STYLE_PLAIN, l->port);
		report_cell_uint(out, STYLE_BOLD, l->total);
		state_cells(out, m, l->states, false);
		if (so->watch)
			delta_cell(out, prev, pl != NULL, (long long)l->total, pl ? (long long)pl->total : 0);
	}
	report_table_end(out);
}

/* --- json ------------------------------------------------------------------ */

static void states_member(struct report *out, const unsigned long long *states)
{
	report_object_begin(out, "states");
	for (int i = 1; i < TCPS_MAX; i++)
		report_uint(out, sockets_state_name(i), NULL, states[i]);
	report_object_end(out);
}

/* null for a counter the kernel does not show here */
static void count_member(struct report *out, const char *key, long long v)
{
	if (v < 0)
		report_null(out, key, NULL);
	else
		report_int(out, key, NULL, v);
}

static void limits_member(struct report *out, const struct tcpenv *e)
{
	static const char *const netstat[] = { "TCPTimeWaitOverflow", "ListenOverflows", "ListenDrops",
					       "TCPAbortOnTimeout", "TCPAbortOnMemory" };

	report_object_begin(out, "limits");
	count_member(out, "tw", e->ss.tw);
	count_member(out, "tcp_max_tw_buckets", e->max_tw_buckets);
	count_member(out, "orphans", e->ss.orphan);
	count_member(out, "tcp_max_orphans", e->max_orphans);
	count_member(out, "ephemeral_ports_usable", e->range.usable);
	for (size_t i = 0; i < sizeof(netstat) / sizeof(netstat[0]); i++)
		count_member(out, netstat[i], sockets_netstat_get(&e->ns, netstat[i]));
	report_object_end(out);
}

static void owners_member(struct report *out, const struct census *c, const struct sopts *so)
{
	static const char *const kinds[] = { "accept-queue", "orphaned", "time-wait", "unreadable" };
	size_t i;

	report_array_begin(out, "by_owner");
	for (i = 0; i < limit(so, c->n_owners); i++) {
		report_object_begin(out, NULL);
		report_int(out, "pid", NULL, c->owners[i].pid);
		report_str(out, "comm", NULL, c->owners[i].comm);
		report_uint(out, "total", NULL, census_owner_total(&c->owners[i]));
		states_member(out, c->owners[i].states);
		report_object_end(out);
	}
	report_array_end(out);
	report_array_begin(out, "ownerless");
	for (i = 0; i < c->n_ownerless; i++) {
		const struct ownerless *x = &c->ownerless[i];
		char name[80];

		report_object_begin(out, NULL);
		report_str(out, "kind", NULL, kinds[x->kind]);
		report_str(out, "owner", NULL, census_ownerless_name(x, name, sizeof(name)));
		if (x->pid)
			report_int(out, "listener_pid", NULL, x->pid);
		report_uint(out, "total", NULL, x->total);
		states_member(out, x->states);
		report_object_end(out);
	}
	report_array_end(out);
}

static void procs_members(struct report *out, const struct census *c)
{
	report_uint(out, "unowned", NULL, c->unowned);
	report_uint(out, "processes_denied", NULL, c->procs_denied);
	report_uint(out, "processes_vanished", NULL, c->procs_vanished);
}

/* { "remote", "inbound"?, "total", "states" } of a remote, or of one owner × remote pair */
static void remote_head(struct report *out, const struct remote *r, unsigned long long total,
			const uint32_t *states)
{
	unsigned long long ws[TCPS_MAX];
	char s[80];

	report_str(out, "remote", NULL, remote_name(r, s, sizeof(s)));
	if (r->inbound)
		report_bool(out, "inbound", NULL, true);
	report_uint(out, "total", NULL, total);
	states_member(out, wide(states, ws));
}

/*
 * --by owner,remote: "by_owner" as --by owner gives it, each process with
 * its "remotes"; the sockets no process holds in "ownerless_remotes".
 */
static void pairs_member(struct report *out, const struct census *c, const struct sopts *so)
{
	size_t i, n = limit(so, c->n_pairs);
	int pid = -1;

	report_array_begin(out, "by_owner");
	for (i = 0; i < n; i++) {
		const struct opair *p = &c->pairs[i];

		if (!p->pid)
			continue;
		if (p->pid != pid) {
			size_t k;

			if (pid != -1) {
				report_array_end(out);
				report_object_end(out);
			}
			for (k = 0; k < c->n_owners && c->owners[k].pid != p->pid; k++)
				;
			pid = p->pid;
			report_object_begin(out, NULL);
			report_int(out, "pid", NULL, pid);
			report_str(out, "comm", NULL, owner_comm(c, pid));
			if (k < c->n_owners) {
				report_uint(out, "total", NULL, census_owner_total(&c->owners[k]));
				states_member(out, c->owners[k].states);
			}
			report_array_begin(out, "remotes");
		}
		report_object_begin(out, NULL);
		remote_head(out, &c->remotes[p->remote], p->total, p->states);
		report_object_end(out);
	}
	if (pid != -1) {
		report_array_end(out);
		report_object_end(out);
	}
	report_array_end(out);
	report_array_begin(out, "ownerless_remotes");
	for (i = 0; i < n; i++) {
		if (c->pairs[i].pid)
			continue;
		report_object_begin(out, NULL);
		remote_head(out, &c->remotes[c->pairs[i].remote], c->pairs[i].total, c->pairs[i].states);
		report_object_end(out);
	}
	report_array_end(out);
}

/* Streamed: the document would hold about 2.5 KB per remote, 500 MB for 200k remotes. */
static void remotes_member(struct report *out, const struct census *c, size_t n, const struct tcpenv *e)
{
	report_stream_begin(out, "by_remote");
	for (size_t i = 0; i < n; i++) {
		const struct remote *r = &c->remotes[i];

		report_object_begin(out, NULL);
		remote_head(out, r, r->total, r->states);
		report_uint(out, "ephemeral_ports_used", NULL, r->ports_used);
		report_real(out, "ephemeral_ports_share", NULL,
			    e->range.usable ? (double)r->ports_used / e->range.usable : 0);
		report_object_end(out);
	}
	report_stream_end(out);
}

static void view_json(struct report *out, const struct census *c, const struct sopts *so,
		      const struct tcpenv *e)
{
	report_uint(out, "total", NULL, c->total);
	states_member(out, c->states);
	report_str(out, "source", NULL, sockets_source_name(c->source));
	report_bool(out, "from_counters", NULL, c->from_counters);
	if (so->by == BY_OWNER) {
		owners_member(out, c, so);
		procs_members(out, c);
	}
	if (so->by == BY_REMOTE)
		remotes_member(out, c, limit(so, c->n_remotes), e);
	if (so->by == BY_OWNER_REMOTE) {
		pairs_member(out, c, so);
		procs_members(out, c);
	}
	if (so->by == BY_LPORT) {
		report_array_begin(out, "by_local_port");
		for (size_t i = 0; i < limit(so, c->n_lports); i++) {
			report_object_begin(out, NULL);
			report_uint(out, "port", NULL, c->lports[i].port);
			report_uint(out, "total", NULL, c->lports[i].total);
			states_member(out, c->lports[i].states);
			report_object_end(out);
		}
		report_array_end(out);
	}
	limits_member(out, e);
}

/* --- prometheus ------------------------------------------------------------ */

/*
 * Ports toward one destination against the usable ephemeral range: what a
 * headroom alert divides. One series per busy destination, the top ones only.
 */
static void prom_ports(struct report *out, const struct census *c, const struct tcpenv *e, size_t top)
{
	size_t i, shown = 0;
	char a[80];

	if (!e->range.low)
		return;
	report_metric(out, "tcptune_ephemeral_ports_usable", "gauge",
		      "Ports in ip_local_port_range minus ip_local_reserved_ports.");
	report_sample(out, "tcptune_ephemeral_ports_usable", e->range.usable, NULL);
	for (i = 0; i < c->n_remotes && shown < top; i++) {
		const struct remote *r = &c->remotes[i];

		if (!r->ports_used)
			continue;
		if (!shown)
			report_metric(out, "tcptune_remote_ephemeral_ports_used", "gauge",
				      "Local ephemeral ports held toward one destination (the top ones).");
		report_sample(out, "tcptune_remote_ephemeral_ports_used", r->ports_used, "remote",
			      sockets_addr_str(r->family, r->addr, r->port, a, sizeof(a)), NULL);
		shown++;
	}
}

/* The processes that hold CLOSE_WAIT sockets, the top ones; the family only when it has samples. */
static void prom_close_wait(struct report *out, const struct census *cw, size_t top)
{
	static const struct report_col k[] = {
		{ NULL, NULL, "comm", REPORT_STRING, REPORT_PROM_TEXT },
		{ NULL, NULL, "pid", REPORT_INT, 0 },
		{ NULL, NULL, NULL, REPORT_UINT, REPORT_PROM_VALUE },
	};
	size_t i, shown = 0;

	for (i = 0; cw && i < cw->n_owners && shown < top; i++) {
		const struct owner *w = &cw->owners[i];

		if (!w->states[TCPS_CLOSE_WAIT])
			continue;
		/* a family without samples is dropped by node_exporter: no header either */
		if (!shown++) {
			report_table_begin(out, NULL, k, sizeof(k) / sizeof(k[0]));
			report_table_metric(out, "tcptune_close_wait_by_process",
					    "TCP sockets in CLOSE_WAIT held by a process (the top ones).");
		}
		report_row(out, 0, false);
		report_cell_str(out, STYLE_PLAIN, w->comm);
		report_cell_int(out, STYLE_PLAIN, w->pid);
		report_cell_uint(out, STYLE_PLAIN, w->states[TCPS_CLOSE_WAIT]);
	}
	if (shown)
		report_table_end(out);
}

static void view_prom(struct report *out, const struct census *c, const struct census *cw,
		      const struct sopts *so, const struct tcpenv *e)
{
	size_t top = so->top ? so->top : 10;

	report_metric(out, "tcptune_sockets", "gauge", "TCP sockets by state.");
	for (int s = 1; s < TCPS_MAX; s++)
		report_sample(out, "tcptune_sockets", (double)c->states[s], "state", sockets_state_name(s), NULL);
	prom_close_wait(out, cw, top);
	prom_ports(out, c, e, top);
	if (e->ss.tw >= 0) {
		report_metric(out, "tcptune_time_wait_buckets", "gauge", "TIME_WAIT mini-sockets (/proc/net/sockstat tw).");
		report_sample(out, "tcptune_time_wait_buckets", (double)e->ss.tw, NULL);
	}
	if (e->max_tw_buckets >= 0) {
		report_metric(out, "tcptune_time_wait_buckets_max", "gauge", "net.ipv4.tcp_max_tw_buckets.");
		report_sample(out, "tcptune_time_wait_buckets_max", (double)e->max_tw_buckets, NULL);
	}
	if (e->ss.orphan >= 0) {
		report_metric(out, "tcptune_orphans", "gauge", "Orphaned TCP sockets (host-wide).");
		report_sample(out, "tcptune_orphans", (double)e->ss.orphan, NULL);
	}
}

/* --- the command ----------------------------------------------------------- */

static int run_census(const struct opts *o, const struct ctx *cx, const struct sopts *so,
		      const struct tcpenv *e, uint32_t states, bool owners, struct census *ret)
{
	struct census_query cq;
	char err[512] = "";
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
	r = census_run(cx->rootfd, &cq, ret, err, sizeof(err));
	if (r < 0) {
		char *esc = output_escape(err);

		tt_error(o, "sockets: %s", esc);
		free(esc);
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
	struct report *out = o->out;

	if (o->format == FMT_JSON) {
		view_json(out, c, so, e);
	} else if (o->format == FMT_PROMETHEUS) {
		view_prom(out, c, cw, so, e);
	} else {
		/* a grouped table shows the top rows unless --top says otherwise; JSON all */
		struct sopts ts = *so;
		size_t rows = so->by == BY_OWNER ? c->n_owners : so->by == BY_REMOTE ? c->n_remotes :
			      so->by == BY_LPORT ? c->n_lports : so->by == BY_OWNER_REMOTE ? c->n_pairs : 0;

		if (!so->top_given)
			ts.top = SOCKETS_TOP;
		if (so->by == BY_OWNER)
			table_owners(out, c, prev, &ts, o);
		else if (so->by == BY_REMOTE)
			table_remotes(out, c, prev, &ts, e);
		else if (so->by == BY_LPORT)
			table_lports(out, c, prev, &ts);
		else if (so->by == BY_OWNER_REMOTE)
			table_pairs(out, c, &ts, o);
		else
			table_states(out, c, prev, so);
		if (!o->quiet && ts.top && rows > ts.top)
			report_text(out, STYLE_PLAIN, "%zu more (--top 0 shows all)", rows - ts.top);
		if (so->by == BY_STATE && !o->quiet && (!so->states || so->states == TCPS_ALL))
			limits_lines(out, e);
	}
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
	char err[512], *line;
	size_t more;

	if (c->total > NOTE_LOOK_MAX || !doctor_note_worth(c->states, c->total, e))
		return;
	memset(&q, 0, sizeof(q));
	q.family = AF_UNSPEC;
	q.source = so->source;
	if (sockets_query_env(&q, o->root) < 0 || sample_take(cx->rootfd, &q, &last, err, sizeof(err)) < 0)
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
