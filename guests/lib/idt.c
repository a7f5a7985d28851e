#include "idt.h"

#include "runtime.h"
#include "uart.h"

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

#define IDT_VECTORS 256
#define ISR_STUB_SIZE 16
#define GATE_INTERRUPT_PRESENT 0x8e /* P, DPL 0, 64-bit interrupt gate */

extern const char isr_stubs[];

static struct idt_gate idt[IDT_VECTORS] __attribute__((aligned(16)));
static volatile trap_handler_fn handlers[IDT_VECTORS];

static void ignore_spurious(struct trap_frame *frame)
{
	(void)frame; /* spurious interrupts take no EOI */
}

void idt_init(void)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		uint64_t addr = (uint64_t)(uintptr_t)(isr_stubs + v * ISR_STUB_SIZE);
		idt[v].offset_low = (uint16_t)addr;
		idt[v].selector = GUEST_CS64;
		idt[v].ist = 0;
		idt[v].type_attr = GATE_INTERRUPT_PRESENT;
		idt[v].offset_mid = (uint16_t)(addr >> 16);
		idt[v].offset_high = (uint32_t)(addr >> 32);
		idt[v].reserved = 0;
	}
	handlers[VECTOR_SPURIOUS] = ignore_spurious;
}

void idt_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(ptr) : "memory");
}

void idt_set_handler(unsigned vector, trap_handler_fn fn)
{
	if (vector < IDT_VECTORS)
		handlers[vector] = fn;
}

void trap_dispatch(uint64_t vector, uint64_t error_code,
		   struct trap_frame *frame)
{
	trap_handler_fn fn = vector < IDT_VECTORS ? handlers[vector] : 0;
	if (fn) {
		fn(frame);
		return;
	}
	/* Unlocked: this vCPU may have been holding the UART lock. */
	uart_printf_unlocked("guest: unexpected vector %lu error 0x%lx rip 0x%lx "
			     "on vcpu %u\n",
			     vector, error_code, frame->rip,
			     cpu_self());
	guest_exit(GUEST_EXIT_FAULT);
}
