/* vm_declare_guest_dead on the real Unicorn backend: a halted or running
 * vCPU leaves vm_run with VM_EXITCODE_GUEST_DEAD and the reason, once; and
 * vm_get_vcpu_info tells a hlt with interrupts off from one with them on. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "vmm_test_guest.h"

static const uint8_t cli_hlt[] = { 0xFA, 0xF4, 0xEB, 0xFD }; /* cli; hlt; jmp */
static const uint8_t sti_hlt[] = { 0xFB, 0xF4, 0xEB, 0xFD }; /* sti; hlt; jmp */
static const uint8_t spin[] = { 0xEB, 0xFE };                 /* jmp . */

static struct vm_vcpu_info halted_info(struct vm *vm)
{
	struct vm_vcpu_info info = { 0 };

	for (int i = 0; i < 60000 && !info.halted; i++) { /* 60 s+ */
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
		vm_get_vcpu_info(vm, 0, &info);
	}
	assert_true(info.halted);
	return info;
}

static struct vm *guest(const uint8_t *code, size_t len)
{
	struct vm *vm = tg_create(1, VM_CPU_VENDOR_INTEL);

	tg_load(vm, code, code + len);
	return vm;
}

static void test_halted_vcpu_is_woken_dead(void **state)
{
	(void)state;
	struct vm *vm = guest(cli_hlt, sizeof(cli_hlt));
	struct tg_runner r;

	tg_runner_start(&r, vm, 0);
	assert_true(halted_info(vm).interrupts_off);
	assert_int_equal(vm_declare_guest_dead(vm, 0, "halted for good"), 0);
	tg_runner_join(&r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.exit.exitcode, VM_EXITCODE_GUEST_DEAD);
	assert_string_equal(r.exit.u.fault.reason, "halted for good");
	assert_int_equal(r.exit.rip, SNIP_BASE + 2); /* after the hlt */
	/* Once: a second verdict is not reported again; the VM still ends
	 * normally. */
	assert_int_equal(vm_declare_guest_dead(vm, 0, "again"), 0);
	vm_request_shutdown(vm, VM_SHUTDOWN_REQUESTED, 0);
	struct vm_exit e;
	assert_int_equal(vm_run(vm, 0, &e), 0);
	assert_int_equal(e.exitcode, VM_EXITCODE_SHUTDOWN);
	assert_int_equal(vm_declare_guest_dead(vm, 1, "x"), -EINVAL);
	assert_int_equal(vm_declare_guest_dead(vm, 0, NULL), -EINVAL);
	vm_destroy(vm);
}

static void test_running_vcpu_is_stopped_dead(void **state)
{
	(void)state;
	struct vm *vm = guest(spin, sizeof(spin));
	struct tg_runner r;
	struct timespec ts = { 0, 20000000 };

	tg_runner_start(&r, vm, 0);
	nanosleep(&ts, NULL);
	char reason[200];
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	assert_int_equal(vm_declare_guest_dead(vm, 0, reason), 0);
	tg_runner_join(&r);
	assert_int_equal(r.exit.exitcode, VM_EXITCODE_GUEST_DEAD);
	assert_int_equal(r.exit.rip, SNIP_BASE);
	/* A long reason is cut to fit. */
	assert_int_equal(strlen(r.exit.u.fault.reason),
			 sizeof(r.exit.u.fault.reason) - 1);
	vm_destroy(vm);
}

static void test_hlt_with_interrupts_on_is_told_apart(void **state)
{
	(void)state;
	struct vm *vm = guest(sti_hlt, sizeof(sti_hlt));
	struct tg_runner r;

	tg_runner_start(&r, vm, 0);
	assert_false(halted_info(vm).interrupts_off);
	vm_request_shutdown(vm, VM_SHUTDOWN_REQUESTED, 0);
	tg_runner_join(&r);
	assert_int_equal(r.exit.exitcode, VM_EXITCODE_SHUTDOWN);
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_halted_vcpu_is_woken_dead),
		cmocka_unit_test(test_running_vcpu_is_stopped_dead),
		cmocka_unit_test(test_hlt_with_interrupts_on_is_told_apart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
