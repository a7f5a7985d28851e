/* A guest's verdict on one of its totals, in the line format the
 * integration tests read. */
#ifndef GUEST_CHECK_TOTAL_H
#define GUEST_CHECK_TOTAL_H

#include <stdint.h>

/* Prints "<guest>: <what> <got>", and "<guest>: <what> expected <want>"
 * when they differ: 1 if got is want, else 0. */
int check_total(const char *guest, const char *what, uint64_t got,
		uint64_t want);

#endif
