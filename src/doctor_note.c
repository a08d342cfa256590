/* SPDX-License-Identifier: ISC */
/* doctor_note.c: whether one look at the counts could show a pile-up doctor reports, and which finding to name. */
#include <string.h>
#include "doctor_rules.h"

/*
 * One look (doctor --once) judges a CLOSE_WAIT pile of CW_STUCK_MIN
 * sockets or more, and a destination that holds PORTS_FULL of the usable
 * ports: below both, no look is needed.
 */
bool doctor_note_worth(const unsigned long long *states, unsigned long long total, const struct tcpenv *e)
{
	unsigned long long held = total - states[TCPS_LISTEN];

	if (states[TCPS_CLOSE_WAIT] >= CW_STUCK_MIN)
		return true;
	return e->range.usable && (double)held >= PORTS_FULL * e->range.usable;
}

/* The worst port exhaustion or CLOSE_WAIT leak above info, or NULL; *ret_more: the others. */
const struct dfinding *doctor_note_pick(const struct doctor *d, size_t *ret_more)
{
	const struct dfinding *pick = NULL;
	size_t i;

	*ret_more = 0;
	/* d is sorted worst first */
	for (i = 0; i < d->n; i++) {
		const struct dfinding *f = &d->f[i];

		if (f->severity == SEV_INFO ||
		    (strcmp(f->id, "tw-port-exhaustion") != 0 && strcmp(f->id, "close-wait-leak") != 0))
			continue;
		if (pick)
			(*ret_more)++;
		else
			pick = f;
	}
	return pick;
}

enum severity doctor_note_ports(unsigned used, unsigned usable)
{
	double share = usable ? (double)used / usable : 0;

	if (share >= PORTS_SHARE_CRIT)
		return SEV_CRITICAL;
	return share >= PORTS_SHARE_WARN ? SEV_WARNING : SEV_INFO;
}
