/*
 * Per-vCPU queues of guest-memory writes that the vCPU's translation cache
 * has not seen yet: host writes (the debugger's breakpoints, `load`,
 * `restore`) for every vCPU, and guest stores by one vCPU into code another
 * one translated. The backend drains the queue before each engine entry
 * (vcpu_take_invalidations) and drops the blocks translated from those
 * ranges.
 *
 * A debugger rewrites the same bytes back and forth while the vCPUs are
 * parked: gdb removes every breakpoint when the guest stops and inserts
 * them all again when it resumes. A vCPU that did not run in between still
 * holds code for exactly the bytes that are back in memory, and dropping
 * it would only make the engine translate the same code again: with one
 * breakpoint on four vCPUs that was four retranslations per hit, none of
 * the space ever reused (bench row 10). So a small host write queued while
 * the vCPU is out of its engine keeps the bytes it overwrote ("checked"
 * entry); when the vCPU next enters, an entry whose bytes read the same
 * again is dropped without an invalidation.
 *
 * Why that is exact: a checked entry is made only when its range overlaps
 * no entry already queued, and only while the vCPU is out of its engine.
 * Then the engine's blocks for those bytes were translated from what
 * memory held just before the write (every earlier change is either in
 * the queue, and overlapping ranges are never checked, or was applied
 * before the engine last left). Later writes inside the same range keep
 * the first snapshot; a write that reaches outside it, a guest store, or
 * a write while the vCPU runs makes the entry unchecked.
 */
#include <string.h>

#include "vmm/vm_internal.h"

static bool overlaps_or_touches(const struct code_write *w, uint64_t start,
				uint64_t end)
{
	return start <= w->end && w->start <= end;
}

/* `before` is the range's content as the engine last saw it, or NULL when
 * that is not known. */
static void queue_locked(struct vcpu *v, uint64_t start, uint64_t end,
			 const uint8_t *before)
{
	lock_assert_held(&v->mtx);
	if (v->inval_all)
		return;
	bool can_check = before && end - start <= VCPU_INVAL_CHECK_MAX;
	for (unsigned i = 0; i < v->ninval; i++) {
		struct code_write *w = &v->inval[i];
		if (!overlaps_or_touches(w, start, end))
			continue;
		bool inside = w->start <= start && end <= w->end;
		if (!(inside && can_check))
			w->checked = false;
		if (start < w->start)
			w->start = start;
		if (end > w->end)
			w->end = end;
		return;
	}
	if (v->ninval == VCPU_MAX_INVAL) {
		v->inval_all = true;
		v->ninval = 0;
		return;
	}
	struct code_write *w = &v->inval[v->ninval++];
	w->start = start;
	w->end = end;
	w->checked = can_check;
	if (can_check)
		memcpy(w->before, before, end - start);
}

/*
 * The old bytes describe a vCPU's translations only if its engine did not
 * run at any moment between the read of the old bytes and the queueing:
 * out of its engine before the read, and no entry since.
 */
struct engine_marks {
	bool out[VM_MAX_VCPUS];
	uint64_t entries[VM_MAX_VCPUS];
};

static void mark_engines(struct vm *vm, struct engine_marks *m)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		checked_mutex_lock(&v->mtx);
		m->out[i] = !v->in_engine;
		m->entries[i] = v->engine_entries;
		checked_mutex_unlock(&v->mtx);
	}
}

void vm_host_write(struct vm *vm, uint64_t gpa, const void *buf, size_t len)
{
	uint8_t before[VCPU_INVAL_CHECK_MAX];
	struct engine_marks marks;
	bool small = len <= sizeof(before);
	if (small) {
		mark_engines(vm, &marks);
		memcpy(before, vm->ram + gpa, len);
	}
	memcpy(vm->ram + gpa, buf, len);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		checked_mutex_lock(&v->mtx);
		bool idle = small && marks.out[i] && !v->in_engine &&
			    v->engine_entries == marks.entries[i];
		queue_locked(v, gpa, gpa + len, idle ? before : NULL);
		checked_mutex_unlock(&v->mtx);
	}
}

void vcpu_queue_code_write(struct vcpu *writer, uint64_t start, uint64_t end)
{
	struct vm *vm = writer->vm;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (v == writer)
			continue;
		checked_mutex_lock(&v->mtx);
		queue_locked(v, start, end, NULL);
		bool running = v->in_engine;
		checked_mutex_unlock(&v->mtx);
		/* Executing at this moment (parallel mode): it leaves at its
		 * next block boundary and drops the code before it runs on,
		 * as a CPU that serializes after another modified its code. */
		if (running)
			vcpu_stop_soon(v);
	}
}

/* A checked entry whose bytes are back to what the engine translated. */
static bool unchanged(const struct vm *vm, const struct code_write *w)
{
	return w->checked &&
	       memcmp(vm->ram + w->start, w->before, w->end - w->start) == 0;
}

int vcpu_take_invalidations(struct vcpu *v, uint64_t (*ranges)[2])
{
	checked_mutex_lock(&v->mtx);
	int n = 0;
	if (v->inval_all) {
		n = -1;
	} else {
		for (unsigned i = 0; i < v->ninval; i++) {
			const struct code_write *w = &v->inval[i];
			if (unchanged(v->vm, w)) {
				v->inval_skipped++;
				continue;
			}
			ranges[n][0] = w->start;
			ranges[n][1] = w->end;
			n++;
		}
	}
	v->inval_all = false;
	v->ninval = 0;
	v->in_engine = true;
	v->engine_entries++;
	checked_mutex_unlock(&v->mtx);
	return n;
}

void vcpu_left_engine(struct vcpu *v)
{
	checked_mutex_lock(&v->mtx);
	v->in_engine = false;
	checked_mutex_unlock(&v->mtx);
}

uint64_t vcpu_invalidations_skipped(struct vcpu *v)
{
	checked_mutex_lock(&v->mtx);
	uint64_t n = v->inval_skipped;
	checked_mutex_unlock(&v->mtx);
	return n;
}
