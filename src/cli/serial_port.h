/* The COM1 UART wired to the VM's port space and to stdout or a file. */
#ifndef HVGDB_CLI_SERIAL_PORT_H
#define HVGDB_CLI_SERIAL_PORT_H

#include <pthread.h>
#include <stddef.h>

#include "hvgdb/vmm.h"

struct uart16550;

struct serial_port {
	struct uart16550 *uart;
	int out_fd;
	bool own_fd;
	/* vCPU threads may reach the UART concurrently (the model itself
	 * does not promise thread safety). */
	pthread_mutex_t lock;
};

/* path NULL: stdout. 0 or -errno with one line in err. */
int serial_port_open(struct serial_port *sp, const char *path, char *err,
		     size_t errlen);
int serial_port_register(struct serial_port *sp, struct vm *vm);
void serial_port_flush(struct serial_port *sp);
void serial_port_close(struct serial_port *sp);

#endif
