/*
 * Each vCPU's translated-code buffer (src/vmm/tcg/tcg_code_buffer.c), on
 * the real engine:
 * - a buffer that fills up is flushed by hvgdb between entries, and the
 *   guest runs on correctly; left to Unicorn 2.1.1 itself, a full buffer
 *   crashes the process (it links a block into the flushed cache), so this
 *   fails hard if the interposition stops taking effect;
 * - a cache that is mostly dropped blocks is flushed before the buffer is
 *   full, and the zeroed buffer does not stay resident;
 * - so is the whole-cache flush of an overflowing invalidation queue;
 * - each of these flushes drops the buffer's pages rather than writing
 *   zeroes over all of them (tcg_code_zeroing.c: libunicorn's memset
 *   redirected), so this fails if the redirect stops taking effect;
 *   and such a flush does not give the pages back a second time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/tcg/tcg_internal.h"
#include "vmm/vm_internal.h"
#include "vmm_test_guest.h"

DECLARE_SNIP(garbage);

#define CHAIN_BASE 0x400000ULL
#define CHAIN_BLOCKS 40000

static uint64_t flushes(struct vm *vm, int vcpu)
{
	return tcg_of(vm->vcpus[vcpu])->code.flushes;
}

/* Every flush of vCPU `vcpu` so far had its buffer dropped by the memset
 * redirect, and none was given back again by tcg_code_buffer.c. */
static void every_flush_dropped_once(struct vm *vm, int vcpu,
				     unsigned long drops_before)
{
	assert_int_equal(tcg_code_zeroing_drops() - drops_before,
			 flushes(vm, vcpu));
	assert_int_equal(tcg_of(vm->vcpus[vcpu])->code.given_back, 0);
}

static long vm_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

static void run_to_hlt(struct vm *vm, int vcpu)
{
	struct vm_exit e;
	assert_int_equal(vm_run(vm, vcpu, &e), 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
}

/* CHAIN_BLOCKS blocks of `inc %rax; jmp .+2` and a hlt: several MiB of
 * translated code through a 1 MiB buffer, twice. */
static void test_full_buffer_is_flushed_between_entries(void **state)
{
	(void)state;
	struct vm *vm = tg_create_with_code_buffer(1, VM_CPU_VENDOR_INTEL, 1);
	unsigned long dropped = tcg_code_zeroing_drops();
	static const uint8_t link[] = { 0x48, 0xff, 0xc0, 0xeb, 0x00 };
	for (unsigned i = 0; i < CHAIN_BLOCKS; i++)
		assert_int_equal(vm_write_gpa(vm, CHAIN_BASE + i * sizeof(link),
					      link, sizeof(link)),
				 0);
	const uint8_t hlt = 0xf4;
	assert_int_equal(vm_write_gpa(vm, CHAIN_BASE + CHAIN_BLOCKS *
						      sizeof(link),
				      &hlt, 1),
			 0);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	for (int pass = 1; pass <= 2; pass++) {
		assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RAX, 0),
				 0);
		assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP,
						 CHAIN_BASE),
				 0);
		run_to_hlt(vm, 0);
		assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX), CHAIN_BLOCKS);
	}
	assert_true(flushes(vm, 0) >= 2);
	every_flush_dropped_once(vm, 0, dropped);
	vm_destroy(vm);
}

/* A guest that rewrites its own code: almost every block translated is
 * dropped again. Its cache is flushed long before the default buffer is
 * full, and the buffer the flush zeroed is not left resident. */
static void test_garbage_is_flushed_and_memory_returned(void **state)
{
	(void)state;
	const uint64_t passes = 60000;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, garbage_start, garbage_end);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RCX, passes), 0);
	long before = vm_rss_kib();
	unsigned long dropped = tcg_code_zeroing_drops();
	run_to_hlt(vm, 0);
	long after = vm_rss_kib();
	every_flush_dropped_once(vm, 0, dropped);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX), passes - 1);
	assert_true(flushes(vm, 0) >= 1);
	/* A flush zeroes all VM_DEFAULT_CODE_BUFFER_MIB; half of it is far
	 * above what the loop's live code and garbage take (~33 MiB of
	 * growth under ASan, whose allocator and shadow grow too). */
	print_message("VmRSS %ld -> %ld KiB, %llu flushes\n", before, after,
		      (unsigned long long)flushes(vm, 0));
	assert_true(after - before < VM_DEFAULT_CODE_BUFFER_MIB * 1024 / 2);
	vm_destroy(vm);
}

/* More distinct host writes between two entries than the queue holds: the
 * whole cache goes, and its zeroed buffer is not left resident either. */
static void test_queue_overflow_flush_returns_memory(void **state)
{
	(void)state;
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);
	tg_load(vm, garbage_start, garbage_end);
	assert_int_equal(vm_set_capability(vm, 0, VM_CAP_HALT_EXIT, 1), 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RCX, 3), 0);
	run_to_hlt(vm, 0);
	long before = vm_rss_kib();
	uint64_t flushed = flushes(vm, 0);
	unsigned long dropped = tcg_code_zeroing_drops();
	const uint8_t zero = 0;
	for (uint64_t i = 0; i <= VCPU_MAX_INVAL; i++)
		assert_int_equal(vm_write_gpa(vm, TG_DATA + 0x10000 + 2 * i,
					      &zero, 1),
				 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RIP, SNIP_BASE),
			 0);
	assert_int_equal(vm_set_register(vm, 0, VM_REG_GUEST_RCX, 3), 0);
	run_to_hlt(vm, 0);
	assert_int_equal(tg_reg(vm, 0, VM_REG_GUEST_RAX), 5);
	assert_int_equal(flushes(vm, 0), flushed + 1);
	assert_int_equal(tcg_code_zeroing_drops(), dropped + 1);
	assert_int_equal(tcg_of(vm->vcpus[0])->code.given_back, 0);
	assert_true(vm_rss_kib() - before <
		    VM_DEFAULT_CODE_BUFFER_MIB * 1024 / 2);
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_buffer_is_flushed_between_entries),
		cmocka_unit_test(test_garbage_is_flushed_and_memory_returned),
		cmocka_unit_test(test_queue_overflow_flush_returns_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
