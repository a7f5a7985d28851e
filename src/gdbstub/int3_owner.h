/*
 * A breakpoint exit: whose int3 was it? Ours (a breakpoint the debugger
 * inserted) is reported; the guest's own is handed back to the guest as
 * the #BP it would have had without us (bhyve's re-injection).
 */
#ifndef HVGDB_GDBSTUB_INT3_OWNER_H
#define HVGDB_GDBSTUB_INT3_OWNER_H

#include <stdbool.h>
#include <stdint.h>

#include "gdbstub/breakpoints.h"
#include "hvgdb/gdbstub.h"

/* RIP of vcpu (on the int3) translates to a breakpoint in bps; *gpa is
 * its address. */
bool int3_is_ours(const struct gdb_target_ops *ops, void *ctx,
		  const struct bp_table *bps, int vcpu, uint64_t *gpa);
/* The guest's #BP, with the return RIP after the int3 (inst_length
 * bytes): intel through the entry instruction length, amd by moving RIP. */
void int3_give_to_guest(const struct gdb_target_ops *ops, void *ctx, int vcpu,
			int inst_length);

#endif
