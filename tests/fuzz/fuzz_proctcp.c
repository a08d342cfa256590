/* SPDX-License-Identifier: ISC */
/*
 * fuzz_proctcp.c: the /proc/net/tcp{,6} line parser and the
 * ip_local_reserved_ports list. Input: a selector byte (bit 0: tcp6),
 * then text; every line goes through sockets_parse_proc_line() and the
 * first also through sockets_count_reserved().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "fuzz.h"
#include "sockets.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int family;
	char *text, *line, *next;
	unsigned low, high, count;

	if (size < 1 || size > 1 << 20)
		return 0;
	family = data[0] & 1 ? AF_INET6 : AF_INET;
	text = fuzz_str(data + 1, size - 1);
	for (line = text; line; line = next) {
		struct sock sk;
		char a[64];

		next = strchr(line, '\n');
		/* keep the newline, as getline() does */
		char *one = next ? xstrndup(line, (size_t)(next - line + 1)) : xstrdup(line);

		if (next)
			next++;
		if (sockets_parse_proc_line(one, family, &sk) == 0) {
			if (sk.family != family || sk.state == 0 || sk.state >= TCPS_MAX ||
			    !sockets_state_name(sk.state)) {
				fprintf(stderr, "fuzz_proctcp: parser passed on a bad socket\n");
				abort();
			}
			(void)sockets_addr_str(sk.family, sk.src, sk.sport, a, sizeof(a));
			(void)sockets_addr_str(sk.family, sk.dst, sk.dport, a, sizeof(a));
		}
		free(one);
	}
	low = size > 2 ? (unsigned)data[1] * 256 + data[2] : 1024;
	high = size > 4 ? (unsigned)data[3] * 256 + data[4] : 65535;
	/* the kernel's list is short; each range costs its width, so keep it to a line */
	line = xstrndup(text, strcspn(text, "\n") < 256 ? strcspn(text, "\n") : 256);
	if (sockets_count_reserved(line, low, high, &count) == 0 && low <= high &&
	    count > high - low + 1) {
		fprintf(stderr, "fuzz_proctcp: %u reserved ports in %u..%u\n", count, low, high);
		abort();
	}
	(void)sockets_state_parse(line);
	free(line);
	free(text);
	return 0;
}
