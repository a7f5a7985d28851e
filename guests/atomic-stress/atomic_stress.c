/*
 * atomic-stress: every vCPU mixes every kind of x86 atomic update on shared
 * data, at once; the BSP checks exact totals. A lost update means two vCPUs
 * interleaved inside one atomic instruction, or a fence that did not order.
 * - lock xadd and a lock cmpxchg retry loop on shared counters;
 * - cmpxchg16b adding 1 to both halves of a 16-byte pair;
 * - an xchg spinlock (xchg with memory is atomic without a lock prefix)
 *   around a plain read-increment-write;
 * - Dekker's algorithm between the vCPUs of each pair (0-1, 2-3, ...): flag
 *   stores, then mfence, then the other's flag load (without the fence x86
 *   may reorder the load before the store and let both in), around a plain
 *   per-pair counter;
 * - every 16th round, a lock inc across a 4-byte boundary (a split lock: the
 *   hypervisor cannot use a host atomic for it).
 * budget=N rounds per vCPU (default 50000).
 */
#include <stdint.h>

#include "atomic_ops.h"
#include "barrier.h"
#include "check_total.h"
#include "cmdline.h"
#include "io.h"
#include "runtime.h"
#include "uart.h"

#define NAME "atomic-stress" /* starts each line of the verdict */
#define DEFAULT_ROUNDS 50000
#define CMPXCHG_STEP 5
#define SPLIT_EVERY 16

volatile uint64_t stress_xadd;
volatile uint64_t stress_cmpxchg;
volatile uint64_t stress_pair[2] __attribute__((aligned(16)));
volatile uint64_t stress_xchg_lock;
volatile uint64_t stress_under_xchg;
/* Dekker, per pair of vCPUs. */
volatile uint64_t stress_dekker_flag[GUEST_MAX_CPUS];
volatile uint64_t stress_dekker_turn[GUEST_MAX_CPUS / 2];
volatile uint64_t stress_dekker_count[GUEST_MAX_CPUS / 2];
/* A 4-byte counter straddling a 4-byte boundary. */
struct __attribute__((packed, aligned(8))) split {
	uint8_t pad[2];
	uint32_t value;
	uint8_t tail[2];
};
volatile struct split stress_split;
static struct barrier stress_barrier = BARRIER_ALL_CPUS;

static inline int cmpxchg16b(volatile uint64_t *p, uint64_t lo, uint64_t hi,
			     uint64_t new_lo, uint64_t new_hi)
{
	uint8_t ok;
	__asm__ volatile("lock cmpxchg16b %1\n\tsete %0"
			 : "=q"(ok), "+m"(*(volatile __int128 *)p), "+a"(lo),
			   "+d"(hi)
			 : "b"(new_lo), "c"(new_hi)
			 : "memory", "cc");
	return ok;
}

static inline uint64_t xchg(volatile uint64_t *p, uint64_t v)
{
	__asm__ volatile("xchgq %0, %1" : "+r"(v), "+m"(*p) : : "memory");
	return v;
}

static inline void mfence(void)
{
	__asm__ volatile("mfence" : : : "memory");
}

static inline void split_inc(void)
{
	__asm__ volatile("lock incl %0" : "+m"(stress_split.value) : : "memory", "cc");
}

static void xchg_locked_inc(void)
{
	while (xchg(&stress_xchg_lock, 1) != 0)
		while (stress_xchg_lock)
			cpu_relax();
	uint64_t v = stress_under_xchg;
	__asm__ volatile("" : : : "memory");
	stress_under_xchg = v + 1;
	__asm__ volatile("" : : : "memory");
	stress_xchg_lock = 0; /* a plain store releases (TSO) */
}

/* me and other: vCPU indexes; the pair's turn holds a role (me & 1). */
static void dekker_inc(unsigned me, unsigned other, unsigned pair)
{
	uint64_t my_role = me & 1, other_role = other & 1;
	stress_dekker_flag[me] = 1;
	mfence();
	while (stress_dekker_flag[other]) {
		if (stress_dekker_turn[pair] != my_role) {
			stress_dekker_flag[me] = 0;
			while (stress_dekker_turn[pair] != my_role)
				cpu_relax();
			stress_dekker_flag[me] = 1;
			mfence();
		}
		cpu_relax();
	}
	uint64_t v = stress_dekker_count[pair];
	__asm__ volatile("" : : : "memory");
	stress_dekker_count[pair] = v + 1;
	__asm__ volatile("" : : : "memory");
	stress_dekker_turn[pair] = other_role;
	stress_dekker_flag[me] = 0;
}

GUEST_NOINLINE void stress_round(unsigned vcpu, unsigned ncpus, uint64_t i)
{
	locked_xadd(&stress_xadd, (i & 7) + 1);
	cmpxchg_add(&stress_cmpxchg, CMPXCHG_STEP);
	for (;;) {
		uint64_t lo = stress_pair[0], hi = stress_pair[1];
		if (cmpxchg16b(stress_pair, lo, hi, lo + 1, hi + 1))
			break;
	}
	xchg_locked_inc();
	unsigned other = vcpu ^ 1;
	if (other < ncpus)
		dekker_inc(vcpu, other, vcpu / 2);
	if (i % SPLIT_EVERY == 0)
		split_inc();
}

int guest_main(unsigned vcpu, unsigned ncpus, const char *cmdline)
{
	uint64_t rounds = DEFAULT_ROUNDS;
	cmdline_get_u64(cmdline, "budget", &rounds);

	barrier_wait(&stress_barrier);
	for (uint64_t i = 0; i < rounds; i++)
		stress_round(vcpu, ncpus, i);
	barrier_wait(&stress_barrier);
	if (vcpu != 0)
		return 0;

	uint64_t xadd_per_cpu = 0;
	for (uint64_t i = 0; i < rounds; i++)
		xadd_per_cpu += (i & 7) + 1;
	uart_printf("atomic-stress: %u vcpus x %lu rounds\n", ncpus, rounds);
	int ok = check_total(NAME, "xadd", stress_xadd, xadd_per_cpu * ncpus);
	ok &= check_total(NAME, "cmpxchg", stress_cmpxchg,
			  rounds * ncpus * CMPXCHG_STEP);
	ok &= check_total(NAME, "cmpxchg16b low", stress_pair[0],
			  rounds * ncpus);
	ok &= check_total(NAME, "cmpxchg16b high", stress_pair[1],
			  rounds * ncpus);
	ok &= check_total(NAME, "xchg lock", stress_under_xchg, rounds * ncpus);
	for (unsigned p = 0; p + 1 < ncpus; p += 2)
		ok &= check_total(NAME, "dekker pair",
				  stress_dekker_count[p / 2], 2 * rounds);
	ok &= check_total(NAME, "split lock", stress_split.value,
			  ncpus * ((rounds + SPLIT_EVERY - 1) / SPLIT_EVERY));
	uart_printf("atomic-stress: %s\n", ok ? "PASS" : "FAIL");
	return ok ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL;
}
