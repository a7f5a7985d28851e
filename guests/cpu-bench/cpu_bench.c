/*
 * cpu-bench: a fixed compute workload per vCPU (integer hashing and a
 * data-dependent walk over a private 1 MiB buffer). Every vCPU does the same
 * amount; the BSP prints the combined checksum. work=N scales the amount
 * (rounds over the buffer; default sized for ~1-2 s of QEMU TCG per vCPU).
 */
#include <stdint.h>

#include "barrier.h"
#include "cmdline.h"
#include "cpu_vendor.h"
#include "runtime.h"
#include "uart.h"

#define BUFFER_BYTES (1ul << 20)
#define BUFFER_WORDS (BUFFER_BYTES / sizeof(uint64_t))
#define DEFAULT_WORK 800
#define STEPS_PER_ROUND (BUFFER_WORDS / 2)

/*
 * Each vCPU's result, in .data rather than .bss: the BSP clears .bss at
 * start-up with `rep stosb`, a write of every byte. Bench row 5d watches
 * the slots of vCPUs a 1-vCPU run does not have as data it never touches;
 * in .bss each of their bytes was written once by that clear, and a
 * debugger must report every write to a watched byte (gdb, seeing the
 * value unchanged, resumed by itself: 16 round trips per run).
 */
__attribute__((section(".data"))) volatile uint64_t bench_result[GUEST_MAX_CPUS];
static struct barrier bench_barrier = BARRIER_ALL_CPUS;

static inline uint64_t hash64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

GUEST_NOINLINE void bench_fill(uint64_t *buf, unsigned vcpu)
{
	for (uint64_t i = 0; i < BUFFER_WORDS; i++)
		buf[i] = hash64(i ^ ((uint64_t)vcpu << 32));
}

/* One round: a walk whose next index depends on the value just read. */
GUEST_NOINLINE uint64_t bench_round(uint64_t *buf, uint64_t seed)
{
	uint64_t idx = seed % BUFFER_WORDS, acc = seed;
	for (uint64_t s = 0; s < STEPS_PER_ROUND; s++) {
		uint64_t v = buf[idx];
		acc = hash64(acc + v);
		buf[idx] = v ^ acc;
		idx = (idx + (acc & 0xfff) + 1) % BUFFER_WORDS;
	}
	return acc;
}

int guest_main(unsigned vcpu, unsigned ncpus, const char *cmdline)
{
	uint64_t work = DEFAULT_WORK;
	cmdline_get_u64(cmdline, "work", &work);

	uintptr_t base = (guest_free_memory() + BUFFER_BYTES - 1) & ~(BUFFER_BYTES - 1);
	uint64_t needed = base + (uint64_t)ncpus * BUFFER_BYTES;
	if (vcpu == 0 && guest_ram_size() && needed > guest_ram_size()) {
		uart_printf("cpu-bench: needs %lu bytes of RAM, has %lu\n", needed,
			    guest_ram_size());
		return GUEST_EXIT_FAIL;
	}
	uint64_t *buf = (uint64_t *)(base + vcpu * BUFFER_BYTES);
	if (vcpu == 0) {
		char vendor[13];

		cpu_vendor(vendor);
		uart_printf("info: cpu-bench on %u vcpus, cpu %s\n", ncpus,
			    vendor);
	}

	barrier_wait(&bench_barrier);
	bench_fill(buf, vcpu);
	uint64_t acc = vcpu;
	for (uint64_t r = 0; r < work; r++)
		acc = bench_round(buf, acc + r);
	bench_result[vcpu] = acc;
	uart_printf("info: vcpu %u done\n", vcpu);
	barrier_wait(&bench_barrier);
	if (vcpu != 0)
		return 0;

	uint64_t checksum = 0;
	for (unsigned v = 0; v < ncpus; v++)
		checksum = hash64(checksum ^ bench_result[v]);
	uart_printf("cpu-bench: %u vcpus work %lu checksum 0x%016lx\n", ncpus, work,
		    checksum);
	uart_printf("cpu-bench: PASS\n");
	return GUEST_EXIT_PASS;
}
