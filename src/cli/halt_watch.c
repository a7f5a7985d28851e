/* Every vCPU halted with interrupts off (see halt_watch.h). */
#include "cli/halt_watch.h"

#include <string.h>

#include "sync/monotonic_clock.h"

#define DEAD_REASON "every vCPU halted with interrupts off: the guest " \
	"can never run again"
#define DEAD_REASON_SIPI "every vCPU halted with interrupts off or " \
	"waiting for a STARTUP IPI: the guest can never run again"

/*
 * Sum of the vCPUs' run counts if every one sleeps in hlt with interrupts
 * off, or still waits for its STARTUP IPI (an application processor only
 * another vCPU could start), none is held by a debugger and at least one
 * is halted; false otherwise. *waiting: some vCPU waits for SIPI.
 */
static bool all_halted_for_good(struct vm *vm, uint64_t *runs, bool *waiting)
{
	unsigned n = vm_vcpu_count(vm), halted = 0;

	*runs = 0;
	*waiting = false;
	for (unsigned i = 0; i < n; i++) {
		struct vm_vcpu_info info;

		if (vm_get_vcpu_info(vm, (int)i, &info) ||
		    vm_cpu_suspended(vm, (int)i))
			return false;
		if (info.waiting_for_sipi) {
			*waiting = true;
			continue;
		}
		if (!info.halted || !info.interrupts_off)
			return false;
		halted++;
		*runs += info.instructions_hint;
	}
	return halted > 0;
}

/* The thread's job: a sample every HALT_WATCH_PERIOD_MS. */
static uint64_t sample_vcpus(void *arg)
{
	struct halt_watch *w = arg;
	uint64_t runs;
	bool waiting;

	/* Nothing wakes the watch but its stop: only the first run, at the
	 * start, comes early. */
	if (monotonic_now_ns() < w->next_sample_ns)
		return w->next_sample_ns;
	bool dead = all_halted_for_good(w->vm, &runs, &waiting);
	if (dead && w->seen_dead && runs == w->seen_runs) {
		vm_declare_guest_dead(w->vm, 0, waiting ? DEAD_REASON_SIPI
						 : DEAD_REASON);
		/* once is enough: the VM ends */
		w->next_sample_ns = TIMER_THREAD_NO_DEADLINE;
		return TIMER_THREAD_NO_DEADLINE;
	}
	w->seen_dead = dead;
	w->seen_runs = runs;
	w->next_sample_ns =
		monotonic_deadline_in(HALT_WATCH_PERIOD_MS * 1000000ULL);
	return w->next_sample_ns;
}

int halt_watch_start(struct halt_watch *w, struct vm *vm)
{
	memset(w, 0, sizeof(*w));
	w->vm = vm;
	w->next_sample_ns =
		monotonic_deadline_in(HALT_WATCH_PERIOD_MS * 1000000ULL);
	return timer_thread_start(&w->thread, LOCK_RANK_HALT_WATCH,
				  sample_vcpus, w);
}

void halt_watch_stop(struct halt_watch *w)
{
	timer_thread_stop(&w->thread);
}
