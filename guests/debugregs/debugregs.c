/*
 * debugregs: the guest's own debug registers, as a kernel uses them. Every
 * vCPU programs its DR0-DR3/DR7 and checks what its #DB handler sees (the
 * RIP in the frame, DR6):
 * - an instruction breakpoint (DR0, R/W 00) is a fault: #DB before the
 *   instruction, DR6.B0; the handler sets RF in the frame and the
 *   instruction then runs (three times round a loop: three #DB);
 * - a write breakpoint (DR1, 8 bytes) is a trap: #DB after the store,
 *   DR6.B1; a read of the bytes and a store beside them raise nothing;
 * - a read/write breakpoint (DR2, 4 bytes): #DB after a load, DR6.B2;
 * - a breakpoint whose L3/G3 are clear raises nothing;
 * - a single step (RFLAGS.TF): #DB after one instruction, DR6.BS.
 * The BSP prints one line per check (vCPU 0's values, and whether every
 * vCPU saw the same) and PASS if all match the SDM.
 */
#include <stdbool.h>
#include <stdint.h>

#include "barrier.h"
#include "idt.h"
#include "runtime.h"
#include "uart.h"

#define VECTOR_DB 1
#define MAX_DB 4
#define RFLAGS_TF (1ul << 8)
#define RFLAGS_RF (1ul << 16)
#define DR6_BS (1ul << 14)
#define DR6_IDLE 0xffff0ff0ul /* no condition: the fixed bits */
#define DR7_IDLE 0x400ul
/* DR7: Ln enable bits, R/W and LEN fields of breakpoint n. */
#define DR7_L(n) (1ul << (2 * (n)))
#define DR7_RW(n, v) ((unsigned long)(v) << (16 + 4 * (n)))
#define DR7_LEN(n, v) ((unsigned long)(v) << (18 + 4 * (n)))
#define RW_EXEC 0
#define RW_WRITE 1
#define RW_ACCESS 3
#define LEN_4 3
#define LEN_8 2

enum check { CHECK_EXEC, CHECK_WRITE, CHECK_ACCESS, CHECK_DISABLED,
	     CHECK_STEP, CHECKS };

/* What one vCPU's #DB handler saw during one check. */
struct seen {
	unsigned count;
	uint64_t rip[MAX_DB];
	uint64_t dr6[MAX_DB];
	uint64_t runs; /* CHECK_EXEC: how often the instruction ran */
};

extern const char dr_exec_target[], dr_write_ret[], dr_read_ret[],
	dr_step_ret[];

static struct seen seen[GUEST_MAX_CPUS][CHECKS];
static volatile enum check current[GUEST_MAX_CPUS];
static uint64_t reset_dr6[GUEST_MAX_CPUS], reset_dr7[GUEST_MAX_CPUS];
static volatile uint64_t exec_runs[GUEST_MAX_CPUS];
/* [v][0] is watched, [v][1] is its neighbour */
static volatile uint64_t watched_word[GUEST_MAX_CPUS][2]
	__attribute__((aligned(16)));
static volatile uint32_t watched_int[GUEST_MAX_CPUS]
	__attribute__((aligned(4)));
static struct barrier dr_barrier = BARRIER_ALL_CPUS;

#define DR_ACCESSORS(n)                                                  \
	static inline uint64_t read_dr##n(void)                          \
	{                                                                \
		uint64_t v;                                              \
		__asm__ volatile("mov %%dr" #n ", %0" : "=r"(v));        \
		return v;                                                \
	}                                                                \
	static inline void write_dr##n(uint64_t v)                       \
	{                                                                \
		__asm__ volatile("mov %0, %%dr" #n : : "r"(v) : "memory"); \
	}
DR_ACCESSORS(0)
DR_ACCESSORS(1)
DR_ACCESSORS(2)
DR_ACCESSORS(3)
DR_ACCESSORS(6)
DR_ACCESSORS(7)

static void on_debug(struct trap_frame *frame)
{
	unsigned v = cpu_self();
	struct seen *s = &seen[v][current[v]];
	uint64_t dr6 = read_dr6();
	if (s->count < MAX_DB) {
		s->rip[s->count] = frame->rip;
		s->dr6[s->count] = dr6;
	}
	s->count++;
	/* DR0's instruction breakpoint would fire again at once: RF lets
	 * the instruction run (the SDM has the handler set it) */
	if (dr6 & 1)
		frame->rflags |= RFLAGS_RF;
	frame->rflags &= ~RFLAGS_TF;
	write_dr6(DR6_IDLE); /* the processor never clears DR6 itself */
}

GUEST_NOINLINE void dr_exec_site(unsigned v)
{
	__asm__ volatile(".globl dr_exec_target\n"
			 "dr_exec_target:\n\t"
			 "incq %0"
			 : "+m"(exec_runs[v]) : : "memory");
}

GUEST_NOINLINE void dr_write_site(volatile uint64_t *p)
{
	__asm__ volatile("movq $0x1234, (%0)\n"
			 ".globl dr_write_ret\n"
			 "dr_write_ret:"
			 : : "r"(p) : "memory");
}

GUEST_NOINLINE uint32_t dr_read_site(volatile uint32_t *p)
{
	uint32_t x;
	__asm__ volatile("movl (%1), %0\n"
			 ".globl dr_read_ret\n"
			 "dr_read_ret:"
			 : "=r"(x) : "r"(p) : "memory");
	return x;
}

/* popf sets TF: the trap comes after the instruction that follows it. */
GUEST_NOINLINE void dr_step_site(void)
{
	__asm__ volatile("pushfq\n\t"
			 "orq $0x100, (%%rsp)\n\t"
			 "popfq\n\t"
			 "nop\n"
			 ".globl dr_step_ret\n"
			 "dr_step_ret:"
			 : : : "memory", "cc");
}

static void run_checks(unsigned v)
{
	reset_dr6[v] = read_dr6();
	reset_dr7[v] = read_dr7();

	current[v] = CHECK_EXEC;
	write_dr0((uintptr_t)dr_exec_target);
	write_dr7(DR7_L(0) | DR7_RW(0, RW_EXEC));
	for (int i = 0; i < 3; i++)
		dr_exec_site(v);
	write_dr7(0);
	seen[v][CHECK_EXEC].runs = exec_runs[v];

	current[v] = CHECK_WRITE;
	write_dr1((uintptr_t)&watched_word[v][0]);
	write_dr7(DR7_L(1) | DR7_RW(1, RW_WRITE) | DR7_LEN(1, LEN_8));
	(void)watched_word[v][0];
	watched_word[v][1] = 7;
	dr_write_site(&watched_word[v][0]);
	write_dr7(0);

	current[v] = CHECK_ACCESS;
	write_dr2((uintptr_t)&watched_int[v]);
	write_dr7(DR7_L(2) | DR7_RW(2, RW_ACCESS) | DR7_LEN(2, LEN_4));
	(void)dr_read_site(&watched_int[v]);
	write_dr7(0);

	current[v] = CHECK_DISABLED;
	write_dr3((uintptr_t)&watched_word[v][0]);
	write_dr7(DR7_RW(3, RW_WRITE) | DR7_LEN(3, LEN_8));
	dr_write_site(&watched_word[v][0]);
	write_dr7(0);

	current[v] = CHECK_STEP;
	dr_step_site();
}

static bool same(const struct seen *a, const struct seen *b)
{
	if (a->count != b->count || a->runs != b->runs)
		return false;
	for (unsigned i = 0; i < a->count && i < MAX_DB; i++)
		if (a->rip[i] != b->rip[i] || a->dr6[i] != b->dr6[i])
			return false;
	return true;
}

/* "label" when rip is there, else the address. */
static void print_rip(uint64_t rip, const char *where, const char *name)
{
	if (rip == (uintptr_t)where)
		uart_printf("%s", name);
	else
		uart_printf("0x%lx", rip);
}

/* One line for a check that expects n #DB at `where` with DR6 `dr6`. */
static bool report(const char *what, enum check c, unsigned ncpus,
		   unsigned n, const char *where, const char *name,
		   uint64_t dr6)
{
	const struct seen *s = &seen[0][c];
	bool all_same = true;
	for (unsigned v = 1; v < ncpus; v++)
		all_same = all_same && same(s, &seen[v][c]);
	bool ok = all_same && s->count == n;
	uart_printf("debugregs: %s: %u #DB", what, s->count);
	for (unsigned i = 0; i < s->count && i < MAX_DB; i++) {
		uart_printf("%s at ", i ? "," : "");
		print_rip(s->rip[i], where, name);
		uart_printf(" dr6 0x%lx", s->dr6[i]);
		ok = ok && s->rip[i] == (uintptr_t)where && s->dr6[i] == dr6;
	}
	if (c == CHECK_EXEC) {
		uart_printf("; ran %lu times", s->runs);
		ok = ok && s->runs == n;
	}
	uart_printf("%s\n", all_same ? "" : " (vCPUs differ)");
	return ok;
}

int guest_main(unsigned vcpu, unsigned ncpus, const char *cmdline)
{
	(void)cmdline;
	if (vcpu == 0)
		idt_set_handler(VECTOR_DB, on_debug);
	barrier_wait(&dr_barrier);
	run_checks(vcpu);
	barrier_wait(&dr_barrier);
	if (vcpu != 0)
		return 0;

	bool ok = true;
	bool resets_same = true;
	for (unsigned v = 1; v < ncpus; v++)
		resets_same = resets_same && reset_dr6[v] == reset_dr6[0] &&
			      reset_dr7[v] == reset_dr7[0];
	uart_printf("debugregs: at start dr6 0x%lx dr7 0x%lx%s\n", reset_dr6[0],
		    reset_dr7[0], resets_same ? "" : " (vCPUs differ)");
	ok = resets_same && reset_dr6[0] == DR6_IDLE && reset_dr7[0] == DR7_IDLE;
	ok &= report("execute breakpoint, DR0", CHECK_EXEC, ncpus, 3,
		     dr_exec_target, "dr_exec_target", DR6_IDLE | 1);
	ok &= report("write breakpoint, DR1 8 bytes", CHECK_WRITE, ncpus, 1,
		     dr_write_ret, "dr_write_ret", DR6_IDLE | 2);
	ok &= report("read/write breakpoint, DR2 4 bytes", CHECK_ACCESS, ncpus,
		     1, dr_read_ret, "dr_read_ret", DR6_IDLE | 4);
	ok &= report("disabled breakpoint, DR3", CHECK_DISABLED, ncpus, 0,
		     NULL, "", 0);
	ok &= report("single step, TF", CHECK_STEP, ncpus, 1, dr_step_ret,
		     "dr_step_ret", DR6_IDLE | DR6_BS);
	uart_printf("debugregs: %s\n", ok ? "PASS" : "FAIL");
	return ok ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL;
}
