/* SPDX-License-Identifier: ISC */
/*
 * test_journal_check.c: what a journal may name before rollback or crash
 * recovery trusts it (journal_check.h), alone and through the journal
 * reader and apply_rollback() on a fixture root: a hand-edited journal is
 * refused with its field and why, and nothing is touched.
 */
#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"
#include "apply.h"
#include "journal_check.h"
#include "procsys.h"
#include "util.h"

#define FRAG "/etc/sysctl.d/90-tcptune.conf"
#define FRAG_REL "etc/sysctl.d/90-tcptune.conf"
#define JOURNAL_REL "var/lib/tcptune/last-apply"

static void refused(char *why, const char *part)
{
	assert_non_null(why);
	if (!strstr(why, part))
		fail_msg("\"%s\" does not say \"%s\"", why, part);
	free(why);
}

static void test_keys(void **state)
{
	static const char *const ok[] = { "net.ipv4.tcp_fin_timeout", "net.ipv4.conf.eth0.rp_filter",
					  "net.core.somaxconn", "fs.file-max" };
	static const char *const bad[] = { "../../etc/x", "net/ipv4/tcp_fin_timeout", "net..ipv4",
					   "net.ipv4.", ".net", "", "NET.core.somaxconn",
					   "net.ipv4.tcp fin", "net.ipv4.x/../../y" };

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_null(journal_check_key(ok[i], false));
		assert_null(journal_check_key(ok[i], true));
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		refused(journal_check_key(bad[i], false), bad[i][0] ? "not a sysctl name" : "empty");
		refused(journal_check_key(bad[i], true), bad[i][0] ? "not a sysctl name" : "empty");
	}
	/* outside the network scope: only with the opt-in recorded */
	refused(journal_check_key("kernel.core_pattern", false), "allow_uncatalogued");
	refused(journal_check_key("vm.swappiness", false), "allow_uncatalogued");
	refused(journal_check_key("fs.suid_dumpable", false), "allow_uncatalogued");
	assert_null(journal_check_key("kernel.core_pattern", true));
	char *longkey = xmalloc(300);
	memset(longkey, 'a', 299);
	longkey[0] = 'n', longkey[1] = 'e', longkey[2] = 't', longkey[3] = '.';
	longkey[299] = '\0';
	refused(journal_check_key(longkey, false), "longer than 255");
	free(longkey);
}

static void test_values(void **state)
{
	char *big = xmalloc(JOURNAL_VALUE_MAX + 2);

	(void)state;
	assert_null(journal_check_value("10240 65535", 11));
	assert_null(journal_check_value("32768\t60999\n", 12));
	assert_null(journal_check_value("", 0));
	assert_null(journal_check_value("bbr", 3));
	refused(journal_check_value("1\0; x", 5), "NUL");
	refused(journal_check_value("3\a", 2), "control character (0x07)");
	refused(journal_check_value("3\x7f", 2), "0x7f");
	refused(journal_check_value("\x1b[2J", 4), "0x1b");
	memset(big, '9', JOURNAL_VALUE_MAX + 1);
	big[JOURNAL_VALUE_MAX + 1] = '\0';
	refused(journal_check_value(big, JOURNAL_VALUE_MAX + 1), "4097 bytes");
	big[JOURNAL_VALUE_MAX] = '\0';
	assert_null(journal_check_value(big, JOURNAL_VALUE_MAX));
	free(big);
}

static void test_fragment(void **state)
{
	(void)state;
	assert_null(journal_check_fragment(FRAG, FRAG));
	assert_null(journal_check_fragment("/etc/sysctl.d//./90-tcptune.conf", FRAG));
	assert_null(journal_check_fragment(FRAG, "/etc//sysctl.d/90-tcptune.conf"));
	assert_null(journal_check_fragment("/srv/x.conf", "/srv/x.conf"));
	/* another fragment in /etc/sysctl.d: an earlier apply's --fragment */
	assert_null(journal_check_fragment("/etc/sysctl.d/50-alt.conf", FRAG));
	assert_null(journal_check_fragment("/etc//sysctl.d/./50-alt.conf", "/srv/x.conf"));
	refused(journal_check_fragment("/etc/passwd", FRAG), "neither the fragment this apply writes");
	refused(journal_check_fragment("/etc/passwd", "/srv/x.conf"), "(/srv/x.conf)");
	refused(journal_check_fragment("/run/sysctl.d/99-other.conf", FRAG), "give it with --fragment");
	refused(journal_check_fragment("/etc/sysctl.d/sub/x.conf", FRAG), "nor a .conf file");
	refused(journal_check_fragment("/etc/sysctl.d/x.txt", FRAG), "nor a .conf file");
	refused(journal_check_fragment("/etc/sysctl.d/.conf", FRAG), "nor a .conf file");
	refused(journal_check_fragment("/etc/sysctl.d/.x.conf", FRAG), "nor a .conf file");
	refused(journal_check_fragment("/etc/sysctl.d", FRAG), "nor a .conf file");
	refused(journal_check_fragment("/etc/sysctl.d/../passwd", FRAG), "\"..\"");
	refused(journal_check_fragment("/etc/sysctl.d/x/../90-tcptune.conf", FRAG), "\"..\"");
	refused(journal_check_fragment("etc/sysctl.d/90-tcptune.conf", FRAG), "not an absolute path");
	refused(journal_check_fragment("", FRAG), "not an absolute path");
	refused(journal_check_fragment(NULL, FRAG), "not an absolute path");
	refused(journal_check_fragment("/", FRAG), "neither the fragment");
}

/* --- through the journal reader and rollback on a fixture root ---------------- */

static char *root;
static int rootfd = -1;
static struct procsys ps = { -1 };
static const struct apply_opts ao = { .fragment = FRAG, .lock_timeout_ms = 200 };

static int setup(void **state)
{
	(void)state;
	root = tl_mkroot("apply-root");
	rootfd = tl_rootfd(root);
	assert_int_equal(procsys_open(rootfd, &ps), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	procsys_close(&ps);
	(void)close(rootfd);
	tl_rmroot(root);
	return 0;
}

/* A complete journal that names `key` = `after` (was `before`), the fragment `frag`. */
static void write_journal(const char *frag, const char *key, const char *before, const char *after,
			  const char *extra)
{
	char *j = xasprintf("{ \"format\": 2, \"state\": \"complete\", \"pid\": 1, \"profiles\": "
			    "[\"crawler\"], \"netns\": null, \"fragment\": \"%s\", "
			    "\"fragment_before_b64\": null, \"fragment_before_mode\": 420, "
			    "\"fragment_after_b64\": null, %s\"keys\": [ { \"key\": \"%s\", \"before\": "
			    "\"%s\", \"after\": \"%s\" } ], \"originals\": [] }\n",
			    frag, extra, key, before, after);

	tl_write(root, JOURNAL_REL, j);
	free(j);
}

static void assert_read_refused(const char *part)
{
	struct apply_last l;
	struct msgs m = { 0 };

	assert_true(apply_last_read(rootfd, &l, &m) < 0);
	assert_int_equal(m.n, 1);
	if (!strstr(m.v[0], part))
		fail_msg("\"%s\" does not say \"%s\"", m.v[0], part);
	if (!strstr(m.v[0], "last-apply"))
		fail_msg("\"%s\" does not name the journal", m.v[0]);
	msgs_free(&m);
}

/* rollback refuses (exit 2), names why and the way out, and touches nothing */
static void assert_rollback_refused(const char *part)
{
	struct apply_tx tx;
	char *before = tl_read(root, "etc/passwd"), *jbefore = tl_read(root, JOURNAL_REL);
	char *live = tl_read(root, "proc/sys/net/core/somaxconn"), *after;
	bool found = false;

	assert_int_equal(apply_rollback(rootfd, &ps, &ao, false, &tx), APPLY_INVALID);
	for (size_t i = 0; i < tx.errors.n; i++)
		if (strstr(tx.errors.v[i], part) && strstr(tx.errors.v[i], "rollback --forget"))
			found = true;
	if (!found)
		fail_msg("no error says \"%s\" and `rollback --forget`: %s", part,
			 tx.errors.n ? tx.errors.v[0] : "(none)");
	apply_tx_free(&tx);
	after = tl_read(root, "etc/passwd");
	assert_string_equal(after, before);
	free(after);
	after = tl_read(root, JOURNAL_REL);
	assert_string_equal(after, jbefore);
	free(after);
	after = tl_read(root, "proc/sys/net/core/somaxconn");
	assert_string_equal(after, live);
	free(after);
	free(before);
	free(jbefore);
	free(live);
}

static void test_rollback_refuses_uncatalogued(void **state)
{
	(void)state;
	tl_write(root, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	tl_write(root, "proc/sys/kernel/core_pattern", "core\n");
	write_journal(FRAG, "kernel.core_pattern", "|/tmp/x %p", "core", "");
	assert_read_refused("keys[0].key \"kernel.core_pattern\": outside the network keys");
	assert_rollback_refused("kernel.core_pattern");
	char *cp = tl_read(root, "proc/sys/kernel/core_pattern");
	assert_string_equal(cp, "core\n");
	free(cp);
	/* the same key with the opt-in recorded is one a profile could have set */
	write_journal(FRAG, "kernel.core_pattern", "core", "core", "\"allow_uncatalogued\": true, ");
	struct apply_last l;
	assert_int_equal(apply_last_read(rootfd, &l, NULL), 0);
	assert_int_equal(l.state, APPLY_STATE_COMPLETE);
	apply_last_free(&l);
}

static void test_rollback_refuses_path_key(void **state)
{
	(void)state;
	tl_write(root, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	write_journal(FRAG, "../../etc/x", "1", "2", "");
	assert_read_refused("keys[0].key \"../../etc/x\": not a sysctl name");
	assert_rollback_refused("not a sysctl name");
}

static void test_rollback_refuses_fragment(void **state)
{
	(void)state;
	tl_write(root, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	write_journal("/etc/passwd", "net.core.somaxconn", "1", "4096", "");
	assert_rollback_refused("\"fragment\" /etc/passwd: neither the fragment this apply writes");
	write_journal("/etc/sysctl.d/../passwd", "net.core.somaxconn", "1", "4096", "");
	assert_rollback_refused("\"..\" component");
}

static void test_rollback_refuses_huge_value(void **state)
{
	char *v = xmalloc(100001);

	(void)state;
	tl_write(root, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	memset(v, '7', 100000);
	v[100000] = '\0';
	write_journal(FRAG, "net.core.somaxconn", v, "4096", "");
	free(v);
	assert_read_refused("keys[0].before (of net.core.somaxconn): a value of 100000 bytes");
	assert_rollback_refused("a value of 100000 bytes");
	write_journal(FRAG, "net.core.somaxconn", "1\\u0000x", "4096", "");
	assert_rollback_refused("a NUL byte");
}

/* a journal others could have written is not trusted at all */
static void test_journal_file(void **state)
{
	char *path = xasprintf("%s/%s", root, JOURNAL_REL);

	(void)state;
	tl_write(root, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	write_journal(FRAG, "net.core.somaxconn", "1", "4096", "");
	assert_int_equal(chmod(path, 0600), 0);
	struct apply_last l;
	assert_int_equal(apply_last_read(rootfd, &l, NULL), 0);
	apply_last_free(&l);
	assert_int_equal(chmod(path, 0666), 0);
	assert_read_refused("writable by everyone (mode 0666)");
	assert_rollback_refused("writable by everyone");
	assert_int_equal(chmod(path, 0620), 0);
	assert_read_refused("writable by its group (mode 0620)");
	assert_int_equal(chmod(path, 0600), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 1, 1), 0);
		assert_read_refused("owned by uid 1, not root");
		assert_rollback_refused("owned by uid 1, not root");
	}
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_fragment),
		cmocka_unit_test_setup_teardown(test_rollback_refuses_uncatalogued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_refuses_path_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_refuses_fragment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_refuses_huge_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
