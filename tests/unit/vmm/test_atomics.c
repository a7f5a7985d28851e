/*
 * Guest atomics stay atomic with engines executing at the same time
 * (src/vmm/tcg/tcg_atomics.c).
 *
 * The first tests run two bare Unicorn engines, one per host thread, over one
 * shared RAM, released together: with Unicorn's own translation (no
 * CF_PARALLEL, plain xchg helpers) their counters come out short. The
 * last runs hvgdb's VM with locked accesses QEMU cannot make atomically
 * (misaligned): without the exclusive step the vCPU re-runs the access
 * forever and the test times out.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>
#include <unicorn/unicorn.h>

#include "vmm/tcg/tcg_atomics.h"
#include "vmm/tcg/tcg_cpu_internals.h"
#include "vmm_test_guest.h"

DECLARE_SNIP(atomix);
DECLARE_SNIP(peterson);
DECLARE_SNIP(misaligned);

#define BARE_RAM (4ULL << 20)
#define ATOMIX_ITERS 200000
#define PETERSON_ITERS 100000
#define MISALIGNED_ITERS 2000
/* Two host threads: this machine's cores. More would mostly wait for a
 * descheduled holder of the xchg spinlock. */
#define ATOMIX_ENGINES 2
#define MAX_ENGINES 2

struct bare_engine {
	uc_engine *uc;
	pthread_barrier_t *go;
	uc_err err;
	unsigned long translations, parallel;
};

static void *bare_main(void *arg)
{
	struct bare_engine *e = arg;
	pthread_barrier_wait(e->go);
	e->err = uc_emu_start(e->uc, SNIP_BASE, 0, 0, 0);
	e->translations = tcg_atomics_translations();
	e->parallel = tcg_atomics_parallel_translations();
	return NULL;
}

static uint64_t ram_u64(const uint8_t *ram, uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, ram + gpa, 8);
	return v;
}

/* n engines run the snippet on their own threads, all released at once;
 * RSI is each one's index, RDI the other's (for two). */
static void run_bare(uint8_t *ram, unsigned n, const uint8_t *start,
		     const uint8_t *end, uint64_t iters)
{
	char err[320] = "";
	if (tcg_cpu_internals_check(err, sizeof(err)) != 0)
		fail_msg("%s", err);
	memcpy(ram + SNIP_BASE, start, (size_t)(end - start));
	struct bare_engine e[MAX_ENGINES];
	pthread_t th[MAX_ENGINES];
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, n);
	for (unsigned i = 0; i < n; i++) {
		e[i] = (struct bare_engine){ .go = &go, .err = UC_ERR_OK };
		assert_int_equal(uc_open(UC_ARCH_X86, UC_MODE_64, &e[i].uc),
				 UC_ERR_OK);
		/* cmpxchg16b needs CX16, which hvgdb's models have. */
		assert_int_equal(uc_ctl_set_cpu_model(e[i].uc,
						      UC_CPU_X86_SKYLAKE_SERVER),
				 UC_ERR_OK);
		assert_int_equal(uc_mem_map_ptr(e[i].uc, 0, BARE_RAM,
						UC_PROT_ALL, ram),
				 UC_ERR_OK);
		uint64_t rsp = TG_STACK_TOP + i * 0x10000, me = i,
			 other = 1 - i;
		tcg_uc_set(e[i].uc, UC_X86_REG_RSP, rsp);
		tcg_uc_set(e[i].uc, UC_X86_REG_R8, iters);
		tcg_uc_set(e[i].uc, UC_X86_REG_RSI, me);
		tcg_uc_set(e[i].uc, UC_X86_REG_RDI, other);
	}
	for (unsigned i = 0; i < n; i++)
		pthread_create(&th[i], NULL, bare_main, &e[i]);
	for (unsigned i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(e[i].err, UC_ERR_OK);
		/* Every block of the engine was compiled for a parallel
		 * context. */
		assert_true(e[i].translations > 0);
		assert_int_equal(e[i].parallel, e[i].translations);
		uc_close(e[i].uc);
	}
	pthread_barrier_destroy(&go);
}

static uint8_t *bare_ram(void)
{
	uint8_t *ram = mmap(NULL, BARE_RAM, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ram != MAP_FAILED);
	return ram;
}

static void test_every_atomic_kind_is_exact_on_parallel_engines(void **state)
{
	(void)state;
	uint8_t *ram = bare_ram();
	run_bare(ram, ATOMIX_ENGINES, atomix_start, atomix_end, ATOMIX_ITERS);
	uint64_t want = (uint64_t)ATOMIX_ENGINES * ATOMIX_ITERS;
	assert_int_equal(ram_u64(ram, TG_DATA + 0x00), want); /* lock inc */
	assert_int_equal(ram_u64(ram, TG_DATA + 0x08), want); /* lock xadd */
	assert_int_equal(ram_u64(ram, TG_DATA + 0x10), want); /* cmpxchg */
	assert_int_equal(ram_u64(ram, TG_DATA + 0x18), 0);    /* lock free */
	assert_int_equal(ram_u64(ram, TG_DATA + 0x20), want); /* xchg lock */
	assert_int_equal(ram_u64(ram, TG_DATA + 0x30), want); /* cx16 lo */
	assert_int_equal(ram_u64(ram, TG_DATA + 0x38), want); /* cx16 hi */
	munmap(ram, BARE_RAM);
}

static void test_mfence_orders_a_peterson_lock(void **state)
{
	(void)state;
	uint8_t *ram = bare_ram();
	run_bare(ram, 2, peterson_start, peterson_end, PETERSON_ITERS);
	assert_int_equal(ram_u64(ram, TG_DATA + 0x98), 2ULL * PETERSON_ITERS);
	munmap(ram, BARE_RAM);
}

static void test_misaligned_locked_access_runs_exclusively(void **state)
{
	(void)state;
	const unsigned ncpus = 2;
	struct vm *vm = tg_create_parallel(ncpus, VM_CPU_VENDOR_INTEL);
	tg_load(vm, misaligned_start, misaligned_end);
	for (unsigned i = 0; i < ncpus; i++) {
		assert_int_equal(vm_set_capability(vm, (int)i, VM_CAP_HALT_EXIT,
						   1), 0);
		assert_int_equal(vm_set_register(vm, (int)i, VM_REG_GUEST_R8,
						 MISALIGNED_ITERS), 0);
	}
	assert_int_equal(tg_run_all(vm, ncpus, VM_EXITCODE_HLT), 0);
	uint64_t want = (uint64_t)ncpus * MISALIGNED_ITERS;
	assert_int_equal(tg_data(vm, 0), want);
	uint32_t split = 0;
	assert_int_equal(vm_read_gpa(vm, TG_DATA + 0x101, &split, 4), 0);
	assert_int_equal(split, want);
	vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_every_atomic_kind_is_exact_on_parallel_engines),
		cmocka_unit_test(test_mfence_orders_a_peterson_lock),
		cmocka_unit_test(test_misaligned_locked_access_runs_exclusively),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
