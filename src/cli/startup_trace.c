/* Start-up timing trace (see startup_trace.h). */
#include "cli/startup_trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/*
 * ms since the kernel started this process (exec and dynamic loading
 * included), from /proc/self/stat; the kernel keeps the start time in clock
 * ticks, so this is only good to 1000 / CLK_TCK ms. -1 if unavailable.
 */
static double ms_since_process_start(void)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n;
	const char *p;
	unsigned long long start_ticks;
	struct timespec now;
	long hz = sysconf(_SC_CLK_TCK);

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Field 2 (comm) may hold spaces: count fields after its ')'. */
	p = strrchr(buf, ')');
	if (!p || hz <= 0)
		return -1;
	p++;
	for (int field = 3; field < 22; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -1;
	}
	if (sscanf(p, " %llu", &start_ticks) != 1)
		return -1;
	if (clock_gettime(CLOCK_BOOTTIME, &now))
		return -1;
	return ((double)now.tv_sec + (double)now.tv_nsec / 1e9 -
		(double)start_ticks / (double)hz) * 1e3;
}

void startup_trace_init(struct startup_trace *t)
{
	const char *env = getenv("HVGDB_TRACE_STARTUP");

	t->enabled = env && strcmp(env, "1") == 0;
	atomic_init(&t->reported, false);
	clock_gettime(CLOCK_MONOTONIC, &t->main_entry);
}

void startup_trace_first_run(struct startup_trace *t)
{
	struct timespec now;
	bool expected = false;
	char line[200];
	int n;

	if (!t->enabled ||
	    !atomic_compare_exchange_strong(&t->reported, &expected, true))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	n = snprintf(line, sizeof(line),
		     "hvgdb: startup: %.3f ms from main to first vm_run of "
		     "vCPU 0; %.0f ms from process start (%ld ms "
		     "resolution)\n",
		     ms_between(&t->main_entry, &now), ms_since_process_start(),
		     1000 / sysconf(_SC_CLK_TCK));
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
