/* 16550 UART at 0x3f8: transmit only (to an fd), receive reads "no data". */
#ifndef HVGDB_UART16550_H
#define HVGDB_UART16550_H

#include <stdbool.h>
#include <stdint.h>

#define UART_COM1_BASE 0x3f8
#define UART_PORT_COUNT 8

struct uart16550;

/* Transmitted bytes are written to out_fd, flushed at each newline and by
 * uart_flush(). */
struct uart16550 *uart_create(int out_fd);
void uart_destroy(struct uart16550 *u);
/* offset 0..7 from the base port. */
uint8_t uart_read(struct uart16550 *u, unsigned offset);
void uart_write(struct uart16550 *u, unsigned offset, uint8_t val);
void uart_flush(struct uart16550 *u);
/* Bytes transmitted since creation (tests, `info vcpus`). */
uint64_t uart_tx_count(const struct uart16550 *u);

#endif
