/* SPDX-License-Identifier: ISC */
/* bytes.h: byte strings as text: base64 (RFC 4648) and SHA-256 (FIPS 180-4) digests. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Base64 of len bytes, NUL-terminated. Caller frees. */
char *bytes_b64_encode(const void *data, size_t len);
/*
 * Decode base64 (no whitespace; padding required). 0 with a NUL-terminated
 * buffer of *ret_len bytes (caller frees), or -EINVAL.
 */
int bytes_b64_decode(const char *text, char **ret, size_t *ret_len);

/* SHA-256 of len bytes as 64 lowercase hex digits and a NUL. */
void bytes_sha256_hex(const void *data, size_t len, char ret[65]);
