/*
 * PAUSE-loop exiting, as KVM and bhyve do it in hardware.
 *
 * Guests spin with PAUSE (cpu_relax) on a flag another vCPU must set, and
 * in Unicorn every PAUSE already leaves the generated code for the CPU
 * loop through helper_pause. tcg_pause_entry.S interposes that helper
 * (libunicorn takes its address through the GOT) and calls
 * tcg_count_pause() before jumping to the real one with the return
 * address untouched (the helper uses it to find the guest instruction).
 * After TCG_PAUSE_SPIN_LIMIT PAUSEs in one engine entry, when another
 * vCPU may need this one's turn (sched_others_due), the engine stops at
 * the next block and the run loop lets the others run (tcg_run.c):
 * - parallel execution: with more vCPUs than host CPUs the vCPU that
 *   would set the flag may not be running at all; the spinner gives its
 *   host CPU up (sched_yield). Also when a vCPU waits to run alone.
 * - serial execution: the other vCPU cannot run while this one holds the
 *   execution lock, so the spinner gives up the rest of its slice and
 *   waits up to SCHED_YIELD_WAIT_NS for a vCPU on its way back to the
 *   lock to ask (on a loaded host a vCPU thread that just released the
 *   lock may take milliseconds to be scheduled again). Measured then:
 *   cpu-bench on 4 vCPUs, whose finished vCPUs spin in a barrier while
 *   the last ones work, ended its vCPUs up to 280 ms apart without it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>

#include "vmm/tcg/tcg_internal.h"

/* ~60 ns each in Unicorn (a CPU loop exit): about 4 us of spinning, of
 * the order of KVM's default PAUSE-loop window. */
#define TCG_PAUSE_SPIN_LIMIT 64

/* Defined in tcg_pause_entry.S, which reads the pointer below. */
void helper_pause_x86_64(void *env, int next_eip_addend);
void (*tcg_real_helper_pause)(void *env, int next_eip_addend);
void tcg_count_pause(void);

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

static void resolve_real_pause(void)
{
	tcg_real_helper_pause = (void (*)(void *, int))dlsym(
		RTLD_NEXT, "helper_pause_x86_64");
}

int tcg_pause_exiting_init(void)
{
	pthread_once(&resolve_once, resolve_real_pause);
	/* The comparison also keeps the wrapper linked from the archive. */
	return tcg_real_helper_pause &&
			       tcg_real_helper_pause != helper_pause_x86_64
		       ? 0
		       : -1;
}

void tcg_count_pause(void)
{
	/* The wrapper jumps to the real helper next: resolved here too, for
	 * an engine that runs before any vCPU was set up. */
	pthread_once(&resolve_once, resolve_real_pause);
	struct tcg_vcpu *t = tcg_running_engine();
	if (!t || t->pause_yield || ++t->pauses < TCG_PAUSE_SPIN_LIMIT)
		return;
	t->pauses = 0;
	if (sched_others_due(t->vcpu->vm)) {
		t->pause_yield = true;
		atomic_store(&t->stop_flag, true);
	}
}
