/* The debug server's target ops over the VM API; ctx is the struct vm. */
#ifndef HVGDB_CLI_GDB_TARGET_H
#define HVGDB_CLI_GDB_TARGET_H

#include "hvgdb/gdbstub.h"

extern const struct gdb_target_ops gdb_target_vm_ops;

#endif
