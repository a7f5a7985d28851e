/* COM1 (0x3f8) output with a tiny printf: %d %u %x %s %c %p %%, 'l' and
 * 'll' lengths, '0' flag and a field width. Each call prints atomically with
 * respect to the other vCPUs. */
#ifndef GUEST_UART_H
#define GUEST_UART_H

#include <stdarg.h>
#include <stddef.h>

int format_string(char *buf, size_t size, const char *fmt, va_list ap);

void uart_write(const char *s, size_t len);
int uart_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For fatal paths that may run while this vCPU holds the UART lock. */
int uart_printf_unlocked(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
