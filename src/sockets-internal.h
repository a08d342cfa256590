/* sockets-internal.h: what the sockets files (reader, parsers, counters, owners, census) share; not for commands. */
#pragma once
#include <stdio.h>

/* rel (relative) below rootfd as a read-only stream; NULL with errno. */
FILE *sockets_open_below(int rootfd, const char *rel);
/* Order of two uint32_t (socket inodes), for qsort and bsearch. */
int sockets_cmp_u32(const void *a, const void *b);
