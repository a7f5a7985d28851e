/* The debugger's watchpoints and hardware breakpoints (vm_watch_insert) on
 * the real Unicorn backend, with tiny guests (watch_snippets.S). */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmm_test_guest.h"

DECLARE_SNIP(wlocked);
extern const uint8_t wlocked_after[];
DECLARE_SNIP(wstore);
extern const uint8_t wstore_second[], wstore_after[];
DECLARE_SNIP(wload);
extern const uint8_t wload_after[], wload_after_store[];
DECLARE_SNIP(wunaligned);
extern const uint8_t wunaligned_after[];
DECLARE_SNIP(wexec);
extern const uint8_t wexec_mid[];
DECLARE_SNIP(pingpong);
DECLARE_SNIP(wpercpu);
extern const uint8_t wpercpu_after[];
DECLARE_SNIP(walias);
extern const uint8_t walias_after[], walias_after_direct[];
DECLARE_SNIP(wpush);
extern const uint8_t wpush_after[];
DECLARE_SNIP(wdeliver);
extern const uint8_t wdeliver_handler[];
DECLARE_SNIP(wfault);
extern const uint8_t wfault_after[], wfault_pf_handler[];

static struct vm_exit run(struct vm *vm, int vcpu)
{
	struct vm_exit e;
	assert_int_equal(vm_run(vm, vcpu, &e), 0);
	return e;
}

static struct vm *one_vcpu(const uint8_t *start, const uint8_t *end)
{
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, start, end);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	return vm;
}

static void assert_watch_exit(const struct vm_exit *e, enum vm_watch_kind kind,
			      uint64_t addr, uint64_t hit, uint64_t rip)
{
	assert_int_equal(e->exitcode, VM_EXITCODE_WATCH);
	assert_int_equal(e->u.watch.kind, kind);
	assert_int_equal(e->u.watch.addr, addr);
	assert_int_equal(e->u.watch.hit, hit);
	assert_int_equal(e->rip, rip);
}

/* ---- The table ----------------------------------------------------------- */

static void test_insert_checks_and_limits(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, 0x1000, 0), -EINVAL);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, 0x1000,
					 VM_MAX_WATCH_LEN + 1), -EINVAL);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, UINT64_MAX, 2),
			 -EINVAL);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_EXEC, 0x1000, 2), -EINVAL);
	for (uint64_t i = 0; i < VM_MAX_WATCHPOINTS; i++)
		assert_int_equal(vm_watch_insert(vm, VM_WATCH_READ, 0x1000 + i, 1), 0);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_READ, 0x9000, 1), -ENOSPC);
	/* the same watch again takes no slot, and needs two removals */
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_READ, 0x1000, 1), 0);
	assert_int_equal(vm_watch_remove(vm, VM_WATCH_READ, 0x1000, 1), 0);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_READ, 0x9000, 1), -ENOSPC);
	assert_int_equal(vm_watch_remove(vm, VM_WATCH_READ, 0x1000, 1), 0);
	assert_int_equal(vm_watch_remove(vm, VM_WATCH_READ, 0x1000, 1), -ENOENT);
	/* hardware breakpoints count apart */
	for (uint64_t i = 0; i < VM_MAX_HW_BREAKPOINTS; i++)
		assert_int_equal(vm_watch_insert(vm, VM_WATCH_EXEC, 0x5000 + i, 1), 0);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_EXEC, 0x9000, 1), -ENOSPC);
	vm_destroy(vm);
}

/* ---- Data watches -------------------------------------------------------- */

static void test_write_watch_stops_after_the_store(void **state)
{
	(void)state;
	struct vm *vm = one_vcpu(wstore_start, wstore_end);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, TG_DATA + 8, 8), 0);
	struct vm_exit e = run(vm, 0);
	/* x86's trap: the store is done, the next instruction is not */
	assert_watch_exit(&e, VM_WATCH_WRITE, TG_DATA + 8, TG_DATA + 8,
			  SNIP_ADDR(wstore, after));
	assert_int_equal(tg_data(vm, 0), 1);
	assert_int_equal(tg_data(vm, 1), 2);
	assert_int_equal(tg_data(vm, 2), 0);
	e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 2), 3);
	vm_destroy(vm);
}

/* A locked read-modify-write is a write too, also in code translated
 * before the watch existed (for parallel vCPUs, with host atomics that
 * skip the watch check: the engine must translate it again). */
static void test_locked_write_fires_after_parallel_translation(void **state)
{
	(void)state;
	struct vm *vm = tg_create_parallel(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, wlocked_start, wlocked_end);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RCX, 3), 0);
	assert_int_equal(run(vm, 0).exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 1), 3);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP, SNIP_BASE),
			 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RCX, 3), 0);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, TG_DATA + 8, 8), 0);
	struct vm_exit e = run(vm, 0);
	assert_watch_exit(&e, VM_WATCH_WRITE, TG_DATA + 8, TG_DATA + 8,
			  SNIP_ADDR(wlocked, after));
	assert_int_equal(tg_data(vm, 1), 4);
	vm_destroy(vm);
}

static void test_watch_reports_the_byte_touched(void **state)
{
	(void)state;
	struct vm *vm = one_vcpu(wstore_start, wstore_end);
	/* a 64-byte range from 0x300004: the 8-byte store at 0x300000
	 * touches it first at 0x300004 */
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_ACCESS, TG_DATA + 4, 64), 0);
	struct vm_exit e = run(vm, 0);
	assert_watch_exit(&e, VM_WATCH_ACCESS, TG_DATA + 4, TG_DATA + 4,
			  SNIP_ADDR(wstore, second));
	vm_destroy(vm);
}

static void test_read_watch_ignores_writes(void **state)
{
	(void)state;
	struct vm *vm = one_vcpu(wload_start, wload_end);
	tg_set_data(vm, 1, 0x1122334455667788ULL);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_READ, TG_DATA + 12, 1), 0);
	struct vm_exit e = run(vm, 0);
	assert_watch_exit(&e, VM_WATCH_READ, TG_DATA + 12, TG_DATA + 12,
			  SNIP_ADDR(wload, after));
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX), 0x1122334455667788ULL);
	/* the store to the same bytes does not fire a read watch */
	e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 1), 7);
	vm_destroy(vm);
}

static void test_unaligned_store_fires_only_its_bytes(void **state)
{
	(void)state;
	struct vm *vm = one_vcpu(wunaligned_start, wunaligned_end);
	/* the byte before the store, first of its page: QEMU's check of
	 * [page start, end of the store) would name it */
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, TG_DATA, 1), 0);
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(vm_watch_remove(vm, VM_WATCH_WRITE, TG_DATA, 1), 0);
	/* its last byte */
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP, SNIP_BASE), 0);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, TG_DATA + 4, 1), 0);
	e = run(vm, 0);
	assert_watch_exit(&e, VM_WATCH_WRITE, TG_DATA + 4, TG_DATA + 4,
			  SNIP_ADDR(wunaligned, after));
	vm_destroy(vm);
}

static void test_removed_watch_is_quiet(void **state)
{
	(void)state;
	struct vm *vm = one_vcpu(wstore_start, wstore_end);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, TG_DATA + 8, 8), 0);
	assert_int_equal(vm_watch_remove(vm, VM_WATCH_WRITE, TG_DATA + 8, 8), 0);
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 2), 3);
	vm_destroy(vm);
}

/* Linear addresses, as DR0-DR3: the same byte through another mapping is
 * another address. */
static void test_watch_follows_linear_addresses(void **state)
{
	(void)state;
	struct vm *vm = one_vcpu(walias_start, walias_end);
	/* PML4[0] -> PDPT 0x3000; PDPT[4] (4 GiB) -> PD 0x4000: 4 GiB +
	 * x maps x, for x below 1 GiB */
	uint64_t pdpte = 0x4000 | 3;
	assert_int_equal(vm_write_gpa(vm, 0x3000 + 4 * 8, &pdpte, 8), 0);
	uint64_t alias = 0x100000000ULL + TG_DATA;
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, alias, 8), 0);
	struct vm_exit e = run(vm, 0);
	assert_watch_exit(&e, VM_WATCH_WRITE, alias, alias,
			  SNIP_ADDR(walias, after));
	assert_int_equal(tg_data(vm, 0), 5);
	/* the store to 0x300000 itself is not the watched address */
	e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_data(vm, 0), 6);
	vm_destroy(vm);
}

static void test_push_is_a_write(void **state)
{
	(void)state;
	struct vm *vm = one_vcpu(wpush_start, wpush_end);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RSP, TG_DATA + 0x30), 0);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, TG_DATA + 0x28, 8), 0);
	struct vm_exit e = run(vm, 0);
	assert_watch_exit(&e, VM_WATCH_WRITE, TG_DATA + 0x28, TG_DATA + 0x28,
			  SNIP_ADDR(wpush, after));
	/* pushed once: RSP moved by 8, not 16 (the push ran twice would
	 * have moved it twice) */
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RSP), TG_DATA + 0x28);
	assert_int_equal(tg_data(vm, 5), 9);
	vm_destroy(vm);
}

/* A frame pushed by an event delivery has no instruction to roll back: the
 * watch fires at the handler's first instruction. */
static void test_delivery_write_fires_at_handler(void **state)
{
	(void)state;
	struct vm *vm = one_vcpu(wdeliver_start, wdeliver_end);
	tg_set_gate(vm, 3, SNIP_ADDR(wdeliver, handler));
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RSP, TG_DATA + 0x40), 0);
	/* the RIP slot of the frame, at the top */
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, TG_DATA + 0x18, 8), 0);
	struct vm_exit e = run(vm, 0);
	assert_watch_exit(&e, VM_WATCH_WRITE, TG_DATA + 0x18, TG_DATA + 0x18,
			  SNIP_ADDR(wdeliver, handler));
	/* the frame's RIP: after the int3 */
	assert_int_equal(tg_data(vm, 3), SNIP_BASE + 1);
	e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	vm_destroy(vm);
}

/* An instruction that faults after its watched access did not complete:
 * no stop then; its retry completes and stops once. */
static void test_faulting_instruction_reports_only_its_retry(void **state)
{
	(void)state;
	struct vm *vm = one_vcpu(wfault_start, wfault_end);
	tg_set_gate(vm, 14, SNIP_ADDR(wfault, pf_handler));
	uint64_t not_present = 0;
	assert_int_equal(vm_write_gpa(vm, 0x4018, &not_present, 8), 0);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_READ, TG_DATA, 8), 0);
	struct vm_exit e = run(vm, 0);
	assert_watch_exit(&e, VM_WATCH_READ, TG_DATA, TG_DATA,
			  SNIP_ADDR(wfault, after));
	assert_int_equal(tg_data(vm, 0x100 / 8), 1); /* one #PF */
	uint64_t got = 0;
	assert_int_equal(vm_read_gpa(vm, 0x600000, &got, 8), 0);
	assert_int_equal(got, 0x1122334455667788ULL);
	e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	vm_destroy(vm);
}

struct percpu_run {
	struct vm *vm;
	int vcpu;
	struct vm_exit exits[4];
	int nexits;
};

static void *percpu_main(void *arg)
{
	struct percpu_run *r = arg;
	for (;;) {
		struct vm_exit e;
		if (vm_run(r->vm, r->vcpu, &e) != 0 || r->nexits == 4)
			break;
		r->exits[r->nexits++] = e;
		if (e.exitcode != VM_EXITCODE_WATCH)
			break;
	}
	return NULL;
}

/* Every vCPU has the watch; only the one that writes the byte stops. */
static void test_watch_stops_the_vcpu_that_wrote(void **state)
{
	(void)state;
	struct vm *vm = tg_create(2, VM_CPU_VENDOR_INTEL);
	tg_load(vm, wpercpu_start, wpercpu_end);
	struct percpu_run r[2];
	for (int i = 0; i < 2; i++) {
		assert_int_equal(vm_set_capability(vm, i, VM_CAP_HALT_EXIT, 1), 0);
		assert_int_equal(vm_set_register(vm, i, VM_REG_GUEST_RCX, 3), 0);
		memset(&r[i], 0, sizeof(r[i]));
		r[i].vm = vm;
		r[i].vcpu = i;
	}
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, TG_DATA + 8, 8), 0);
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, percpu_main, &r[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(r[0].nexits, 1);
	assert_int_equal(r[0].exits[0].exitcode, VM_EXITCODE_HLT);
	/* three stores, three stops, then hlt */
	assert_int_equal(r[1].nexits, 4);
	for (int i = 0; i < 3; i++)
		assert_watch_exit(&r[1].exits[i], VM_WATCH_WRITE, TG_DATA + 8,
				  TG_DATA + 8, SNIP_ADDR(wpercpu, after));
	assert_int_equal(r[1].exits[3].exitcode, VM_EXITCODE_HLT);
	vm_destroy(vm);
}

/* ---- Hardware breakpoints ------------------------------------------------ */

static void test_exec_watch_stops_before_the_instruction(void **state)
{
	(void)state;
	struct vm *vm = one_vcpu(wexec_start, wexec_end);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RCX, 2), 0);
	/* translated once without the watch: those blocks must go */
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX), 5);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP, SNIP_BASE), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RAX, 0), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RCX, 2), 0);
	uint64_t mid = SNIP_ADDR(wexec, mid);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_EXEC, mid, 1), 0);
	e = run(vm, 0);
	assert_watch_exit(&e, VM_WATCH_EXEC, mid, mid, mid);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX), 1);
	/* resumed there it runs its instruction (as RF does), and stops at
	 * the next time round the loop */
	e = run(vm, 0);
	assert_watch_exit(&e, VM_WATCH_EXEC, mid, mid, mid);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX), 3);
	assert_int_equal(vm_watch_remove(vm, VM_WATCH_EXEC, mid, 1), 0);
	e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX), 5);
	vm_destroy(vm);
}

/* While a code hook exists, a stop at a block that was entered by a direct
 * jump must not rerun the block before it. */
static void test_stops_are_exact_with_exec_watches(void **state)
{
	(void)state;
	struct vm *vm = one_vcpu(pingpong_start, pingpong_end);
	/* an EXEC watch nobody reaches: its code hook is what matters */
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_EXEC, 0x1f0000, 1), 0);
	const uint64_t n = 10000000; /* dozens of 10 ms entries */
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RCX, n), 0);
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX), n);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RBX), n);
	vm_destroy(vm);
}

/* A step onto a hardware breakpoint reports the step; the breakpoint fires
 * at the next resume, before its instruction. */
static void test_step_onto_exec_watch(void **state)
{
	(void)state;
	struct vm *vm = one_vcpu(wexec_start, wexec_end);
	uint64_t mid = SNIP_ADDR(wexec, mid);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RCX, 1), 0);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_EXEC, mid, 1), 0);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_MTRAP_EXIT, 1), 0);
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_MTRAP);
	assert_int_equal(e.rip, mid);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_MTRAP_EXIT, 0), 0);
	e = run(vm, 0);
	assert_watch_exit(&e, VM_WATCH_EXEC, mid, mid, mid);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX), 1);
	vm_destroy(vm);
}

/* A step of an instruction that hits a data watch reports the watch. */
static void test_step_of_watched_store(void **state)
{
	(void)state;
	struct vm *vm = one_vcpu(wstore_start, wstore_end);
	assert_int_equal(vm_watch_insert(vm, VM_WATCH_WRITE, TG_DATA + 8, 8), 0);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_MTRAP_EXIT, 1), 0);
	struct vm_exit e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_MTRAP);
	e = run(vm, 0);
	assert_watch_exit(&e, VM_WATCH_WRITE, TG_DATA + 8, TG_DATA + 8,
			  SNIP_ADDR(wstore, after));
	e = run(vm, 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_MTRAP);
	assert_int_equal(tg_data(vm, 2), 3);
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_checks_and_limits),
		cmocka_unit_test(test_write_watch_stops_after_the_store),
		cmocka_unit_test(
			test_locked_write_fires_after_parallel_translation),
		cmocka_unit_test(test_watch_reports_the_byte_touched),
		cmocka_unit_test(test_read_watch_ignores_writes),
		cmocka_unit_test(test_unaligned_store_fires_only_its_bytes),
		cmocka_unit_test(test_removed_watch_is_quiet),
		cmocka_unit_test(test_watch_follows_linear_addresses),
		cmocka_unit_test(test_push_is_a_write),
		cmocka_unit_test(test_delivery_write_fires_at_handler),
		cmocka_unit_test(test_faulting_instruction_reports_only_its_retry),
		cmocka_unit_test(test_watch_stops_the_vcpu_that_wrote),
		cmocka_unit_test(test_exec_watch_stops_before_the_instruction),
		cmocka_unit_test(test_stops_are_exact_with_exec_watches),
		cmocka_unit_test(test_step_onto_exec_watch),
		cmocka_unit_test(test_step_of_watched_store),
	};
	if (getenv("VMM_TEST"))
		cmocka_set_test_filter(getenv("VMM_TEST"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
