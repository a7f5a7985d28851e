#include "faults.h"

#include "idt.h"
#include "layout.h"
#include "runtime.h"
#include "uart.h"
#include "x86.h"

extern const char probe_read_insn[], probe_read_fixup[];
extern const char probe_write_insn[], probe_write_fixup[];
extern const char probe_call_return[];
extern const char user_text_page[];
extern const char user_read_super_insn[], user_read_super_fixup[];
extern const char user_write_ro_insn[], user_write_ro_fixup[];
extern const char user_read_np_insn[], user_read_np_fixup[];

struct fixup {
	const char *insn, *resume;
};

/* Addresses as linked; user.S' entries are translated to VA_USER_CODE. */
static const struct fixup fixups[] = {
	{ probe_read_insn, probe_read_fixup },
	{ probe_write_insn, probe_write_fixup },
	{ user_read_super_insn, user_read_super_fixup },
	{ user_write_ro_insn, user_write_ro_fixup },
	{ user_read_np_insn, user_read_np_fixup },
};

static struct fault_log logs[GUEST_MAX_CPUS];

/* The user task runs user.S' page at VA_USER_CODE; the table holds the
 * addresses the image was linked at. */
static uint64_t to_linked(uint64_t rip, uint64_t cs)
{
	if ((cs & 3) != 3)
		return rip;
	return rip - VA_USER_CODE + (uint64_t)(uintptr_t)user_text_page;
}

static uint64_t from_linked(uint64_t addr, uint64_t cs)
{
	if ((cs & 3) != 3)
		return addr;
	return addr - (uint64_t)(uintptr_t)user_text_page + VA_USER_CODE;
}

static int resume_after_probe(struct trap_frame *frame)
{
	uint64_t rip = to_linked(frame->rip, frame->cs);
	for (unsigned i = 0; i < sizeof(fixups) / sizeof(fixups[0]); i++) {
		if (rip == (uint64_t)(uintptr_t)fixups[i].insn) {
			frame->rip = from_linked((uint64_t)(uintptr_t)fixups[i].resume,
						 frame->cs);
			return 1;
		}
	}
	/* A fetch fault in code probe_call called: the CPU pushed the frame
	 * before executing anything at the target, so the return address is
	 * still on top of the interrupted stack. Return there. */
	if ((frame->error_code & PF_ID) && (frame->cs & 3) == 0 &&
	    *(const uint64_t *)(uintptr_t)frame->rsp ==
		    (uint64_t)(uintptr_t)probe_call_return) {
		frame->rip = (uint64_t)(uintptr_t)probe_call_return;
		frame->rsp += 8;
		frame->rax = PROBE_FETCH_FAULTED;
		return 1;
	}
	return 0;
}

static void on_page_fault(struct trap_frame *frame)
{
	/* CR2 first: a fault taken later in this handler would replace it. */
	uint64_t cr2 = read_cr2();
	struct fault_log *log = &logs[cpu_self()];
	struct fault_record scratch, *r = &scratch;
	if (log->count < FAULT_LOG_RECORDS)
		r = &log->records[log->count];
	log->count++;
	r->cr2 = cr2;
	r->error = frame->error_code;
	r->rip = frame->rip;
	r->cs = frame->cs;
	r->ss = frame->ss;
	r->rsp = frame->rsp;
	r->frame = (uint64_t)(uintptr_t)frame;
	if (resume_after_probe(frame))
		return;
	uart_printf_unlocked("paging: vcpu %u: unexpected #PF cr2 0x%lx error 0x%lx "
			     "rip 0x%lx cs 0x%lx\n",
			     cpu_self(), cr2, frame->error_code, frame->rip,
			     frame->cs);
	guest_exit(GUEST_EXIT_FAULT);
}

void faults_install(void)
{
	idt_set_handler(VECTOR_PF, on_page_fault);
}

void fault_log_reset(unsigned vcpu)
{
	logs[vcpu].count = 0;
}

const struct fault_log *fault_log(unsigned vcpu)
{
	return &logs[vcpu];
}
