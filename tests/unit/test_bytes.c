/* SPDX-License-Identifier: ISC */
/* test_bytes.c: base64 round trips and SHA-256 against the FIPS 180-4 / RFC 4648 vectors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "testlib.h"
#include "bytes.h"

static void test_b64_vectors(void **state)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char *s, *d;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		s = bytes_b64_encode(plain[i], strlen(plain[i]));
		assert_string_equal(s, enc[i]);
		free(s);
		assert_int_equal(bytes_b64_decode(enc[i], &d, &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(d, plain[i], n);
		free(d);
	}
	static const char *const bad[] = { "Zg=", "Z===", "Zg==Zg==", "Zm9v!A==", "=Zm9", "Zm=v" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d = (char *)1;
		assert_int_equal(bytes_b64_decode(bad[i], &d, &n), -EINVAL);
		assert_null(d);
	}
}

static void test_b64_any_bytes(void **state)
{
	unsigned char all[256 * 3];
	char *s, *d;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)(i * 7 + i / 256);
	for (size_t len = 0; len <= sizeof(all); len += 37) {
		s = bytes_b64_encode(all, len);
		assert_int_equal(bytes_b64_decode(s, &d, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(d, all, len);
		free(s);
		free(d);
	}
}

static void test_sha256(void **state)
{
	char h[65], *big;

	(void)state;
	bytes_sha256_hex("", 0, h);
	assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	bytes_sha256_hex("abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	bytes_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, h);
	assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	big = malloc(1000000);
	assert_non_null(big);
	memset(big, 'a', 1000000);
	bytes_sha256_hex(big, 1000000, h);
	assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64_any_bytes),
		cmocka_unit_test(test_sha256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
