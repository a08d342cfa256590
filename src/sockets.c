/* SPDX-License-Identifier: ISC */
/* sockets.c: TCP sockets by state from sock_diag netlink or /proc/net/tcp{,6}: state names, the walkers. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include "sockets.h"
#include "sockets-internal.h"
#include "util.h"

/* The kernel caps each dump skb at 32 KiB: a bigger buffer buys nothing, a smaller one costs. */
#define NL_BUFSIZE 32768

static const char *const state_names[TCPS_MAX] = {
	[TCPS_ESTABLISHED] = "ESTABLISHED", [TCPS_SYN_SENT] = "SYN_SENT",
	[TCPS_SYN_RECV] = "SYN_RECV", [TCPS_FIN_WAIT1] = "FIN_WAIT1",
	[TCPS_FIN_WAIT2] = "FIN_WAIT2", [TCPS_TIME_WAIT] = "TIME_WAIT",
	[TCPS_CLOSE] = "CLOSE", [TCPS_CLOSE_WAIT] = "CLOSE_WAIT",
	[TCPS_LAST_ACK] = "LAST_ACK", [TCPS_LISTEN] = "LISTEN", [TCPS_CLOSING] = "CLOSING",
};

/* ss spells them differently (ss.c sstate_name) and accepts a few aliases. */
static const struct { const char *name; int state; } ss_names[] = {
	{ "established", TCPS_ESTABLISHED }, { "estab", TCPS_ESTABLISHED },
	{ "syn-sent", TCPS_SYN_SENT }, { "syn-recv", TCPS_SYN_RECV },
	{ "syn-received", TCPS_SYN_RECV }, { "fin-wait-1", TCPS_FIN_WAIT1 },
	{ "fin-wait-2", TCPS_FIN_WAIT2 }, { "time-wait", TCPS_TIME_WAIT },
	{ "closed", TCPS_CLOSE }, { "close", TCPS_CLOSE }, { "close-wait", TCPS_CLOSE_WAIT },
	{ "last-ack", TCPS_LAST_ACK }, { "listening", TCPS_LISTEN }, { "listen", TCPS_LISTEN },
	{ "closing", TCPS_CLOSING },
};

const char *sockets_state_name(int state)
{
	if (state <= 0 || state >= TCPS_MAX)
		return NULL;
	return state_names[state];
}

int sockets_state_parse(const char *name)
{
	char buf[32];
	size_t i;

	for (i = 1; i < TCPS_MAX; i++)
		if (strcasecmp(name, state_names[i]) == 0)
			return (int)i;
	for (i = 0; i < sizeof(ss_names) / sizeof(ss_names[0]); i++)
		if (strcasecmp(name, ss_names[i].name) == 0)
			return ss_names[i].state;
	/* "close_wait", "FIN-WAIT1": accept either separator, with or without the dash before a digit */
	if (strlen(name) >= sizeof(buf))
		return -EINVAL;
	for (i = 0; name[i]; i++)
		buf[i] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
	buf[i] = '\0';
	if (strcmp(buf, "FIN_WAIT_1") == 0)
		return TCPS_FIN_WAIT1;
	if (strcmp(buf, "FIN_WAIT_2") == 0)
		return TCPS_FIN_WAIT2;
	for (i = 1; i < TCPS_MAX; i++)
		if (strcmp(buf, state_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

const char *sockets_source_name(enum sockets_source s)
{
	switch (s) {
	case SRC_NETLINK: return "netlink";
	case SRC_PROC: return "proc";
	case SRC_REPLAY: return "replay";
	default: return "auto";
	}
}

int sockets_source_parse(const char *name, enum sockets_source *ret)
{
	if (strcmp(name, "auto") == 0)
		*ret = SRC_AUTO;
	else if (strcmp(name, "netlink") == 0)
		*ret = SRC_NETLINK;
	else if (strcmp(name, "proc") == 0)
		*ret = SRC_PROC;
	else
		return -EINVAL;
	return 0;
}

int sockets_query_env(struct sockets_query *q, const char *root)
{
	const char *src = getenv("TCPTUNE_SOCKETS_SOURCE");
	const char *replay = getenv("TCPTUNE_DIAG_FILE");
	const char *record = getenv("TCPTUNE_DIAG_RECORD");

	if (src && *src && q->source == SRC_AUTO && sockets_source_parse(src, &q->source) < 0)
		return -EINVAL;
	if (replay && *replay) {
		q->replay = replay;
		q->source = SRC_REPLAY;
	}
	if (record && *record)
		q->record = record;
	if (q->source == SRC_AUTO && root && strcmp(root, "/") != 0)
		q->source = SRC_PROC;
	return 0;
}

/* --- walking --------------------------------------------------------------- */

struct filter {
	const struct sockets_query *q;
	sockets_visit_fn visit;
	void *data;
};

static bool query_match(const struct sockets_query *q, const struct sock *sk)
{
	uint32_t states = q->states ? q->states : TCPS_ALL;

	if (q->family != AF_UNSPEC && q->family != sk->family)
		return false;
	return states & (1u << sk->state);
}

/* Replay files and /proc cannot filter in the kernel: do it here. */
static int filter_visit(const struct sock *sk, void *data)
{
	struct filter *f = data;

	if (!query_match(f->q, sk))
		return 0;
	return f->visit(sk, f->data);
}

/* "what: reason" to the caller's messages; returns r. */
static int set_err(struct msgs *m, int r, const char *what)
{
	msgs_add(m, "%s: %s", what, strerror(-r));
	return r;
}

/* A recorded dump of a million sockets is ~100 MB; more is not a recording. */
#define REPLAY_MAX (1u << 30)

static int walk_replay(const struct sockets_query *q, sockets_visit_fn visit, void *data,
		       struct msgs *m)
{
	struct filter f = { q, visit, data };
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(q->replay, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return set_err(m, -errno, q->replay);
	r = read_all(fd, REPLAY_MAX, &buf, &len);
	(void)close(fd);
	if (r == 0) {
		r = sockets_parse_nl(buf, len, filter_visit, &f);
		if (r == 0 && len > 0)
			r = -EBADMSG;      /* a recording always ends with NLMSG_DONE */
	}
	free(buf);
	if (r < 0)
		return set_err(m, r, q->replay);
	return 0;
}

struct nl {
	struct mnl_socket *sock;
	int recfd;
	char *buf;
};

static uint8_t diag_ext(const struct sockets_query *q)
{
	return q->info ? (uint8_t)(1u << (INET_DIAG_INFO - 1)) : 0;
}

static int nl_send_v2(struct nl *nl, int family, const struct sockets_query *q, unsigned seq)
{
	char req[NLMSG_SPACE(sizeof(struct inet_diag_req_v2))];
	struct nlmsghdr *nlh;
	struct inet_diag_req_v2 *r;

	memset(req, 0, sizeof(req));
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
	r->sdiag_family = (uint8_t)family;
	r->sdiag_protocol = IPPROTO_TCP;
	r->idiag_states = q->states ? q->states : TCPS_ALL;
	r->idiag_ext = diag_ext(q);
	return mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0 ? -errno : 0;
}

/* The legacy request walks the hash once for both families (AF_UNSPEC). */
static int nl_send_legacy(struct nl *nl, const struct sockets_query *q, unsigned seq)
{
	char req[NLMSG_SPACE(sizeof(struct inet_diag_req))];
	struct nlmsghdr *nlh;
	struct inet_diag_req *r;

	memset(req, 0, sizeof(req));
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = TCPDIAG_GETSOCK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
	r->idiag_family = AF_UNSPEC;
	r->idiag_states = q->states ? q->states : TCPS_ALL;
	r->idiag_ext = diag_ext(q);
	return mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0 ? -errno : 0;
}

struct counting {
	sockets_visit_fn visit;
	void *data;
	unsigned long long n;
};

static int counting_visit(const struct sock *sk, void *data)
{
	struct counting *c = data;

	c->n++;
	return c->visit(sk, c->data);
}

/* Receive one dump; *ret_n counts the sockets delivered before any error. */
static int nl_recv_dump(struct nl *nl, sockets_visit_fn visit, void *data, unsigned long long *ret_n)
{
	struct counting c = { visit, data, 0 };
	int r;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, NL_BUFSIZE);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (nl->recfd >= 0 && write(nl->recfd, nl->buf, (size_t)n) != n) {
			r = -EIO;
			break;
		}
		r = sockets_parse_nl(nl->buf, (size_t)n, counting_visit, &c);
		if (r != 0)
			break;
	}
	*ret_n = c.n;
	return r < 0 ? r : 0;
}

static int walk_netlink(const struct sockets_query *q, sockets_visit_fn visit, void *data,
			struct msgs *m)
{
	struct nl nl = { NULL, -1, NULL };
	unsigned long long n = 0;
	int r, fams[2], nf = 0, i;

	nl.sock = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!nl.sock)
		return set_err(m, -errno, "netlink sock_diag");
	if (mnl_socket_bind(nl.sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = set_err(m, -errno, "netlink bind");
		goto out;
	}
	if (q->record) {
		struct stat st;

		/* never through a symlink, never blocking on a FIFO, never into anything but a file */
		nl.recfd = open(q->record, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
				0600);
		if (nl.recfd < 0) {
			r = set_err(m, errno == ELOOP ? -ELOOP : -errno, q->record);
			goto out;
		}
		if (fstat(nl.recfd, &st) < 0 || !S_ISREG(st.st_mode) || ftruncate(nl.recfd, 0) < 0) {
			r = set_err(m, S_ISREG(st.st_mode) ? -errno : -EINVAL, q->record);
			goto out;
		}
	}
	nl.buf = xmalloc(NL_BUFSIZE);
	if (q->family == AF_UNSPEC) {
		r = nl_send_legacy(&nl, q, 1);
		if (r == 0)
			r = nl_recv_dump(&nl, visit, data, &n);
		/* refused before the first socket: ask per family instead */
		if (r == 0 || n > 0 || r == -ECANCELED || (r < 0 && r != -EINVAL && r != -ENOENT &&
							     r != -EOPNOTSUPP && r != -EPROTONOSUPPORT))
			goto done;
		/* the recording holds only the dumps that answered */
		if (nl.recfd >= 0 && (ftruncate(nl.recfd, 0) < 0 || lseek(nl.recfd, 0, SEEK_SET) < 0)) {
			r = -errno;
			goto done;
		}
		fams[nf++] = AF_INET;
		fams[nf++] = AF_INET6;
	} else {
		fams[nf++] = q->family;
	}
	r = 0;
	for (i = 0; i < nf && r == 0; i++) {
		r = nl_send_v2(&nl, fams[i], q, (unsigned)i + 2);
		if (r == 0)
			r = nl_recv_dump(&nl, visit, data, &n);
		/* a kernel without IPv6 answers ENOENT for AF_INET6 */
		if (r == -ENOENT && fams[i] == AF_INET6)
			r = 0;
	}
done:
	if (r < 0 && r != -ECANCELED)
		(void)set_err(m, r, "netlink sock_diag dump");
out:
	if (nl.recfd >= 0 && close(nl.recfd) < 0 && r == 0)
		r = set_err(m, -errno, q->record);
	free(nl.buf);
	(void)mnl_socket_close(nl.sock);
	return r;
}

FILE *sockets_open_below(int rootfd, const char *rel)
{
	int fd = openat(rootfd, rel, O_RDONLY | O_CLOEXEC);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(fd, "re");
	if (!f)
		(void)close(fd);
	return f;
}

static int walk_proc(int rootfd, const struct sockets_query *q, sockets_visit_fn visit, void *data,
		     struct msgs *m)
{
	static const struct { const char *path; int family; } files[] = {
		{ "proc/net/tcp", AF_INET }, { "proc/net/tcp6", AF_INET6 },
	};
	struct filter f = { q, visit, data };
	char *line = NULL;
	size_t cap = 0, i;
	int r = 0;

	for (i = 0; i < 2 && r == 0; i++) {
		FILE *fp;

		if (q->family != AF_UNSPEC && q->family != files[i].family)
			continue;
		fp = sockets_open_below(rootfd, files[i].path);
		if (!fp) {
			/* no IPv6 in this kernel: no tcp6 */
			if (errno == ENOENT && files[i].family == AF_INET6)
				continue;
			r = set_err(m, -errno, files[i].path);
			break;
		}
		while (getline(&line, &cap, fp) > 0) {
			struct sock sk;

			if (sockets_parse_proc_line(line, files[i].family, &sk) < 0)
				continue;
			r = filter_visit(&sk, &f);
			if (r != 0)
				break;
		}
		(void)fclose(fp);
	}
	free(line);
	return r;
}

int sockets_walk(int rootfd, const struct sockets_query *q, sockets_visit_fn visit, void *data,
		 enum sockets_source *ret_used, struct msgs *m)
{
	enum sockets_source s = q->source;
	struct msgs nm = { 0 };
	int r;

	if (s == SRC_REPLAY || (s == SRC_AUTO && q->replay)) {
		*ret_used = SRC_REPLAY;
		return walk_replay(q, visit, data, m);
	}
	if (s == SRC_PROC) {
		*ret_used = SRC_PROC;
		return walk_proc(rootfd, q, visit, data, m);
	}
	*ret_used = SRC_NETLINK;
	r = walk_netlink(q, visit, data, &nm);
	/* AUTO: no sock_diag (module missing, seccomp, old kernel) falls back to text */
	if (s == SRC_AUTO && r < 0 && r != -ECANCELED &&
	    (r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT || r == -ENOENT || r == -EPERM ||
	     r == -EACCES || r == -EOPNOTSUPP)) {
		msgs_free(&nm);
		*ret_used = SRC_PROC;
		return walk_proc(rootfd, q, visit, data, m);
	}
	for (size_t i = 0; i < nm.n; i++)
		msgs_add(m, "%s", nm.v[i]);
	msgs_free(&nm);
	return r;
}

