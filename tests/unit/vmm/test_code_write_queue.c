/*
 * Host writes to guest code and the vCPUs' translation caches
 * (src/vmm/code_write_queue.c), on the real engine: a write that is undone
 * before a vCPU runs again (gdb's remove-all-at-stop, insert-all-at-resume)
 * costs that vCPU no retranslation, and every write that changed what a
 * vCPU translated is seen by it, whatever happened in between.
 *
 * The `patch` snippet is `mov $imm32, %eax; hlt`: RAX after a run says
 * which immediate the engine executed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmm/vm_internal.h"
#include "vmm_test_guest.h"

DECLARE_SNIP(patch);
extern const uint8_t patch_imm[];

static uint64_t imm_gpa(void)
{
	return SNIP_ADDR(patch, imm) + 1; /* after the opcode byte */
}

static void set_imm(struct vm *vm, uint32_t imm)
{
	assert_int_equal(vm_write_gpa(vm, imm_gpa(), &imm, sizeof(imm)), 0);
}

/* Run vCPU `vcpu` from the snippet's start to its hlt; RAX. */
static uint64_t run_patch(struct vm *vm, int vcpu)
{
	struct vm_exit e;
	assert_int_equal(vm_set_register(vm, vcpu, VM_REG_GUEST_RIP, SNIP_BASE),
			 0);
	assert_int_equal(vm_run(vm, vcpu, &e), 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_HLT);
	return tg_reg(vm, vcpu, VM_REG_GUEST_RAX);
}

static struct vm *patch_vm(unsigned ncpus)
{
	struct vm *vm = tg_create(ncpus, VM_CPU_VENDOR_INTEL);
	tg_load(vm, patch_start, patch_end);
	for (unsigned i = 0; i < ncpus; i++)
		assert_int_equal(
			vm_set_capability(vm, (int)i, VM_CAP_HALT_EXIT, 1), 0);
	return vm;
}

static uint64_t skipped(struct vm *vm, int vcpu)
{
	return vcpu_invalidations_skipped(vm->vcpus[vcpu]);
}

/* Written and written back while both vCPUs were parked: nothing to drop
 * on either, and both still run the original code. */
static void test_undone_write_is_skipped(void **state)
{
	(void)state;
	struct vm *vm = patch_vm(2);
	assert_int_equal(run_patch(vm, 0), 1);
	assert_int_equal(run_patch(vm, 1), 1);
	uint64_t s0 = skipped(vm, 0), s1 = skipped(vm, 1);
	set_imm(vm, 2);
	set_imm(vm, 1);
	assert_int_equal(run_patch(vm, 0), 1);
	assert_int_equal(run_patch(vm, 1), 1);
	assert_int_equal(skipped(vm, 0), s0 + 1);
	assert_int_equal(skipped(vm, 1), s1 + 1);
	vm_destroy(vm);
}

/* A write that stays is dropped and retranslated on every vCPU. */
static void test_kept_write_is_seen(void **state)
{
	(void)state;
	struct vm *vm = patch_vm(2);
	assert_int_equal(run_patch(vm, 0), 1);
	assert_int_equal(run_patch(vm, 1), 1);
	uint64_t s0 = skipped(vm, 0);
	set_imm(vm, 2);
	assert_int_equal(run_patch(vm, 0), 2);
	assert_int_equal(run_patch(vm, 1), 2);
	assert_int_equal(skipped(vm, 0), s0);
	vm_destroy(vm);
}

/* The breakpoint step-over: vCPU 0 runs with the write undone while vCPU 1
 * stays parked, then the write comes back. vCPU 0 translated the other
 * content in between and must retranslate; vCPU 1 must not. */
static void test_write_undone_for_one_vcpu_only(void **state)
{
	(void)state;
	struct vm *vm = patch_vm(2);
	set_imm(vm, 7); /* "breakpoint inserted" */
	assert_int_equal(run_patch(vm, 0), 7);
	assert_int_equal(run_patch(vm, 1), 7);
	uint64_t s1 = skipped(vm, 1);
	set_imm(vm, 1); /* removed at the stop */
	assert_int_equal(run_patch(vm, 0), 1); /* the step over it */
	set_imm(vm, 7); /* inserted again */
	assert_int_equal(run_patch(vm, 0), 7);
	assert_int_equal(run_patch(vm, 1), 7);
	assert_int_equal(skipped(vm, 1), s1 + 1);
	vm_destroy(vm);
}

/* A write queued while the vCPU is inside its engine may have been
 * translated by it half-way: never skipped, even once undone. Driven
 * through the queue's own entry points, where the engine would run. */
static void test_write_during_run_is_never_skipped(void **state)
{
	(void)state;
	struct vm *vm = patch_vm(1);
	struct vcpu *v = vm->vcpus[0];
	uint64_t ranges[VCPU_MAX_INVAL][2];
	assert_int_equal(run_patch(vm, 0), 1);
	assert_int_equal(vcpu_take_invalidations(v, ranges), 0);
	set_imm(vm, 2); /* "in the engine" */
	vcpu_left_engine(v);
	set_imm(vm, 1);
	assert_int_equal(vcpu_take_invalidations(v, ranges), 1);
	assert_true(ranges[0][0] <= imm_gpa() && imm_gpa() + 4 <= ranges[0][1]);
	vcpu_left_engine(v);
	assert_int_equal(run_patch(vm, 0), 1);
	vm_destroy(vm);
}

/* Only a later write inside the first one's range keeps the check; one
 * reaching outside it, even if everything is undone, is dropped. */
static void test_wider_write_is_never_skipped(void **state)
{
	(void)state;
	struct vm *vm = patch_vm(1);
	struct vcpu *v = vm->vcpus[0];
	uint64_t ranges[VCPU_MAX_INVAL][2];
	assert_int_equal(run_patch(vm, 0), 1);
	uint8_t orig[8], junk[8] = { 0xcc, 0xcc, 0xcc, 0xcc,
				    0xcc, 0xcc, 0xcc, 0xcc };
	assert_int_equal(vm_read_gpa(vm, imm_gpa(), orig, 8), 0);
	assert_int_equal(vm_write_gpa(vm, imm_gpa(), junk, 1), 0);
	assert_int_equal(vm_write_gpa(vm, imm_gpa(), junk, 8), 0);
	assert_int_equal(vm_write_gpa(vm, imm_gpa(), orig, 8), 0);
	assert_int_equal(vcpu_take_invalidations(v, ranges), 1);
	vcpu_left_engine(v);
	/* The same, inside: skipped. */
	assert_int_equal(vm_write_gpa(vm, imm_gpa(), junk, 8), 0);
	assert_int_equal(vm_write_gpa(vm, imm_gpa() + 2, junk, 1), 0);
	assert_int_equal(vm_write_gpa(vm, imm_gpa(), orig, 8), 0);
	assert_int_equal(vcpu_take_invalidations(v, ranges), 0);
	vcpu_left_engine(v);
	/* Larger than a snapshot: never checked. */
	uint8_t big[32];
	assert_int_equal(vm_read_gpa(vm, imm_gpa(), big, sizeof(big)), 0);
	assert_int_equal(vm_write_gpa(vm, imm_gpa(), big, sizeof(big)), 0);
	assert_int_equal(vcpu_take_invalidations(v, ranges), 1);
	vcpu_left_engine(v);
	assert_int_equal(run_patch(vm, 0), 1);
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_undone_write_is_skipped),
		cmocka_unit_test(test_kept_write_is_seen),
		cmocka_unit_test(test_write_undone_for_one_vcpu_only),
		cmocka_unit_test(test_write_during_run_is_never_skipped),
		cmocka_unit_test(test_wider_write_is_never_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
