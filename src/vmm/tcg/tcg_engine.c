/*
 * One Unicorn engine per vCPU: guest RAM mapped at GPA 0 from the shared
 * host buffer, this vCPU's LAPIC page, registered MMIO, and a catch-all for
 * the rest of the 3-4 GiB hole so that a stray access never faults. Port I/O
 * arrives through UC_HOOK_INSN (IN/OUT); exceptions and `int n` through
 * UC_HOOK_INTR (the engine never vectors through the guest IDT itself).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/lapic.h"
#include "vmm/tcg/tcg_internal.h"

#define MMIO_HOLE_START 0xC0000000ULL
#define MMIO_HOLE_END 0x100000000ULL
#define EXIT_DEVICE_PORT 0xf4

void tcg_stop_with_exit(struct vcpu *v, const struct vm_exit *e)
{
	struct tcg_vcpu *t = tcg_of(v);
	/* The last slot stays free for the HLT exit run_once may queue
	 * behind these: they are informative (the access completed), a lost
	 * HLT is not. */
	if (t->exitq_len < TCG_EXITQ_LEN - 1) {
		unsigned tail = (t->exitq_head + t->exitq_len) % TCG_EXITQ_LEN;
		t->exitq[tail] = *e;
		t->exitq_len++;
	}
	if (t->hook_stop == TCG_STOP_NONE || t->hook_stop == TCG_STOP_REEVAL)
		t->hook_stop = TCG_STOP_EXIT;
	atomic_store(&t->stop_flag, true);
}

static uint64_t current_rip(struct vcpu *v)
{
	uint64_t rip = 0;
	uc_reg_read(tcg_of(v)->uc, UC_X86_REG_RIP, &rip);
	return rip;
}

/* ---- Port I/O ------------------------------------------------------------ */

static uint32_t size_mask(int size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static uint32_t pio_access(struct vcpu *v, bool in, uint32_t port, int size,
			   uint32_t value)
{
	struct vm *vm = v->vm;
	uint16_t p = (uint16_t)port;
	const struct pio_range *r = vm_find_pio(vm, p);
	uint32_t val = in ? 0 : (value & size_mask(size));
	if (r) {
		int rc = r->fn(r->opaque, v->id, in, p, (unsigned)size, &val);
		if (rc != 0)
			fprintf(stderr, "hvgdb: port %#x handler failed (%d)\n",
				p, rc);
		return val & size_mask(size);
	}
	if (!in && p == EXIT_DEVICE_PORT) {
		/* QEMU's isa-debug-exit, built in unless a device claims it. */
		vm_request_shutdown(vm, VM_SHUTDOWN_EXIT_DEVICE,
				    (int)(((val & 0xff) << 1) | 1));
		tcg_of(v)->hook_stop = TCG_STOP_SHUTDOWN;
		atomic_store(&tcg_of(v)->stop_flag, true);
		return 0;
	}
	if (vm_first_unknown_port(vm, p))
		fprintf(stderr, "hvgdb: vCPU %d: unclaimed %s port %#x "
			"(reads all-ones; logged once)\n", v->id,
			in ? "IN from" : "OUT to", p);
	struct vm_exit e = { .exitcode = VM_EXITCODE_INOUT };
	e.rip = current_rip(v);
	e.u.inout.port = p;
	e.u.inout.bytes = (uint8_t)size;
	e.u.inout.in = in;
	e.u.inout.eax = in ? size_mask(size) : val;
	tcg_stop_with_exit(v, &e);
	return size_mask(size);
}

static uint32_t hook_in(uc_engine *uc, uint32_t port, int size, void *user)
{
	(void)uc;
	return pio_access(user, true, port, size, 0);
}

static void hook_out(uc_engine *uc, uint32_t port, int size, uint32_t value,
		     void *user)
{
	(void)uc;
	pio_access(user, false, port, size, value);
}

uint64_t tcg_poll_deadline(struct vcpu *v)
{
	uint64_t d = lapic_next_deadline(v->lapic);
	uint64_t end = tcg_of(v)->entry_end;
	return d < end ? d : end;
}

/*
 * Stops before the block at addr. RIP is written first: Unicorn leaves it
 * where the last block that stored it left it (a block entered through a
 * direct jump from another does not store it), and it puts it right when
 * the engine stops only while no code hook exists at all; with an EXEC
 * watch or a step armed, the stop would rerun the blocks since then
 * (measured: a loop of two blocks ran one twice).
 */
static void stop_at_block(struct vcpu *v, uc_engine *uc, uint64_t addr)
{
	tcg_uc_set(uc, UC_X86_REG_RIP, addr - tcg_code_base(v));
	tcg_of(v)->block_stopped = true;
	uc_emu_stop(uc);
}

/* What hook_block does past its common case (below), and the deadline
 * poll: apart, so that the common case needs no stack frame (it was ~10%
 * of a compute-bound guest's time, most of it the prologue and epilogue
 * of a frame the common case never used). */
static __attribute__((noinline)) bool hook_block_poll(struct vcpu *v,
							uc_engine *uc,
							uint64_t addr)
{
	struct tcg_vcpu *t = tcg_of(v);
	t->poll_countdown = TCG_POLL_BLOCKS;
	if (vm_now_ns(v->vm) < t->poll_deadline)
		return false;
	stop_at_block(v, uc, addr);
	return true;
}

static __attribute__((noinline)) void hook_block_slow(struct vcpu *v,
							uc_engine *uc,
							uint64_t addr)
{
	struct tcg_vcpu *t = tcg_of(v);
	if (t->inject.pending)
		tcg_raise_pending_injection(v, addr);
	/* A one-instruction entry ends at the next block, or earlier through
	 * its code hook; stopping before its first instruction would make a
	 * step that does not move. */
	if (t->single_instruction) {
		if (t->blocks_run > 1) {
			tcg_disarm_step_hook(t);
			stop_at_block(v, uc, addr);
		}
		return;
	}
	if (t->poll_deadline != UINT64_MAX && --t->poll_countdown == 0 &&
	    hook_block_poll(v, uc, addr))
		return;
	bool shadow_done = t->stop_after_first_block && t->blocks_run > 1;
	if (t->irq_waits_for_if) {
		uint64_t rflags = 0;
		uc_reg_read(uc, UC_X86_REG_EFLAGS, &rflags);
		if (rflags & (1u << 9)) {
			t->irq_waits_for_if = false;
			shadow_done = true;
		}
	}
	/* A plain load first: the locked exchange costs more than the rest
	 * of this hook and is only needed when a stop is pending. */
	bool stop = atomic_load_explicit(&t->stop_flag, memory_order_relaxed) &&
		    atomic_exchange(&t->stop_flag, false);
	if (stop || shadow_done)
		stop_at_block(v, uc, addr);
}

/* A stop request is honoured here, where RIP is exact. The common case,
 * every block of plain execution (nothing to inject, no step, no shadow,
 * no stop asked), only counts the block and the deadline poll down. */
static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *user)
{
	(void)size;
	struct tcg_vcpu *t = user; /* not the vCPU: one load less per block */
	struct vcpu *v = t->vcpu;
	t->blocks_run++;
	bool special = t->inject.pending | t->single_instruction |
		       t->stop_after_first_block | t->irq_waits_for_if;
	if (__builtin_expect(special || atomic_load_explicit(
				 &t->stop_flag, memory_order_relaxed), 0)) {
		hook_block_slow(v, uc, addr);
		return;
	}
	if (t->poll_deadline != UINT64_MAX && --t->poll_countdown == 0)
		hook_block_poll(v, uc, addr);
}

/*
 * Deleted from inside the engine, so that uc_emu_start drops it from its
 * lists before it returns: a hook merely marked deleted at the next entry
 * would still be compiled into the blocks translated then.
 */
void tcg_disarm_step_hook(struct tcg_vcpu *t)
{
	if (t->step_hook_armed) {
		uc_hook_del(t->uc, t->step_hook);
		t->step_hook_armed = false;
	}
}

/* Installed only for a one-instruction entry, on the bytes after the
 * stepped instruction: the next instruction in the same block. */
void tcg_hook_step_code(uc_engine *uc, uint64_t addr, uint32_t size,
			void *user)
{
	(void)addr;
	(void)size;
	struct tcg_vcpu *t = tcg_of(user);
	t->step_hook_fired = true;
	tcg_disarm_step_hook(t);
	uc_emu_stop(uc);
}

/* ---- MMIO ---------------------------------------------------------------- */

static uint64_t lapic_mmio_read(uc_engine *uc, uint64_t off, unsigned size,
				void *user)
{
	(void)uc;
	struct vcpu *v = user;
	if (size != 4 || (off & 3))
		return 0;
	return lapic_read(v->lapic, (uint32_t)off, vm_now_ns(v->vm));
}

static void lapic_mmio_write(uc_engine *uc, uint64_t off, unsigned size,
			     uint64_t value, void *user)
{
	(void)uc;
	struct vcpu *v = user;
	if (size != 4 || (off & 3))
		return;
	lapic_write(v->lapic, (uint32_t)off, (uint32_t)value, vm_now_ns(v->vm));
	tcg_lapic_written(v);
}

void tcg_lapic_written(struct vcpu *v)
{
	/* The guest may have (re)armed its timer: poll the new deadline. */
	tcg_of(v)->poll_deadline = tcg_poll_deadline(v);
	/* EOI, TPR or a self-IPI may have made an interrupt deliverable:
	 * leave the engine so the run loop can inject it. */
	if (lapic_pending_intr(v->lapic) >= 0) {
		struct tcg_vcpu *t = tcg_of(v);
		if (t->hook_stop == TCG_STOP_NONE)
			t->hook_stop = TCG_STOP_REEVAL;
		atomic_store(&t->stop_flag, true);
	}
}

/* A registered device's handler runs on this thread; an access no device
 * claims is logged once and reported as an informational MMIO exit. */
static uint64_t mmio_access(struct tcg_mmio_ctx *c, uint64_t off,
			    unsigned size, bool write, uint64_t value)
{
	uint64_t gpa = c->base + off;
	uint64_t ones = size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
	if (c->range) {
		uint64_t val = write ? value : 0;
		int rc = c->range->fn(c->range->opaque, c->v->id, write, gpa,
				      size, &val);
		if (rc != 0)
			fprintf(stderr, "hvgdb: MMIO %#llx handler failed (%d)\n",
				(unsigned long long)gpa, rc);
		return val & ones;
	}
	if (vm_first_unknown_mmio(c->v->vm, gpa))
		fprintf(stderr, "hvgdb: vCPU %d: unclaimed MMIO %s at %#llx "
			"(%s; logged once)\n", c->v->id,
			write ? "write" : "read", (unsigned long long)gpa,
			write ? "ignored" : "reads all-ones");
	struct vm_exit e = { .exitcode = VM_EXITCODE_MMIO };
	e.rip = current_rip(c->v);
	e.u.mmio.gpa = gpa;
	e.u.mmio.bytes = (uint8_t)size;
	e.u.mmio.write = write;
	e.u.mmio.value = write ? value : ones;
	tcg_stop_with_exit(c->v, &e);
	return ones;
}

static uint64_t mmio_read(uc_engine *uc, uint64_t off, unsigned size,
			  void *user)
{
	(void)uc;
	return mmio_access(user, off, size, false, 0);
}

static void mmio_write(uc_engine *uc, uint64_t off, unsigned size,
		       uint64_t value, void *user)
{
	(void)uc;
	mmio_access(user, off, size, true, value);
}

static int map_mmio(struct vcpu *v, uint64_t start, uint64_t end,
		    const struct mmio_range *range)
{
	struct tcg_vcpu *t = tcg_of(v);
	if (end <= start)
		return 0;
	if (t->nmmio_ctx == sizeof(t->mmio_ctx) / sizeof(t->mmio_ctx[0]))
		return -ENOSPC;
	struct tcg_mmio_ctx *c = &t->mmio_ctx[t->nmmio_ctx++];
	c->v = v;
	c->range = range;
	c->base = start;
	uc_err e = uc_mmio_map(t->uc, start, end - start, mmio_read, c,
			       mmio_write, c);
	return e == UC_ERR_OK ? 0 : -EINVAL;
}

/* The catch-all covers [from, to) minus the registered ranges. */
static int map_unknown(struct vcpu *v, uint64_t from, uint64_t to)
{
	const struct vm *vm = v->vm;
	uint64_t cur = from;
	while (cur < to) {
		uint64_t next_start = to, next_end = to;
		for (unsigned i = 0; i < vm->nmmio; i++) {
			const struct mmio_range *r = &vm->mmio[i];
			if (r->gpa + r->len > cur && r->gpa < next_start) {
				next_start = r->gpa < cur ? cur : r->gpa;
				next_end = r->gpa + r->len;
			}
		}
		if (next_start > to)
			next_start = to;
		int rc = map_mmio(v, cur, next_start, NULL);
		if (rc < 0)
			return rc;
		cur = next_end > cur ? next_end : to;
	}
	return 0;
}

int tcg_map_devices(struct vcpu *v)
{
	struct tcg_vcpu *t = tcg_of(v);
	const struct vm *vm = v->vm;
	if (t->devices_mapped)
		return 0;
	if (uc_mmio_map(t->uc, LAPIC_BASE, LAPIC_SIZE, lapic_mmio_read, v,
			lapic_mmio_write, v) != UC_ERR_OK)
		return -EINVAL;
	for (unsigned i = 0; i < vm->nmmio; i++) {
		int rc = map_mmio(v, vm->mmio[i].gpa,
				  vm->mmio[i].gpa + vm->mmio[i].len,
				  &vm->mmio[i]);
		if (rc < 0)
			return rc;
	}
	uint64_t hole = vm->mem_size > MMIO_HOLE_START ? vm->mem_size
						       : MMIO_HOLE_START;
	int rc = map_unknown(v, hole, LAPIC_BASE);
	if (rc == 0)
		rc = map_unknown(v, LAPIC_BASE + LAPIC_SIZE, MMIO_HOLE_END);
	if (rc == 0)
		t->devices_mapped = true;
	return rc;
}

/* ---- Engine lifetime ----------------------------------------------------- */

int tcg_vcpu_init(struct vcpu *v, char *err, size_t errlen)
{
	struct tcg_vcpu *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	v->backend = t;
	t->vcpu = v;
	atomic_init(&t->stop_flag, false);
	atomic_init(&t->check_all_stores, false);
	tcg_watch_init(&t->watch);
	if (tcg_cpu_internals_check(err, errlen) < 0)
		return -ENOSYS;
	uc_err e = uc_open(UC_ARCH_X86, UC_MODE_64, &t->uc);
	if (e != UC_ERR_OK) {
		t->uc = NULL;
		snprintf(err, errlen, "uc_open: %s", uc_strerror(e));
		return -EINVAL;
	}
	/* The model decides what Unicorn decodes (and vendor quirks such as
	 * SYSENTER in 64-bit mode); both decode every feature CPUID reports
	 * (tcg_cpuid.c), and the CPUID hook, not the model, answers. */
	int model = v->vm->vendor == VM_CPU_VENDOR_AMD
			    ? UC_CPU_X86_EPYC_ROME
			    : UC_CPU_X86_SKYLAKE_SERVER;
	e = uc_ctl_set_cpu_model(t->uc, model);
	/* Bounded, and small enough that a flush (which zeroes it all,
	 * tcg_code_buffer.c) stays cheap; set before the engine's first use. */
	if (e == UC_ERR_OK)
		e = uc_ctl_set_tcg_buffer_size(
			t->uc, (uint32_t)v->vm->code_buffer_mib << 20);
	if (e == UC_ERR_OK)
		e = uc_mem_map_ptr(t->uc, 0, v->vm->mem_size, UC_PROT_ALL,
				   v->vm->ram);
	uc_hook h;
	if (e == UC_ERR_OK)
		e = uc_hook_add(t->uc, &h, UC_HOOK_INSN, (void *)hook_in, v, 1,
				0, UC_X86_INS_IN);
	if (e == UC_ERR_OK)
		e = uc_hook_add(t->uc, &h, UC_HOOK_INSN, (void *)hook_out, v,
				1, 0, UC_X86_INS_OUT);
	if (e == UC_ERR_OK)
		e = uc_hook_add(t->uc, &h, UC_HOOK_INTR, (void *)tcg_hook_intr,
				v, 1, 0);
	if (e == UC_ERR_OK)
		e = uc_hook_add(t->uc, &h, UC_HOOK_INSN_INVALID,
				(void *)tcg_hook_invalid_insn, v, 1, 0);
	if (e == UC_ERR_OK)
		e = uc_hook_add(t->uc, &h, UC_HOOK_INSN,
				(void *)tcg_hook_syscall, v, 1, 0,
				UC_X86_INS_SYSCALL);
	/* No exit address: uc_emu_start otherwise drops the translation at
	 * `until - 1` after every run, and that page walk leaves CR2 and
	 * QEMU's record of the exception in flight behind (the guest's next
	 * #PF then arrived as #DF). */
	if (e == UC_ERR_OK)
		e = uc_ctl_exits_enable(t->uc);
	if (e == UC_ERR_OK && tcg_code_coherence_init(v) < 0) {
		snprintf(err, errlen, "vCPU %d engine set-up: guest RAM is not "
			 "at Unicorn's RAM address 0", v->id);
		return -EINVAL;
	}
	if (e == UC_ERR_OK && tcg_cpu_ptrs_learn(t->uc, &t->cpu) < 0) {
		snprintf(err, errlen, "vCPU %d engine set-up: libunicorn no "
			 "longer calls the helpers hvgdb interposes", v->id);
		return -ENOSYS;
	}
	if (e == UC_ERR_OK)
		e = uc_hook_add(t->uc, &h, UC_HOOK_BLOCK, (void *)hook_block, t,
				1, 0);
	if (e == UC_ERR_OK && tcg_cpuid_init(v) < 0)
		e = UC_ERR_HOOK;
	if (e == UC_ERR_OK)
		tcg_tlb_sizing_init(t);
	if (e == UC_ERR_OK) {
		if (tcg_pause_exiting_init() < 0) {
			snprintf(err, errlen, "vCPU %d engine set-up: libunicorn "
				 "lacks the PAUSE helper hvgdb wraps", v->id);
			return -ENOSYS;
		}
		if (tcg_cr_write_init() < 0) {
			snprintf(err, errlen, "vCPU %d engine set-up: libunicorn "
				 "lacks the control-register helper hvgdb wraps",
				 v->id);
			return -ENOSYS;
		}
		if (tcg_watch_hooks_init() < 0 || tcg_guest_debug_init() < 0) {
			snprintf(err, errlen, "vCPU %d engine set-up: libunicorn "
				 "lacks the watchpoint and debug-register "
				 "functions hvgdb replaces", v->id);
			return -ENOSYS;
		}
		int rc = tcg_msr_init(v);
		if (rc < 0) {
			snprintf(err, errlen, "vCPU %d engine set-up: %s", v->id,
				 rc == -ENOMEM ? "out of memory"
					       : "libunicorn lacks the MSR and "
						 "TSC helpers hvgdb wraps");
			return rc;
		}
	}
	if (e != UC_ERR_OK) {
		snprintf(err, errlen, "vCPU %d engine set-up: %s", v->id,
			 uc_strerror(e));
		return -EINVAL;
	}
	return 0;
}

void tcg_vcpu_fini(struct vcpu *v)
{
	struct tcg_vcpu *t = tcg_of(v);
	if (!t)
		return;
	if (t->uc)
		tcg_guest_debug_close(t);
	free(t->code_pages);
	free(t);
	v->backend = NULL;
}

void tcg_kick(struct vcpu *v)
{
	struct tcg_vcpu *t = tcg_of(v);
	if (t)
		atomic_store(&t->stop_flag, true);
}
