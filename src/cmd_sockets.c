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

static json_t *states_json(const unsigned long long *states)
{
	json_t *o = json_object();
	int i;

	for (i = 1; i < TCPS_MAX; i++)
		json_object_set_new(o, sockets_state_name(i), json_integer((json_int_t)states[i]));
	return o;
}

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

static void delta_cell(struct table *t, const struct census *prev, bool have, long long now, long long before)
{
	if (!prev || !have)
		table_cell(t, STYLE_DIM, prev ? "new" : "");
	else if (now == before)
		table_cell(t, STYLE_DIM, "0");
	else
		table_cellf(t, now > before ? STYLE_WARN : STYLE_GOOD, "%+lld", now - before);
}

/* --- table ----------------------------------------------------------------- */

static void table_states(const struct census *c, const struct census *prev, const struct sopts *so,
			 const struct opts *o)
{
	static const char *h[] = { "STATE", "SOCKETS", "CHANGE" };
	struct table *t = table_new(prev || so->watch ? 3 : 2, h);
	int s;

	for (s = 1; s < TCPS_MAX; s++) {
		bool asked = so->states && so->states != TCPS_ALL && (so->states & (1u << s));

		if (!c->states[s] && !asked && !(prev && prev->states[s]))
			continue;
		table_row(t);
		table_cell(t, s == TCPS_CLOSE_WAIT && c->states[s] ? STYLE_WARN : STYLE_PLAIN,
			   sockets_state_name(s));
		table_cellf(t, STYLE_PLAIN, "%llu", c->states[s]);
		if (prev || so->watch)
			delta_cell(t, prev, true, (long long)c->states[s], prev ? (long long)prev->states[s] : 0);
	}
	table_row(t);
	table_cell(t, STYLE_BOLD, "total");
	table_cellf(t, STYLE_BOLD, "%llu", c->total);
	if (prev || so->watch)
		delta_cell(t, prev, true, (long long)c->total, prev ? (long long)prev->total : 0);
	table_print(t, stdout, o->color);
	table_free(t);
}

static void limits_lines(const struct census *c, const struct tcpenv *e)
{
	if (e->ss.tw >= 0 && e->max_tw_buckets > 0)
		printf("\ntime-wait buckets: %lld of net.ipv4.tcp_max_tw_buckets %lld (%.1f%%)\n",
		       e->ss.tw, e->max_tw_buckets, 100.0 * (double)e->ss.tw / (double)e->max_tw_buckets);
	if (e->ss.orphan >= 0 && e->max_orphans > 0)
		printf("orphans: %lld of net.ipv4.tcp_max_orphans %lld (%.1f%%)\n", e->ss.orphan,
		       e->max_orphans, 100.0 * (double)e->ss.orphan / (double)e->max_orphans);
	else if (e->ss.orphan >= 0)
		printf("orphans: %lld (net.ipv4.tcp_max_orphans is host-wide, hidden here)\n", e->ss.orphan);
	if (e->range.usable)
		printf("ephemeral ports: %u usable (%u-%u, %u reserved); busiest destination: see --by remote\n",
		       e->range.usable, e->range.low, e->range.high, e->range.reserved);
	(void)c;
}

/* Append a header for each state column in m; returns the new count. */
static size_t state_headers(const char **h, size_t nc, uint32_t m)
{
	for (int s = 1; s < TCPS_MAX; s++)
		if (m & (1u << s))
			h[nc++] = sockets_state_name(s);
	return nc;
}

/* One cell per state column in m; CLOSE_WAIT stands out where warn_cw. */
static void state_cells(struct table *t, uint32_t m, const unsigned long long *states, bool warn_cw)
{
	for (int s = 1; s < TCPS_MAX; s++)
		if (m & (1u << s))
			table_cellf(t, warn_cw && s == TCPS_CLOSE_WAIT && states[s] ? STYLE_WARN : STYLE_PLAIN,
				    "%llu", states[s]);
}

static void table_owners(const struct census *c, const struct census *prev, const struct sopts *so,
			 const struct opts *o)
{
	uint32_t m = columns(so, c);
	const char *h[TCPS_MAX + 4] = { "PID", "COMMAND", "TOTAL" };
	size_t nc = state_headers(h, 3, m), i, j;
	struct table *t;

	if (so->watch)
		h[nc++] = "CHANGE";
	t = table_new(nc, h);
	for (i = 0; i < limit(so, c->n_owners); i++) {
		const struct owner *w = &c->owners[i];
		const struct owner *pw = NULL;

		for (j = 0; prev && j < prev->n_owners; j++)
			if (prev->owners[j].pid == w->pid)
				pw = &prev->owners[j];
		table_row(t);
		table_cellf(t, STYLE_PLAIN, "%d", w->pid);
		table_cell(t, STYLE_PLAIN, w->comm);         /* table_cell escapes */
		table_cellf(t, STYLE_BOLD, "%llu", census_owner_total(w));
		state_cells(t, m, w->states, true);
		if (so->watch)
			delta_cell(t, prev, pw != NULL, (long long)census_owner_total(w),
				   pw ? (long long)census_owner_total(pw) : 0);
	}
	/* the sockets no process holds, as rows of their own */
	for (i = 0; i < c->n_ownerless; i++) {
		const struct ownerless *w = &c->ownerless[i];
		char name[80];

		table_row(t);
		table_cell(t, STYLE_DIM, "-");
		table_cellf(t, STYLE_DIM, "(%s)", census_ownerless_name(w, name, sizeof(name)));
		table_cellf(t, STYLE_BOLD, "%llu", w->total);
		state_cells(t, m, w->states, false);
		if (so->watch)
			table_cell(t, STYLE_DIM, "");
	}
	table_print(t, stdout, o->color);
	table_free(t);
	if (!o->quiet && c->n_owners == 0 && c->n_ownerless == 0)
		printf("(no process holds %s)\n", c->total ? "these sockets" : "any matching socket");
	if (!o->quiet && c->unowned && c->procs_denied)
		printf("\n%llu socket%s with no readable owner: some processes could not be read, "
		       "run as root\n", c->unowned, c->unowned == 1 ? "" : "s");
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

static void table_remotes(const struct census *c, const struct census *prev, const struct sopts *so,
			  const struct tcpenv *e, const struct opts *o)
{
	uint32_t m = columns(so, c);
	const char *h[TCPS_MAX + 5] = { "REMOTE", "TOTAL" };
	size_t nc = state_headers(h, 2, m), i, j;
	struct table *t;

	h[nc++] = "EPHEMERAL-PORTS";
	if (so->watch)
		h[nc++] = "CHANGE";
	t = table_new(nc, h);
	for (i = 0; i < limit(so, c->n_remotes); i++) {
		const struct remote *r = &c->remotes[i], *pr = NULL;
		unsigned long long w[TCPS_MAX];
		char a[80];

		for (j = 0; prev && j < prev->n_remotes; j++)
			if (prev->remotes[j].port == r->port && !memcmp(prev->remotes[j].addr, r->addr, 16) &&
			    prev->remotes[j].family == r->family && prev->remotes[j].inbound == r->inbound)
				pr = &prev->remotes[j];
		table_row(t);
		table_cell(t, STYLE_PLAIN, remote_name(r, a, sizeof(a)));
		table_cellf(t, STYLE_BOLD, "%u", r->total);
		state_cells(t, m, wide(r->states, w), false);
		if (e->range.usable && r->ports_used) {
			double share = (double)r->ports_used / e->range.usable;

			table_cellf(t, share >= 0.8 ? STYLE_BAD : share >= 0.5 ? STYLE_WARN : STYLE_PLAIN,
				    "%u/%u (%.1f%%)", r->ports_used, e->range.usable, 100 * share);
		} else {
			table_cell(t, STYLE_DIM, "-");
		}
		if (so->watch)
			delta_cell(t, prev, pr != NULL, (long long)r->total, pr ? (long long)pr->total : 0);
	}
	table_print(t, stdout, o->color);
	table_free(t);
}

static const char *owner_comm(const struct census *c, int pid)
{
	for (size_t i = 0; i < c->n_owners; i++)
		if (c->owners[i].pid == pid)
			return c->owners[i].comm;
	return "?";
}

/* --by owner,remote: one row per process and remote, the processes in --by owner's order. */
static void table_pairs(const struct census *c, const struct sopts *so, const struct opts *o)
{
	uint32_t m = columns(so, c);
	const char *h[TCPS_MAX + 5] = { "PID", "COMMAND", "REMOTE", "TOTAL" };
	size_t nc = state_headers(h, 4, m), i;
	struct table *t = table_new(nc, h);

	for (i = 0; i < limit(so, c->n_pairs); i++) {
		const struct opair *p = &c->pairs[i];
		unsigned long long w[TCPS_MAX];
		char a[80];

		table_row(t);
		if (p->pid) {
			table_cellf(t, STYLE_PLAIN, "%d", p->pid);
			table_cell(t, STYLE_PLAIN, owner_comm(c, p->pid));     /* table_cell escapes */
		} else {
			table_cell(t, STYLE_DIM, "-");
			table_cell(t, STYLE_DIM, "(no process)");
		}
		table_cell(t, STYLE_PLAIN, remote_name(&c->remotes[p->remote], a, sizeof(a)));
		table_cellf(t, STYLE_BOLD, "%u", p->total);
		state_cells(t, m, wide(p->states, w), p->pid != 0);
	}
	table_print(t, stdout, o->color);
	table_free(t);
	if (!o->quiet && c->unowned && c->procs_denied)
		printf("\n%llu socket%s with no readable owner: some processes could not be read, "
		       "run as root\n", c->unowned, c->unowned == 1 ? "" : "s");
}

static void table_lports(const struct census *c, const struct census *prev, const struct sopts *so,
			 const struct opts *o)
{
	uint32_t m = columns(so, c);
	const char *h[TCPS_MAX + 4] = { "LOCAL-PORT", "TOTAL" };
	size_t nc = state_headers(h, 2, m), i, j;
	struct table *t;

	if (so->watch)
		h[nc++] = "CHANGE";
	t = table_new(nc, h);
	for (i = 0; i < limit(so, c->n_lports); i++) {
		const struct lport *l = &c->lports[i], *pl = NULL;

		for (j = 0; prev && j < prev->n_lports; j++)
			if (prev->lports[j].port == l->port)
				pl = &prev->lports[j];
		table_row(t);
		table_cellf(t, STYLE_PLAIN, "%u", l->port);
		table_cellf(t, STYLE_BOLD, "%llu", l->total);
		state_cells(t, m, l->states, false);
		if (so->watch)
			delta_cell(t, prev, pl != NULL, (long long)l->total, pl ? (long long)pl->total : 0);
	}
	table_print(t, stdout, o->color);
	table_free(t);
}

/* --- json and prometheus --------------------------------------------------- */

static json_t *json_escaped(const char *s)
{
	char *e = output_escape(s);
	json_t *j = json_string(e);

	free(e);
	return j;
}

/* null for a counter the kernel does not show here */
static json_t *count_json(long long v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *limits_json(const struct tcpenv *e)
{
	json_t *l = json_object();

	json_object_set_new(l, "tw", count_json(e->ss.tw));
	json_object_set_new(l, "tcp_max_tw_buckets", count_json(e->max_tw_buckets));
	json_object_set_new(l, "orphans", count_json(e->ss.orphan));
	json_object_set_new(l, "tcp_max_orphans", count_json(e->max_orphans));
	json_object_set_new(l, "ephemeral_ports_usable", count_json(e->range.usable));
	json_object_set_new(l, "TCPTimeWaitOverflow",
			    count_json(sockets_netstat_get(&e->ns, "TCPTimeWaitOverflow")));
	json_object_set_new(l, "ListenOverflows", count_json(sockets_netstat_get(&e->ns, "ListenOverflows")));
	json_object_set_new(l, "ListenDrops", count_json(sockets_netstat_get(&e->ns, "ListenDrops")));
	json_object_set_new(l, "TCPAbortOnTimeout",
			    count_json(sockets_netstat_get(&e->ns, "TCPAbortOnTimeout")));
	json_object_set_new(l, "TCPAbortOnMemory", count_json(sockets_netstat_get(&e->ns, "TCPAbortOnMemory")));
	return l;
}

/* { "remote", "inbound"?, "total", "states" } of one owner × remote pair */
static json_t *pair_json(const struct census *c, const struct opair *p)
{
	const struct remote *r = &c->remotes[p->remote];
	unsigned long long ws[TCPS_MAX];
	json_t *w = json_object();
	char s[80];

	json_object_set_new(w, "remote", json_string(remote_name(r, s, sizeof(s))));
	if (r->inbound)
		json_object_set_new(w, "inbound", json_true());
	json_object_set_new(w, "total", json_integer(p->total));
	json_object_set_new(w, "states", states_json(wide(p->states, ws)));
	return w;
}

/*
 * --by owner,remote: "by_owner" as --by owner gives it, each process with
 * its "remotes"; the sockets no process holds in "ownerless_remotes".
 */
static void pairs_json(json_t *d, const struct census *c, const struct sopts *so)
{
	json_t *a = json_array(), *nobody = json_array(), *rem = NULL;
	size_t i, n = limit(so, c->n_pairs);
	int pid = -1;

	for (i = 0; i < n; i++) {
		const struct opair *p = &c->pairs[i];

		if (!p->pid) {
			json_array_append_new(nobody, pair_json(c, p));
			continue;
		}
		if (p->pid != pid) {
			json_t *w = json_object();
			size_t k;

			for (k = 0; k < c->n_owners && c->owners[k].pid != p->pid; k++)
				;
			pid = p->pid;
			json_object_set_new(w, "pid", json_integer(pid));
			json_object_set_new(w, "comm", json_escaped(owner_comm(c, pid)));
			if (k < c->n_owners) {
				json_object_set_new(w, "total",
						    json_integer((json_int_t)census_owner_total(&c->owners[k])));
				json_object_set_new(w, "states", states_json(c->owners[k].states));
			}
			rem = json_array();
			json_object_set_new(w, "remotes", rem);
			json_array_append_new(a, w);
		}
		json_array_append_new(rem, pair_json(c, p));
	}
	json_object_set_new(d, "by_owner", a);
	json_object_set_new(d, "ownerless_remotes", nobody);
	json_object_set_new(d, "unowned", json_integer((json_int_t)c->unowned));
	json_object_set_new(d, "processes_denied", json_integer(c->procs_denied));
	json_object_set_new(d, "processes_vanished", json_integer(c->procs_vanished));
}

static json_t *remote_json(const struct remote *r, const struct tcpenv *e)
{
	unsigned long long ws[TCPS_MAX];
	json_t *w = json_object();
	char s[80];

	json_object_set_new(w, "remote", json_string(remote_name(r, s, sizeof(s))));
	if (r->inbound)
		json_object_set_new(w, "inbound", json_true());
	json_object_set_new(w, "total", json_integer((json_int_t)r->total));
	json_object_set_new(w, "states", states_json(wide(r->states, ws)));
	json_object_set_new(w, "ephemeral_ports_used", json_integer((json_int_t)r->ports_used));
	json_object_set_new(w, "ephemeral_ports_share",
			    json_real(e->range.usable ? (double)r->ports_used / e->range.usable : 0));
	return w;
}

/*
 * d with its empty "by_remote" filled one remote at a time, byte for byte
 * as jansson prints the whole: jansson holds about 2.5 KB per remote's
 * objects, 500 MB for 200k remotes.
 */
static void remotes_stream(json_t *d, const struct census *c, size_t n, const struct tcpenv *e)
{
	static const char key[] = "\n  \"by_remote\": []";
	char *buf = NULL, *mark = NULL;
	size_t len = 0, i;
	/* one line a document: nothing to splice into */
	FILE *m = output_json_lines_on() ? NULL : open_memstream(&buf, &len);

	if (!m) {
		/* the whole document in memory, then */
		json_t *a = json_object_get(d, "by_remote");

		for (i = 0; i < n; i++)
			json_array_append_new(a, remote_json(&c->remotes[i], e));
		(void)output_json(stdout, d);
		return;
	}
	(void)output_json(m, d);
	if (fclose(m) == 0)
		mark = strstr(buf, key);
	if (!mark) {
		if (buf)
			fputs(buf, stdout);
		free(buf);
		return;
	}
	/* up to the '[' */
	(void)fwrite(buf, 1, (size_t)(mark - buf) + sizeof(key) - 2, stdout);
	for (i = 0; i < n; i++) {
		json_t *w = remote_json(&c->remotes[i], e);
		char *t = json_dumps(w, JSON_INDENT(2) | JSON_PRESERVE_ORDER), *p;

		fputs(i ? ",\n    " : "\n    ", stdout);
		for (p = t; p && *p; p++) {
			putchar(*p);
			if (*p == '\n')
				fputs("    ", stdout);
		}
		free(t);
		json_decref(w);
	}
	fputs(n ? "\n  ]" : "]", stdout);
	fputs(mark + sizeof(key) - 1, stdout);
	free(buf);
}

static void print_json(const struct census *c, const struct sopts *so, const struct tcpenv *e)
{
	json_t *d = json_object(), *a;
	size_t i;

	json_object_set_new(d, "total", json_integer((json_int_t)c->total));
	json_object_set_new(d, "states", states_json(c->states));
	json_object_set_new(d, "source", json_string(sockets_source_name(c->source)));
	json_object_set_new(d, "from_counters", json_boolean(c->from_counters));
	if (so->by == BY_OWNER) {
		a = json_array();
		for (i = 0; i < limit(so, c->n_owners); i++) {
			json_t *w = json_object();

			json_object_set_new(w, "pid", json_integer(c->owners[i].pid));
			json_object_set_new(w, "comm", json_escaped(c->owners[i].comm));
			json_object_set_new(w, "total", json_integer((json_int_t)census_owner_total(&c->owners[i])));
			json_object_set_new(w, "states", states_json(c->owners[i].states));
			json_array_append_new(a, w);
		}
		json_object_set_new(d, "by_owner", a);
		a = json_array();
		for (i = 0; i < c->n_ownerless; i++) {
			static const char *const kinds[] = { "accept-queue", "orphaned", "time-wait",
							      "unreadable" };
			const struct ownerless *x = &c->ownerless[i];
			json_t *w = json_object();
			char name[80];

			json_object_set_new(w, "kind", json_string(kinds[x->kind]));
			json_object_set_new(w, "owner", json_string(census_ownerless_name(x, name, sizeof(name))));
			if (x->pid)
				json_object_set_new(w, "listener_pid", json_integer(x->pid));
			json_object_set_new(w, "total", json_integer((json_int_t)x->total));
			json_object_set_new(w, "states", states_json(x->states));
			json_array_append_new(a, w);
		}
		json_object_set_new(d, "ownerless", a);
		json_object_set_new(d, "unowned", json_integer((json_int_t)c->unowned));
		json_object_set_new(d, "processes_denied", json_integer(c->procs_denied));
		json_object_set_new(d, "processes_vanished", json_integer(c->procs_vanished));
	}
	/* filled in by remotes_stream() */
	if (so->by == BY_REMOTE)
		json_object_set_new(d, "by_remote", json_array());
	if (so->by == BY_OWNER_REMOTE)
		pairs_json(d, c, so);
	if (so->by == BY_LPORT) {
		a = json_array();
		for (i = 0; i < limit(so, c->n_lports); i++) {
			json_t *w = json_object();

			json_object_set_new(w, "port", json_integer(c->lports[i].port));
			json_object_set_new(w, "total", json_integer((json_int_t)c->lports[i].total));
			json_object_set_new(w, "states", states_json(c->lports[i].states));
			json_array_append_new(a, w);
		}
		json_object_set_new(d, "by_local_port", a);
	}
	json_object_set_new(d, "limits", limits_json(e));
	if (so->by == BY_REMOTE)
		remotes_stream(d, c, limit(so, c->n_remotes), e);
	else
		(void)output_json(stdout, d);
}

/*
 * Ports toward one destination against the usable ephemeral range: what a
 * headroom alert divides. One series per busy destination, the top ones only.
 */
static void prom_ports(const struct census *c, const struct tcpenv *e, size_t top)
{
	size_t i, shown = 0;
	char a[80];

	if (!e->range.low)
		return;
	output_prom_header(stdout, "tcptune_ephemeral_ports_usable", "gauge",
			   "Ports in ip_local_port_range minus ip_local_reserved_ports.");
	printf("tcptune_ephemeral_ports_usable %u\n", e->range.usable);
	for (i = 0; i < c->n_remotes && shown < top; i++) {
		const struct remote *r = &c->remotes[i];

		if (!r->ports_used)
			continue;
		if (!shown)
			output_prom_header(stdout, "tcptune_remote_ephemeral_ports_used", "gauge",
					   "Local ephemeral ports held toward one destination (the top ones).");
		printf("tcptune_remote_ephemeral_ports_used{remote=\"%s\"} %u\n",
		       sockets_addr_str(r->family, r->addr, r->port, a, sizeof(a)), r->ports_used);
		shown++;
	}
}

static void print_prom(const struct census *c, const struct census *cw, const struct sopts *so,
		       const struct tcpenv *e)
{
	size_t i, shown = 0, top = so->top ? so->top : 10;
	int s;

	output_prom_header(stdout, "tcptune_sockets", "gauge", "TCP sockets by state.");
	for (s = 1; s < TCPS_MAX; s++)
		printf("tcptune_sockets{state=\"%s\"} %llu\n", sockets_state_name(s), c->states[s]);
	for (i = 0; cw && i < cw->n_owners && shown < top; i++) {
		char *esc, *lab;

		if (!cw->owners[i].states[TCPS_CLOSE_WAIT])
			continue;
		/* a family without samples is dropped by node_exporter: no header either */
		if (!shown)
			output_prom_header(stdout, "tcptune_close_wait_by_process", "gauge",
					   "TCP sockets in CLOSE_WAIT held by a process (the top ones).");
		esc = output_escape(cw->owners[i].comm);
		lab = output_prom_label(esc);
		printf("tcptune_close_wait_by_process{comm=\"%s\",pid=\"%d\"} %llu\n", lab,
		       cw->owners[i].pid, cw->owners[i].states[TCPS_CLOSE_WAIT]);
		free(lab);
		free(esc);
		shown++;
	}
	prom_ports(c, e, top);
	if (e->ss.tw >= 0) {
		output_prom_header(stdout, "tcptune_time_wait_buckets", "gauge",
				   "TIME_WAIT mini-sockets (/proc/net/sockstat tw).");
		printf("tcptune_time_wait_buckets %lld\n", e->ss.tw);
	}
	if (e->max_tw_buckets >= 0) {
		output_prom_header(stdout, "tcptune_time_wait_buckets_max", "gauge", "net.ipv4.tcp_max_tw_buckets.");
		printf("tcptune_time_wait_buckets_max %lld\n", e->max_tw_buckets);
	}
	if (e->ss.orphan >= 0) {
		output_prom_header(stdout, "tcptune_orphans", "gauge", "Orphaned TCP sockets (host-wide).");
		printf("tcptune_orphans %lld\n", e->ss.orphan);
	}
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
	if (o->format == FMT_JSON) {
		print_json(c, so, e);
	} else if (o->format == FMT_PROMETHEUS) {
		print_prom(c, cw, so, e);
	} else {
		/* a grouped table shows the top rows unless --top says otherwise; JSON all */
		struct sopts ts = *so;
		size_t rows = so->by == BY_OWNER ? c->n_owners : so->by == BY_REMOTE ? c->n_remotes :
			      so->by == BY_LPORT ? c->n_lports : so->by == BY_OWNER_REMOTE ? c->n_pairs : 0;

		if (!so->top_given)
			ts.top = SOCKETS_TOP;
		if (so->by == BY_OWNER)
			table_owners(c, prev, &ts, o);
		else if (so->by == BY_REMOTE)
			table_remotes(c, prev, &ts, e, o);
		else if (so->by == BY_LPORT)
			table_lports(c, prev, &ts, o);
		else if (so->by == BY_OWNER_REMOTE)
			table_pairs(c, &ts, o);
		else
			table_states(c, prev, so, o);
		if (!o->quiet && ts.top && rows > ts.top)
			printf("%zu more (--top 0 shows all)\n", rows - ts.top);
		if (so->by == BY_STATE && !o->quiet && (!so->states || so->states == TCPS_ALL))
			limits_lines(c, e);
	}
	(void)fflush(stdout);
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
	char *line, *esc;
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
		esc = output_escape(line);
		printf("\nnote: %s%s; run `tcptune doctor`\n", esc, more ? " (and more)" : "");
		free(esc);
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
		output_json_lines(o->format == FMT_JSON);
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
		if (so.watch && o->format == FMT_TABLE && isatty(STDOUT_FILENO))
			fputs("\033[H\033[2J", stdout);
		else if (so.watch && have_prev && o->format == FMT_TABLE)
			putchar('\n');
		if (so.watch && o->format == FMT_TABLE) {
			time_t now = time(NULL);
			char ts[64];

			(void)strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&now));
			printf("%s  every %lds%s\n\n", ts, so.watch, have_prev ? ", change since the last" : "");
		}
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
		/* a frame is seen when it is drawn, also through a pipe */
		(void)fflush(stdout);
		if (!so.watch || !nap(so.watch))
			break;
	}
	if (have_prev)
		census_free(&prev);
	ctx_close(&cx);
	return r;
}
