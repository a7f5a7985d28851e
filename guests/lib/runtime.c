#include "runtime.h"

#include "idt.h"
#include "io.h"
#include "lapic.h"
#include "uart.h"

#define EXIT_PORT 0xf4

extern char guest_stacks[];
extern char __image_end[];

static unsigned runtime_ncpus;
static uint64_t runtime_ram;
static char runtime_cmdline[GUEST_CMDLINE_MAX];
/* In .data, not .bss: APs poll it while the BSP is still zeroing the BSS. */
static volatile int runtime_ready __attribute__((section(".data")));

void runtime_start(uint64_t vcpu, uint64_t ncpus, uint64_t ram_size,
		   uint64_t cmdline);

static void copy_cmdline(uint64_t addr)
{
	const char *src = (const char *)(uintptr_t)addr;
	unsigned i = 0;
	if (src)
		for (; i + 1 < sizeof(runtime_cmdline) && src[i]; i++)
			runtime_cmdline[i] = src[i];
	runtime_cmdline[i] = '\0';
}

void runtime_start(uint64_t vcpu, uint64_t ncpus, uint64_t ram_size,
		   uint64_t cmdline)
{
	if (vcpu == 0) {
		runtime_ncpus = ncpus ? (unsigned)ncpus : 1;
		runtime_ram = ram_size;
		copy_cmdline(cmdline);
		idt_init();
		if (ncpus > GUEST_MAX_CPUS) {
			uart_printf("guest: %lu vCPUs, at most %u supported\n",
				    ncpus, GUEST_MAX_CPUS);
			guest_exit(GUEST_EXIT_BOOT);
		}
		__atomic_store_n(&runtime_ready, 1, __ATOMIC_RELEASE);
	} else {
		while (!__atomic_load_n(&runtime_ready, __ATOMIC_ACQUIRE))
			cpu_relax();
	}
	idt_load();
	lapic_enable();
	int rc = guest_main((unsigned)vcpu, runtime_ncpus, runtime_cmdline);
	if (vcpu == 0)
		guest_exit((unsigned)rc);
	cpu_halt_forever();
}

unsigned cpu_self(void)
{
	char *sp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	return (unsigned)((uintptr_t)(sp - guest_stacks) / GUEST_STACK_SIZE);
}

unsigned cpu_count(void)
{
	return runtime_ncpus;
}

uintptr_t guest_free_memory(void)
{
	return (uintptr_t)__image_end;
}

uint64_t guest_ram_size(void)
{
	return runtime_ram;
}

_Noreturn void guest_exit(unsigned value)
{
	outl(EXIT_PORT, value);
	cpu_halt_forever();
}

_Noreturn void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli\n\thlt" ::: "memory");
}
