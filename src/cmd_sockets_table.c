/* cmd_sockets_table.c: the sockets command's tables: by state, owner, remote, local port, owner and remote. */
#include <stdio.h>
#include <string.h>
#include "cmd_sockets.h"
#include "report.h"
#include "tcptune.h"

/* Rows of a grouped table without --top. */
#define SOCKETS_TOP 20

/* States to show as columns: every state seen in the shown rows, or the asked-for ones. */
static uint32_t columns(const struct sopts *so, const struct census *c)
{
	uint32_t m = so->states;
	size_t i;
	int s;

	if (m == 0 || m == TCPS_ALL) {
		m = 0;
		for (s = 1; s < TCPS_MAX; s++) {
			for (i = 0; i < cmd_sockets_limit(so, c->n_owners); i++)
				m |= c->owners[i].states[s] ? 1u << s : 0;
			for (i = 0; so->by == BY_REMOTE && i < cmd_sockets_limit(so, c->n_remotes); i++)
				m |= c->remotes[i].states[s] ? 1u << s : 0;
			for (i = 0; i < cmd_sockets_limit(so, c->n_pairs); i++)
				m |= c->pairs[i].states[s] ? 1u << s : 0;
			for (i = 0; i < cmd_sockets_limit(so, c->n_lports); i++)
				m |= c->lports[i].states[s] ? 1u << s : 0;
			for (i = 0; so->by == BY_OWNER && i < c->n_ownerless; i++)
				m |= c->ownerless[i].states[s] ? 1u << s : 0;
		}
	}
	return m;
}

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

/* The state columns in m, CHANGE under --watch, and the table begun. */
static void states_begin(struct report *out, struct cols *k, uint32_t m, bool change)
{
	state_cols(k, m);
	if (change)
		col(k, "CHANGE", REPORT_STRING, 0);
	report_table_begin(out, NULL, k->v, k->n);
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
	states_begin(out, &k, m, so->watch);
	for (i = 0; i < cmd_sockets_limit(so, c->n_owners); i++) {
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
	for (i = 0; i < cmd_sockets_limit(so, c->n_remotes); i++) {
		const struct remote *r = &c->remotes[i], *pr = NULL;
		unsigned long long w[TCPS_MAX];
		char a[80], ports[64];

		for (j = 0; prev && j < prev->n_remotes; j++)
			if (prev->remotes[j].port == r->port && !memcmp(prev->remotes[j].addr, r->addr, 16) &&
			    prev->remotes[j].family == r->family && prev->remotes[j].inbound == r->inbound)
				pr = &prev->remotes[j];
		report_row(out, 0, false);
		report_cell_str(out, STYLE_PLAIN, cmd_sockets_remote_name(r, a, sizeof(a)));
		report_cell_uint(out, STYLE_BOLD, r->total);
		state_cells(out, m, cmd_sockets_wide(r->states, w), false);
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
	for (i = 0; i < cmd_sockets_limit(so, c->n_pairs); i++) {
		const struct opair *p = &c->pairs[i];
		unsigned long long w[TCPS_MAX];
		char a[80], pid[16];

		report_row(out, 0, false);
		if (p->pid) {
			(void)snprintf(pid, sizeof(pid), "%d", p->pid);
			report_cell_str(out, STYLE_PLAIN, pid);
			report_cell_str(out, STYLE_PLAIN, cmd_sockets_owner_comm(c, p->pid));
		} else {
			report_cell_str(out, STYLE_DIM, "-");
			report_cell_str(out, STYLE_DIM, "(no process)");
		}
		report_cell_str(out, STYLE_PLAIN, cmd_sockets_remote_name(&c->remotes[p->remote], a, sizeof(a)));
		report_cell_uint(out, STYLE_BOLD, p->total);
		state_cells(out, m, cmd_sockets_wide(p->states, w), p->pid != 0);
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
	states_begin(out, &k, m, so->watch);
	for (i = 0; i < cmd_sockets_limit(so, c->n_lports); i++) {
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

void cmd_sockets_table(struct report *out, const struct opts *o, const struct sopts *so,
		       const struct census *c, const struct census *prev, const struct tcpenv *e)
{
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
