/* cmd_sockets_doc.c: the sockets command's JSON document and Prometheus text. */
#include <stdio.h>
#include "cmd_sockets.h"
#include "report.h"
#include "tcptune.h"

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
	for (i = 0; i < cmd_sockets_limit(so, c->n_owners); i++) {
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

	report_str(out, "remote", NULL, cmd_sockets_remote_name(r, s, sizeof(s)));
	if (r->inbound)
		report_bool(out, "inbound", NULL, true);
	report_uint(out, "total", NULL, total);
	states_member(out, cmd_sockets_wide(states, ws));
}

/*
 * --by owner,remote: "by_owner" as --by owner gives it, each process with
 * its "remotes"; the sockets no process holds in "ownerless_remotes".
 */
static void pairs_member(struct report *out, const struct census *c, const struct sopts *so)
{
	size_t i, n = cmd_sockets_limit(so, c->n_pairs);
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
			report_str(out, "comm", NULL, cmd_sockets_owner_comm(c, pid));
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

void cmd_sockets_doc_json(struct report *out, const struct census *c, const struct sopts *so,
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
		remotes_member(out, c, cmd_sockets_limit(so, c->n_remotes), e);
	if (so->by == BY_OWNER_REMOTE) {
		pairs_member(out, c, so);
		procs_members(out, c);
	}
	if (so->by == BY_LPORT) {
		report_array_begin(out, "by_local_port");
		for (size_t i = 0; i < cmd_sockets_limit(so, c->n_lports); i++) {
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

void cmd_sockets_doc_prom(struct report *out, const struct census *c, const struct census *cw,
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
