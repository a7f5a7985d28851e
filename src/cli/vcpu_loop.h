/* One host thread per vCPU: run it and dispatch its exits. */
#ifndef HVGDB_CLI_VCPU_LOOP_H
#define HVGDB_CLI_VCPU_LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "hvgdb/vmm.h"

struct gdbstub;
struct startup_trace;

/* Called once, by the first vCPU thread that sees the VM's end, while
 * other vCPUs may still be parked in the debug server: the callee must
 * release them (gdbstub_vm_ended), or they would never see the end. */
typedef void (*vcpu_loop_vm_over_fn)(void *ctx, int reason);

/* State the vCPU threads share with the code that started them. */
struct vcpu_loop_shared {
	struct vm *vm;
	struct gdbstub *stub; /* NULL without --gdb */
	struct startup_trace *trace;
	vcpu_loop_vm_over_fn vm_over;
	void *vm_over_ctx;
	atomic_bool fault_reported;
	/* enum vm_shutdown_reason the first thread saw, or -1. */
	atomic_int shutdown_reason;
	/* The enum vm_shutdown_reason of the first guest crash, or -1: a
	 * debugger's kill after it still ends the VM as a crash. */
	atomic_int crash_reason;
};

struct vcpu_thread {
	struct vcpu_loop_shared *shared;
	int index;
	pthread_t thread;
};

void vcpu_loop_shared_init(struct vcpu_loop_shared *s, struct vm *vm,
			   struct gdbstub *stub, struct startup_trace *trace,
			   vcpu_loop_vm_over_fn vm_over, void *vm_over_ctx);
/* pthread entry point; arg is a struct vcpu_thread. Returns when the VM
 * is over for this vCPU. */
void *vcpu_loop_main(void *arg);

#endif
