/* SPDX-License-Identifier: ISC */
/* test_util.c: key names, value token lists, messages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testlib.h"
#include "util.h"

static void test_key_normalize(void **state)
{
	char *k;

	(void)state;
	assert_int_equal(key_normalize("net.ipv4.tcp_keepalive_time", &k), 0);
	assert_string_equal(k, "net.ipv4.tcp_keepalive_time");
	free(k);
	assert_int_equal(key_normalize("net/ipv4/tcp_keepalive_time", &k), 0);
	assert_string_equal(k, "net.ipv4.tcp_keepalive_time");
	free(k);
	assert_int_equal(key_normalize("fs/file-max", &k), 0);
	assert_string_equal(k, "fs.file-max");
	free(k);
	/* slash form: a dot is part of a name, which our key charset refuses */
	assert_int_equal(key_normalize("net/ipv4/conf/eth0.100/rp_filter", &k), -EINVAL);
	static const char *const bad[] = {
		"", ".", "net..ipv4", "net.ipv4.", ".net", "net/../fs", "../etc/passwd",
		"net.ipv4.tcp keepalive", "NET.ipv4.x", "net.ipv4.tcp_*", "net.ipv4\n.x",
		"net.ipv4/tcp_keepalive_time", "/net/ipv4",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		k = NULL;
		assert_int_equal(key_normalize(bad[i], &k), -EINVAL);
		assert_null(k);
	}
}

static void test_values(void **state)
{
	char *v, **tok;

	(void)state;
	v = value_normalize("4096\t16384\t4194304\n");
	assert_string_equal(v, "4096 16384 4194304");
	free(v);
	v = value_normalize("  bbr  ");
	assert_string_equal(v, "bbr");
	free(v);
	v = value_normalize("");
	assert_string_equal(v, "");
	free(v);
	assert_true(value_equal("10240\t65535", "10240 65535"));
	assert_true(value_equal(" 1 2  3 ", "1\t2\t3\n"));
	assert_false(value_equal("1 2", "1 2 3"));
	assert_false(value_equal("12", "1 2"));
	assert_int_equal(value_split("a\tb  c", &tok), 3);
	assert_string_equal(tok[2], "c");
	strv_free(tok, 3);
}

static void test_parse_ll(void **state)
{
	long long v;

	(void)state;
	assert_int_equal(parse_ll("200", &v), 0);
	assert_int_equal(v, 200);
	assert_int_equal(parse_ll("-1", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(parse_ll("", &v), -EINVAL);
	assert_int_equal(parse_ll(" 1", &v), -EINVAL);
	assert_int_equal(parse_ll("1x", &v), -EINVAL);
	assert_int_equal(parse_ll("99999999999999999999", &v), -ERANGE);
	assert_true(str_digits("4242"));
	assert_false(str_digits(""));
	assert_false(str_digits("42a"));
	assert_false(str_digits("-1"));
}

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(edit_distance("tcp_keepalive_time", "tcp_keepalive_tim"), 1);
	assert_int_equal(edit_distance("abc", "abc"), 0);
	assert_int_equal(edit_distance("", "abc"), 3);
	assert_int_equal(edit_distance("kitten", "sitting"), 3);
	/* bounded: exact up to max, max + 1 past it, whatever the lengths */
	assert_int_equal(edit_distance_max("kitten", "sitting", 3), 3);
	assert_int_equal(edit_distance_max("kitten", "sitting", 2), 3);
	assert_int_equal(edit_distance_max("a", "abcdefgh", 3), 4);
	assert_int_equal(edit_distance_max("tcp_rmem", "tcp_wmem", 0), 1);
	/* a row below max early, above it later: the cut-off must not fire early */
	assert_int_equal(edit_distance_max("abcdef", "abcxyz", 3), 3);
	assert_int_equal(edit_distance_max("abcdefg", "abcxyzw", 3), 4);
	{
		/* longer than the stack row */
		char a[201], b[201];

		memset(a, 'x', 200);
		memset(b, 'x', 200);
		a[200] = b[200] = '\0';
		b[100] = 'y';
		assert_int_equal(edit_distance_max(a, b, 3), 1);
		assert_int_equal(edit_distance(a, b), 1);
	}
	/* edit_near() is edit_close() on the exact distance */
	assert_int_equal(edit_near("adit", "audit"), 1);
	assert_int_equal(edit_near("pid", "sid"), 1);
	assert_int_equal(edit_near("pid", "owner"), (size_t)-1);
	assert_int_equal(edit_near("abcd", "abxy"), (size_t)-1);
	assert_int_equal(edit_near("tcp_fin_timeout", "tcp_fin_timeot"), 1);
	assert_int_equal(edit_near("tcp_keepalive_tmie", "tcp_keepalive_time"), 2);
	assert_int_equal(edit_near("", ""), (size_t)-1);
}

static void test_suggest_word(void **state)
{
	static const char *const cmds[] = { "audit", "apply", "plan", "rollback", "sockets" };
	static const char *const by[] = { "state", "owner", "remote", "local-port" };

	(void)state;
	assert_string_equal(suggest_word("adit", cmds, 5), "audit");
	assert_string_equal(suggest_word("socket", cmds, 5), "sockets");
	assert_string_equal(suggest_word("ROLLBACK", cmds, 5), "rollback");
	assert_string_equal(suggest_word("localport", by, 4), "local-port");
	assert_null(suggest_word("xyz", cmds, 5));
	assert_null(suggest_word("", cmds, 5));
	assert_null(suggest_word("pid", by, 4));
	assert_true(edit_close(1, 4));
	assert_false(edit_close(2, 4));
}

static void test_msgs(void **state)
{
	struct msgs m = { 0 };

	(void)state;
	msgs_add(&m, "%s:%u: %s", "a.conf", 3u, "bad");
	msgs_add(&m, "second");
	assert_int_equal(m.n, 2);
	assert_string_equal(m.v[0], "a.conf:3: bad");
	msgs_free(&m);
	assert_int_equal(m.n, 0);
	assert_null(m.v);
}

/* read_all from a pipe holding `len` bytes of `c`. */
static int read_pipe(size_t len, size_t max, char **buf, size_t *got)
{
	int p[2], r;
	char *data = xmalloc(len + 1);

	memset(data, 'x', len);
	if (len)
		data[len / 2] = '\0';
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], data, len), (ssize_t)len);
	close(p[1]);
	r = read_all(p[0], max, buf, got);
	close(p[0]);
	free(data);
	return r;
}

static void test_read_all(void **state)
{
	char *buf;
	size_t len;

	(void)state;
	assert_int_equal(read_pipe(0, 10, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	assert_int_equal(read_pipe(10, 10, &buf, &len), 0);	/* exactly max */
	assert_int_equal(len, 10);
	assert_int_equal(buf[5], '\0');			/* NULs kept */
	assert_int_equal(buf[9], 'x');
	assert_int_equal(buf[10], '\0');
	free(buf);
	buf = NULL;
	assert_int_equal(read_pipe(11, 10, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(read_pipe(60000, 65536, &buf, &len), 0);	/* grows past 4096 */
	assert_int_equal(len, 60000);
	free(buf);
	assert_int_equal(read_pipe(5000, 4999, &buf, &len), -EFBIG);
	assert_int_equal(read_all(-1, 10, &buf, &len), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_normalize),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_parse_ll),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_suggest_word),
		cmocka_unit_test(test_msgs),
		cmocka_unit_test(test_read_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
