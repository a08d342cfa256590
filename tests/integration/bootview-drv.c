/* SPDX-License-Identifier: ISC */
/* bootview-drv.c: print tcptune's boot view of keys, for bootview-differential.sh. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "sysctld.h"

/*
 * bootview_drv ROOT sd|pp... < KEYS: for each mode, one "MODE net/ipv4/x=VALUE"
 * line per key, the value systemd-sysctl (sd) or `sysctl --system` (pp)
 * would write at boot from the sysctl.d files below ROOT, "-" when it
 * writes nothing. The format is the one the test reads back from the
 * sandbox's /proc/sys.
 */
int main(int argc, char **argv)
{
	struct bootview bv;
	char keys[128][256];
	size_t n = 0;
	int fd, r;

	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "sd") && strcmp(argv[i], "pp"))
			argc = 0;
	if (argc < 3) {
		fprintf(stderr, "usage: bootview_drv ROOT sd|pp... < KEYS\n");
		return 2;
	}
	while (n < 128 && fgets(keys[n], sizeof(keys[n]), stdin)) {
		keys[n][strcspn(keys[n], "\n")] = '\0';
		if (*keys[n])
			n++;
	}
	if (n == 128) {
		fprintf(stderr, "bootview_drv: too many keys\n");
		return 2;
	}
	fd = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	r = sysctld_load(fd, NULL, NULL, &bv);
	(void)close(fd);
	if (r < 0) {
		fprintf(stderr, "sysctld_load %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		bool sd = !strcmp(argv[i], "sd");

		for (size_t k = 0; k < n; k++) {
			const struct sysctl_assign *a;
			char path[256];

			a = sd ? sysctld_find(&bv, keys[k]) : sysctld_find_procps(&bv, keys[k]);
			memcpy(path, keys[k], sizeof(path));
			for (char *p = path; *p; p++)
				if (*p == '.')
					*p = '/';
			printf("%s %s=%s\n", argv[i], path, a && a->value ? a->value : "-");
		}
	}
	sysctld_free(&bv);
	return ferror(stdout) || fflush(stdout) ? 1 : 0;
}
