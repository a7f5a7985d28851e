#include "report.h"

#include <stdarg.h>
#include <stddef.h>

#include "config.h"
#include "uart.h"

#define MAX_CHECKS 48
#define LINE_BYTES 200

struct vcpu_report {
	char lines[MAX_CHECKS][LINE_BYTES];
	unsigned count, failed, dropped;
};

static struct vcpu_report reports[GUEST_MAX_CPUS];
static bool report_live;

void report_set_live(bool live)
{
	report_live = live;
}

static void format_into(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	format_string(buf, size, fmt, ap);
	va_end(ap);
}

void check(unsigned vcpu, const char *name, bool ok, const char *fmt, ...)
{
	struct vcpu_report *r = &reports[vcpu];
	if (!ok)
		r->failed++;
	if (r->count == MAX_CHECKS) {
		r->dropped++; /* still counted, and reported by the summary */
		return;
	}
	char details[LINE_BYTES];
	va_list ap;
	va_start(ap, fmt);
	format_string(details, sizeof(details), fmt, ap);
	va_end(ap);
	char *line = r->lines[r->count++];
	format_into(line, LINE_BYTES, "paging: vcpu %u %s: %s %s", vcpu, name,
		    ok ? "PASS" : "FAIL", details);
	if (report_live)
		uart_printf("info: %s\n", line);
}

unsigned report_print_all(unsigned ncpus)
{
	unsigned checks = 0, failed = 0;
	for (unsigned v = 0; v < ncpus; v++) {
		const struct vcpu_report *r = &reports[v];
		for (unsigned i = 0; i < r->count; i++)
			uart_printf("%s\n", r->lines[i]);
		if (r->dropped)
			uart_printf("paging: vcpu %u: %u more checks not shown\n",
				    v, r->dropped);
		checks += r->count + r->dropped;
		failed += r->failed;
	}
	uart_printf("paging: %u vcpus, %u checks, %u failed\n", ncpus, checks,
		    failed);
	return failed;
}
