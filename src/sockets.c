/* SPDX-License-Identifier: ISC */
/* sockets.c: TCP sockets by state from sock_diag netlink or /proc/net/tcp{,6}, owners, counters. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include "census_group.h"
#include "sockets.h"
#include "util.h"

/* The kernel caps each dump skb at 32 KiB: a bigger buffer buys nothing, a smaller one costs. */
#define NL_BUFSIZE 32768
#define TCP_NEW_SYN_RECV_STATE 12
#define TIMER_TIMEWAIT 3

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

/* --- netlink parsing (pure) ----------------------------------------------- */

/*
 * Attributes after inet_diag_msg, bounded by nlmsg_len (not its aligned
 * length: the last message of a buffer need not be padded).
 */
static void parse_info(const struct nlmsghdr *nlh, struct sock *sk)
{
	size_t need = offsetof(struct tcp_info, tcpi_last_ack_recv) + sizeof(uint32_t);
	size_t off = NLMSG_ALIGN(NLMSG_LENGTH(sizeof(struct inet_diag_msg)));
	const char *base = (const char *)nlh;

	while (nlh->nlmsg_len >= off && nlh->nlmsg_len - off >= sizeof(struct nlattr)) {
		struct nlattr a;
		uint32_t d, k;

		memcpy(&a, base + off, sizeof(a));
		if (a.nla_len < sizeof(a) || a.nla_len > nlh->nlmsg_len - off)
			return;
		if ((a.nla_type & NLA_TYPE_MASK) == INET_DIAG_INFO && a.nla_len - sizeof(a) >= need) {
			const char *ti = base + off + NLA_HDRLEN;

			memcpy(&d, ti + offsetof(struct tcp_info, tcpi_last_data_recv), sizeof(d));
			memcpy(&k, ti + offsetof(struct tcp_info, tcpi_last_ack_recv), sizeof(k));
			sk->idle_ms = d < k ? d : k;
		}
		off += NLA_ALIGN(a.nla_len);
	}
}

static int parse_diag_msg(const struct nlmsghdr *nlh, struct sock *sk)
{
	struct inet_diag_msg m;

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(m)))
		return -EBADMSG;
	memcpy(&m, NLMSG_DATA(nlh), sizeof(m));
	memset(sk, 0, sizeof(*sk));
	if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6)
		return -EBADMSG;
	sk->family = m.idiag_family;
	sk->state = m.idiag_state == TCP_NEW_SYN_RECV_STATE ? TCPS_SYN_RECV : m.idiag_state;
	if (sk->state == 0 || sk->state >= TCPS_MAX)
		return -EBADMSG;
	sk->timer = m.idiag_timer;
	memcpy(sk->src, m.id.idiag_src, sizeof(sk->src));
	memcpy(sk->dst, m.id.idiag_dst, sizeof(sk->dst));
	if (sk->family == AF_INET) {
		memset(sk->src + 4, 0, 12);
		memset(sk->dst + 4, 0, 12);
	}
	sk->sport = ntohs(m.id.idiag_sport);
	sk->dport = ntohs(m.id.idiag_dport);
	sk->inode = m.idiag_inode;
	sk->uid = m.idiag_uid;
	sk->rqueue = m.idiag_rqueue;
	sk->wqueue = m.idiag_wqueue;
	sk->idle_ms = -1;
	sk->expires_ms = m.idiag_timer ? (int64_t)m.idiag_expires : -1;
	if (nlh->nlmsg_len > NLMSG_LENGTH(sizeof(m)))
		parse_info(nlh, sk);
	return 0;
}

int sockets_parse_nl(const void *buf, size_t len, sockets_visit_fn visit, void *data)
{
	const char *p = buf;
	size_t off = 0;
	int done = 0;

	/* our own bounds: libmnl's mnl_nlmsg_ok() casts nlmsg_len to int */
	while (len - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(p + off);
		struct sock sk;
		int r;

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - off)
			return -EBADMSG;
		switch (nlh->nlmsg_type) {
		case NLMSG_DONE:
			done++;
			break;
		case NLMSG_NOOP:
			break;
		case NLMSG_ERROR: {
			struct nlmsgerr e;

			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(e)))
				return -EBADMSG;
			memcpy(&e, NLMSG_DATA(nlh), sizeof(e));
			if (e.error > 0 || e.error < -4095)
				return -EBADMSG;
			if (e.error < 0)
				return e.error;
			break;
		}
		default:
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				break;
			r = parse_diag_msg(nlh, &sk);
			if (r < 0)
				return r;
			r = visit(&sk, data);
			if (r != 0)
				return r < 0 ? r : -ECANCELED;
		}
		off += NLMSG_ALIGN(nlh->nlmsg_len) < len - off ? NLMSG_ALIGN(nlh->nlmsg_len) : len - off;
	}
	/* a truncated header is an error */
	if (off < len)
		return -EBADMSG;
	return done;
}

/* --- /proc/net/tcp parsing (pure) ------------------------------------------ */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The kernel prints each 32-bit word of the address as %08X of its in-memory value. */
static int parse_proc_addr(const char **pp, int family, uint8_t *addr, uint16_t *port)
{
	const char *p = *pp;
	size_t words = family == AF_INET ? 1 : 4, w, i;
	unsigned long v;
	char *end;

	memset(addr, 0, 16);
	for (w = 0; w < words; w++) {
		uint32_t x = 0;

		for (i = 0; i < 8; i++) {
			int h = hexval((unsigned char)p[i]);

			if (h < 0)
				return -EINVAL;
			x = (x << 4) | (uint32_t)h;
		}
		memcpy(addr + 4 * w, &x, 4);
		p += 8;
	}
	if (*p != ':' || hexval((unsigned char)p[1]) < 0)
		return -EINVAL;
	errno = 0;
	v = strtoul(p + 1, &end, 16);
	if (errno || v > 65535 || (*end != ' ' && *end != '\0'))
		return -EINVAL;
	*port = (uint16_t)v;
	*pp = end;
	return 0;
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Read one hex or decimal unsigned field ending at a space, ':' or end of line. */
static int field_ul(const char **pp, int base, unsigned long *ret, char stop)
{
	const char *p = skip_ws(*pp);
	char *end;

	if (!isxdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	*ret = strtoul(p, &end, base);
	if (errno || end == p || (*end != stop && !(stop == ' ' && (*end == '\n' || *end == '\0'))))
		return -EINVAL;
	*pp = *end == stop ? end + 1 : end;
	return 0;
}

int sockets_parse_proc_line(const char *line, int family, struct sock *ret)
{
	const char *p = skip_ws(line);
	unsigned long st, tx, rx, tr, when, retr, uid, timeout, inode;
	struct sock sk;

	memset(&sk, 0, sizeof(sk));
	sk.family = (uint8_t)family;
	sk.idle_ms = -1;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;                 /* the header line, or garbage */
	while (isdigit((unsigned char)*p))
		p++;
	if (*p++ != ':')
		return -EINVAL;
	p = skip_ws(p);
	if (parse_proc_addr(&p, family, sk.src, &sk.sport) < 0)
		return -EINVAL;
	p = skip_ws(p);
	if (parse_proc_addr(&p, family, sk.dst, &sk.dport) < 0)
		return -EINVAL;
	if (field_ul(&p, 16, &st, ' ') < 0 || field_ul(&p, 16, &tx, ':') < 0 ||
	    field_ul(&p, 16, &rx, ' ') < 0 || field_ul(&p, 16, &tr, ':') < 0 ||
	    field_ul(&p, 16, &when, ' ') < 0 || field_ul(&p, 16, &retr, ' ') < 0 ||
	    field_ul(&p, 10, &uid, ' ') < 0 || field_ul(&p, 10, &timeout, ' ') < 0 ||
	    field_ul(&p, 10, &inode, ' ') < 0)
		return -EINVAL;
	if (st == TCP_NEW_SYN_RECV_STATE)
		st = TCPS_SYN_RECV;
	if (st == 0 || st >= TCPS_MAX || inode > UINT32_MAX || uid > UINT32_MAX)
		return -EINVAL;
	sk.state = (uint8_t)st;
	sk.timer = (uint8_t)tr;
	sk.rqueue = (uint32_t)rx;
	sk.wqueue = sk.state == TCPS_LISTEN ? 0 : (uint32_t)tx;
	sk.uid = (uint32_t)uid;
	sk.inode = (uint32_t)inode;
	/* clock_t ticks (USER_HZ, 100 a second) left on the timer */
	sk.expires_ms = tr && when < INT32_MAX ? (int64_t)when * 10 : -1;
	*ret = sk;
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

/* "what: reason" into the caller's buffer; returns r. */
static int set_err(char *err, size_t errlen, int r, const char *what)
{
	if (err && errlen)
		(void)snprintf(err, errlen, "%s: %s", what, strerror(-r));
	return r;
}

/* A recorded dump of a million sockets is ~100 MB; more is not a recording. */
#define REPLAY_MAX (1u << 30)

static int walk_replay(const struct sockets_query *q, sockets_visit_fn visit, void *data,
		       char *err, size_t errlen)
{
	struct filter f = { q, visit, data };
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(q->replay, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return set_err(err, errlen, -errno, q->replay);
	r = read_all(fd, REPLAY_MAX, &buf, &len);
	(void)close(fd);
	if (r == 0) {
		r = sockets_parse_nl(buf, len, filter_visit, &f);
		if (r == 0 && len > 0)
			r = -EBADMSG;      /* a recording always ends with NLMSG_DONE */
	}
	free(buf);
	if (r < 0)
		return set_err(err, errlen, r, q->replay);
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
			char *err, size_t errlen)
{
	struct nl nl = { NULL, -1, NULL };
	unsigned long long n = 0;
	int r, fams[2], nf = 0, i;

	nl.sock = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!nl.sock)
		return set_err(err, errlen, -errno, "netlink sock_diag");
	if (mnl_socket_bind(nl.sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = set_err(err, errlen, -errno, "netlink bind");
		goto out;
	}
	if (q->record) {
		struct stat st;

		/* never through a symlink, never blocking on a FIFO, never into anything but a file */
		nl.recfd = open(q->record, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
				0600);
		if (nl.recfd < 0) {
			r = set_err(err, errlen, errno == ELOOP ? -ELOOP : -errno, q->record);
			goto out;
		}
		if (fstat(nl.recfd, &st) < 0 || !S_ISREG(st.st_mode) || ftruncate(nl.recfd, 0) < 0) {
			r = set_err(err, errlen, S_ISREG(st.st_mode) ? -errno : -EINVAL, q->record);
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
		(void)set_err(err, errlen, r, "netlink sock_diag dump");
out:
	if (nl.recfd >= 0 && close(nl.recfd) < 0 && r == 0)
		r = set_err(err, errlen, -errno, q->record);
	free(nl.buf);
	(void)mnl_socket_close(nl.sock);
	return r;
}

static FILE *open_below(int rootfd, const char *rel)
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
		     char *err, size_t errlen)
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
		fp = open_below(rootfd, files[i].path);
		if (!fp) {
			/* no IPv6 in this kernel: no tcp6 */
			if (errno == ENOENT && files[i].family == AF_INET6)
				continue;
			r = set_err(err, errlen, -errno, files[i].path);
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
		 enum sockets_source *ret_used, char *err, size_t errlen)
{
	enum sockets_source s = q->source;
	int r;

	if (s == SRC_REPLAY || (s == SRC_AUTO && q->replay)) {
		*ret_used = SRC_REPLAY;
		return walk_replay(q, visit, data, err, errlen);
	}
	if (s == SRC_PROC) {
		*ret_used = SRC_PROC;
		return walk_proc(rootfd, q, visit, data, err, errlen);
	}
	*ret_used = SRC_NETLINK;
	r = walk_netlink(q, visit, data, err, errlen);
	/* AUTO: no sock_diag (module missing, seccomp, old kernel) falls back to text */
	if (s == SRC_AUTO && r < 0 && r != -ECANCELED &&
	    (r == -EPROTONOSUPPORT || r == -EAFNOSUPPORT || r == -ENOENT || r == -EPERM ||
	     r == -EACCES || r == -EOPNOTSUPP)) {
		*ret_used = SRC_PROC;
		return walk_proc(rootfd, q, visit, data, err, errlen);
	}
	return r;
}

/* --- counters -------------------------------------------------------------- */

static long long kv_find(const char *line, const char *key)
{
	size_t kl = strlen(key);
	const char *p = line;
	long long v;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[kl] == ' ') {
			char *end;

			errno = 0;
			v = strtoll(p + kl + 1, &end, 10);
			if (errno || end == p + kl + 1 || v < 0)
				return -1;
			return v;
		}
		p += kl;
	}
	return -1;
}

int sockets_read_sockstat(int rootfd, struct sockstat *ret)
{
	struct sockstat s = { -1, -1, -1, -1, -1, -1 };
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	f = open_below(rootfd, "proc/net/sockstat");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "TCP: ", 5) != 0)
			continue;
		s.inuse4 = kv_find(line + 5, "inuse");
		s.orphan = kv_find(line + 5, "orphan");
		s.tw = kv_find(line + 5, "tw");
		s.alloc = kv_find(line + 5, "alloc");
		s.mem = kv_find(line + 5, "mem");
	}
	(void)fclose(f);
	f = open_below(rootfd, "proc/net/sockstat6");
	if (f) {
		while (getline(&line, &cap, f) > 0)
			if (strncmp(line, "TCP6: ", 6) == 0)
				s.inuse6 = kv_find(line + 6, "inuse");
		(void)fclose(f);
	}
	free(line);
	*ret = s;
	return 0;
}

/* Pairs of lines: "TcpExt: Name…" then "TcpExt: 1 2 …"; only the first pair with the prefix. */
static void read_pairs(FILE *f, const char *prefix, struct netstat *ns)
{
	char *line = NULL, *names = NULL;
	size_t cap = 0, pl = strlen(prefix);

	while (getline(&line, &cap, f) > 0) {
		char *sn, *sv, *n, *v;

		if (strncmp(line, prefix, pl) != 0)
			continue;
		if (!names) {
			names = xstrdup(line + pl);
			continue;
		}
		n = strtok_r(names, " \n", &sn);
		v = strtok_r(line + pl, " \n", &sv);
		while (n && v) {
			long long x;

			if (parse_ll(v, &x) == 0) {
				ns->names = xreallocarray(ns->names, ns->n + 1, sizeof(*ns->names));
				ns->values = xreallocarray(ns->values, ns->n + 1, sizeof(*ns->values));
				ns->names[ns->n] = xstrdup(n);
				ns->values[ns->n++] = x;
			}
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
		break;
	}
	free(line);
	free(names);
}

/* TcpExt from /proc/net/netstat, then Tcp from /proc/net/snmp (ActiveOpens, …). */
int sockets_read_netstat(int rootfd, struct netstat *ret)
{
	struct netstat ns = { NULL, NULL, 0 };
	FILE *f;

	f = open_below(rootfd, "proc/net/netstat");
	if (!f)
		return -errno;
	read_pairs(f, "TcpExt: ", &ns);
	(void)fclose(f);
	f = open_below(rootfd, "proc/net/snmp");
	if (f) {
		read_pairs(f, "Tcp: ", &ns);
		(void)fclose(f);
	}
	*ret = ns;
	return 0;
}

long long sockets_netstat_get(const struct netstat *ns, const char *name)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (strcmp(ns->names[i], name) == 0)
			return ns->values[i];
	return -1;
}

void sockets_netstat_free(struct netstat *ns)
{
	strv_free(ns->names, ns->n);
	free(ns->values);
	ns->names = NULL;
	ns->values = NULL;
	ns->n = 0;
}

int sockets_count_reserved(const char *text, unsigned low, unsigned high, unsigned *ret)
{
	char *copy = xstrdup(text), *save, *tok;
	unsigned count = 0;
	int r = 0;

	/* ranges may overlap: mark rather than add */
	unsigned char *seen = xcalloc(65536, 1);

	for (tok = strtok_r(copy, ", \t\n", &save); tok; tok = strtok_r(NULL, ", \t\n", &save)) {
		char *dash = strchr(tok, '-');
		long long a, b, p;

		if (dash)
			*dash = '\0';
		if (parse_ll(tok, &a) < 0 || (dash && parse_ll(dash + 1, &b) < 0)) {
			r = -EINVAL;
			break;
		}
		if (!dash)
			b = a;
		if (a < 0 || b > 65535 || a > b) {
			r = -EINVAL;
			break;
		}
		for (p = a; p <= b; p++)
			if (p >= low && p <= high && !seen[p]) {
				seen[p] = 1;
				count++;
			}
	}
	free(seen);
	free(copy);
	if (r == 0)
		*ret = count;
	return r;
}

int sockets_port_range(const struct procsys *ps, struct portrange *ret)
{
	char *v = NULL, *res = NULL;
	unsigned lo, hi, reserved = 0;
	int r;

	r = procsys_read(ps, "net.ipv4.ip_local_port_range", &v);
	if (r < 0)
		return r;
	if (sscanf(v, "%u %u", &lo, &hi) != 2 || lo > hi || hi > 65535) {
		free(v);
		return -EINVAL;
	}
	free(v);
	if (procsys_read(ps, "net.ipv4.ip_local_reserved_ports", &res) == 0) {
		if (*res)
			(void)sockets_count_reserved(res, lo, hi, &reserved);
		free(res);
	}
	ret->low = lo;
	ret->high = hi;
	ret->reserved = reserved;
	ret->usable = hi - lo + 1 - reserved;
	return 0;
}

/* --- owners ---------------------------------------------------------------- */


static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Finding owners costs one readlink per fd, in the kernel (2.5-8 us each),
 * so the order matters: without knowing which process holds the sockets,
 * the search goes breadth-first, a chunk of fds from each process in turn
 * (the processes running as the sockets' uids first), on a few threads
 * sharing the count of inodes found. It stops when every inode has its
 * process, however large the processes not yet read to the end.
 */
#define SCAN_CHUNK 256
#define SCAN_THREADS 4

struct proc {
	int pid;
	int *fds;
	size_t nfds;
};

struct chunk {
	uint32_t proc;
	uint32_t start, end;
};

struct scan {
	int procfd;
	const struct proc *procs;
	const struct chunk *chunks;
	size_t nchunks, next;
	const uint32_t *inodes;
	size_t n;
	int *ret_pid;
	size_t found;
};

static void scan_chunk(struct scan *s, const struct chunk *c)
{
	const struct proc *p = &s->procs[c->proc];
	char path[48], link[64];
	uint32_t i;

	for (i = c->start; i < c->end && __atomic_load_n(&s->found, __ATOMIC_RELAXED) < s->n; i++) {
		ssize_t l;
		unsigned long ino;
		const uint32_t *hit;
		uint32_t key;
		char *end;
		int zero = 0;

		(void)snprintf(path, sizeof(path), "%d/fd/%d", p->pid, p->fds[i]);
		l = readlinkat(s->procfd, path, link, sizeof(link) - 1);
		if (l < 9 || memcmp(link, "socket:[", 8) != 0)
			continue;
		link[l] = '\0';
		ino = strtoul(link + 8, &end, 10);
		if (*end != ']' || ino > UINT32_MAX)
			continue;
		key = (uint32_t)ino;
		hit = bsearch(&key, s->inodes, s->n, sizeof(*s->inodes), cmp_u32);
		/* a socket shared after fork() goes to whichever holder is seen first */
		if (hit && __atomic_compare_exchange_n(&s->ret_pid[hit - s->inodes], &zero, p->pid, false,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			__atomic_add_fetch(&s->found, 1, __ATOMIC_RELAXED);
	}
}

static void *scan_run(void *arg)
{
	struct scan *s = arg;

	while (__atomic_load_n(&s->found, __ATOMIC_RELAXED) < s->n) {
		size_t i = __atomic_fetch_add(&s->next, 1, __ATOMIC_RELAXED);

		if (i >= s->nchunks)
			break;
		scan_chunk(s, &s->chunks[i]);
	}
	return NULL;
}

/* The fd numbers of one process: 0, or -errno when it vanished or denies access. */
static int read_fds(int procfd, int pid, struct proc *ret)
{
	char path[32];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int fd;

	(void)snprintf(path, sizeof(path), "%d/fd", pid);
	fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		(void)close(fd);
		return r;
	}
	memset(ret, 0, sizeof(*ret));
	ret->pid = pid;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (ret->nfds == cap) {
			cap = cap ? cap * 2 : 64;
			ret->fds = xreallocarray(ret->fds, cap, sizeof(*ret->fds));
		}
		ret->fds[ret->nfds++] = atoi(de->d_name);
	}
	(void)closedir(d);
	return 0;
}

static bool uid_wanted(int procfd, int pid, const uint32_t *uids, size_t n_uids)
{
	char name[16];
	struct stat st;
	size_t k;

	(void)snprintf(name, sizeof(name), "%d", pid);
	if (fstatat(procfd, name, &st, 0) < 0)
		return false;
	for (k = 0; k < n_uids; k++)
		if (st.st_uid == uids[k])
			return true;
	return false;
}

/* Round-robin chunks over procs[from, to). */
static size_t add_chunks(struct chunk *c, size_t nc, const struct proc *procs, size_t from, size_t to)
{
	size_t round, i;
	bool more = true;

	for (round = 0; more; round++) {
		more = false;
		for (i = from; i < to; i++) {
			size_t start = round * SCAN_CHUNK;

			if (start >= procs[i].nfds)
				continue;
			c[nc].proc = (uint32_t)i;
			c[nc].start = (uint32_t)start;
			c[nc].end = (uint32_t)(procs[i].nfds - start > SCAN_CHUNK ? start + SCAN_CHUNK : procs[i].nfds);
			nc++;
			more = true;
		}
	}
	return nc;
}

int sockets_owners(int rootfd, const uint32_t *inodes, size_t n, const uint32_t *uids, size_t n_uids,
		   int *ret_pid, unsigned *ret_denied, unsigned *ret_vanished)
{
	struct scan s = { .inodes = inodes, .n = n, .ret_pid = ret_pid };
	pthread_t th[SCAN_THREADS];
	bool started[SCAN_THREADS] = { false };
	struct proc *procs, *pref = NULL, *rest = NULL;
	size_t np, npref = 0, nrest = 0, total = 0, i, nc;
	struct chunk *chunks;
	struct dirent *de;
	long ncpu;
	int t, nt;
	DIR *d;

	*ret_denied = *ret_vanished = 0;
	memset(ret_pid, 0, n * sizeof(*ret_pid));
	if (n == 0)
		return 0;
	s.procfd = openat(rootfd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.procfd < 0)
		return -errno;
	d = fdopendir(dup(s.procfd));
	if (!d) {
		int r = -errno;

		(void)close(s.procfd);
		return r;
	}
	while ((de = readdir(d))) {
		struct proc p = { 0, NULL, 0 };
		long long pid;
		int r;

		if (!str_digits(de->d_name) || parse_ll(de->d_name, &pid) < 0 || pid <= 0 || pid > INT32_MAX)
			continue;
		r = read_fds(s.procfd, (int)pid, &p);
		if (r == -ENOENT || r == -ESRCH)
			(*ret_vanished)++;
		else if (r == -EACCES || r == -EPERM)
			(*ret_denied)++;
		if (r < 0 || p.nfds == 0) {
			free(p.fds);
			continue;
		}
		total += p.nfds;
		/* the sockets' uids first, /proc order kept within each class */
		if (n_uids && uid_wanted(s.procfd, p.pid, uids, n_uids)) {
			pref = xreallocarray(pref, npref + 1, sizeof(*pref));
			pref[npref++] = p;
		} else {
			rest = xreallocarray(rest, nrest + 1, sizeof(*rest));
			rest[nrest++] = p;
		}
	}
	(void)closedir(d);
	np = npref + nrest;
	procs = xreallocarray(NULL, np + 1, sizeof(*procs));
	if (npref)
		memcpy(procs, pref, npref * sizeof(*procs));
	if (nrest)
		memcpy(procs + npref, rest, nrest * sizeof(*procs));
	free(pref);
	free(rest);
	chunks = xreallocarray(NULL, total / SCAN_CHUNK + np + 1, sizeof(*chunks));
	nc = add_chunks(chunks, 0, procs, 0, npref);
	nc = add_chunks(chunks, nc, procs, npref, np);
	s.procs = procs;
	s.chunks = chunks;
	s.nchunks = nc;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	nt = ncpu > 1 ? (ncpu < SCAN_THREADS ? (int)ncpu : SCAN_THREADS) : 1;
	for (t = 1; t < nt; t++)
		started[t] = pthread_create(&th[t], NULL, scan_run, &s) == 0;
	(void)scan_run(&s);
	for (t = 1; t < nt; t++)
		if (started[t])
			(void)pthread_join(th[t], NULL);
	for (i = 0; i < np; i++)
		free(procs[i].fds);
	free(procs);
	free(chunks);
	(void)close(s.procfd);
	return 0;
}

char *sockets_comm(int rootfd, int pid)
{
	char path[64], buf[64];
	ssize_t n;
	int fd;

	(void)snprintf(path, sizeof(path), "proc/%d/comm", pid);
	fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n < 0)
		return NULL;
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	return xstrndup(buf, (size_t)n);
}

char *sockets_addr_str(int family, const uint8_t *addr, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(family, addr, a, sizeof(a)))
		(void)snprintf(a, sizeof(a), "?");
	if (family == AF_INET6)
		(void)snprintf(buf, len, "[%s]:%u", a, port);
	else
		(void)snprintf(buf, len, "%s:%u", a, port);
	return buf;
}

/* --- census ---------------------------------------------------------------- */

/* A small open-addressing table keyed by (family, remote, port, local address). */
struct hkey {
	uint8_t family;
	uint8_t pad;
	uint16_t port;
	uint8_t addr[16];
	uint8_t laddr[16];
};

struct hent {
	struct hkey k;
	bool used;
	unsigned long long states[TCPS_MAX];
	unsigned long long total, inrange;
};

struct htab {
	struct hent *v;
	size_t cap, n;
};

static uint64_t hkey_hash(const struct hkey *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static struct hent *htab_get(struct htab *t, const struct hkey *k)
{
	size_t i;

	if ((t->n + 1) * 2 > t->cap) {
		struct htab nt = { NULL, t->cap ? t->cap * 2 : 256, 0 };

		nt.v = xcalloc(nt.cap, sizeof(*nt.v));
		for (i = 0; i < t->cap; i++)
			if (t->v[i].used)
				*htab_get(&nt, &t->v[i].k) = t->v[i];
		free(t->v);
		*t = nt;
	}
	for (i = hkey_hash(k) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (!t->v[i].used) {
			memset(&t->v[i], 0, sizeof(t->v[i]));
			t->v[i].used = true;
			t->v[i].k = *k;
			t->n++;
			return &t->v[i];
		}
		if (memcmp(&t->v[i].k, k, sizeof(*k)) == 0)
			return &t->v[i];
	}
}

struct ownsock {
	uint32_t inode, uid;
	uint8_t state;
	int64_t idle_ms;
};

/* A listener, or a socket without a file that may wait in a listener's queue. */
struct qsock {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	uint8_t state;
	uint32_t inode;
};

struct cstate {
	const struct census_query *cq;
	struct census *c;
	struct htab ports;
	struct cgroups rem;
	struct ownsock *own;
	size_t n_own, cap_own;
	struct qsock *lis, *queued;
	size_t n_lis, n_queued;
	unsigned long long orphan[TCPS_MAX];
	uint8_t *listening;                 /* bitmap of local ports with a listener */
	unsigned long long full, fw2_tw;    /* counters shortcut */
};

static int census_visit(const struct sock *sk, void *data)
{
	struct cstate *s = data;
	struct census *c = s->c;
	struct hkey k;
	struct hent *e;

	s->c->states[sk->state]++;
	s->c->total++;
	if (sk->timer == TIMER_TIMEWAIT)
		s->fw2_tw += sk->state == TCPS_FIN_WAIT2;
	else if (sk->state != TCPS_SYN_RECV)
		s->full++;
	if (s->cq->remotes && sk->state != TCPS_LISTEN && s->listening &&
	    (s->listening[sk->sport / 8] & (1u << (sk->sport % 8)))) {
		/* inbound: one row per listening port, not one per client port */
		cgroups_add(&s->rem, sk, true, false);
	} else if (s->cq->remotes && sk->state != TCPS_LISTEN) {
		cgroups_add(&s->rem, sk, false, s->cq->range.low && sk->sport >= s->cq->range.low &&
						 sk->sport <= s->cq->range.high);
	}
	if (s->cq->lports) {
		memset(&k, 0, sizeof(k));
		k.port = sk->sport;
		e = htab_get(&s->ports, &k);
		e->states[sk->state]++;
		e->total++;
	}
	if (sk->state == TCPS_LISTEN && sk->wqueue > 0 && sk->rqueue >= sk->wqueue) {
		struct listener *l;

		c->full_listeners = xreallocarray(c->full_listeners, c->n_full_listeners + 1,
						  sizeof(*c->full_listeners));
		l = &c->full_listeners[c->n_full_listeners++];
		l->family = sk->family;
		memcpy(l->addr, sk->src, 16);
		l->port = sk->sport;
		l->queued = sk->rqueue;
		l->backlog = sk->wqueue;
	}
	if (s->cq->owners && (sk->state == TCPS_LISTEN ||
			      (!sk->inode && (sk->state == TCPS_ESTABLISHED || sk->state == TCPS_CLOSE_WAIT ||
					      sk->state == TCPS_SYN_RECV)))) {
		struct qsock **v = sk->state == TCPS_LISTEN ? &s->lis : &s->queued;
		size_t *n = sk->state == TCPS_LISTEN ? &s->n_lis : &s->n_queued;

		if ((*n & (*n - 1)) == 0)
			*v = xreallocarray(*v, *n ? *n * 2 : 1, sizeof(**v));
		(*v)[*n].family = sk->family;
		memcpy((*v)[*n].addr, sk->src, 16);
		(*v)[*n].port = sk->sport;
		(*v)[*n].state = sk->state;
		(*v)[(*n)++].inode = sk->inode;
	} else if (s->cq->owners && !sk->inode) {
		s->orphan[sk->state]++;
	}
	if (s->cq->owners && sk->inode) {
		if (s->n_own == s->cap_own) {
			s->cap_own = s->cap_own ? s->cap_own * 2 : 256;
			s->own = xreallocarray(s->own, s->cap_own, sizeof(*s->own));
		}
		s->own[s->n_own].inode = sk->inode;
		s->own[s->n_own].uid = sk->uid;
		s->own[s->n_own].state = sk->state;
		s->own[s->n_own++].idle_ms = sk->idle_ms;
	}
	return 0;
}

static int cmp_own(const void *a, const void *b)
{
	const struct ownsock *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

unsigned long long census_owner_total(const struct owner *o)
{
	unsigned long long t = 0;
	int i;

	for (i = 1; i < TCPS_MAX; i++)
		t += o->states[i];
	return t;
}

static int cmp_owner(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;
	unsigned long long tx = census_owner_total(x), ty = census_owner_total(y);

	if (tx != ty)
		return tx > ty ? -1 : 1;
	return x->pid - y->pid;
}

static struct ownerless *ownerless_row(struct census *c, enum ownerless_kind kind, int pid)
{
	struct ownerless *w;
	size_t i;

	for (i = 0; i < c->n_ownerless; i++)
		if (c->ownerless[i].kind == kind && c->ownerless[i].pid == pid)
			return &c->ownerless[i];
	c->ownerless = xreallocarray(c->ownerless, c->n_ownerless + 1, sizeof(*c->ownerless));
	w = &c->ownerless[c->n_ownerless++];
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	w->pid = pid;
	return w;
}

/* The listener a socket without a file waits on: same port, same address or a wildcard. */
static const struct qsock *queue_of(const struct cstate *s, const struct qsock *q)
{
	static const uint8_t any[16];
	const struct qsock *wild = NULL;
	size_t i;

	for (i = 0; i < s->n_lis; i++) {
		const struct qsock *l = &s->lis[i];

		if (l->port != q->port)
			continue;
		if (l->family == q->family && memcmp(l->addr, q->addr, 16) == 0)
			return l;
		if (memcmp(l->addr, any, 16) == 0 && (!wild || l->family == q->family))
			wild = l;
	}
	return wild;
}

static void build_ownerless(struct cstate *s, const uint32_t *inodes, size_t n, const int *pids)
{
	struct census *c = s->c;
	struct ownerless *w;
	size_t i;
	int st;

	for (i = 0; i < s->n_queued; i++) {
		const struct qsock *l = queue_of(s, &s->queued[i]);
		const uint32_t *hit = l && n ? bsearch(&l->inode, inodes, n, sizeof(*inodes), cmp_u32) : NULL;

		if (!l) {
			s->orphan[s->queued[i].state]++;
			continue;
		}
		w = ownerless_row(c, OWNERLESS_ACCEPTQ, hit ? pids[hit - inodes] : 0);
		w->states[s->queued[i].state]++;
		w->total++;
	}
	for (st = 1; st < TCPS_MAX; st++) {
		if (!s->orphan[st])
			continue;
		w = ownerless_row(c, st == TCPS_TIME_WAIT ? OWNERLESS_TIME_WAIT : OWNERLESS_ORPHAN, 0);
		w->states[st] += s->orphan[st];
		w->total += s->orphan[st];
	}
	for (i = 0; c->unowned && i < s->n_own; i++) {
		const uint32_t *hit = bsearch(&s->own[i].inode, inodes, n, sizeof(*inodes), cmp_u32);

		if (hit && pids[hit - inodes] == 0) {
			w = ownerless_row(c, OWNERLESS_UNREADABLE, 0);
			w->states[s->own[i].state]++;
			w->total++;
		}
	}
}

char *census_ownerless_name(const struct ownerless *w, char *buf, size_t len)
{
	switch (w->kind) {
	case OWNERLESS_ACCEPTQ:
		if (w->pid)
			(void)snprintf(buf, len, "in accept queue of PID %d", w->pid);
		else
			(void)snprintf(buf, len, "in accept queue, listener's process unknown");
		break;
	case OWNERLESS_ORPHAN:
		(void)snprintf(buf, len, "orphaned, no process");
		break;
	case OWNERLESS_TIME_WAIT:
		(void)snprintf(buf, len, "TIME_WAIT, no process");
		break;
	default:
		(void)snprintf(buf, len, "no readable owner");
		break;
	}
	return buf;
}

static int build_owners(int rootfd, struct cstate *s)
{
	struct census *c = s->c;
	uint32_t *inodes, uids[16];
	int *pids;
	size_t i, j, n = 0, n_uids = 0;
	int r;

	if (s->n_own)
		qsort(s->own, s->n_own, sizeof(*s->own), cmp_own);
	inodes = xreallocarray(NULL, s->n_own + 1, sizeof(*inodes));
	for (i = 0; i < s->n_own; i++)
		if (n == 0 || inodes[n - 1] != s->own[i].inode)
			inodes[n++] = s->own[i].inode;
	/* the sockets' uids, few in practice */
	for (i = 0; i < s->n_own && n_uids < 16; i++) {
		for (j = 0; j < n_uids && uids[j] != s->own[i].uid; j++)
			;
		if (j == n_uids)
			uids[n_uids++] = s->own[i].uid;
	}
	/* more than 16 users: no preference is better than a partial one */
	if (i < s->n_own)
		n_uids = 0;
	pids = xcalloc(n + 1, sizeof(*pids));
	r = sockets_owners(rootfd, inodes, n, uids, n_uids, pids, &c->procs_denied, &c->procs_vanished);
	if (r < 0)
		goto out;
	for (i = 0, j = 0; i < s->n_own; i++) {
		struct owner *o = NULL;
		size_t k;

		while (inodes[j] != s->own[i].inode)
			j++;
		if (pids[j] == 0) {
			c->unowned++;
			continue;
		}
		/* few owners in practice: a linear search is fine */
		for (k = 0; k < c->n_owners; k++)
			if (c->owners[k].pid == pids[j])
				o = &c->owners[k];
		if (!o) {
			c->owners = xreallocarray(c->owners, c->n_owners + 1, sizeof(*c->owners));
			o = &c->owners[c->n_owners++];
			memset(o, 0, sizeof(*o));
			o->pid = pids[j];
			o->comm = sockets_comm(rootfd, o->pid);
			if (!o->comm)
				o->comm = xstrdup("?");
			o->close_wait_idle_ms = -1;
		}
		o->states[s->own[i].state]++;
		if (s->own[i].state == TCPS_CLOSE_WAIT && s->own[i].idle_ms > o->close_wait_idle_ms)
			o->close_wait_idle_ms = s->own[i].idle_ms;
	}
	if (c->n_owners)
		qsort(c->owners, c->n_owners, sizeof(*c->owners), cmp_owner);
	build_ownerless(s, inodes, n, pids);
	if (s->cq->pairs && s->cq->remotes)
		cgroups_finish(&s->rem, c, inodes, pids, n);
out:
	free(inodes);
	free(pids);
	return r;
}

static int cmp_lport(const void *a, const void *b)
{
	const struct lport *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return x->port < y->port ? -1 : x->port > y->port;
}

static void build_lports(struct cstate *s)
{
	struct census *c = s->c;
	size_t i;

	c->lports = xcalloc(s->ports.n + 1, sizeof(*c->lports));
	for (i = 0; i < s->ports.cap; i++) {
		struct lport *l;

		if (!s->ports.v[i].used)
			continue;
		l = &c->lports[c->n_lports++];
		l->port = s->ports.v[i].k.port;
		memcpy(l->states, s->ports.v[i].states, sizeof(l->states));
		l->total = s->ports.v[i].total;
	}
	if (c->n_lports)
		qsort(c->lports, c->n_lports, sizeof(*c->lports), cmp_lport);
}

static bool want_counters(const struct census_query *cq)
{
	const struct sockets_query *q = &cq->q;

	return !cq->exact && !cq->owners && !cq->remotes && !cq->lports &&
	       q->family == AF_UNSPEC && (q->states == 0 || q->states == TCPS_ALL) &&
	       (q->source == SRC_AUTO || q->source == SRC_NETLINK) && !q->replay && !q->record;
}

/*
 * ESTABLISHED and TIME_WAIT are the bulk; the kernel counts them for us.
 * inuse (v4 + v6) counts hashed full sockets, tw counts timewait
 * mini-sockets including orphaned FIN_WAIT2 ones (timer 3 in the dump).
 */
static int census_counters(int rootfd, struct cstate *s, char *err, size_t errlen)
{
	struct sockets_query q = s->cq->q;
	struct census *c = s->c;
	struct sockstat ss;
	long long est, tw;
	int r;

	if (sockets_read_sockstat(rootfd, &ss) < 0 || ss.inuse4 < 0 || ss.tw < 0)
		return 1;
	q.states = TCPS_ALL & ~((1u << TCPS_ESTABLISHED) | (1u << TCPS_TIME_WAIT));
	q.source = SRC_NETLINK;
	r = sockets_walk(rootfd, &q, census_visit, s, &c->source, err, errlen);
	if (r < 0)
		return r;
	est = ss.inuse4 + (ss.inuse6 > 0 ? ss.inuse6 : 0) - (long long)s->full;
	tw = ss.tw - (long long)s->fw2_tw;
	/* counters and dump are not one snapshot: never report a negative count */
	c->states[TCPS_ESTABLISHED] = est > 0 ? (unsigned long long)est : 0;
	c->states[TCPS_TIME_WAIT] = tw > 0 ? (unsigned long long)tw : 0;
	c->total += c->states[TCPS_ESTABLISHED] + c->states[TCPS_TIME_WAIT];
	c->from_counters = true;
	return 0;
}

static int listen_visit(const struct sock *sk, void *data)
{
	uint8_t *bits = data;

	if (sk->state == TCPS_LISTEN)
		bits[sk->sport / 8] |= (uint8_t)(1u << (sk->sport % 8));
	return 0;
}

/* The listening ports, from a dump the kernel filters to LISTEN (cheap). */
static uint8_t *listening_ports(int rootfd, const struct sockets_query *q)
{
	struct sockets_query lq = *q;
	enum sockets_source used;
	uint8_t *bits = xcalloc(65536 / 8, 1);

	lq.states = 1u << TCPS_LISTEN;
	lq.info = false;
	lq.record = NULL;
	if (sockets_walk(rootfd, &lq, listen_visit, bits, &used, NULL, 0) < 0) {
		free(bits);
		return NULL;
	}
	return bits;
}

int census_run(int rootfd, const struct census_query *cq, struct census *ret, char *err, size_t errlen)
{
	struct cstate s;
	int r = 1;

	memset(ret, 0, sizeof(*ret));
	memset(&s, 0, sizeof(s));
	s.cq = cq;
	s.c = ret;
	s.rem.pairs = cq->pairs && cq->owners && cq->remotes;
	if (cq->remotes)
		s.listening = listening_ports(rootfd, &cq->q);
	if (want_counters(cq)) {
		r = census_counters(rootfd, &s, err, errlen);
		/* netlink refused: the fallback below reads /proc/net/tcp */
		if (r < 0 && cq->q.source == SRC_AUTO) {
			memset(ret, 0, sizeof(*ret));
			s.full = s.fw2_tw = 0;
			r = 1;
		}
	}
	if (r == 1)
		r = sockets_walk(rootfd, &cq->q, census_visit, &s, &ret->source, err, errlen);
	if (r == 0 && cq->owners) {
		r = build_owners(rootfd, &s);
		if (r < 0 && err && errlen)
			(void)snprintf(err, errlen, "/proc: %s", strerror(-r));
	}
	/* with pairs, build_owners has handed the remotes over */
	if (r == 0 && cq->remotes && !(cq->pairs && cq->owners))
		cgroups_finish(&s.rem, ret, NULL, NULL, 0);
	if (r == 0 && cq->lports)
		build_lports(&s);
	free(s.own);
	free(s.lis);
	free(s.queued);
	free(s.listening);
	cgroups_free(&s.rem);
	free(s.ports.v);
	if (r < 0)
		census_free(ret);
	return r;
}

void census_free(struct census *c)
{
	size_t i;

	for (i = 0; i < c->n_owners; i++)
		free(c->owners[i].comm);
	free(c->owners);
	free(c->ownerless);
	free(c->remotes);
	free(c->pairs);
	free(c->lports);
	free(c->full_listeners);
	memset(c, 0, sizeof(*c));
}
