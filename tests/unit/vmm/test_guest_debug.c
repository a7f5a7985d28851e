/* The guest's own debug registers (DR0-DR3, DR6, DR7) on the real Unicorn
 * backend: #DB in the guest as on hardware, apart from the debugger's
 * watches (watch_snippets.S). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "vmm_test_guest.h"

DECLARE_SNIP(drexec);
extern const uint8_t drexec_target[], drexec_db_handler[];
DECLARE_SNIP(drwrite);
extern const uint8_t drwrite_after[], drwrite_db_handler[];
DECLARE_SNIP(drlate);
extern const uint8_t drlate_target[], drlate_after_store[],
	drlate_db_handler[];

#define DB_VECTOR 1
/* DR6 with no condition: its fixed bits */
#define DR6_IDLE 0xffff0ff0ULL

/* What the #DB handler of the snippets recorded (see watch_snippets.S). */
static uint64_t db_count(struct vm *vm)
{
	return tg_data(vm, 0x100 / 8);
}

static uint64_t db_rip(struct vm *vm, unsigned n)
{
	return tg_data(vm, (0x108 + 16 * n) / 8);
}

static uint64_t db_dr6(struct vm *vm, unsigned n)
{
	return tg_data(vm, (0x110 + 16 * n) / 8);
}

static struct vm *guest(const uint8_t *start, const uint8_t *end,
			uint64_t handler)
{
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, start, end);
	tg_set_gate(vm, DB_VECTOR, handler);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	return vm;
}

static struct vm_exit run(struct vm *vm)
{
	struct vm_exit e;
	assert_int_equal(vm_run(vm, 0, &e), 0);
	return e;
}

/* DR0 on an instruction: #DB before it (a fault, RIP on it, DR6.B0); the
 * handler sets RF and the instruction runs once. Enabling DR0 used to
 * crash the process (Unicorn flushed its code cache under the running
 * block). */
static void test_instruction_breakpoint(void **state)
{
	(void)state;
	struct vm *vm = guest(drexec_start, drexec_end,
			      SNIP_ADDR(drexec, db_handler));
	struct vm_exit e = run(vm);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(db_count(vm), 1);
	assert_int_equal(db_rip(vm, 0), SNIP_ADDR(drexec, target));
	assert_int_equal(db_dr6(vm, 0), DR6_IDLE | 1);
	assert_int_equal(tg_data(vm, 0), 2);
	vm_destroy(vm);
}

/* DR1 on 4 bytes, write: #DB after the store (a trap, RIP on the next
 * instruction, DR6.B1); a store beside it and a read of it do nothing. */
static void test_write_breakpoint(void **state)
{
	(void)state;
	struct vm *vm = guest(drwrite_start, drwrite_end,
			      SNIP_ADDR(drwrite, db_handler));
	struct vm_exit e = run(vm);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(db_count(vm), 1);
	assert_int_equal(db_rip(vm, 0), SNIP_ADDR(drwrite, after));
	assert_int_equal(db_dr6(vm, 0), DR6_IDLE | 2);
	assert_int_equal(tg_data(vm, 0x40 / 8), 0xabcd);
	vm_destroy(vm);
}

/* The debugger and the guest watch the same bytes: the debugger hears of
 * the store, and the guest still gets its #DB when the vCPU goes on. */
static void test_debugger_and_guest_watch_apart(void **state)
{
	(void)state;
	struct vm *vm = guest(drwrite_start, drwrite_end,
			      SNIP_ADDR(drwrite, db_handler));
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, TG_DATA + 0x40, 4), 0);
	struct vm_exit e = run(vm);
	assert_int_equal(e.exitcode, VM_EXITCODE_WATCH);
	assert_int_equal(e.rip, SNIP_ADDR(drwrite, after));
	assert_int_equal(db_count(vm), 0);
	e = run(vm);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(db_count(vm), 1);
	assert_int_equal(db_rip(vm, 0), SNIP_ADDR(drwrite, after));
	assert_int_equal(db_dr6(vm, 0), DR6_IDLE | 2);
	vm_destroy(vm);
}

/* A debugger hardware breakpoint on the guest's own DR0 instruction: the
 * guest's #DB comes first (before the instruction), then the debugger's
 * stop, and the instruction still runs once. */
static void test_debugger_and_guest_breakpoint_apart(void **state)
{
	(void)state;
	struct vm *vm = guest(drexec_start, drexec_end,
			      SNIP_ADDR(drexec, db_handler));
	uint64_t target = SNIP_ADDR(drexec, target);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_EXEC, target, 1), 0);
	struct vm_exit e = run(vm);
	assert_int_equal(e.exitcode, VM_EXITCODE_WATCH);
	assert_int_equal(e.rip, target);
	assert_int_equal(db_count(vm), 1);
	assert_int_equal(tg_data(vm, 0), 0);
	e = run(vm);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(db_count(vm), 1);
	assert_int_equal(tg_data(vm, 0), 2);
	vm_destroy(vm);
}

static uint64_t reg(struct vm *vm, enum vm_reg_name r)
{
	uint64_t v = 0;
	assert_int_equal(vm_get_register(vm, 0, r, &v), 0);
	return v;
}

#define DR7_IDLE 0x400ULL

/* A debugger writes the guest's DR0/DR1/DR7 (vm_set_register) between
 * runs, after the code they watch was translated: the guest gets its #DB
 * as if it had written them itself, and none once they are cleared. The
 * debugger's own watches never show in the guest's registers. */
static void test_debugger_writes_guest_registers(void **state)
{
	(void)state;
	struct vm *vm = guest(drlate_start, drlate_end,
			      SNIP_ADDR(drlate, db_handler));
	uint64_t target = SNIP_ADDR(drlate, target);
	struct vm_exit e = run(vm);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 0), 1);
	assert_int_equal(reg(vm, VM_REG_GUEST_DR7), DR7_IDLE);
	assert_int_equal(reg(vm, VM_REG_GUEST_DR6), DR6_IDLE);
	/* bits 63:32 of DR6 and DR7: #GP on a CPU, refused here */
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_DR7,
					 (1ULL << 32) | 1), -EINVAL);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_DR6, 1ULL << 40),
			 -EINVAL);
	assert_int_equal(reg(vm, VM_REG_GUEST_DR7), DR7_IDLE);
	/* DR0 on `target`, execute */
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_DR0, target), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_DR7, 1), 0);
	assert_int_equal(reg(vm, VM_REG_GUEST_DR0), target);
	assert_int_equal(reg(vm, VM_REG_GUEST_DR7), DR7_IDLE | 1);
	e = run(vm);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(db_count(vm), 1);
	assert_int_equal(db_rip(vm, 0), target);
	assert_int_equal(db_dr6(vm, 0), DR6_IDLE | 1);
	assert_int_equal(tg_data(vm, 0), 2);
	/* DR1 on the 4 stored bytes, write (L1, R/W1 01, LEN1 11) */
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_DR1,
					 TG_DATA + 0x40), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_DR7,
					 0x00d00004), 0);
	e = run(vm);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(db_count(vm), 2);
	assert_int_equal(db_rip(vm, 1), SNIP_ADDR(drlate, after_store));
	assert_int_equal(db_dr6(vm, 1), DR6_IDLE | 2);
	/* cleared: no #DB; a debugger watch on the same bytes is not in
	 * the guest's DR7 */
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_DR7, 0), 0);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_ACCESS, target, 8), 0);
	assert_int_equal(vm_watch_remove(vm, VM_WATCH_ACCESS, target, 8), 0);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, TG_DATA + 0x40,
					 4), 0);
	assert_int_equal(reg(vm, VM_REG_GUEST_DR7), DR7_IDLE);
	e = run(vm);
	assert_int_equal(e.exitcode, VM_EXITCODE_WATCH);
	e = run(vm);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(db_count(vm), 2);
	assert_int_equal(tg_data(vm, 0), 4);
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instruction_breakpoint),
		cmocka_unit_test(test_write_breakpoint),
		cmocka_unit_test(test_debugger_and_guest_watch_apart),
		cmocka_unit_test(test_debugger_and_guest_breakpoint_apart),
		cmocka_unit_test(test_debugger_writes_guest_registers),
	};
	if (getenv("VMM_TEST"))
		cmocka_set_test_filter(getenv("VMM_TEST"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
