/* IDT shared by all vCPUs; per-vector C handlers. */
#ifndef GUEST_IDT_H
#define GUEST_IDT_H

#include <stdint.h>

/* Layout pushed by isr.S, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

typedef void (*trap_handler_fn)(struct trap_frame *frame);

#define VECTOR_BP 3
#define VECTOR_SPURIOUS 0xff

/* BSP, once, before the APs run: fills the table (all interrupt gates). */
void idt_init(void);
/* Every vCPU: lidt. */
void idt_load(void);
/* A NULL handler makes the vector fatal again (the default). */
void idt_set_handler(unsigned vector, trap_handler_fn fn);

/* Called from isr.S for every vector (frame->vector/error_code repeat the
 * first two arguments). */
void trap_dispatch(uint64_t vector, uint64_t error_code,
		   struct trap_frame *frame);

#endif
