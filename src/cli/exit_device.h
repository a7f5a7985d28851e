/* QEMU's isa-debug-exit at port 0xf4: writing v ends the VM with status
 * (v << 1) | 1. */
#ifndef HVGDB_CLI_EXIT_DEVICE_H
#define HVGDB_CLI_EXIT_DEVICE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hvgdb/vmm.h"

#define EXIT_DEVICE_PORT 0xf4

struct exit_device {
	struct vm *vm;
	/* The guest's value of the first write plus one; 0 = none yet. */
	_Atomic uint64_t first_value_plus1;
};

int exit_device_register(struct exit_device *dev, struct vm *vm);
/* The process exit status for a guest value. */
int exit_device_status(uint32_t value);
/* The value of the first write; false if the guest never wrote. */
bool exit_device_value(struct exit_device *dev, uint32_t *value);

#endif
