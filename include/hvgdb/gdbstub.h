/*
 * hvgdb debug server: a GDB remote-protocol stub that reaches the VM only
 * through a target-ops table (like bhyve's gdb.c through libvmmapi).
 *
 * A NULL op means "not supported": qSupported, vCont? and the target XML are
 * derived from which ops exist. This header includes nothing of vmm.h.
 */
#ifndef HVGDB_GDBSTUB_H
#define HVGDB_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hvgdb/gdb_x86_regs.h"

/* GDB's i386:x86-64 register numbering as served in our target XML: one
 * constant per row of gdb_x86_regs.h. */
enum gdb_x86_reg {
#define GDB_X86_REG_ENUM(ID, name, bits, type, group, feature, place) \
	GDB_REG_##ID,
	GDB_X86_REGS(GDB_X86_REG_ENUM)
#undef GDB_X86_REG_ENUM
	GDB_REG_COUNT
};

/* Size in bytes of register regno, 0 if out of range. */
unsigned gdb_x86_reg_size(int regno);
/* The largest of those sizes. */
#define GDB_REG_MAX_SIZE 16

enum gdb_cap {
	GDB_CAP_BPT_EXIT,    /* int3 exits to the stub (VM_CAP_BPT_EXIT) */
	GDB_CAP_MTRAP_EXIT,  /* step by monitor trap (intel) */
	GDB_CAP_RFLAGS_TF,   /* step by TF, invisible to the guest (amd) */
	GDB_CAP_MASK_HWINTR, /* no external interrupts/NMIs while set */
};

/* Hardware breakpoints and watchpoints, numbered as Z1-Z4 number them. */
enum gdb_watch_type {
	GDB_HW_BREAKPOINT = 1, /* before the instruction at the address */
	GDB_WATCH_WRITE = 2,   /* after an instruction wrote the range */
	GDB_WATCH_READ = 3,    /* ... read it */
	GDB_WATCH_ACCESS = 4,  /* ... read or wrote it */
};

struct gdb_vcpu_status {
	bool halted;
	bool waiting_for_sipi; /* INIT state, not started by a STARTUP IPI */
	const char *mode; /* "64-bit", "compat", "protected", "real" */
};

/*
 * Target operations. ctx is the opaque pointer given in gdbstub_config.
 * Register/memory ops are called only while the vCPU concerned is parked
 * (or from that vCPU's own thread inside a hook).
 */
struct gdb_target_ops {
	unsigned (*vcpu_count)(void *ctx);
	/* value is little-endian, gdb_x86_reg_size(regno) bytes. 0 or -errno
	 * (-ENOENT: this register is not available). */
	int (*read_reg)(void *ctx, int vcpu, int regno, uint8_t *val);
	int (*write_reg)(void *ctx, int vcpu, int regno, const uint8_t *val);
	/* Optional, for 'g': every register at once, each as read_reg would
	 * give it (vals[regno], rc[regno]). For targets where registers share
	 * costly state (here the whole FPU behind every x87/SSE register). */
	void (*read_all_regs)(void *ctx, int vcpu,
			      uint8_t vals[GDB_REG_COUNT][GDB_REG_MAX_SIZE],
			      int rc[GDB_REG_COUNT]);
	/* Guest-virtual -> guest-physical through vcpu's paging.
	 * prot: 1 read, 2 write. 0, or -EFAULT when it does not translate. */
	int (*translate)(void *ctx, int vcpu, uint64_t gla, int prot,
			 uint64_t *gpa);
	/* Guest-physical RAM access; never crosses into non-RAM silently:
	 * -EFAULT if any byte is not RAM. Writes keep translated code
	 * coherent. */
	int (*read_phys)(void *ctx, uint64_t gpa, void *buf, size_t len);
	int (*write_phys)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	/* Optional. Device registers where read_phys finds no RAM, as vcpu
	 * sees them, read without side effects (x/4wx 0xfee00020: the local
	 * APIC's ID register). 0, or -EFAULT. */
	int (*peek_device)(void *ctx, int vcpu, uint64_t gpa, void *buf,
			   size_t len);
	/* Optional. 1 if gpa is a byte of a paging structure some vCPU's
	 * translations read (an int3 there would corrupt every walk through
	 * it), 0 if not, -errno when it cannot tell. Breakpoints are
	 * refused unless it answers 0. */
	int (*in_paging_structures)(void *ctx, uint64_t gpa);
	/* -ENOENT if the target lacks the capability. */
	int (*set_cap)(void *ctx, int vcpu, enum gdb_cap cap, bool on);
	bool (*has_cap)(void *ctx, enum gdb_cap cap);
	/* vcpu -1 = all. After suspend, the vCPU thread calls
	 * gdbstub_vcpu_suspended() at its next instruction boundary. */
	void (*suspend)(void *ctx, int vcpu);
	void (*resume)(void *ctx, int vcpu);
	/* Re-injection of a guest-owned #BP (bhyve's ENTRY_INST_LENGTH dance):
	 * get_entry_inst_length fails (-ENOENT) on amd, where set is a silent
	 * no-op; inject_exception queues vector for the next entry. */
	int (*get_entry_inst_length)(void *ctx, int vcpu, int *len);
	int (*set_entry_inst_length)(void *ctx, int vcpu, int len);
	int (*inject_exception)(void *ctx, int vcpu, int vector);
	int (*vcpu_status)(void *ctx, int vcpu, struct gdb_vcpu_status *st);
	/* 'k': end the VM. The VM's end is then reported through
	 * gdbstub_vm_ended() as for any other end. */
	void (*kill)(void *ctx);
	/* Optional, all three or none (Z1-Z4): hardware breakpoints and
	 * watchpoints on guest-virtual addresses, for every vCPU, as x86
	 * debug registers (len 1 for a breakpoint; any length for a
	 * watchpoint, up to max_len). A hit is reported through
	 * gdbstub_vcpu_watch(). Called with every vCPU stopped. 0, -ENOSPC
	 * (no slot left), -EINVAL; remove: -ENOENT if not inserted. */
	int (*insert_watch)(void *ctx, enum gdb_watch_type type, uint64_t addr,
			    uint64_t len);
	int (*remove_watch)(void *ctx, enum gdb_watch_type type, uint64_t addr,
			    uint64_t len);
	/* How many breakpoints and watchpoints fit, and the longest range. */
	void (*watch_limits)(void *ctx, unsigned *hw_breakpoints,
			     unsigned *watchpoints, uint64_t *max_len);
};

struct gdbstub;

struct gdbstub_config {
	/* "[HOST:]PORT" (default host 127.0.0.1) or "unix:PATH" */
	const char *listen;
	/* No guest instruction runs until a debugger attaches and resumes. */
	bool wait;
	const struct gdb_target_ops *ops;
	void *ctx;
	/* Diagnostics (one line each); NULL = stderr. */
	FILE *log;
};

/* Binds and starts the server thread. On failure returns -errno, *out is
 * NULL and err holds one line. */
int gdbstub_create(const struct gdbstub_config *cfg, struct gdbstub **out,
		   char *err, size_t errlen);
void gdbstub_destroy(struct gdbstub *stub);
/* The bound TCP port (useful with port 0), or 0 for unix sockets. */
int gdbstub_port(const struct gdbstub *stub);

/*
 * Hooks called by vCPU threads from their exit handlers. Every hook accepts
 * stub == NULL and then returns at once without touching any debugger state
 * (bhyve's gdb_cpu_add segfault, found in the review). A hook may park the
 * calling thread until the debugger resumes it.
 */
void gdbstub_vcpu_add(struct gdbstub *stub, int vcpu);
void gdbstub_vcpu_suspended(struct gdbstub *stub, int vcpu);
/* BPT exit: RIP is on the int3. Decides ours (report) or the guest's
 * (re-inject through the target ops). */
void gdbstub_vcpu_breakpoint(struct gdbstub *stub, int vcpu, int inst_length);
/* MTRAP or trace-trap DB exit. */
void gdbstub_vcpu_step_trap(struct gdbstub *stub, int vcpu);
/* A watch inserted through insert_watch fired: a hardware breakpoint at
 * addr (RIP, not yet executed), or a watchpoint after an instruction
 * accessed addr (the first watched byte it touched). */
void gdbstub_vcpu_watch(struct gdbstub *stub, int vcpu,
			enum gdb_watch_type type, uint64_t addr);
/* The guest crashed on vcpu (`what`: one line, e.g. "triple fault at
 * 0x1234"). With a debugger attached this is reported to it as a stop
 * with `signal` on vcpu, and the calling thread stays parked (the state
 * inspectable) until the debugger resumes that vCPU, detaches or kills the
 * VM; the caller then ends the VM. Returns whether a debugger was told. */
bool gdbstub_vcpu_crashed(struct gdbstub *stub, int vcpu, int signal,
			  const char *what);
/* The VM ended: exited (signal 0, status = guest's exit value) or crashed
 * (signal != 0). Sends W/X to an attached debugger and closes the session. */
void gdbstub_vm_ended(struct gdbstub *stub, int status, int signal);

#endif
