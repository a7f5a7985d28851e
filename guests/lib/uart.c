#include "uart.h"

#include <stdint.h>

#include "io.h"
#include "spinlock.h"

#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define LSR_THR_EMPTY 0x20
/* Bounded so a UART model that never reports THRE cannot hang the guest. */
#define THRE_POLL_LIMIT 100000
#define LINE_MAX 256

static spinlock_t uart_lock;

static void put_raw(char c)
{
	for (unsigned i = 0; i < THRE_POLL_LIMIT; i++) {
		if (inb(COM1_LSR) & LSR_THR_EMPTY)
			break;
		cpu_relax();
	}
	outb(COM1, (uint8_t)c);
}

static void write_raw(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		put_raw(s[i]);
}

void uart_write(const char *s, size_t len)
{
	spin_lock(&uart_lock);
	write_raw(s, len);
	spin_unlock(&uart_lock);
}

static size_t clamp_len(int n)
{
	return n < 0 ? 0 : (size_t)n < LINE_MAX ? (size_t)n : LINE_MAX - 1;
}

int uart_printf(const char *fmt, ...)
{
	char line[LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = format_string(line, sizeof(line), fmt, ap);
	va_end(ap);
	uart_write(line, clamp_len(n));
	return n;
}

int uart_printf_unlocked(const char *fmt, ...)
{
	char line[LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = format_string(line, sizeof(line), fmt, ap);
	va_end(ap);
	write_raw(line, clamp_len(n));
	return n;
}
