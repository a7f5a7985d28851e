/* One host thread per vCPU: run it and dispatch its exits. */
#ifndef HVGDB_CLI_VCPU_LOOP_H
#define HVGDB_CLI_VCPU_LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "hvgdb/vmm.h"

struct gdbstub;
struct startup_trace;

/* State the vCPU threads share with the code that started them. */
struct vcpu_loop_shared {
	struct vm *vm;
	struct gdbstub *stub; /* NULL without --gdb */
	struct startup_trace *trace;
	atomic_bool fault_reported;
	/* enum vm_shutdown_reason the first thread saw, or -1. */
	atomic_int shutdown_reason;
};

struct vcpu_thread {
	struct vcpu_loop_shared *shared;
	int index;
	pthread_t thread;
};

void vcpu_loop_shared_init(struct vcpu_loop_shared *s, struct vm *vm,
			   struct gdbstub *stub, struct startup_trace *trace);
/* pthread entry point; arg is a struct vcpu_thread. Returns when the VM
 * is over for this vCPU. */
void *vcpu_loop_main(void *arg);

#endif
