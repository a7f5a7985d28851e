#include "paging_probe.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14

struct vm *probe_vm(struct pt_space *pt)
{
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, pg_start, pg_end);
	tg_set_gate(vm, VEC_PF, PG(pf_handler));
	tg_set_gate(vm, VEC_GP, PG(gp_handler));
	tg_set_gate(vm, VEC_UD, PG(ud_handler));
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	pt_init(pt, vm);
	pt_activate(pt, 0);
	return vm;
}

struct vm_exit probe_run(struct vm *vm, uint64_t entry, uint64_t rsi,
			 uint64_t rdi, uint64_t rdx)
{
	static const unsigned slots[] = { PF_COUNT, PF_ERROR, PF_CR2, PF_RIP,
					  PF_CS, PF_SS, PF_FRAME, EXC_VECTOR,
					  EXC_ERROR, EXC_RIP, EXC_CS };
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		tg_set_data(vm, slots[i], 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RSP,
					 TG_STACK_TOP), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RSI, rsi), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RDI, rdi), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RDX, rdx), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP, entry), 0);
	struct vm_exit e;
	assert_int_equal(vm_run(vm, 0, &e), 0);
	if (e.exitcode != VM_EXITCODE_HLT)
		fail_msg("exit %d at rip %#llx (%s), not hlt", e.exitcode,
			 (unsigned long long)e.rip, e.u.fault.reason);
	return e;
}

/* Runs a probe that must reach its own hlt without a fault. */
static void run_clean(struct vm *vm, uint64_t entry, uint64_t end,
		      uint64_t rsi, uint64_t rdx)
{
	struct vm_exit e = probe_run(vm, entry, rsi, 0, rdx);
	if (tg_data(vm, PF_COUNT) != 0)
		fail_msg("#PF error %#llx at cr2 %#llx",
			 (unsigned long long)tg_data(vm, PF_ERROR),
			 (unsigned long long)tg_data(vm, PF_CR2));
	assert_int_equal(e.rip, end);
}

uint64_t probe_read(struct vm *vm, uint64_t va)
{
	run_clean(vm, PG(read), PG(read_end), va, 0);
	return tg_reg(vm, 0, VM_REG_GUEST_RAX);
}

void probe_write(struct vm *vm, uint64_t va, uint64_t val)
{
	run_clean(vm, PG(write), PG(write_end), va, val);
}

uint64_t probe_call(struct vm *vm, uint64_t va)
{
	run_clean(vm, PG(call), PG(call_end), va, 0);
	return tg_reg(vm, 0, VM_REG_GUEST_RAX) & 0xffffffffu;
}

struct pf_seen probe_fault(struct vm *vm)
{
	assert_int_equal(tg_data(vm, PF_COUNT), 1);
	struct pf_seen f = { tg_data(vm, PF_ERROR), tg_data(vm, PF_CR2),
			     tg_data(vm, PF_RIP), tg_data(vm, PF_CS),
			     tg_data(vm, PF_SS), tg_data(vm, PF_FRAME) };
	return f;
}

uint64_t return_code_u64(uint32_t value)
{
	uint8_t code[8] = { 0xb8, 0, 0, 0, 0, 0xc3, 0x90, 0x90 };
	uint64_t v;
	memcpy(code + 1, &value, 4);
	memcpy(&v, code, 8);
	return v;
}

void put_return_code(struct vm *vm, uint64_t gpa, uint32_t value)
{
	set_gpa_u64(vm, gpa, return_code_u64(value));
}

uint64_t gpa_u64(struct vm *vm, uint64_t gpa)
{
	uint64_t v = 0;
	assert_int_equal(vm_read_gpa(vm, gpa, &v, 8), 0);
	return v;
}

void set_gpa_u64(struct vm *vm, uint64_t gpa, uint64_t val)
{
	assert_int_equal(vm_write_gpa(vm, gpa, &val, 8), 0);
}
