/*
 * Guest atomics stay atomic with engines executing at the same time
 * (src/vmm/tcg/tcg_atomics.c).
 *
 * The first tests run two bare Unicorn engines, one per host thread, over one
 * shared RAM, released together: with Unicorn's own translation (no
 * CF_PARALLEL, plain xchg helpers) their counters come out short. The same
 * guests then run as two vCPUs of hvgdb's parallel VM, whose engines
 * translate through tcg_run.c (the start-up self-test's bare engine never
 * does). The rest check what breaks quietly, each guarding one mechanism
 * (docs/design-notes.md, "Atomics across engines"); each was broken on
 * purpose and its test failed, the self-test still passing:
 * - CF_PARALLEL left off the VM's engines' translations: lock inc/xadd/
 *   cmpxchg lose updates (test_every_atomic_kind_is_exact_on_parallel_vcpus);
 * - hvgdb's xchg helper as a load and a store: tokens exchanged with xchg
 *   are duplicated and lost (test_xchg_passes_tokens_without_loss);
 * - the exclusive section around a locked access QEMU cannot make atomic:
 *   without it the other vCPU executes meanwhile
 *   (test_locked_mmio_access_runs_alone, which watches the other vCPU from
 *   inside the access instead of waiting for a lost update by chance);
 *   without the exclusive step at all, a misaligned one re-runs forever
 *   (test_misaligned_locked_access_runs_exclusively times out);
 * - guest RAM's region for notdirty_write's lookup by virtual address:
 *   without it the first locked write through a new TLB entry whose
 *   virtual address is no physical one kills the process with SIGSEGV
 *   (test_locked_writes_through_high_aliases).
 * Lost updates need both threads on a host CPU at once: the loops are long
 * and the vCPUs start together.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <cmocka.h>
#include <unicorn/unicorn.h>

#include "vmm/tcg/tcg_atomics.h"
#include "vmm/tcg/tcg_cpu_internals.h"
#include "vmm/vm_internal.h"
#include "paging_tables.h"
#include "vmm_test_guest.h"

DECLARE_SNIP(atomix);
DECLARE_SNIP(peterson);
DECLARE_SNIP(misaligned);
DECLARE_SNIP(xchg_tokens);
DECLARE_SNIP(mmio_lock);
DECLARE_SNIP(alias_inc);

#define BARE_RAM (4ULL << 20)
#define ATOMIX_ITERS 200000
#define PETERSON_ITERS 100000
#define VCPU_PETERSON_ITERS 20000
#define MISALIGNED_ITERS 2000
#define XCHG_TOKEN_SWAPS 1000000
#define MMIO_LOCK_STEPS 20
#define MMIO_GPA 0xc0000000ULL
/* How long the MMIO handler watches the other vCPU's counter per access. */
#define MMIO_WATCH_NS 20000000L
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

/* Two vCPUs of a parallel VM set up for the snippet: R8 iterations, RSI
 * each one's index, RDI the other's; they stop at hlt. */
static struct vm *two_vcpus(const uint8_t *start, const uint8_t *end,
			    uint64_t iters)
{
	struct vm *vm = tg_create_parallel(2, VM_CPU_VENDOR_INTEL);
	assert_true(vm->sched.parallel);
	tg_load(vm, start, end);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(vm_set_capability(vm, (int)i, VM_CAP_HALT_EXIT,
						   1), 0);
		assert_int_equal(vm_set_register(vm, (int)i, VM_REG_GUEST_R8,
						 iters), 0);
		assert_int_equal(vm_set_register(vm, (int)i, VM_REG_GUEST_RSI,
						 i), 0);
		assert_int_equal(vm_set_register(vm, (int)i, VM_REG_GUEST_RDI,
						 1 - i), 0);
	}
	return vm;
}

/* Both vCPUs on their own threads until hlt. */
static void run_both(struct vm *vm)
{
	assert_int_equal(tg_run_all(vm, 2, VM_EXITCODE_HLT), 0);
}

static struct vm *run_two_vcpus(const uint8_t *start, const uint8_t *end,
				uint64_t iters)
{
	struct vm *vm = two_vcpus(start, end, iters);
	run_both(vm);
	return vm;
}

/* The VM's engines translate with CF_PARALLEL and hvgdb's xchg: what the
 * bare engines above check, through tcg_run.c. */
static void test_every_atomic_kind_is_exact_on_parallel_vcpus(void **state)
{
	(void)state;
	struct vm *vm = run_two_vcpus(atomix_start, atomix_end, ATOMIX_ITERS);
	uint64_t want = 2ULL * ATOMIX_ITERS;
	assert_int_equal(tg_data(vm, 0), want); /* lock inc */
	assert_int_equal(tg_data(vm, 1), want); /* lock xadd */
	assert_int_equal(tg_data(vm, 2), want); /* cmpxchg */
	assert_int_equal(tg_data(vm, 3), 0);    /* xchg lock free */
	assert_int_equal(tg_data(vm, 4), want); /* under the xchg lock */
	assert_int_equal(tg_data(vm, 6), want); /* cx16 lo */
	assert_int_equal(tg_data(vm, 7), want); /* cx16 hi */
	vm_destroy(vm);
}

static void test_mfence_orders_a_peterson_lock_on_parallel_vcpus(void **state)
{
	(void)state;
	struct vm *vm = run_two_vcpus(peterson_start, peterson_end,
				      VCPU_PETERSON_ITERS);
	assert_int_equal(tg_data(vm, 0x98 / 8), 2ULL * VCPU_PETERSON_ITERS);
	vm_destroy(vm);
}

/* xchg with memory stays one atomic exchange across vCPUs (hvgdb's
 * helper, not Unicorn's load-then-store one). */
static void test_xchg_passes_tokens_without_loss(void **state)
{
	(void)state;
	struct vm *vm = two_vcpus(xchg_tokens_start, xchg_tokens_end,
				  XCHG_TOKEN_SWAPS);
	tg_set_data(vm, 0x300 / 8, 4);
	run_both(vm);
	uint64_t slot = tg_data(vm, 0x300 / 8), r0 = tg_data(vm, 0x320 / 8),
		 r1 = tg_data(vm, 0x328 / 8);
	print_message("tokens: slot %llu, vCPU 0 %llu, vCPU 1 %llu\n",
		      (unsigned long long)slot, (unsigned long long)r0,
		      (unsigned long long)r1);
	assert_int_equal(slot | r0 | r1, 7);
	assert_int_equal(slot + r0 + r1, 7);
	vm_destroy(vm);
}

/* The MMIO handler of test_locked_mmio_access_runs_alone: a 32-bit
 * register; each read watches the other vCPU's counter for a while. */
struct watched_mmio {
	struct vm *vm;
	uint32_t value;
	unsigned reads;
	unsigned other_moved; /* reads during which the other vCPU ran */
};

static int watched_mmio_access(void *opaque, int vcpu, bool write,
			       uint64_t gpa, unsigned bytes, uint64_t *val)
{
	struct watched_mmio *m = opaque;
	(void)vcpu;
	(void)gpa;
	(void)bytes;
	if (write) {
		m->value = (uint32_t)*val;
		return 0;
	}
	m->reads++;
	uint64_t before = tg_data(m->vm, 0x208 / 8);
	struct timespec ts = { 0, MMIO_WATCH_NS };
	nanosleep(&ts, NULL);
	if (tg_data(m->vm, 0x208 / 8) != before)
		m->other_moved++;
	*val = m->value;
	return 0;
}

/* A locked access QEMU cannot make with a host atomic (MMIO) runs with the
 * other vCPU out of guest code, from its read to its write. Checked
 * directly, not by chance: while the handler sleeps, a vCPU still in its
 * engine would count on. */
static void test_locked_mmio_access_runs_alone(void **state)
{
	(void)state;
	struct vm *vm = two_vcpus(mmio_lock_start, mmio_lock_end,
				  MMIO_LOCK_STEPS);
	struct watched_mmio m = { .vm = vm };
	assert_int_equal(vm_register_mmio(vm, MMIO_GPA, 4096,
					  watched_mmio_access, &m), 0);
	run_both(vm);
	assert_int_equal(m.value, MMIO_LOCK_STEPS);
	assert_int_equal(m.reads, MMIO_LOCK_STEPS);
	assert_true(tg_data(vm, 0x208 / 8) > 0);
	assert_int_equal(m.other_moved, 0);
	vm_destroy(vm);
}

/* Locked writes through virtual addresses far from any physical one: a
 * user-space address above the end of RAM (below 2^40) and a kernel one
 * (Linux's user heaps and kernel data). Each first write through a new
 * TLB entry goes through QEMU's notdirty_write, which looks the region up
 * by the virtual address (tcg_atomics.c). */
static void test_locked_writes_through_high_aliases(void **state)
{
	(void)state;
	const uint64_t user_va = 0x7f0000000000ULL, kernel_va =
		0xffffffff80000000ULL;
	const uint64_t iters = 20000;
	struct vm *vm = two_vcpus(alias_inc_start, alias_inc_end, iters);
	struct pt_space pt;
	pt_init(&pt, vm);
	pt_map(&pt, user_va, TG_DATA, PT_4K, PTE_P | PTE_W);
	pt_map(&pt, kernel_va, TG_DATA, PT_4K, PTE_P | PTE_W);
	for (int i = 0; i < 2; i++) {
		pt_activate(&pt, i);
		assert_int_equal(vm_set_register(vm, i, VM_REG_GUEST_R9,
						 user_va), 0);
		assert_int_equal(vm_set_register(vm, i, VM_REG_GUEST_R10,
						 kernel_va + 8), 0);
	}
	unsigned long lookups = tcg_atomics_notdirty_lookups();
	run_both(vm);
	assert_int_equal(tg_data(vm, 0), 2 * iters);
	assert_int_equal(tg_data(vm, 1), 2 * iters);
	assert_true(tcg_atomics_notdirty_lookups() - lookups >= 2);
	vm_destroy(vm);
}

static void test_misaligned_locked_access_runs_exclusively(void **state)
{
	(void)state;
	const unsigned ncpus = 2;
	struct vm *vm = run_two_vcpus(misaligned_start, misaligned_end,
				      MISALIGNED_ITERS);
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
		cmocka_unit_test(
			test_every_atomic_kind_is_exact_on_parallel_vcpus),
		cmocka_unit_test(
			test_mfence_orders_a_peterson_lock_on_parallel_vcpus),
		cmocka_unit_test(test_misaligned_locked_access_runs_exclusively),
		cmocka_unit_test(test_xchg_passes_tokens_without_loss),
		cmocka_unit_test(test_locked_mmio_access_runs_alone),
		cmocka_unit_test(test_locked_writes_through_high_aliases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
