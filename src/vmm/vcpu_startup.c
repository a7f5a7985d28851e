/*
 * INIT and STARTUP IPIs, as an x86 CPU takes them: INIT puts a vCPU into
 * wait-for-SIPI (it executes nothing), a STARTUP IPI with vector V then
 * starts it in real mode at CS:IP = V<<8:0 (linear V << 12), the state
 * Linux's and every SMP kernel's trampoline expects. vCPUs booted through
 * hvgdb's own ELF protocol all start at the entry point and never wait.
 *
 * The IPIs arrive on the sender's thread (lapic.c -> vm.c's send_ipi) and
 * only mark the target (under its mutex); the target's own thread changes
 * its registers, in vcpu_wait_for_start, because only the thread that runs
 * an engine may touch it. INIT also ends a hlt (vcpu_halt_sleep), drops a
 * pending event and resets the LAPIC but for its ID and mode
 * (lapic_init_reset): an offlined Linux CPU comes back so.
 */
#include <errno.h>

#include <stdio.h>

#include "devices/lapic.h"
#include "vmm/reg_plan.h"
#include "vmm/vm_internal.h"

/* Register state after INIT (Intel SDM Vol. 3A, table 10-1) with CS:IP
 * given: the reset vector's F000:FFF0 while the vCPU waits, the SIPI's
 * vector << 8 : 0 when it starts. CR0 keeps ET; CD/NW are set as after
 * INIT. CS's base is selector << 4 as a real-mode load makes it (after a
 * reset the base is 0xffff0000; a waiting vCPU runs nothing, so only a
 * debugger could tell). */
#define INIT_CR0 0x60000010ULL
#define REAL_MODE_LIMIT 0xffff
#define ACCESS_TSS_BUSY16 0x8b
#define ACCESS_LDT 0x82
#define RESET_CS 0xf000
#define RESET_IP 0xfff0

#define N(a) (sizeof(a) / sizeof((a)[0]))

static int enter_init_state(struct vm *vm, int id, uint16_t cs,
			    uint64_t ip)
{
	const struct desc_value descs[] = {
		{ VM_REG_GUEST_GDTR, { 0, REAL_MODE_LIMIT, 0 }, "gdtr", false },
		{ VM_REG_GUEST_IDTR, { 0, REAL_MODE_LIMIT, 0 }, "idtr", false },
		{ VM_REG_GUEST_LDTR, { 0, REAL_MODE_LIMIT, ACCESS_LDT }, "ldtr",
		  false },
		{ VM_REG_GUEST_TR, { 0, REAL_MODE_LIMIT, ACCESS_TSS_BUSY16 },
		  "tr", false },
	};
	const struct reg_value regs[] = {
		/* Paging off first: EFER then leaves long mode. */
		{ VM_REG_GUEST_CR0, INIT_CR0, "cr0" },
		{ VM_REG_GUEST_EFER, 0, "efer" },
		{ VM_REG_GUEST_CR4, 0, "cr4" },
		{ VM_REG_GUEST_CR3, 0, "cr3" },
		{ VM_REG_GUEST_CR2, 0, "cr2" },
		{ VM_REG_GUEST_CS, cs, "cs" },
		{ VM_REG_GUEST_DS, 0, "ds" },
		{ VM_REG_GUEST_ES, 0, "es" },
		{ VM_REG_GUEST_SS, 0, "ss" },
		{ VM_REG_GUEST_FS, 0, "fs" },
		{ VM_REG_GUEST_GS, 0, "gs" },
		{ VM_REG_GUEST_RAX, 0, "rax" }, { VM_REG_GUEST_RBX, 0, "rbx" },
		{ VM_REG_GUEST_RCX, 0, "rcx" }, { VM_REG_GUEST_RDX, 0, "rdx" },
		{ VM_REG_GUEST_RSI, 0, "rsi" }, { VM_REG_GUEST_RDI, 0, "rdi" },
		{ VM_REG_GUEST_RBP, 0, "rbp" }, { VM_REG_GUEST_RSP, 0, "rsp" },
		{ VM_REG_GUEST_RFLAGS, 2, "rflags" },
		{ VM_REG_GUEST_RIP, ip, "rip" },
	};
	char err[96];
	int rc = reg_plan_set_descs(vm, id, descs, N(descs), err, sizeof(err));
	if (rc == 0)
		rc = reg_plan_set_regs(vm, id, regs, N(regs), err, sizeof(err));
	if (rc)
		fprintf(stderr, "hvgdb: INIT/SIPI: %s\n", err);
	return rc;
}

int vm_set_wait_for_sipi(struct vm *vm, int vcpu)
{
	if (!vm || vcpu < 0 || (unsigned)vcpu >= vm->ncpus)
		return -EINVAL;
	/* As a PC's application processor waits: in the INIT state, at the
	 * reset vector (what a debugger shows until the SIPI). */
	int rc = enter_init_state(vm, vcpu, RESET_CS, RESET_IP);
	if (rc)
		return rc;
	struct vcpu *v = vm->vcpus[vcpu];
	checked_mutex_lock(&v->mtx);
	v->wait_for_sipi = true;
	v->sipi_vector = -1;
	checked_mutex_unlock(&v->mtx);
	return 0;
}

void vcpu_take_init(struct vcpu *v)
{
	checked_mutex_lock(&v->mtx);
	v->init_pending = true;
	v->sipi_vector = -1; /* a SIPI before this INIT is void */
	checked_mutex_unlock(&v->mtx);
	vcpu_notify(v);
}

void vcpu_take_sipi(struct vcpu *v, int vector)
{
	checked_mutex_lock(&v->mtx);
	/* A CPU that is not waiting ignores STARTUP (Linux sends two). */
	if (v->wait_for_sipi || v->init_pending)
		v->sipi_vector = vector;
	checked_mutex_unlock(&v->mtx);
	vcpu_notify(v);
}

int vcpu_wait_for_start(struct vcpu *v, bool *startable)
{
	struct vm *vm = v->vm;
	int vector = -1;
	bool took_init = false;
	*startable = true;
	checked_mutex_lock(&v->mtx);
	if (v->init_pending) {
		v->init_pending = false;
		v->wait_for_sipi = true;
		v->exc.valid = false; /* INIT drops a pending event */
		took_init = true;
	}
	checked_mutex_unlock(&v->mtx);
	/* Outside the vCPU's mutex: the reset tells the VM its timer stopped. */
	if (took_init && v->lapic)
		lapic_init_reset(v->lapic);
	checked_mutex_lock(&v->mtx);
	if (!v->wait_for_sipi) {
		checked_mutex_unlock(&v->mtx);
		return 0;
	}
	while (v->sipi_vector < 0 && !v->init_pending && !v->suspended &&
	       !atomic_load(&vm->shutdown))
		checked_cond_wait(&v->cond, &v->mtx);
	if (v->sipi_vector >= 0 && !v->init_pending) {
		vector = v->sipi_vector;
		v->sipi_vector = -1;
		v->wait_for_sipi = false;
	}
	checked_mutex_unlock(&v->mtx);
	if (vector < 0) {
		*startable = false; /* suspended, shut down or INIT again */
		return 0;
	}
	return enter_init_state(vm, v->id, (uint16_t)(vector << 8), 0);
}

bool vcpu_waits_for_sipi(struct vcpu *v)
{
	checked_mutex_lock(&v->mtx);
	bool waiting = v->wait_for_sipi || v->init_pending;
	checked_mutex_unlock(&v->mtx);
	return waiting;
}
