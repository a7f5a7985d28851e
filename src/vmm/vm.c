/*
 * The backend-independent VM object: configuration, guest RAM, vCPU state
 * flags, capabilities, device registration and the public API checks. The
 * backend (tcg today) does registers and execution.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "devices/lapic.h"
#include "sync/monotonic_clock.h"
#include "vmm/sched_trace.h"
#include "vmm/stress_kick.h"
#include "vmm/tcg/tcg.h"
#include "vmm/vm_internal.h"
#include "vmm/x86_pagewalk.h"

uint64_t vm_now_ns(const struct vm *vm)
{
	uint64_t frozen = atomic_load(&vm->frozen_at_ns);
	if (frozen != UINT64_MAX)
		return frozen;
	return monotonic_now_ns() - atomic_load(&vm->clock_offset_ns);
}

uint64_t vm_host_ns_of(const struct vm *vm, uint64_t guest_ns)
{
	return guest_ns + atomic_load(&vm->clock_offset_ns);
}

/* The guest clock stops while every vCPU is suspended (the debugger holds
 * the VM) and goes on from where it stopped. */
static void update_guest_clock(struct vm *vm)
{
	unsigned suspended = 0;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		checked_mutex_lock(&v->mtx);
		suspended += v->suspended;
		checked_mutex_unlock(&v->mtx);
	}
	bool hold = suspended == vm->ncpus;
	checked_mutex_lock(&vm->clock_mtx);
	bool frozen = atomic_load(&vm->frozen_at_ns) != UINT64_MAX;
	if (hold && !frozen) {
		vm->frozen_host_ns = monotonic_now_ns();
		atomic_store(&vm->frozen_at_ns,
			     vm->frozen_host_ns -
				     atomic_load(&vm->clock_offset_ns));
	} else if (!hold && frozen) {
		uint64_t held = monotonic_now_ns() - vm->frozen_host_ns;
		atomic_fetch_add(&vm->clock_offset_ns, held);
		atomic_store(&vm->frozen_at_ns, UINT64_MAX);
	}
	checked_mutex_unlock(&vm->clock_mtx);
}

static struct vcpu *get_vcpu(struct vm *vm, int id)
{
	if (!vm || id < 0 || (unsigned)id >= vm->ncpus)
		return NULL;
	return vm->vcpus[id];
}

void vcpu_notify(struct vcpu *v)
{
	atomic_store(&v->stop_req, true);
	checked_mutex_lock(&v->mtx);
	pthread_cond_broadcast(&v->cond);
	checked_mutex_unlock(&v->mtx);
	sched_kick(v->vm, v);
}

void vcpu_stop_soon(struct vcpu *v)
{
	/* stop_req also reaches an entry about to start (sched_enter_engine
	 * checks it after the engine's stop flag was reset). */
	atomic_store(&v->stop_req, true);
	v->vm->ops->kick(v);
}

/* ---- LAPIC glue ---------------------------------------------------------- */

static bool ipi_reaches(const struct lapic_ipi *ipi, struct vcpu *v)
{
	switch (ipi->to) {
	case LAPIC_TO_SELF:
		return v->id == ipi->from;
	case LAPIC_TO_ALL:
		return true;
	case LAPIC_TO_OTHERS:
		return v->id != ipi->from;
	case LAPIC_TO_DEST:
		break;
	}
	if (ipi->x2apic_format)
		return lapic_matches_x2apic_destination(v->lapic, ipi->dest,
							ipi->logical);
	return lapic_matches_destination(v->lapic, (uint8_t)ipi->dest,
					 ipi->logical);
}

static void lapic_send_ipi(void *ctx, const struct lapic_ipi *ipi)
{
	struct vm *vm = ctx;
	SCHED_TRACE(vm_now_ns(vm), ipi->from, TRACE_IPI,
		    ipi->to == LAPIC_TO_DEST ? (int)ipi->dest : -(int)ipi->to,
		    ((uint64_t)ipi->mode << 8) | (unsigned)ipi->vector);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (!ipi_reaches(ipi, v))
			continue;
		switch (ipi->mode) {
		case LAPIC_DM_INIT:
			vcpu_take_init(v);
			break;
		case LAPIC_DM_STARTUP:
			vcpu_take_sipi(v, ipi->vector);
			break;
		case LAPIC_DM_NMI:
			lapic_set_nmi(v->lapic);
			vcpu_notify(v);
			break;
		case LAPIC_DM_FIXED:
			lapic_set_irr(v->lapic, ipi->vector);
			vcpu_notify(v);
			break;
		}
		/* Lowest priority: the first match stands in for the
		 * arbitration, as for the IO-APIC's messages. */
		if (ipi->lowest_priority)
			break;
	}
}

static void lapic_timer_changed(void *ctx, int apic_id)
{
	struct vm *vm = ctx;
	if (apic_id >= 0 && (unsigned)apic_id < vm->ncpus) {
		struct vcpu *v = vm->vcpus[apic_id];
		/* A halted vCPU recomputes its sleep; the preemption thread
		 * recomputes the running vCPU's deadline. */
		checked_mutex_lock(&v->mtx);
		pthread_cond_broadcast(&v->cond);
		checked_mutex_unlock(&v->mtx);
	}
	sched_deadline_changed(vm);
}

static void lapic_eoi_broadcast(void *ctx, int apic_id, int vector)
{
	struct vm *vm = ctx;

	(void)apic_id;
	if (vm->eoi_fn)
		vm->eoi_fn(vm->eoi_ctx, vector);
}

void vm_set_eoi_listener(struct vm *vm, void (*fn)(void *ctx, int vector),
			 void *ctx)
{
	if (!vm)
		return;
	vm->eoi_fn = fn;
	vm->eoi_ctx = ctx;
}

uint64_t vm_guest_ns(struct vm *vm)
{
	return vm ? vm_now_ns(vm) : 0;
}

int vm_apic_message(struct vm *vm, uint8_t dest, bool logical,
		    enum vm_apic_delivery mode, int vector, bool level)
{
	int accepted = 0;

	if (!vm || (mode != VM_APIC_NMI && (vector < 16 || vector > 255)))
		return -EINVAL;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (!lapic_matches_destination(v->lapic, dest, logical))
			continue;
		if (mode == VM_APIC_NMI)
			lapic_set_nmi(v->lapic);
		else
			lapic_set_irr_trigger(v->lapic, vector, level);
		vcpu_notify(v);
		accepted++;
		/* Lowest priority: the first match stands in for the
		 * arbitration (all vCPUs run at the same priority class). */
		if (mode == VM_APIC_LOWEST)
			break;
	}
	return accepted;
}

/* ---- Creation ------------------------------------------------------------ */

static void vcpu_free(struct vcpu *v)
{
	if (!v)
		return;
	if (v->backend && v->vm->ops->vcpu_fini)
		v->vm->ops->vcpu_fini(v);
	if (v->lapic)
		lapic_destroy(v->lapic);
	pthread_cond_destroy(&v->cond);
	checked_mutex_destroy(&v->mtx);
	free(v);
}

static struct vcpu *vcpu_alloc(struct vm *vm, int id,
			       const struct lapic_ops *lops)
{
	struct vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->vm = vm;
	v->id = id;
	checked_mutex_init(&v->mtx, LOCK_RANK_VCPU);
	if (monotonic_cond_init(&v->cond) != 0) {
		checked_mutex_destroy(&v->mtx);
		free(v);
		return NULL;
	}
	atomic_init(&v->stop_req, false);
	lock_token_init(&v->exec_token, LOCK_RANK_EXEC);
	v->sipi_vector = -1;
	v->lapic = lapic_create((unsigned)id, lops);
	if (!v->lapic) {
		vcpu_free(v);
		return NULL;
	}
	return v;
}

/* The config, else HVGDB_EXEC, else parallel for SMP guests so they use
 * every host core, and serial for one vCPU: with nothing to run beside it,
 * the parallel gate would only cost. */
static int resolve_exec_mode(const struct vm_config *cfg, bool *parallel,
			     char *err, size_t errlen)
{
	const char *env = getenv("HVGDB_EXEC");
	switch (cfg->exec_mode) {
	case VM_EXEC_SERIAL:
		*parallel = false;
		return 0;
	case VM_EXEC_PARALLEL:
		*parallel = true;
		return 0;
	case VM_EXEC_DEFAULT:
		break;
	default:
		snprintf(err, errlen, "unknown execution mode");
		return -EINVAL;
	}
	if (!env || !*env) {
		*parallel = cfg->ncpus > 1;
	} else if (strcmp(env, "serial") == 0) {
		*parallel = false;
	} else if (strcmp(env, "parallel") == 0) {
		*parallel = true;
	} else {
		snprintf(err, errlen,
			 "HVGDB_EXEC must be serial or parallel, not '%.40s'",
			 env);
		return -EINVAL;
	}
	return 0;
}

int vm_create(const struct vm_config *cfg, struct vm **vmp, char *err,
	      size_t errlen)
{
	char dummy[8];
	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (!vmp)
		return -EINVAL;
	*vmp = NULL;
	if (!cfg) {
		snprintf(err, errlen, "no configuration");
		return -EINVAL;
	}
	if (cfg->ncpus < 1 || cfg->ncpus > VM_MAX_VCPUS) {
		snprintf(err, errlen, "vCPU count must be 1..%d", VM_MAX_VCPUS);
		return -EINVAL;
	}
	if (cfg->mem_size < VM_MIN_MEMORY || cfg->mem_size > VM_MAX_MEMORY ||
	    (cfg->mem_size & 0xfff)) {
		snprintf(err, errlen,
			 "memory size must be a multiple of 4 KiB in 2 MiB..3 GiB");
		return -EINVAL;
	}
	if (cfg->vendor != VM_CPU_VENDOR_INTEL &&
	    cfg->vendor != VM_CPU_VENDOR_AMD) {
		snprintf(err, errlen, "unknown CPU vendor");
		return -EINVAL;
	}
	if (cfg->backend != VM_BACKEND_TCG) {
		snprintf(err, errlen, "unknown backend");
		return -EINVAL;
	}
	if (cfg->code_buffer_mib != 0 &&
	    (cfg->code_buffer_mib < VM_MIN_CODE_BUFFER_MIB ||
	     cfg->code_buffer_mib > VM_MAX_CODE_BUFFER_MIB)) {
		snprintf(err, errlen, "code buffer must be %d..%d MiB",
			 VM_MIN_CODE_BUFFER_MIB, VM_MAX_CODE_BUFFER_MIB);
		return -EINVAL;
	}

	bool parallel;
	if (resolve_exec_mode(cfg, &parallel, err, errlen) < 0)
		return -EINVAL;
	uint64_t stress_kick_ns;
	if (stress_kick_from_env(&stress_kick_ns, err, errlen) < 0)
		return -EINVAL;

	sched_trace_init();
	struct vm *vm = calloc(1, sizeof(*vm));
	if (!vm) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	vm->ncpus = cfg->ncpus;
	vm->mem_size = cfg->mem_size;
	vm->vendor = cfg->vendor;
	vm->code_buffer_mib = cfg->code_buffer_mib ? cfg->code_buffer_mib
						   : VM_DEFAULT_CODE_BUFFER_MIB;
	vm->ops = &tcg_backend_ops;
	vm->clock_base_ns = monotonic_now_ns();
	atomic_init(&vm->clock_offset_ns, vm->clock_base_ns);
	atomic_init(&vm->frozen_at_ns, UINT64_MAX);
	checked_mutex_init(&vm->clock_mtx, LOCK_RANK_GUEST_CLOCK);
	checked_mutex_init(&vm->state_mtx, LOCK_RANK_VM_STATE);
	atomic_init(&vm->shutdown, false);
	vm_watch_table_init(&vm->watches);

	/* MAP_NORESERVE + lazy faulting keeps start-up fast for big RAM. */
	vm->ram = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		snprintf(err, errlen, "cannot reserve %llu bytes of guest RAM",
			 (unsigned long long)vm->mem_size);
		vm_destroy(vm);
		return -ENOMEM;
	}
	madvise(vm->ram, vm->mem_size, MADV_HUGEPAGE);

	vm->code_engines = mmap(NULL, vm->mem_size >> VM_PAGE_SHIFT,
				PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
				0);
	if (vm->code_engines == MAP_FAILED) {
		vm->code_engines = NULL;
		snprintf(err, errlen, "out of memory");
		vm_destroy(vm);
		return -ENOMEM;
	}

	vm->sched.stress_kick_ns = stress_kick_ns;
	int rc = sched_init(vm, parallel);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start the preemption thread");
		vm_destroy(vm);
		return rc;
	}

	struct lapic_ops lops = {
		.send_ipi = lapic_send_ipi,
		.timer_changed = lapic_timer_changed,
		.ctx = vm,
		.eoi_broadcast = lapic_eoi_broadcast,
	};
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = vcpu_alloc(vm, (int)i, &lops);
		if (!v) {
			snprintf(err, errlen, "out of memory (vCPU %u)", i);
			vm_destroy(vm);
			return -ENOMEM;
		}
		/* The preemption thread already runs and reads the array
		 * under the scheduler's mutex. */
		checked_mutex_lock(&vm->sched.mtx);
		vm->vcpus[i] = v;
		checked_mutex_unlock(&vm->sched.mtx);
		rc = vm->ops->vcpu_init(v, err, errlen);
		if (rc < 0) {
			vm_destroy(vm);
			return rc;
		}
	}
	*vmp = vm;
	return 0;
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	sched_fini(vm);
	sched_trace_flush();
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_free(vm->vcpus[i]);
	if (vm->ram)
		munmap(vm->ram, vm->mem_size);
	if (vm->code_engines)
		munmap((void *)vm->code_engines, vm->mem_size >> VM_PAGE_SHIFT);
	checked_mutex_destroy(&vm->state_mtx);
	checked_mutex_destroy(&vm->clock_mtx);
	vm_watch_table_destroy(&vm->watches);
	free(vm);
}

unsigned vm_vcpu_count(const struct vm *vm)
{
	return vm ? vm->ncpus : 0;
}

uint64_t vm_mem_size(const struct vm *vm)
{
	return vm ? vm->mem_size : 0;
}

enum vm_cpu_vendor vm_cpu_vendor(const struct vm *vm)
{
	return vm ? vm->vendor : VM_CPU_VENDOR_INTEL;
}

/* ---- Registers ----------------------------------------------------------- */

int vm_get_register(struct vm *vm, int vcpu, enum vm_reg_name reg,
		    uint64_t *val)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || !val || (unsigned)reg >= VM_REG_LAST)
		return -EINVAL;
	if (reg == VM_REG_GUEST_ENTRY_INST_LENGTH) {
		if (vm->vendor == VM_CPU_VENDOR_AMD)
			return -ENOENT;
		*val = v->entry_inst_length;
		return 0;
	}
	return vm->ops->get_reg(v, reg, val);
}

int vm_set_register(struct vm *vm, int vcpu, enum vm_reg_name reg,
		    uint64_t val)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || (unsigned)reg >= VM_REG_LAST)
		return -EINVAL;
	if (reg == VM_REG_GUEST_ENTRY_INST_LENGTH) {
		/* amd has no such field: the write "succeeds" and is lost. */
		if (vm->vendor == VM_CPU_VENDOR_INTEL)
			v->entry_inst_length = val;
		return 0;
	}
	return vm->ops->set_reg(v, reg, val);
}

int vm_get_desc(struct vm *vm, int vcpu, enum vm_reg_name reg,
		struct seg_desc *desc)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || !desc || reg < VM_REG_GUEST_ES || reg > VM_REG_GUEST_GDTR)
		return -EINVAL;
	return vm->ops->get_desc(v, reg, desc);
}

int vm_set_desc(struct vm *vm, int vcpu, enum vm_reg_name reg,
		const struct seg_desc *desc)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || !desc || reg < VM_REG_GUEST_ES || reg > VM_REG_GUEST_GDTR)
		return -EINVAL;
	return vm->ops->set_desc(v, reg, desc);
}

int vm_get_fpregs(struct vm *vm, int vcpu, struct vm_fpregs *fp)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || !fp)
		return -EINVAL;
	return vm->ops->get_fpregs(v, fp);
}

int vm_set_fpregs(struct vm *vm, int vcpu, const struct vm_fpregs *fp)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || !fp)
		return -EINVAL;
	return vm->ops->set_fpregs(v, fp);
}

/* ---- Capabilities -------------------------------------------------------- */

static bool cap_available(const struct vm *vm, enum vm_cap_type cap)
{
	switch (cap) {
	case VM_CAP_HALT_EXIT:
	case VM_CAP_BPT_EXIT:
	case VM_CAP_MASK_HWINTR:
		return true;
	case VM_CAP_MTRAP_EXIT:
		return vm->vendor == VM_CPU_VENDOR_INTEL;
	case VM_CAP_RFLAGS_TF:
		return vm->vendor == VM_CPU_VENDOR_AMD;
	default:
		return false;
	}
}

int vm_set_capability(struct vm *vm, int vcpu, enum vm_cap_type cap, int val)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || (unsigned)cap >= VM_CAP_MAX)
		return -EINVAL;
	if (!cap_available(vm, cap))
		return -ENOENT;
	v->caps[cap] = val != 0;
	return 0;
}

int vm_get_capability(struct vm *vm, int vcpu, enum vm_cap_type cap, int *val)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || !val || (unsigned)cap >= VM_CAP_MAX)
		return -EINVAL;
	if (!cap_available(vm, cap))
		return -ENOENT;
	*val = v->caps[cap];
	return 0;
}

/* ---- Running ------------------------------------------------------------- */

/* Exits a debugger reports as this vCPU's stop (the head start after the
 * next resume puts it last). */
static bool debug_event(enum vm_exitcode code)
{
	return code == VM_EXITCODE_BPT || code == VM_EXITCODE_WATCH ||
	       code == VM_EXITCODE_MTRAP || code == VM_EXITCODE_DB;
}

int vm_run(struct vm *vm, int vcpu, struct vm_exit *exit)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || !exit)
		return -EINVAL;
	memset(exit, 0, sizeof(*exit));
	int rc = vm->ops->run(v, exit);
	if (rc == 0 && debug_event(exit->exitcode))
		sched_vcpu_reported(vm, v);
	return rc;
}

/* The debugger's suspend flag of one vCPU, or of every vCPU (vcpu -1). A
 * suspended vCPU is kicked so that it notices at once. */
static int set_suspended(struct vm *vm, int vcpu, bool on)
{
	if (!vm || vcpu < -1 || (vcpu >= 0 && (unsigned)vcpu >= vm->ncpus))
		return -EINVAL;
	/* Every vCPU a resume wakes is expected at the execution gate (the
	 * resume gate) before any of them may run. Marked one by one as its
	 * flag cleared, the first woken could take the lock while the
	 * others were not expected yet, and run its whole slice first
	 * (test_suspended_again_releases_the_gate, under TSan's timing). */
	if (!on)
		for (unsigned i = 0; i < vm->ncpus; i++)
			if ((vcpu == -1 || (unsigned)vcpu == i) &&
			    vm_cpu_suspended(vm, (int)i))
				sched_vcpu_resumed(vm, vm->vcpus[i]);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (vcpu != -1 && (unsigned)vcpu != i)
			continue;
		struct vcpu *v = vm->vcpus[i];
		checked_mutex_lock(&v->mtx);
		v->suspended = on;
		checked_mutex_unlock(&v->mtx);
		if (on) {
			/* the resume gate must not wait for it any more */
			sched_vcpu_not_coming(vm, v);
			vcpu_notify(v);
		}
	}
	update_guest_clock(vm);
	return 0;
}

int vm_suspend_cpu(struct vm *vm, int vcpu)
{
	return set_suspended(vm, vcpu, true);
}

int vm_resume_cpu(struct vm *vm, int vcpu)
{
	return set_suspended(vm, vcpu, false);
}

bool vm_cpu_suspended(struct vm *vm, int vcpu)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v)
		return false;
	checked_mutex_lock(&v->mtx);
	bool s = v->suspended;
	checked_mutex_unlock(&v->mtx);
	return s;
}

void vm_request_shutdown(struct vm *vm, enum vm_shutdown_reason reason,
			 int status)
{
	if (!vm)
		return;
	checked_mutex_lock(&vm->state_mtx);
	if (!atomic_load(&vm->shutdown)) {
		vm->shutdown_reason = reason;
		vm->shutdown_status = status;
		atomic_store(&vm->shutdown, true);
	}
	checked_mutex_unlock(&vm->state_mtx);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_notify(vm->vcpus[i]);
}

int vm_inject_exception(struct vm *vm, int vcpu, int vector, int errcode_valid,
			uint32_t errcode, int restart_instruction)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || vector < 0 || vector > 31 || vector == 2)
		return -EINVAL;
	checked_mutex_lock(&v->mtx);
	int rc = 0;
	if (v->exc.valid) {
		rc = -EBUSY;
	} else {
		v->exc.valid = true;
		v->exc.vector = vector;
		v->exc.errcode_valid = errcode_valid != 0;
		v->exc.errcode = errcode;
		v->exc.restart = restart_instruction != 0;
	}
	checked_mutex_unlock(&v->mtx);
	if (rc == 0)
		vcpu_notify(v);
	return rc;
}

int vm_inject_nmi(struct vm *vm, int vcpu)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v)
		return -EINVAL;
	lapic_set_nmi(v->lapic);
	vcpu_notify(v);
	return 0;
}

int vm_lapic_irq(struct vm *vm, int vcpu, int vector)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || vector < 16 || vector > 255)
		return -EINVAL;
	lapic_set_irr(v->lapic, vector);
	vcpu_notify(v);
	return 0;
}

void vcpu_set_halted(struct vcpu *v, bool halted)
{
	checked_mutex_lock(&v->mtx);
	v->halted = halted;
	checked_mutex_unlock(&v->mtx);
}

bool vcpu_halt_sleep(struct vcpu *v, bool interrupts_enabled)
{
	struct vm *vm = v->vm;
	bool woken = false;
	checked_mutex_lock(&v->mtx);
	v->halted_interrupts_off = !interrupts_enabled;
	while (!v->suspended && !v->dead && !atomic_load(&vm->shutdown)) {
		/* INIT ends a hlt too: the vCPU goes to wait-for-SIPI
		 * (vcpu_startup.c), as Linux's offline CPUs are brought back
		 * from their hlt loop. */
		if (v->init_pending) {
			v->halted = false;
			break;
		}
		uint64_t now = vm_now_ns(vm);
		lapic_timer_update(v->lapic, now);
		if (v->exc.valid ||
		    lapic_has_wake_event(v->lapic, interrupts_enabled)) {
			woken = true;
			break;
		}
		uint64_t deadline = lapic_next_deadline(v->lapic);
		if (deadline == UINT64_MAX) {
			checked_cond_wait(&v->cond, &v->mtx);
		} else {
			struct timespec ts = monotonic_timespec_at(
				vm_host_ns_of(vm, deadline));
			checked_cond_timedwait(&v->cond, &v->mtx, &ts);
		}
	}
	/* A suspend leaves the vCPU halted: the debugger sees it in hlt. */
	if (woken)
		v->halted = false;
	checked_mutex_unlock(&v->mtx);
	return woken;
}

int vm_declare_guest_dead(struct vm *vm, int vcpu, const char *reason)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || !reason)
		return -EINVAL;
	checked_mutex_lock(&v->mtx);
	if (!v->dead && !v->dead_reported) {
		v->dead = true;
		snprintf(v->dead_reason, sizeof(v->dead_reason), "%s", reason);
	}
	checked_mutex_unlock(&v->mtx);
	vcpu_notify(v);
	return 0;
}

bool vcpu_take_death(struct vcpu *v, char *reason, size_t len)
{
	checked_mutex_lock(&v->mtx);
	bool dead = v->dead;
	if (dead) {
		snprintf(reason, len, "%s", v->dead_reason);
		v->dead = false;
		v->dead_reported = true;
	}
	checked_mutex_unlock(&v->mtx);
	return dead;
}

/* ---- Guest memory -------------------------------------------------------- */

static bool ram_range_ok(const struct vm *vm, uint64_t gpa, size_t len)
{
	return gpa <= vm->mem_size && len <= vm->mem_size - gpa;
}

void *vm_map_gpa(struct vm *vm, uint64_t gpa, size_t len)
{
	if (!vm || !ram_range_ok(vm, gpa, len))
		return NULL;
	return vm->ram + gpa;
}

int vm_read_gpa(struct vm *vm, uint64_t gpa, void *buf, size_t len)
{
	if (!vm || (!buf && len))
		return -EINVAL;
	if (!ram_range_ok(vm, gpa, len))
		return -EFAULT;
	memcpy(buf, vm->ram + gpa, len);
	return 0;
}

int vm_write_gpa(struct vm *vm, uint64_t gpa, const void *buf, size_t len)
{
	if (!vm || (!buf && len))
		return -EINVAL;
	if (!ram_range_ok(vm, gpa, len))
		return -EFAULT;
	if (len == 0)
		return 0;
	vm_host_write(vm, gpa, buf, len);
	return 0;
}

/* ---- Paging -------------------------------------------------------------- */

/* Paging state without the CPU mode (which needs the CS descriptor, read
 * from the GDT through this very paging state). */
static int fill_paging(struct vcpu *v, struct vm_guest_paging *pg)
{
	const struct vm_backend_ops *ops = v->vm->ops;
	uint64_t cr0, cr3, cr4, efer, cs;
	int rc;
	if ((rc = ops->get_reg(v, VM_REG_GUEST_CR0, &cr0)) < 0 ||
	    (rc = ops->get_reg(v, VM_REG_GUEST_CR3, &cr3)) < 0 ||
	    (rc = ops->get_reg(v, VM_REG_GUEST_CR4, &cr4)) < 0 ||
	    (rc = ops->get_reg(v, VM_REG_GUEST_EFER, &efer)) < 0 ||
	    (rc = ops->get_reg(v, VM_REG_GUEST_CS, &cs)) < 0)
		return rc;
	bool lma = efer & (1u << 10);
	memset(pg, 0, sizeof(*pg));
	pg->cr3 = cr3;
	pg->cpl = (int)(cs & 3);
	pg->cpu_mode = lma ? CPU_MODE_64BIT
			   : (cr0 & 1) ? CPU_MODE_PROTECTED : CPU_MODE_REAL;
	if (!(cr0 & (1u << 31)))
		pg->paging_mode = PAGING_MODE_FLAT;
	else if (!(cr4 & (1u << 5)))
		pg->paging_mode = PAGING_MODE_32;
	else if (lma)
		pg->paging_mode = (cr4 & (1u << 12)) ? PAGING_MODE_64_LA57
						     : PAGING_MODE_64;
	else
		pg->paging_mode = PAGING_MODE_PAE;
	pg->wp = cr0 & (1u << 16);
	pg->nxe = efer & (1u << 11);
	return 0;
}

int vm_get_guest_paging(struct vm *vm, int vcpu, struct vm_guest_paging *pg)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || !pg)
		return -EINVAL;
	int rc = fill_paging(v, pg);
	if (rc < 0)
		return rc;
	if (pg->cpu_mode == CPU_MODE_64BIT) {
		struct seg_desc csd = { 0 };
		if (vm->ops->get_desc(v, VM_REG_GUEST_CS, &csd) == 0 &&
		    !(csd.access & (1u << 13)))
			pg->cpu_mode = CPU_MODE_COMPATIBILITY;
	}
	return 0;
}

static int read_phys(void *ctx, uint64_t gpa, void *buf, size_t size)
{
	return vm_read_gpa(ctx, gpa, buf, size);
}

int vm_gla2gpa(struct vm *vm, int vcpu, const struct vm_guest_paging *pg,
	       uint64_t gla, int prot, uint64_t *gpa, enum vm_gla_fault *fault)
{
	if (!get_vcpu(vm, vcpu) || !pg || !gpa || !fault)
		return -EINVAL;
	return x86_pagewalk(pg, gla, prot, read_phys, vm, gpa, fault);
}

int vm_gpa_in_paging_structures(struct vm *vm, uint64_t gpa)
{
	int result = 0;

	if (!vm)
		return -EINVAL;
	struct vm_guest_paging searched[VM_MAX_VCPUS];
	unsigned nsearched = 0;
	for (unsigned i = 0; i < vm_vcpu_count(vm); i++) {
		struct vm_guest_paging pg;
		int rc = fill_paging(get_vcpu(vm, (int)i), &pg);

		/* vCPUs of one address space share their tables: searched
		 * once (an SMP guest mostly runs on one root) */
		bool seen = false;
		for (unsigned j = 0; rc == 0 && j < nsearched && !seen; j++)
			seen = searched[j].cr3 == pg.cr3 &&
			       searched[j].paging_mode == pg.paging_mode;
		if (seen)
			continue;
		if (rc == 0) {
			searched[nsearched++] = pg;
			rc = x86_paging_structure_holds(&pg, gpa, read_phys,
							vm);
		}
		if (rc == 1)
			return 1;
		/* keep looking: another vCPU's tables may hold it */
		if (rc < 0 && result == 0)
			result = rc;
	}
	return result;
}

int vcpu_gla2gpa(struct vcpu *v, uint64_t gla, int prot, uint64_t *gpa)
{
	struct vm_guest_paging pg;
	enum vm_gla_fault fault;
	int rc = fill_paging(v, &pg);
	if (rc < 0)
		return rc;
	pg.cpl = 0; /* the hypervisor acts with supervisor rights */
	rc = x86_pagewalk(&pg, gla, prot, read_phys, v->vm, gpa, &fault);
	if (rc < 0)
		return rc;
	return fault == VM_GLA_OK ? 0 : -EFAULT;
}

/* ---- Devices ------------------------------------------------------------- */

int vm_register_pio(struct vm *vm, uint16_t port, uint16_t count,
		    vm_pio_handler fn, void *opaque)
{
	if (!vm || !fn || count == 0 || (uint32_t)port + count > 0x10000)
		return -EINVAL;
	for (unsigned i = 0; i < vm->npio; i++) {
		const struct pio_range *r = &vm->pio[i];
		if (port < r->port + r->count && r->port < port + count)
			return -EEXIST;
	}
	if (vm->npio == VM_MAX_PIO)
		return -ENOSPC;
	vm->pio[vm->npio++] = (struct pio_range){ port, count, fn, opaque };
	return 0;
}

/* lapic_read has no side effects (every register is state read under the
 * LAPIC's lock; the current count is computed from the clock). Registers
 * sit at 16-byte steps and are 4 bytes wide; the rest of the page reads 0,
 * as in the engine's own accesses. */
int vm_peek_device(struct vm *vm, int vcpu, uint64_t gpa, void *buf,
		   size_t len)
{
	if (!vm || vcpu < 0 || (unsigned)vcpu >= vm->ncpus || (!buf && len))
		return -EINVAL;
	struct vcpu *v = vm->vcpus[vcpu];
	if (!v->lapic || gpa < LAPIC_BASE || gpa - LAPIC_BASE > LAPIC_SIZE ||
	    len > LAPIC_SIZE - (gpa - LAPIC_BASE))
		return -EFAULT;
	uint64_t now = vm_now_ns(vm);
	uint8_t *out = buf;
	for (size_t i = 0; i < len; i++) {
		uint32_t off = (uint32_t)(gpa - LAPIC_BASE + i);
		uint32_t in_slot = off & 0xf;
		uint32_t val = in_slot < 4 ? lapic_read(v->lapic, off - in_slot,
							 now)
					   : 0;
		out[i] = (uint8_t)(val >> (8 * (in_slot & 3)));
	}
	return 0;
}

int vm_register_mmio(struct vm *vm, uint64_t gpa, uint64_t len,
		     vm_mmio_handler fn, void *opaque)
{
	if (!vm || !fn || len == 0 || (gpa & 0xfff) || (len & 0xfff) ||
	    gpa + len < gpa || gpa + len > (1ULL << 32))
		return -EINVAL;
	if (gpa < vm->mem_size ||
	    (gpa < LAPIC_BASE + LAPIC_SIZE && LAPIC_BASE < gpa + len))
		return -EEXIST;
	for (unsigned i = 0; i < vm->nmmio; i++) {
		const struct mmio_range *r = &vm->mmio[i];
		if (gpa < r->gpa + r->len && r->gpa < gpa + len)
			return -EEXIST;
	}
	if (vm->nmmio == VM_MAX_MMIO)
		return -ENOSPC;
	vm->mmio[vm->nmmio++] = (struct mmio_range){ gpa, len, fn, opaque };
	return 0;
}

const struct pio_range *vm_find_pio(const struct vm *vm, uint16_t port)
{
	for (unsigned i = 0; i < vm->npio; i++) {
		const struct pio_range *r = &vm->pio[i];
		if (port >= r->port && port - r->port < r->count)
			return r;
	}
	return NULL;
}

const struct mmio_range *vm_find_mmio(const struct vm *vm, uint64_t gpa)
{
	for (unsigned i = 0; i < vm->nmmio; i++) {
		const struct mmio_range *r = &vm->mmio[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->len)
			return r;
	}
	return NULL;
}

bool vm_first_unknown_port(struct vm *vm, uint16_t port)
{
	checked_mutex_lock(&vm->state_mtx);
	bool first = !(vm->logged_ports[port / 8] & (1u << (port % 8)));
	vm->logged_ports[port / 8] |= (uint8_t)(1u << (port % 8));
	checked_mutex_unlock(&vm->state_mtx);
	return first;
}

bool vm_first_unknown_mmio(struct vm *vm, uint64_t gpa)
{
	checked_mutex_lock(&vm->state_mtx);
	bool first = true;
	for (unsigned i = 0; i < vm->nlogged_mmio; i++)
		if (vm->logged_mmio[i] == gpa)
			first = false;
	/* A guest probing many addresses must not flood the log: once the
	 * table is full, stay quiet. */
	if (first && vm->nlogged_mmio == VM_MAX_LOGGED_MMIO)
		first = false;
	else if (first)
		vm->logged_mmio[vm->nlogged_mmio++] = gpa;
	checked_mutex_unlock(&vm->state_mtx);
	return first;
}

int vm_get_vcpu_info(struct vm *vm, int vcpu, struct vm_vcpu_info *info)
{
	struct vcpu *v = get_vcpu(vm, vcpu);
	if (!v || !info)
		return -EINVAL;
	checked_mutex_lock(&v->mtx);
	info->halted = v->halted;
	info->interrupts_off = v->halted && v->halted_interrupts_off;
	info->waiting_for_sipi = v->wait_for_sipi || v->init_pending;
	info->started = v->started;
	info->instructions_hint = v->slices;
	checked_mutex_unlock(&v->mtx);
	return 0;
}
