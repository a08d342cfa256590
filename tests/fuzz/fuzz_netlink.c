/* SPDX-License-Identifier: ISC */
/*
 * fuzz_netlink.c: sockets_parse_nl() on one buffer of sock_diag replies,
 * as recv() returns it (the replay files in tests/data/sockets-nl are
 * such buffers).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "fuzz.h"
#include "sockets.h"
#include "util.h"

struct seen {
	unsigned long n, stop_at;
	unsigned long long sum;
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static int visit(const struct sock *sk, void *data)
{
	struct seen *s = data;
	char a[64], b[64];

	if ((sk->family != AF_INET && sk->family != AF_INET6) || sk->state == 0 ||
	    sk->state >= TCPS_MAX || !sockets_state_name(sk->state)) {
		fprintf(stderr, "fuzz_netlink: parser passed on a bad socket\n");
		abort();
	}
	(void)sockets_addr_str(sk->family, sk->src, sk->sport, a, sizeof(a));
	(void)sockets_addr_str(sk->family, sk->dst, sk->dport, b, sizeof(b));
	s->sum += strlen(a) + strlen(b) + sk->inode + sk->uid + sk->rqueue + sk->wqueue +
		  (unsigned long long)sk->idle_ms + sk->timer;
	if (++s->n == s->stop_at)
		return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s = { 0 };
	void *buf;
	int r;

	if (size < 1 || size > 1 << 20)
		return 0;
	/* first byte: stop the walk after that many sockets (0: never) */
	s.stop_at = data[0];
	/* the kernel's buffer is aligned; the parser may rely on that */
	buf = xmalloc(size - 1 ? size - 1 : 1);
	memcpy(buf, data + 1, size - 1);
	r = sockets_parse_nl(buf, size - 1, visit, &s);
	/*
	 * 0 more expected, else the count of NLMSG_DONE (a recording of
	 * per-family dumps holds two), or -errno; a stopped walk is -ECANCELED
	 */
	if (r < -4095 || (s.stop_at && s.n == s.stop_at && r != -ECANCELED)) {
		fprintf(stderr, "fuzz_netlink: unexpected return %d\n", r);
		abort();
	}
	free(buf);
	return 0;
}
