/* A guest's verdict on one of its totals (check_total.h). */
#include "check_total.h"

#include "uart.h"

int check_total(const char *guest, const char *what, uint64_t got,
		uint64_t want)
{
	uart_printf("%s: %s %lu\n", guest, what, got);
	if (got == want)
		return 1;
	uart_printf("%s: %s expected %lu\n", guest, what, want);
	return 0;
}
