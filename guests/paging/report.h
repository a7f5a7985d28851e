/*
 * Check results, one line each. Every vCPU appends to its own list while it
 * runs; the BSP prints all lists in vCPU order once everyone is done, so the
 * output never depends on how the vCPUs interleaved.
 */
#ifndef PAGING_REPORT_H
#define PAGING_REPORT_H

#include <stdbool.h>

/* With live set, each check is also printed at once as an "info:" line
 * (the output rule lets those differ between runs): to see how far a run
 * that hangs or crashes got. */
void report_set_live(bool live);

/* Records "paging: vcpu V NAME: PASS|FAIL DETAILS" for the calling vCPU. */
void check(unsigned vcpu, const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* BSP only, after every vCPU finished: prints every line and the summary;
 * returns the number of failed checks. */
unsigned report_print_all(unsigned ncpus);

#endif
