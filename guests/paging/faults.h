/*
 * The guest's #PF handler and the probes that may fault on purpose.
 *
 * A probe is one memory access at a known instruction (probes.S, user.S).
 * When it faults, the handler records what the CPU reported (CR2, error
 * code, RIP, CS) and resumes at the probe's fixup label, as a kernel's
 * exception table does for copy_from_user. A fault anywhere else is a bug:
 * the guest reports it and exits with GUEST_EXIT_FAULT.
 */
#ifndef PAGING_FAULTS_H
#define PAGING_FAULTS_H

#include <stdint.h>

struct fault_record {
	uint64_t cr2, error, rip, cs, ss, rsp;
	uint64_t frame; /* where the CPU pushed the frame (the kernel stack) */
};

#define FAULT_LOG_RECORDS 4

struct fault_log {
	unsigned count; /* faults since fault_log_reset, even unrecorded */
	struct fault_record records[FAULT_LOG_RECORDS];
};

/* probe_call's result when the instruction fetch at the target faulted. */
#define PROBE_FETCH_FAULTED 0xfe7cfa17u

/* BSP, before the other vCPUs take faults. */
void faults_install(void);
void fault_log_reset(unsigned vcpu);
const struct fault_log *fault_log(unsigned vcpu);

/* probes.S. Each returns normally whether or not the access faulted. */
uint64_t probe_read(uint64_t va);
void probe_write(uint64_t va, uint64_t value);
/* Calls the code at va (which must return a value in rax, like a function
 * with no arguments) and returns that value, or PROBE_FETCH_FAULTED. */
uint64_t probe_call(uint64_t va);

/* probes.S: returns the address it is executing at (its RIP). */
uint64_t where_am_i(void);

#endif
