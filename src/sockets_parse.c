/* sockets_parse.c: one socket from a sock_diag message or a /proc/net/tcp{,6} line (pure). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include "sockets.h"
#include "util.h"

#define TCP_NEW_SYN_RECV_STATE 12

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

