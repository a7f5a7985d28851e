/*
 * Pure x86-64 event delivery through a 64-bit IDT (Unicorn never vectors
 * through the guest IDT itself). No VM, no locks: unit-testable.
 */
#ifndef HVGDB_X86_EVENT_H
#define HVGDB_X86_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The architectural state delivery reads and writes. */
struct x86_event_cpu {
	uint64_t rip, rsp, rflags;
	uint16_t cs, ss;      /* selectors; CPL = cs & 3 */
	uint64_t idt_base;
	uint16_t idt_limit;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint64_t tss_base;    /* TR base (64-bit TSS: RSP0-2, IST1-7) */
	uint32_t tss_limit;
};

/* Linear-address access with supervisor rights; 0 or -EFAULT. */
struct x86_event_mem {
	int (*read)(void *ctx, uint64_t gla, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t gla, const void *buf, size_t len);
	void *ctx;
};

enum x86_event_kind {
	X86_EVENT_EXT_INT,      /* external/LAPIC interrupt */
	X86_EVENT_NMI,
	X86_EVENT_HW_EXCEPTION, /* fault/trap raised by the CPU */
	X86_EVENT_SW_EXCEPTION, /* int3, into: DPL checked, return after insn */
	X86_EVENT_SW_INT,       /* int n: DPL checked */
};

enum x86_deliver_result {
	X86_DELIVER_OK,
	X86_DELIVER_DOUBLE_FAULT, /* the event could not be delivered; #DF was */
	X86_DELIVER_TRIPLE_FAULT, /* #DF could not be delivered: shut down */
};

/*
 * Deliver vector in 64-bit mode (IA-32e) through the IDT: gate checks
 * (present, type 0xE interrupt / 0xF trap, DPL for software events, limit),
 * target code segment from the GDT, stack switch on CPL change (TSS.RSPn)
 * or to TSS.ISTn, 16-byte alignment, frame SS, RSP, RFLAGS, CS, RIP[, err],
 * TF/NT/RF cleared, IF cleared for interrupt gates. cpu->rip must already be
 * the return RIP. On failure, delivers #DF (error code 0) instead; if that
 * fails too, returns TRIPLE_FAULT with cpu unchanged.
 */
enum x86_deliver_result x86_deliver_event(struct x86_event_cpu *cpu,
					  const struct x86_event_mem *mem,
					  int vector, enum x86_event_kind kind,
					  bool has_error_code,
					  uint32_t error_code);

/* Does the architecture push an error code for this exception vector? */
bool x86_exception_has_error_code(int vector);

#endif
