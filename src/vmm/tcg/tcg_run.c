/*
 * vm_run on Unicorn: the entry loop, events from outside the engine, hlt,
 * stepping and exits. Guest exceptions and interrupts are delivered inside
 * the engine (tcg_events.c).
 *
 * What Unicorn 2.1 does (measured, 64-bit mode):
 * - int3 (CC) and `int $3` (CD 03): UC_HOOK_INTR intno 3, RIP after the
 *   instruction. `int $n`: intno n, RIP after the instruction.
 * - Faults (#DE, #GP, #PF, ...): intno with RIP on the faulting
 *   instruction; QEMU's own delivery then pushes the right error code.
 * - #UD: UC_HOOK_INSN_INVALID, then UC_HOOK_INTR with intno 6.
 * - An address outside guest RAM and the MMIO maps (including
 *   non-canonical ones): UC_ERR_*_UNMAPPED, RIP unreliable -> GUEST_FAULT.
 * - hlt, and a triple fault: uc_emu_start returns UC_ERR_OK (the triple
 *   fault is told apart by tcg_take_triple_fault).
 * - A count limit (count=1) is ignored by blocks translated without it,
 *   and dropping it again makes uc_emu_start flush the whole translation
 *   cache: single steps use a code hook instead (arm_step_hook).
 * - uc_emu_stop is ignored while the STI interrupt shadow is active:
 *   stepping `sti` ran on to the next hlt. A step over sti is done by
 *   hand; an interrupt waiting behind the shadow is raised after the
 *   engine has run one more block.
 * - uc_emu_stop from another thread, or from an MMIO/port callback, can
 *   stop mid-block with RIP still at an earlier instruction, which is
 *   then executed twice (measured on 2.0.1: one extra `inc` per stop).
 *   Stops are therefore requested through a flag checked by UC_HOOK_BLOCK
 *   (exact). uc_emu_stop from UC_HOOK_INTR is exact.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "devices/lapic.h"
#include "vmm/sched_trace.h"
#include "vmm/tcg/tcg_atomics.h"
#include "vmm/tcg/tcg_internal.h"

#define RFLAGS_IF (1ULL << 9)
#define UNTIL_NEVER 0xffffffffffffffffULL
#define DR6_BS_TRACE 0xFFFF4FF0ULL
/* An NMI handler is assumed done once RSP leaves its frame's region. */
#define NMI_STACK_SPAN (64 * 1024)
#define X86_MAX_INSN_LEN 15
#define VECTOR_DB 1

static uint64_t reg(struct vcpu *v, int ucreg)
{
	uint64_t x = 0;
	uc_reg_read(tcg_of(v)->uc, ucreg, &x);
	return x;
}

static void set_reg(struct vcpu *v, int ucreg, uint64_t x)
{
	uc_reg_write(tcg_of(v)->uc, ucreg, &x);
}

static int read_byte(struct vcpu *v, uint64_t gla, uint8_t *b)
{
	return tcg_read_linear(v, gla, b, 1);
}

/* ---- Translation cache --------------------------------------------------- */

/*
 * Host-side writes (the debugger's breakpoints, `load`, `restore`) drop
 * the blocks translated from the guest-physical pages they touched, and
 * nothing else (tcg_code_coherence.c). A whole-cache flush is left only
 * for a queue overflow (VCPU_MAX_INVAL distinct ranges between two
 * entries).
 */
static void apply_invalidations(struct vcpu *v, bool ever_ran)
{
	static _Thread_local uint64_t ranges[VCPU_MAX_INVAL][2];
	int n = vcpu_take_invalidations(v, ranges);
	if (!ever_ran)
		return; /* nothing translated yet */
	if (tcg_code_buffer_maintain(tcg_of(v)))
		return; /* flushed: nothing left to drop */
	if (n < 0) {
		tcg_code_buffer_flush(tcg_of(v));
		return;
	}
	for (int i = 0; i < n; i++)
		tcg_invalidate_phys(tcg_of(v), ranges[i][0], ranges[i][1]);
}

/*
 * One instruction, without Unicorn's count limit: uc_emu_start drops the
 * whole translation cache whenever a count limit is removed. Instead the
 * block at RIP is retranslated with a code hook on the 15 bytes after it,
 * which stops before the next instruction of that block; a branch ends the
 * block and the block hook stops the next one. Both stops are exact.
 *
 * Blocks compiled with the hook keep its call and the exit check Unicorn
 * puts after it; such a block that later sees an exit request (any
 * uc_emu_stop, a RIP write from a hook) leaves with RIP put back to the
 * block's start, and its first instructions run twice (measured: a guest
 * computing wrong results after a `stepi` and a detach). Unicorn 2.1 drops
 * the blocks of a deleted hook only when a block STARTS inside the hook's
 * range, which the block at RIP does not. So every block that can hold
 * the call is dropped after the step, by guest-physical address: the block
 * at RIP, and after a branch or an early end any block overlapping those
 * bytes.
 */
static void drop_blocks_at(struct vcpu *v, uint64_t start, uint64_t end)
{
	while (start < end) {
		uint64_t page_end = (start | 4095) + 1;
		uint64_t stop = end < page_end ? end : page_end;
		uint64_t gpa;
		/* Not executable: nothing there was translated. */
		if (vcpu_gla2gpa(v, start, VM_PROT_EXECUTE, &gpa) == 0)
			tcg_invalidate_phys(tcg_of(v), gpa, gpa + (stop - start));
		if (page_end == 0)
			break; /* top of the address space */
		start = stop;
	}
}

static bool arm_step_hook(struct vcpu *v, uint64_t rip)
{
	struct tcg_vcpu *t = tcg_of(v);
	drop_blocks_at(v, rip, rip + 1);
	/* At the very top of the address space the range wraps, which
	 * Unicorn reads as "everywhere": still a stop at the next one. */
	if (uc_hook_add(t->uc, &t->step_hook, UC_HOOK_CODE,
			(void *)tcg_hook_step_code, v, rip + 1,
			rip + X86_MAX_INSN_LEN) != UC_ERR_OK)
		return false;
	t->step_hook_armed = true;
	t->step_hook_fired = false;
	return true;
}

static void finish_step_hook(struct vcpu *v, uint64_t rip)
{
	struct tcg_vcpu *t = tcg_of(v);
	if (t->step_hook_fired) {
		/* It stopped inside the block at RIP, translated afresh for
		 * this step: no other block was translated with the hook.
		 * Those after RIP stay (a `continue` runs them next). */
		drop_blocks_at(v, rip, rip + 1);
		return;
	}
	/* A branch (the next block was looked up, perhaps translated with
	 * the hook, and may lie anywhere in those bytes), or the step ended
	 * without our hooks (hlt, a fault, shutdown) with the hook still
	 * listed. */
	tcg_disarm_step_hook(t);
	drop_blocks_at(v, rip, rip + X86_MAX_INSN_LEN + 1);
}

/* ---- Events from outside the engine ------------------------------------- */

static bool nmi_still_blocked(struct vcpu *v)
{
	struct tcg_vcpu *t = tcg_of(v);
	if (!t->nmi_blocked)
		return false;
	/* Unicorn has no hook for iretq: treat the handler as finished
	 * once RSP has left its frame (popped, or back on another stack). */
	uint64_t rsp = reg(v, UC_X86_REG_RSP);
	if (rsp >= t->nmi_stack_top || rsp + NMI_STACK_SPAN < t->nmi_stack_top)
		t->nmi_blocked = false;
	return t->nmi_blocked;
}

/*
 * Choose the one event this entry raises before its first instruction
 * (tcg_events.c): a queued exception always; else an NMI, else a LAPIC
 * interrupt, unless MASK_HWINTR. *shadow is set when an interrupt waits
 * behind an STI shadow (run one block first). More events wait for the
 * next entry: the engine leaves at the first handler's first block when
 * one is pending.
 */
static void prepare_injection(struct vcpu *v, uint64_t pc, bool *shadow)
{
	struct tcg_injection *in = &tcg_of(v)->inject;
	struct pending_exception exc;
	memset(in, 0, sizeof(*in));
	in->rip = pc;
	*shadow = false;

	if (tcg_of(v)->watch.guest_db_pending) {
		/* The guest's own data breakpoint hit by the last instruction
		 * (DR6 is set): a trap, returning to the next instruction. */
		tcg_of(v)->watch.guest_db_pending = false;
		in->guest_db = true;
		exc = (struct pending_exception){ .valid = true,
						  .vector = VECTOR_DB,
						  .restart = true };
	} else {
		checked_mutex_lock(&v->mtx);
		exc = v->exc;
		v->exc.valid = false;
		checked_mutex_unlock(&v->mtx);
	}
	if (exc.valid) {
		in->pending = true;
		in->source = TCG_INJECT_EXCEPTION;
		in->exc = exc;
		in->vector = exc.vector;
		in->errcode = exc.errcode_valid ? exc.errcode : 0;
		if ((exc.vector == 3 || exc.vector == 4) && !exc.restart) {
			in->soft = true;
			/* amd: the debugger already advanced RIP itself. */
			if (v->vm->vendor == VM_CPU_VENDOR_INTEL)
				in->next_insn_len =
					(unsigned)v->entry_inst_length;
		}
		return;
	}
	if (v->caps[VM_CAP_MASK_HWINTR])
		return;
	if (!nmi_still_blocked(v) && lapic_take_nmi(v->lapic)) {
		in->pending = true;
		in->source = TCG_INJECT_NMI;
		in->vector = 2;
		return;
	}
	int vec = lapic_pending_intr(v->lapic);
	if (vec < 0)
		return;
	if (!(reg(v, UC_X86_REG_RFLAGS) & RFLAGS_IF)) {
		/* Leave the engine as soon as the guest turns interrupts
		 * on (sti, popf, iret end their blocks): without that the
		 * interrupt waited for the next stop made for another
		 * reason, where a higher-priority timer could win every
		 * time (Linux's serial interrupt was never taken). */
		tcg_of(v)->irq_waits_for_if = true;
		return;
	}
	/* The STI / MOV SS interrupt shadow, from QEMU's own flag. */
	if (tcg_interrupt_shadow(&tcg_of(v)->cpu)) {
		*shadow = true;
		return;
	}
	in->pending = true;
	in->source = TCG_INJECT_EXTINT;
	in->vector = vec;
}

/* The entry ended before its first block: the event waits for the next.
 * (A LAPIC interrupt is accepted only when raised: it is still in IRR.) */
static void requeue_injection(struct vcpu *v)
{
	struct tcg_injection *in = &tcg_of(v)->inject;
	if (!in->pending && !in->unraised)
		return;
	if (in->source == TCG_INJECT_NMI) {
		lapic_set_nmi(v->lapic);
	} else if (in->guest_db) {
		tcg_of(v)->watch.guest_db_pending = true;
	} else if (in->source == TCG_INJECT_EXCEPTION) {
		checked_mutex_lock(&v->mtx);
		if (!v->exc.valid)
			v->exc = in->exc;
		checked_mutex_unlock(&v->mtx);
	}
	memset(in, 0, sizeof(*in));
}

/* A guest int3 that the VMM reports (VM_CAP_BPT_EXIT). */
static void fill_bpt_exit(struct vcpu *v, struct vm_exit *exit)
{
	uint64_t rip = reg(v, UC_X86_REG_RIP);
	uint64_t pc = rip + tcg_code_base(v);
	uint8_t b[2] = { 0, 0 };
	int len = 1;
	if (read_byte(v, pc - 1, &b[1]) == 0 && b[1] == 0xCC)
		len = 1;
	else if (tcg_read_linear(v, pc - 2, b, 2) == 0 && b[0] == 0xCD)
		len = 2;
	set_reg(v, UC_X86_REG_RIP, rip - (uint64_t)len);
	memset(exit, 0, sizeof(*exit));
	exit->exitcode = VM_EXITCODE_BPT;
	exit->rip = rip - (uint64_t)len;
	exit->u.bpt.inst_length = len;
}

/* ---- The run loop -------------------------------------------------------- */

static void fill_step_exit(struct vcpu *v, struct vm_exit *exit)
{
	memset(exit, 0, sizeof(*exit));
	exit->rip = reg(v, UC_X86_REG_RIP);
	if (v->caps[VM_CAP_MTRAP_EXIT]) {
		exit->exitcode = VM_EXITCODE_MTRAP;
	} else {
		exit->exitcode = VM_EXITCODE_DB;
		exit->u.db.trace_trap = true;
		exit->u.db.dr6 = DR6_BS_TRACE;
	}
}

static void fill_fault(struct vcpu *v, struct vm_exit *exit, uc_err err)
{
	memset(exit, 0, sizeof(*exit));
	exit->exitcode = VM_EXITCODE_GUEST_FAULT;
	exit->rip = reg(v, UC_X86_REG_RIP);
	snprintf(exit->u.fault.reason, sizeof(exit->u.fault.reason),
		 "vCPU %d: %s", v->id, uc_strerror(err));
}

static bool stepping(const struct vcpu *v)
{
	return v->caps[VM_CAP_MTRAP_EXIT] || v->caps[VM_CAP_RFLAGS_TF];
}

/* ENTRY_LEAVE: nothing ran; the vCPU was suspended, sent INIT or declared
 * dead, or the VM is shutting down, which the run loop handles outside the
 * lock. */
enum entry_result { ENTRY_CONTINUE, ENTRY_EXIT, ENTRY_LEAVE };

/* One engine entry, past the execution gate (or holding the serial
 * execution lock). */
static enum entry_result run_once(struct vcpu *v, struct vm_exit *exit)
{
	struct vm *vm = v->vm;
	struct tcg_vcpu *t = tcg_of(v);

	checked_mutex_lock(&v->mtx);
	bool ever_ran = v->started;
	bool stop = v->suspended || v->dead || v->init_pending ||
		    v->wait_for_sipi;
	checked_mutex_unlock(&v->mtx);
	if (stop || atomic_load(&vm->shutdown))
		return ENTRY_LEAVE;

	apply_invalidations(v, ever_ran);
	tcg_code_coherence_before_entry(t);
	tcg_guest_debug_apply(v);
	uint64_t now = vm_now_ns(vm);
	tcg_keep_tlb_sized(t, now);
	lapic_timer_update(v->lapic, now);
	bool shadow = false;
	/* Guest memory and Unicorn's hooks see linear addresses: outside
	 * long mode CS's base counts (real mode after INIT/SIPI). */
	uint64_t rip = reg(v, UC_X86_REG_RIP);
	uint64_t base = tcg_code_base(v);
	uint64_t pc = rip + base;
	t->irq_waits_for_if = false;
	tcg_watch_sync(v, pc);
	tcg_atomics_before_entry(t);
	/* An instruction that hit a watch runs again alone, with no event
	 * before it (tcg_watch.c); so does one whose locked access QEMU
	 * could not make atomic (tcg_atomics.c). Events wait for the next
	 * entry. */
	bool replay = t->watch.replay_pending;
	bool atomic_step = t->atomic_step_pending;
	t->watch.replay_pending = false;
	t->atomic_step_pending = false;
	bool solo = replay || atomic_step;
	if (solo)
		memset(&t->inject, 0, sizeof(t->inject));
	else
		prepare_injection(v, pc, &shadow);
	bool step = stepping(v) || solo;
	/* With an event to raise, a step ends before the handler's first
	 * instruction (as a monitor trap does after event injection). */
	if (step && t->inject.pending) {
		if (!arm_step_hook(v, pc)) {
			requeue_injection(v);
			fill_fault(v, exit, UC_ERR_NOMEM);
			return ENTRY_EXIT;
		}
	} else if (step) {
		uint8_t first = 0;
		read_byte(v, pc, &first);
		if (first == 0xFB && !solo) {
			/* Stops are ignored inside the STI shadow and the
			 * engine would run on: do the sti here. */
			set_reg(v, UC_X86_REG_RFLAGS,
				reg(v, UC_X86_REG_RFLAGS) | RFLAGS_IF);
			set_reg(v, UC_X86_REG_RIP, rip + 1);
			fill_step_exit(v, exit);
			return ENTRY_EXIT;
		}
		if (!arm_step_hook(v, pc)) {
			fill_fault(v, exit, UC_ERR_NOMEM);
			return ENTRY_EXIT;
		}
	}

	t->hook_stop = TCG_STOP_NONE;
	t->intr_seen = false;
	t->block_stopped = false;
	t->blocks_run = 0;
	t->pauses = 0;
	t->pause_yield = false;
	t->stop_after_first_block = shadow && !step;
	if (step)
		t->irq_waits_for_if = false;
	t->single_instruction = step;
	t->entry_end = now + SCHED_MAX_ENTRY_NS;
	t->poll_deadline = tcg_poll_deadline(v);
	t->poll_countdown = TCG_POLL_BLOCKS;
	atomic_store(&t->stop_flag, false);
	checked_mutex_lock(&v->mtx);
	v->started = true;
	v->slices++;
	checked_mutex_unlock(&v->mtx);

	/* Only a triple fault of this entry counts (the flag is per thread,
	 * and this thread may have run another VM's engine before). */
	(void)tcg_take_triple_fault();
	t->watch.replaying = replay;
	t->watch.event_in_replay = false;
	/* Serial code (a locked access done without a host atomic, or an
	 * engine with data watches) runs with every other vCPU out of guest
	 * code. */
	bool alone = atomic_step || t->translate_serial;
	if (alone)
		sched_exclusive_begin(vm, v);
	if (atomic_step)
		tcg_atomics_serial_begin();
	sched_enter_engine(vm, v, !t->single_instruction);
	t->executing = true;
	uc_err err = uc_emu_start(t->uc, rip, UNTIL_NEVER, 0, 0);
	t->executing = false;
	sched_leave_engine(vm, v);
	t->watch.replaying = false;
	if (step)
		finish_step_hook(v, pc);
	if (atomic_step)
		tcg_atomics_serial_end();
	if (alone)
		sched_exclusive_end(vm, v);
	vcpu_left_engine(v);
	requeue_injection(v);

	if (tcg_take_triple_fault()) {
		/* The caller decides: end the VM, or hold it for a debugger.
		 * Queued port/MMIO exits are only informative: dropped. */
		t->exitq_len = 0;
		memset(exit, 0, sizeof(*exit));
		exit->exitcode = VM_EXITCODE_TRIPLE_FAULT;
		exit->rip = reg(v, UC_X86_REG_RIP);
		snprintf(exit->u.fault.reason, sizeof(exit->u.fault.reason),
			 "triple fault at %#llx", (unsigned long long)exit->rip);
		return ENTRY_EXIT;
	}
	if (t->hook_stop == TCG_STOP_SHUTDOWN)
		return ENTRY_CONTINUE;
	if (err != UC_ERR_OK) {
		fill_fault(v, exit, err);
		return ENTRY_EXIT;
	}
	/* A watch hit rolled an instruction back, or a locked access needs
	 * the exclusive step: run it alone next. */
	if (t->watch.replay_pending || t->atomic_step_pending)
		return ENTRY_CONTINUE;
	if (tcg_watch_take_exit(v, replay, exit)) {
		/* The debugger's stop wins over a step it asked for (that
		 * instruction completed) and over informative exits. */
		t->exitq_len = 0;
		return ENTRY_EXIT;
	}
	if (solo && !stepping(v))
		return t->exitq_len > 0 ? ENTRY_EXIT : ENTRY_CONTINUE;
	if (t->intr_seen) {
		fill_bpt_exit(v, exit);
		return ENTRY_EXIT;
	}
	if (step) {
		/* A stepped hlt exits here, after the hlt, without sleeping. */
		/* The step's own exit wins: an INOUT/MMIO exit is only
		 * informative (the access already completed). */
		t->exitq_len = 0;
		fill_step_exit(v, exit);
		return ENTRY_EXIT;
	}
	/* Only a hlt (or a triple fault, seen above) makes uc_emu_start return OK without a stop of ours
	 * (a hook's stop request may still be pending behind it); the byte
	 * check guards against Unicorn surprises. */
	uint64_t now_rip = reg(v, UC_X86_REG_RIP);
	uint8_t prev = 0;
	if (!t->block_stopped && t->blocks_run > 0 &&
	    read_byte(v, now_rip + base - 1, &prev) == 0 && prev == 0xF4) {
		if (v->caps[VM_CAP_HALT_EXIT]) {
			struct vm_exit h = { .exitcode = VM_EXITCODE_HLT };
			h.rip = now_rip;
			if (t->exitq_len == 0) {
				*exit = h;
				return ENTRY_EXIT;
			}
			unsigned tail = (t->exitq_head + t->exitq_len) %
					TCG_EXITQ_LEN;
			if (t->exitq_len < TCG_EXITQ_LEN) {
				t->exitq[tail] = h;
				t->exitq_len++;
			}
		} else {
			t->in_hlt = true;
			vcpu_set_halted(v, true);
		}
	}
	return t->exitq_len > 0 ? ENTRY_EXIT : ENTRY_CONTINUE;
}

/* Why the lock is given up, for the scheduling trace. */
static unsigned release_reasons(struct vcpu *v, enum entry_result r,
				bool slice_over)
{
	struct tcg_vcpu *t = tcg_of(v);
	return (t->in_hlt ? TRACE_WHY_HALT : 0) |
	       (atomic_load(&v->stop_req) ? TRACE_WHY_STOP_REQ : 0) |
	       (t->pause_yield ? TRACE_WHY_PAUSE : 0) |
	       (slice_over ? TRACE_WHY_SLICE : 0) |
	       (r == ENTRY_EXIT ? TRACE_WHY_EXIT : 0);
}

static int run_until_exit(struct vcpu *v, struct vm_exit *exit)
{
	struct vm *vm = v->vm;
	struct tcg_vcpu *t = tcg_of(v);
	for (;;) {
		atomic_store(&v->stop_req, false);
		if (atomic_load(&vm->shutdown)) {
			checked_mutex_lock(&vm->state_mtx);
			exit->exitcode = VM_EXITCODE_SHUTDOWN;
			exit->u.shutdown.reason = vm->shutdown_reason;
			exit->u.shutdown.status = vm->shutdown_status;
			checked_mutex_unlock(&vm->state_mtx);
			exit->rip = reg(v, UC_X86_REG_RIP);
			return 0;
		}
		if (vcpu_take_death(v, exit->u.fault.reason,
				    sizeof(exit->u.fault.reason))) {
			exit->exitcode = VM_EXITCODE_GUEST_DEAD;
			exit->rip = reg(v, UC_X86_REG_RIP);
			return 0;
		}
		if (vm_cpu_suspended(vm, v->id)) {
			tcg_tlb_sizing_restart(t);
			memset(exit, 0, sizeof(*exit));
			exit->exitcode = VM_EXITCODE_SUSPENDED;
			exit->rip = reg(v, UC_X86_REG_RIP);
			return 0;
		}
		if (vcpu_waits_for_sipi(v)) {
			/* INIT/SIPI (vcpu_startup.c): nothing runs until a
			 * STARTUP IPI, which restarts the vCPU in real mode. */
			bool startable;
			sched_vcpu_not_coming(vm, v);
			if (vcpu_wait_for_start(v, &startable) < 0) {
				fill_fault(v, exit, UC_ERR_EXCEPTION);
				return 0;
			}
			if (!startable)
				continue;
			t->in_hlt = false;
			tcg_tlb_sizing_restart(t);
			SCHED_TRACE(vm_now_ns(vm), v->id, TRACE_SIPI_START, 0,
				    reg(v, UC_X86_REG_CS));
		}
		bool woken = false;
		if (t->in_hlt) {
			bool intr_on = reg(v, UC_X86_REG_RFLAGS) & RFLAGS_IF;
			sched_vcpu_not_coming(vm, v);
			uint64_t slept = vm_now_ns(vm);
			SCHED_TRACE(slept, v->id, TRACE_HALT, intr_on,
				    reg(v, UC_X86_REG_RIP));
			if (!vcpu_halt_sleep(v, intr_on))
				continue; /* suspended, INIT or shut down */
			t->in_hlt = false;
			woken = true;
			SCHED_TRACE(vm_now_ns(vm), v->id, TRACE_WAKE,
				    (vm_now_ns(vm) - slept) / 1000, 0);
		}
		if (t->exitq_len > 0) {
			*exit = t->exitq[t->exitq_head];
			t->exitq_head = (t->exitq_head + 1) % TCG_EXITQ_LEN;
			t->exitq_len--;
			return 0;
		}
		/* Keep the lock across entries that only stopped to inject
		 * an interrupt: a handoff per timer tick would cap the tick
		 * rate at the host's thread wake-up rate. Likewise for an
		 * interrupt sent while the vCPU waited for the lock or ran
		 * (vcpu_notify's stop_req): the next entry takes it. Leaving
		 * for it gave the lock away and sent the vCPU to the back
		 * of the queue, with the interrupt still pending (~170
		 * handoffs a second in a 4-vCPU Linux boot). Suspend, INIT,
		 * death and shutdown end the loop through run_once. */
		uint64_t asked = sched_trace_on ? vm_now_ns(vm) : 0;
		sched_acquire(vm, v, stepping(v), woken);
		SCHED_TRACE(vm_now_ns(vm), v->id, TRACE_ACQUIRE,
			    (vm_now_ns(vm) - asked) / 1000,
			    reg(v, UC_X86_REG_RIP));
		enum entry_result r;
		bool slice_over = false;
		do {
			atomic_store(&v->stop_req, false);
			r = run_once(v, exit);
		} while (r == ENTRY_CONTINUE && !t->in_hlt &&
			 !atomic_load(&vm->shutdown) && !t->pause_yield &&
			 !(slice_over = sched_should_yield(vm)));
		SCHED_TRACE(vm_now_ns(vm), v->id, TRACE_RELEASE,
			    release_reasons(v, r, slice_over),
			    reg(v, UC_X86_REG_RIP));
		sched_release(vm, v);
		if (t->pause_yield)
			sched_let_others_run(vm, v);
		if (r == ENTRY_EXIT && t->exitq_len == 0)
			return 0;
	}
}

static _Thread_local struct tcg_vcpu *running_engine;

struct tcg_vcpu *tcg_running_engine(void)
{
	return running_engine;
}

int tcg_run(struct vcpu *v, struct vm_exit *exit)
{
	int rc = tcg_map_devices(v);
	if (rc < 0)
		return rc;
	running_engine = tcg_of(v);
	rc = run_until_exit(v, exit);
	running_engine = NULL;
	/* Whatever ended the run (an exit, a suspend, shutdown), this vCPU
	 * is not about to ask for the lock. */
	sched_vcpu_not_coming(v->vm, v);
	return rc;
}

const struct vm_backend_ops tcg_backend_ops = {
	.name = "tcg",
	.vcpu_init = tcg_vcpu_init,
	.vcpu_fini = tcg_vcpu_fini,
	.get_reg = tcg_get_reg,
	.set_reg = tcg_set_reg,
	.get_desc = tcg_get_desc,
	.set_desc = tcg_set_desc,
	.get_fpregs = tcg_get_fpregs,
	.set_fpregs = tcg_set_fpregs,
	.run = tcg_run,
	.kick = tcg_kick,
};
