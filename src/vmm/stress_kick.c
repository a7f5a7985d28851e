/* HVGDB_STRESS_KICK_US (see stress_kick.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmm/stress_kick.h"

#define STRESS_KICK_MAX_US 1000000UL

int stress_kick_from_env(uint64_t *period_ns, char *err, size_t errlen)
{
	*period_ns = 0;
	const char *s = getenv("HVGDB_STRESS_KICK_US");
	if (!s || !*s)
		return 0;
	char *end;
	errno = 0;
	unsigned long us = strtoul(s, &end, 10);
	if (errno || *end || *s == '-' || us == 0 || us > STRESS_KICK_MAX_US) {
		snprintf(err, errlen,
			 "HVGDB_STRESS_KICK_US must be 1..%lu microseconds, "
			 "not '%.40s'", STRESS_KICK_MAX_US, s);
		return -EINVAL;
	}
	*period_ns = (uint64_t)us * 1000;
	return 0;
}
