/* cmd_sockets.h: what the sockets command's files share: its options and the views' entry points. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "doctor.h"
#include "sockets.h"

struct opts;
struct report;

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

/* cmd_sockets.c: what every view uses */
const unsigned long long *cmd_sockets_wide(const uint32_t *states, unsigned long long *buf);
size_t cmd_sockets_limit(const struct sopts *so, size_t n);
char *cmd_sockets_remote_name(const struct remote *r, char *buf, size_t len);
const char *cmd_sockets_owner_comm(const struct census *c, int pid);

/* cmd_sockets_table.c: the tables (prev: the last --watch sample, or NULL) */
void cmd_sockets_table(struct report *out, const struct opts *o, const struct sopts *so,
		       const struct census *c, const struct census *prev, const struct tcpenv *e);

/* cmd_sockets_doc.c: the JSON document and the Prometheus text (cw: the CLOSE_WAIT owners) */
void cmd_sockets_doc_json(struct report *out, const struct census *c, const struct sopts *so,
			  const struct tcpenv *e);
void cmd_sockets_doc_prom(struct report *out, const struct census *c, const struct census *cw,
			  const struct sopts *so, const struct tcpenv *e);
