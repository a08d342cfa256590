/* bootcalc.h: the boot value of keys the kernel computes at boot, where its formula is known. */
#pragma once
#include <stdbool.h>
#include "procsys.h"

/* How far below MemTotal the free pages at boot may be (documented in tcptune(8)). */
#define BOOTCALC_TOLERANCE_PCT 5

struct bootcalc {
	char *value;        /* the estimate (normalized); exact when lo equals hi */
	char *lo, *hi;      /* every boot value the formula allows, element-wise */
	const char *how;    /* the formula, for the BOOT SOURCE column */
	bool estimate;      /* lo != hi: the input is known only within the tolerance */
};

/*
 * The boot value of key from the kernel's own formula and what can be read
 * now below ps (the hash size, <root>/proc/meminfo, kernel.osrelease):
 * 0, or -ENOENT when the formula or its input is unknown.
 */
int bootcalc_run(const struct procsys *ps, const char *key, struct bootcalc *ret);
void bootcalc_free(struct bootcalc *b);
