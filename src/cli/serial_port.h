/* The COM1 UART wired to the VM's port space and to stdout or a file. */
#ifndef HVGDB_CLI_SERIAL_PORT_H
#define HVGDB_CLI_SERIAL_PORT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/serial_flush_timer.h"
#include "hvgdb/vmm.h"
#include "sync/checked_mutex.h"

struct uart16550;

struct serial_port {
	struct uart16550 *uart;
	int out_fd;
	bool own_fd;
	/* vCPU threads may reach the UART concurrently (the model itself
	 * does not promise thread safety). */
	struct checked_mutex lock;
	/* Shows a partial line (a prompt) without waiting for its newline. */
	struct serial_flush_timer flusher;
	/* serial_port_set_output_tap; guarded by lock. */
	void (*tap_fn)(void *ctx, int vcpu, const uint8_t *bytes, size_t len);
	void *tap_ctx;
	int writer_vcpu; /* the vCPU inside a port access, or -1 */
};

/* path NULL: stdout. 0 or -errno with one line in err. */
int serial_port_open(struct serial_port *sp, const char *path, char *err,
		     size_t errlen);
int serial_port_register(struct serial_port *sp, struct vm *vm);
/* Host input for the guest: as uart_receive, the bytes taken (at most the
 * receive FIFO's room). */
size_t serial_port_receive(struct serial_port *sp, const uint8_t *bytes,
			   size_t len);
/* fn is told when the receive FIFO gains room (uart16550.h's
 * uart_set_rx_room_listener: guest thread, UART lock held). NULL: off. */
void serial_port_on_rx_room(struct serial_port *sp, void (*fn)(void *ctx),
			    void *ctx);
void serial_port_flush(struct serial_port *sp);
/* fn sees the output as it leaves (uart16550.h's output tap) with the vCPU
 * whose port write sent it, or -1 when hvgdb flushed it (a partial line,
 * the end of the run). Serial port and UART locks held: fn must not call
 * back into the port. NULL: off. */
void serial_port_set_output_tap(struct serial_port *sp,
				void (*fn)(void *ctx, int vcpu,
					   const uint8_t *bytes, size_t len),
				void *ctx);
void serial_port_close(struct serial_port *sp);

#endif
