/* Every vCPU halted with interrupts off (see halt_watch.h). */
#include "cli/halt_watch.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void *watch_main(void *arg)
{
	struct halt_watch *w = arg;
	bool seen = false;
	uint64_t seen_runs = 0;

	checked_mutex_lock(&w->mtx);
	while (!w->stop) {
		struct timespec due =
			monotonic_timespec_in(HALT_WATCH_PERIOD_MS * 1000000ULL);
		uint64_t runs;
		bool waiting;

		while (!w->stop &&
		       checked_cond_timedwait(&w->cond, &w->mtx, &due) == 0)
			;
		if (w->stop)
			break;
		checked_mutex_unlock(&w->mtx);
		bool dead = all_halted_for_good(w->vm, &runs, &waiting);
		if (dead && seen && runs == seen_runs) {
			vm_declare_guest_dead(w->vm, 0, waiting ? DEAD_REASON_SIPI
							 : DEAD_REASON);
			return NULL; /* once is enough: the VM ends */
		}
		seen = dead;
		seen_runs = runs;
		checked_mutex_lock(&w->mtx);
	}
	checked_mutex_unlock(&w->mtx);
	return NULL;
}

int halt_watch_start(struct halt_watch *w, struct vm *vm)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->vm = vm;
	checked_mutex_init(&w->mtx, LOCK_RANK_HALT_WATCH);
	rc = monotonic_cond_init(&w->cond);
	if (rc) {
		checked_mutex_destroy(&w->mtx);
		return -rc;
	}
	rc = pthread_create(&w->thread, NULL, watch_main, w);
	if (rc) {
		pthread_cond_destroy(&w->cond);
		checked_mutex_destroy(&w->mtx);
		return -rc;
	}
	w->running = true;
	return 0;
}

void halt_watch_stop(struct halt_watch *w)
{
	if (!w->running)
		return;
	checked_mutex_lock(&w->mtx);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	checked_mutex_unlock(&w->mtx);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	checked_mutex_destroy(&w->mtx);
	w->running = false;
}
