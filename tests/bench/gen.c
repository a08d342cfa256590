/* SPDX-License-Identifier: ISC */
/* gen.c: make many loopback TCP sockets (ESTABLISHED, CLOSE_WAIT, TIME_WAIT) for the benchmark. */
/*
 * usage: gen READYFILE TIME_WAIT EST_PAIRS CLOSE_WAIT [SECONDS [spread]]
 * With "spread", every ESTABLISHED and CLOSE_WAIT client goes to its own
 * loopback address (127.1.0.1, 127.1.0.2, …): one remote per connection,
 * the distinct-remotes case of `sockets --by remote`. Run inside a private network namespace (run.sh does). Holders are
 * child processes (comm "bench-holder") keeping at most ~19k fds each;
 * TIME_WAIT is made last by the parent, which then writes READYFILE and
 * sleeps until SIGTERM or SECONDS (default 240) pass. Everything is bounded.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define NDEST 16          /* 127.0.0.2 … 127.0.0.17: 4-tuples to spare */
#define MAX_SOCKETS 400000

static int listeners[NDEST];
static int spread;        /* one destination address per connection */
static long next_addr;    /* spread: the next address's index */

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void listen_all(int port)
{
	for (int i = 0; i < (spread ? 1 : NDEST); i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		int one = 1;

		a.sin_addr.s_addr = spread ? htonl(INADDR_ANY) : htonl(0x7f000002 + i);
		listeners[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (listeners[i] < 0)
			die("socket");
		(void)setsockopt(listeners[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(listeners[i], (struct sockaddr *)&a, sizeof(a)) < 0)
			die("bind");
		if (listen(listeners[i], 4096) < 0)
			die("listen");
	}
}

/* One connection to destination i; returns the client, *srv the accepted end. */
static int conn(int i, int port, int *srv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(0x7f000002 + i);
	if (spread) {
		/* 127.1.0.1 up: skip the .0 and .255 of every /24 */
		long k = next_addr++;

		a.sin_addr.s_addr = htonl(0x7f010000 + (uint32_t)(k / 254) * 256 + (uint32_t)(k % 254) + 1);
		i = 0;
	}
	if (c < 0)
		die("socket");
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	*srv = accept4(listeners[i], NULL, NULL, SOCK_CLOEXEC);
	if (*srv < 0)
		die("accept");
	return c;
}

static void close_listeners(void)
{
	for (int i = 0; i < (spread ? 1 : NDEST); i++)
		close(listeners[i]);
}

/* A child holding est pairs and cw CLOSE_WAIT clients; writes one byte when done. */
static pid_t holder(int port, long est, long cw, int limit)
{
	int p[2];
	pid_t pid;
	char b = 0;

	if (pipe(p) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &b, 1) != 1)
			die("holder failed");
		close(p[0]);
		return pid;
	}
	close(p[0]);
	prctl(PR_SET_NAME, "bench-holder");
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	listen_all(port);
	for (long k = 0; k < est; k++) {
		int s;
		(void)conn(k % NDEST, port, &s);
	}
	for (long k = 0; k < cw; k++) {
		int s;
		(void)conn(k % NDEST, port, &s);
		close(s);              /* the server closes; this client never does */
	}
	close_listeners();
	if (write(p[1], &b, 1) != 1)
		die("write");
	close(p[1]);
	sleep(limit);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	long tw, est, cw, per, fds;
	int limit, nh = 0;
	pid_t kids[64];
	FILE *f;

	if (argc < 5) {
		fprintf(stderr, "usage: gen READYFILE TIME_WAIT EST_PAIRS CLOSE_WAIT [SECONDS [spread]]\n");
		return 2;
	}
	tw = atol(argv[2]);
	est = atol(argv[3]);
	cw = atol(argv[4]);
	limit = argc > 5 ? atoi(argv[5]) : 240;
	spread = argc > 6 && strcmp(argv[6], "spread") == 0;
	if (tw < 0 || est < 0 || cw < 0 || tw + 2 * est + 2 * cw > MAX_SOCKETS || limit < 1 || limit > 900) {
		fprintf(stderr, "gen: at most %d sockets and 900 seconds\n", MAX_SOCKETS);
		return 2;
	}
	alarm((unsigned)limit + 30);
	/* as many fds as the user namespace allows */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	fds = (long)rl.rlim_cur - 64;
	if (fds < 1000)
		die("RLIMIT_NOFILE too small");
	/* spread the fd-holding sockets over holders of at most fds each */
	while (est > 0 || cw > 0) {
		long e = est * 2 > fds ? fds / 2 : est;
		long c = cw > fds - 2 * e ? fds - 2 * e : cw;

		per = 2 * e + c;
		if (per == 0 || nh == 64)
			die("too many holders");
		kids[nh] = holder(9000 + nh, e, c, limit);
		next_addr += e + c;
		nh++;
		est -= e;
		cw -= c;
	}
	listen_all(8000);
	for (long k = 0; k < tw; k++) {
		int s, c = conn(k % NDEST, 8000, &s);

		close(c);              /* the client closes first: TIME_WAIT is its */
		close(s);
	}
	close_listeners();
	usleep(300000);
	f = fopen(argv[1], "w");
	if (!f)
		die(argv[1]);
	fprintf(f, "%d\n", (int)getpid());
	for (int i = 0; i < nh; i++)
		fprintf(f, "%d\n", (int)kids[i]);
	fclose(f);
	sleep(limit);
	for (int i = 0; i < nh; i++)
		kill(kids[i], SIGTERM);
	return 0;
}
