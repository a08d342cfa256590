/* bootview-drv.c: print tcptune's boot view of keys, for bootview-differential.sh. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "sysctld.h"

/*
 * bootview_drv ROOT sd|pp < KEYS: one "sd|pp net/ipv4/x=VALUE" line per key, the
 * value systemd-sysctl (sd) or `sysctl --system` (pp) would write at boot
 * from the sysctl.d files below ROOT, "-" when it writes nothing. The
 * format is the one the test reads back from the sandbox's /proc/sys.
 */
int main(int argc, char **argv)
{
	struct bootview bv;
	char key[512];
	bool sd;
	int fd, r;

	if (argc != 3 || (strcmp(argv[2], "sd") && strcmp(argv[2], "pp"))) {
		fprintf(stderr, "usage: bootview_drv ROOT sd|pp < KEYS\n");
		return 2;
	}
	sd = !strcmp(argv[2], "sd");
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
	while (fgets(key, sizeof(key), stdin)) {
		const struct sysctl_assign *a;

		key[strcspn(key, "\n")] = '\0';
		if (!*key)
			continue;
		a = sd ? sysctld_find(&bv, key) : sysctld_find_procps(&bv, key);
		for (char *p = key; *p; p++)
			if (*p == '.')
				*p = '/';
		printf("%s %s=%s\n", argv[2], key, a && a->value ? a->value : "-");
	}
	sysctld_free(&bv);
	return ferror(stdout) || fflush(stdout) ? 1 : 0;
}
