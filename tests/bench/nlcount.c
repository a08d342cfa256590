/* SPDX-License-Identifier: ISC */
/* nlcount.c: the minimal raw sock_diag count the benchmark compares against. */
/*
 * Two per-family SOCK_DIAG_BY_FAMILY dumps (v4 then v6), all states, no
 * extensions, a 32 KiB buffer: what any netlink counter has to do.
 * With an argument "close-wait", only CLOSE_WAIT is asked for.
 */
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buf[32768];

int main(int argc, char **argv)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	unsigned long long n[16] = { 0 }, total = 0;
	unsigned states = argc > 1 && !strcmp(argv[1], "close-wait") ? 1u << 8 : 0xffe;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return perror("socket"), 1;
	for (int i = 0; i < 2; i++) {
		struct {
			struct nlmsghdr h;
			struct inet_diag_req_v2 r;
		} req = {
			.h = { sizeof(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, (unsigned)i + 1, 0 },
			.r = { .sdiag_family = (unsigned char)fams[i], .sdiag_protocol = IPPROTO_TCP,
			       .idiag_states = states },
		};
		int done = 0;

		if (send(fd, &req, sizeof(req), 0) < 0)
			return perror("send"), 1;
		while (!done) {
			ssize_t len = recv(fd, buf, sizeof(buf), 0);
			struct nlmsghdr *h = (struct nlmsghdr *)buf;

			if (len < 0)
				return perror("recv"), 1;
			for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
				if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
					done = 1;
					break;
				}
				n[((struct inet_diag_msg *)NLMSG_DATA(h))->idiag_state & 15]++;
				total++;
			}
		}
	}
	printf("total %llu ESTABLISHED %llu TIME_WAIT %llu CLOSE_WAIT %llu\n", total, n[1], n[6], n[8]);
	close(fd);
	return 0;
}
