/*
 * 16550A UART at 0x3f8 (COM1, IRQ4): transmit to an fd, receive from the
 * host (uart_receive), 16-byte FIFOs, interrupts with the 16550's
 * priorities, modem control and status, loopback. Linux's 8250 driver
 * identifies it as a 16550A.
 */
#ifndef HVGDB_UART16550_H
#define HVGDB_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_COM1_BASE 0x3f8
#define UART_COM1_IRQ 4
#define UART_PORT_COUNT 8
#define UART_FIFO_SIZE 16

struct uart16550;

/* Transmitted bytes are written to out_fd, flushed at each newline, when
 * the line buffer is full, and by uart_flush(). */
struct uart16550 *uart_create(int out_fd);
void uart_destroy(struct uart16550 *u);
/* offset 0..7 from the base port. */
uint8_t uart_read(struct uart16550 *u, unsigned offset);
void uart_write(struct uart16550 *u, unsigned offset, uint8_t val);
void uart_flush(struct uart16550 *u);
/*
 * fn is called when a transmitted byte lands in an empty line buffer: a
 * partial line now waits for its newline. A host showing output as it
 * comes (a prompt, echoed keys) flushes it a moment later. It runs on the
 * guest's thread with the UART's lock held: it must not call back into
 * this UART. fn NULL disconnects it.
 */
void uart_set_tx_listener(struct uart16550 *u, void (*fn)(void *ctx),
			  void *ctx);
/*
 * fn sees every chunk of output as it is written to out_fd (whole lines,
 * or what a flush or a full buffer cut), even if the write fails: for a
 * host that reads the console (hvgdb looks for a kernel's panic). It runs
 * with the UART's lock held, on the thread that wrote the last byte or
 * called uart_flush: it must not call back into this UART. fn NULL
 * disconnects it.
 */
void uart_set_output_tap(struct uart16550 *u,
			 void (*fn)(void *ctx, const uint8_t *bytes,
				    size_t len),
			 void *ctx);
/* Bytes transmitted since creation (tests, `info vcpus`). */
uint64_t uart_tx_count(const struct uart16550 *u);

/*
 * The interrupt output: fn is called with the new level of the IRQ line each
 * time it changes, and once when connected, with the current level. The line is the
 * chip's interrupt output gated by MCR.OUT2, as on PCs, and held low in
 * loopback mode (the chip forces its OUT2 pin inactive then). The callback
 * runs with the UART's lock held, so levels arrive in order; it must not
 * call back into this UART. fn NULL disconnects it.
 */
void uart_set_irq(struct uart16550 *u, void (*fn)(void *ctx, bool level),
		  void *ctx);

/*
 * Host-side input (typed characters): queues up to the free room of the
 * receive FIFO (16 bytes, 1 with FIFOs disabled; none while the guest
 * holds RTS low or is in loopback: hvgdb's end of the line honours
 * hardware flow control) and returns how many bytes were taken; the caller keeps the rest and offers it again after the guest
 * has read (uart_rx_room). Nothing is ever lost to an overrun this way. The
 * end of a call counts as the line going idle: bytes left below the FIFO's
 * trigger level raise the character-timeout interrupt.
 */
size_t uart_receive(struct uart16550 *u, const uint8_t *bytes, size_t len);
size_t uart_rx_room(struct uart16550 *u);

/*
 * fn is called each time uart_rx_room grows: the guest took a byte from
 * the receive FIFO, emptied it (FCR), or turned loopback off. A host
 * feeder holding input the FIFO had no room for waits for this instead of
 * polling. It runs on the guest's thread with the UART's lock held: it
 * must not call back into this UART. fn NULL disconnects it.
 */
void uart_set_rx_room_listener(struct uart16550 *u, void (*fn)(void *ctx),
			       void *ctx);

#endif
