/* Test helper: a VM with the boot protocol's long-mode state, a 64-bit
 * TSS, an IDT the test fills, and snippets from guest_snippets.S. */
#ifndef VMM_TEST_GUEST_H
#define VMM_TEST_GUEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hvgdb/vmm.h"

#define TG_MEM (16ULL << 20)
#define SNIP_BASE 0x100000ULL
#define SNIP_OTHER_BASE 0x180000ULL /* a second snippet, for one vCPU */
#define TG_STACK_TOP 0x200000ULL /* vCPU n: TG_STACK_TOP + n * 0x10000 */
#define TG_DATA 0x300000ULL
#define TG_IDT 0x9000ULL
#define TG_TSS 0xa000ULL

#define DECLARE_SNIP(n) extern const uint8_t n##_start[], n##_end[]
#define SNIP_ADDR(n, label) \
	(SNIP_BASE + (uint64_t)((const uint8_t *)(n##_##label) - n##_start))

struct vm *tg_create(unsigned ncpus, enum vm_cpu_vendor vendor);
/* The same with a translated-code buffer of that many MiB per vCPU. */
struct vm *tg_create_with_code_buffer(unsigned ncpus,
				      enum vm_cpu_vendor vendor,
				      unsigned code_buffer_mib);
/* The same with every vCPU executing at once (parallel execution). */
struct vm *tg_create_parallel(unsigned ncpus, enum vm_cpu_vendor vendor);
/* Copy a snippet to SNIP_BASE and point every vCPU at it. */
void tg_load(struct vm *vm, const uint8_t *start, const uint8_t *end);
/* Copy a second snippet to SNIP_OTHER_BASE and point vCPU `vcpu` at it:
 * 0 or the failing call's -errno. */
int tg_load_other(struct vm *vm, int vcpu, const uint8_t *start,
		  const uint8_t *end);
/* Interrupt gate (DPL 3, so software events from CPL 0 pass). */
void tg_set_gate(struct vm *vm, int vector, uint64_t handler);
/* Make the IDT unusable (limit 0) on every vCPU. */
void tg_no_idt(struct vm *vm);
uint64_t tg_reg(struct vm *vm, int vcpu, enum vm_reg_name r);
uint64_t tg_data(struct vm *vm, unsigned idx); /* u64 at TG_DATA + 8*idx */

/* A host thread running one vCPU until its first exit (one vm_run). */
struct tg_runner {
	struct vm *vm;
	int vcpu;
	pthread_t thread;
	int rc; /* vm_run's, after tg_runner_join */
	struct vm_exit exit;
};
void tg_runner_start(struct tg_runner *r, struct vm *vm, int vcpu);
void tg_runner_join(struct tg_runner *r);
/* vCPUs 0 to ncpus - 1 at once, each on a tg_runner, until each one's
 * first exit: how many did not leave vm_run with 0 and exit `want` (each
 * named on stderr). */
unsigned tg_run_all(struct vm *vm, unsigned ncpus, enum vm_exitcode want);

/* A host thread running one vCPU as the debug server's vCPU threads do:
 * vm_run, and after a SUSPENDED exit park until resumed. It ends at
 * shutdown, at quit, or when vm_run fails; any other exit counts as bad.
 * Zero-initialise it, then set vm, vcpu and after_resume. */
struct tg_looper {
	struct vm *vm;
	int vcpu;
	atomic_int suspended_exits;
	atomic_int resumes_seen;   /* left the park */
	atomic_bool quit;
	int bad;
	/* Optional, on the looper's thread after each park, before it runs
	 * the vCPU again. */
	void (*after_resume)(struct tg_looper *l);
};
void *tg_looper_main(void *arg); /* arg: struct tg_looper * */
void tg_set_data(struct vm *vm, unsigned idx, uint64_t val);

#endif
