/* The COM1 UART wired to the VM's port space and to stdout or a file. */
#ifndef HVGDB_CLI_SERIAL_PORT_H
#define HVGDB_CLI_SERIAL_PORT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/serial_flush_timer.h"
#include "hvgdb/vmm.h"

struct uart16550;

struct serial_port {
	struct uart16550 *uart;
	int out_fd;
	bool own_fd;
	/* vCPU threads may reach the UART concurrently (the model itself
	 * does not promise thread safety). */
	pthread_mutex_t lock;
	/* Shows a partial line (a prompt) without waiting for its newline. */
	struct serial_flush_timer flusher;
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
void serial_port_close(struct serial_port *sp);

#endif
