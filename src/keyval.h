/* keyval.h: sysctl key names and value token lists. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/*
 * Keys. The canonical form is dotted ("net.ipv4.tcp_keepalive_time").
 * key_normalize() accepts '.' or '/' as separator as sysctl.d(5) does:
 * when the first separator is '/', '.' and '/' swap roles. It returns
 * -EINVAL unless every component is [a-z0-9_-]+ (so no "..", no "/"
 * left over, no NUL, no spaces) and stores the canonical form.
 */
int key_normalize(const char *in, char **ret_key);
bool key_valid(const char *key);

/*
 * Values are compared as token lists: the kernel prints vectors with TABs
 * and accepts any whitespace. value_normalize() joins the tokens with one
 * space; value_equal() compares two texts token by token.
 */
char *value_normalize(const char *text);
bool value_equal(const char *a, const char *b);
/* Split a normalized value; returns the count, *ret_tokens owned by caller. */
size_t value_split(const char *text, char ***ret_tokens);
