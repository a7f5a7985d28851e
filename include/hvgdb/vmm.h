/*
 * hvgdb VM API, modelled on FreeBSD libvmmapi.
 *
 * One API whatever the backend: nothing above this header includes a Unicorn
 * or KVM header. Every function returns 0 on success or a negative errno,
 * unless its comment says otherwise. vCPUs are named by index 0..ncpus-1.
 *
 * Threading: vm_run(vm, n, ...) is called only from vCPU n's own thread.
 * vm_suspend_cpu/vm_resume_cpu/vm_request_shutdown may be called from any
 * thread. Register, capability and memory access for vCPU n may be called
 * from its own thread, or from another thread while vCPU n is provably not
 * executing guest code (it is parked after a SUSPENDED/BPT/MTRAP/DB exit, or
 * the VM has not started).
 */
#ifndef HVGDB_VMM_H
#define HVGDB_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_MAX_VCPUS 64
/* Guest RAM is one range [0, mem_size) below the 3 GiB MMIO hole. */
#define VM_MAX_MEMORY (3ULL << 30)
#define VM_MIN_MEMORY (2ULL << 20)

struct vm;

enum vm_cpu_vendor {
	VM_CPU_VENDOR_INTEL, /* MTRAP available; ENTRY_INST_LENGTH read/write */
	VM_CPU_VENDOR_AMD,   /* MTRAP refused, RFLAGS_TF instead; ENTRY_INST_LENGTH
				writes ignored (success), reads fail */
};

enum vm_backend_kind {
	VM_BACKEND_TCG, /* Unicorn; runs anywhere */
};

enum vm_exec_mode {
	/* HVGDB_EXEC=serial|parallel in the environment if set, else
	 * parallel with more than one vCPU and serial with one. */
	VM_EXEC_DEFAULT,
	VM_EXEC_SERIAL,   /* one vCPU executes at a time */
	VM_EXEC_PARALLEL, /* every vCPU at once */
};

struct vm_config {
	unsigned ncpus;
	uint64_t mem_size; /* bytes, multiple of 4 KiB */
	enum vm_cpu_vendor vendor;
	enum vm_backend_kind backend;
	/* Translated-code buffer per vCPU, MiB (0: VM_DEFAULT_CODE_BUFFER_MIB;
	 * else VM_MIN_CODE_BUFFER_MIB..VM_MAX_CODE_BUFFER_MIB). */
	unsigned code_buffer_mib;
	/* Whether vCPUs execute at once, each on its own host thread, or
	 * one at a time (docs/design-notes.md, "Parallel execution"). */
	enum vm_exec_mode exec_mode;
};

#define VM_DEFAULT_CODE_BUFFER_MIB 128
#define VM_MIN_CODE_BUFFER_MIB 1
#define VM_MAX_CODE_BUFFER_MIB 2048

/* On failure *vmp is NULL; a one-line reason is written to err if non-NULL. */
int vm_create(const struct vm_config *cfg, struct vm **vmp, char *err,
	      size_t errlen);
void vm_destroy(struct vm *vm);
/* The vCPU waits for INIT/SIPI instead of starting where its registers
 * point (an AP of a kernel booted with the PC protocols): it is put in the
 * INIT state at the reset vector (real mode, CS:IP F000:FFF0, what a
 * debugger sees meanwhile), and a STARTUP IPI starts it in real mode at
 * CS = vector << 8, IP 0. Before the vCPU first runs; 0 or -errno. */
int vm_set_wait_for_sipi(struct vm *vm, int vcpu);
unsigned vm_vcpu_count(const struct vm *vm);
uint64_t vm_mem_size(const struct vm *vm);
enum vm_cpu_vendor vm_cpu_vendor(const struct vm *vm);

/* ---- Registers --------------------------------------------------------- */

enum vm_reg_name {
	VM_REG_GUEST_RAX,
	VM_REG_GUEST_RBX,
	VM_REG_GUEST_RCX,
	VM_REG_GUEST_RDX,
	VM_REG_GUEST_RSI,
	VM_REG_GUEST_RDI,
	VM_REG_GUEST_RBP,
	VM_REG_GUEST_RSP,
	VM_REG_GUEST_R8,
	VM_REG_GUEST_R9,
	VM_REG_GUEST_R10,
	VM_REG_GUEST_R11,
	VM_REG_GUEST_R12,
	VM_REG_GUEST_R13,
	VM_REG_GUEST_R14,
	VM_REG_GUEST_R15,
	VM_REG_GUEST_RIP,
	VM_REG_GUEST_RFLAGS,
	VM_REG_GUEST_CR0,
	VM_REG_GUEST_CR2,
	VM_REG_GUEST_CR3,
	VM_REG_GUEST_CR4,
	VM_REG_GUEST_CR8,
	VM_REG_GUEST_EFER,
	/* Segment registers: get/set_register moves the selector only; the
	 * hidden part (base, limit, access) goes through vm_get/set_desc. */
	VM_REG_GUEST_ES,
	VM_REG_GUEST_CS,
	VM_REG_GUEST_SS,
	VM_REG_GUEST_DS,
	VM_REG_GUEST_FS,
	VM_REG_GUEST_GS,
	VM_REG_GUEST_LDTR,
	VM_REG_GUEST_TR,
	VM_REG_GUEST_IDTR, /* descriptor only */
	VM_REG_GUEST_GDTR, /* descriptor only */
	VM_REG_GUEST_FS_BASE,
	VM_REG_GUEST_GS_BASE,
	VM_REG_GUEST_KGS_BASE,
	/* The guest's own debug registers, as its MOV to DRn sets them: a
	 * write arms the breakpoint it describes, as the guest's would.
	 * Writing bits 63:32 of DR6 or DR7 is refused (-EINVAL; #GP on a
	 * CPU). The debugger's watches (vm_watch_insert) never show here. */
	VM_REG_GUEST_DR0,
	VM_REG_GUEST_DR1,
	VM_REG_GUEST_DR2,
	VM_REG_GUEST_DR3,
	VM_REG_GUEST_DR6,
	VM_REG_GUEST_DR7,
	/* Pseudo-register: instruction length used when a software exception
	 * (#BP) is injected, so the guest's handler returns after the int3.
	 * intel: read and written. amd: writes ignored (0), reads -ENOENT. */
	VM_REG_GUEST_ENTRY_INST_LENGTH,
	VM_REG_LAST
};

/* Access rights in the VMX layout: type 3:0, S 4, DPL 6:5, P 7, AVL 12,
 * L 13, D/B 14, G 15, unusable 16. vm_get_desc gives the hidden part the
 * vCPU uses (what it loaded, even if the descriptor table changed since);
 * in IA-32e mode the bases of CS, SS, DS and ES read 0. vm_set_desc stores
 * the hidden part as given: GDTR and IDTR (limit at most 0xffff), LDTR,
 * TR, and ES..GS, whose attributes the vCPU's mode is not re-derived from
 * (for a state whose descriptors agree with its mode, as boot sets up). */
struct seg_desc {
	uint64_t base;
	uint32_t limit;
	uint32_t access;
};

int vm_get_register(struct vm *vm, int vcpu, enum vm_reg_name reg,
		    uint64_t *val);
int vm_set_register(struct vm *vm, int vcpu, enum vm_reg_name reg,
		    uint64_t val);
int vm_get_desc(struct vm *vm, int vcpu, enum vm_reg_name reg,
		struct seg_desc *desc);
int vm_set_desc(struct vm *vm, int vcpu, enum vm_reg_name reg,
		const struct seg_desc *desc);

/* x87/SSE state, in the units GDB's i386 features use. */
struct vm_fpregs {
	uint8_t st[8][10]; /* 80-bit, physical register order st0..st7 */
	uint32_t fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop;
	uint8_t xmm[16][16];
	uint32_t mxcsr;
};
int vm_get_fpregs(struct vm *vm, int vcpu, struct vm_fpregs *fp);
int vm_set_fpregs(struct vm *vm, int vcpu, const struct vm_fpregs *fp);

/* ---- Capabilities ------------------------------------------------------ */

enum vm_cap_type {
	/* hlt exits as VM_EXITCODE_HLT instead of sleeping inside vm_run. */
	VM_CAP_HALT_EXIT,
	/* Exit after exactly one guest instruction (Intel MTF). intel only. */
	VM_CAP_MTRAP_EXIT,
	/* A guest #BP (int3) exits as VM_EXITCODE_BPT with RIP left on the
	 * int3 and inst_length set; off: #BP goes to the guest's IDT. */
	VM_CAP_BPT_EXIT,
	/* Step with RFLAGS.TF: exit VM_EXITCODE_DB (trace_trap, DR6.BS) after
	 * one instruction; the guest never sees the debugger's TF. amd only. */
	VM_CAP_RFLAGS_TF,
	/* Inject no external interrupt or NMI while set; RFLAGS.IF untouched. */
	VM_CAP_MASK_HWINTR,
	VM_CAP_MAX
};

/* -ENOENT when the personality lacks the capability. */
int vm_set_capability(struct vm *vm, int vcpu, enum vm_cap_type cap, int val);
int vm_get_capability(struct vm *vm, int vcpu, enum vm_cap_type cap, int *val);

/* ---- Debugger watchpoints and hardware breakpoints ---------------------- */

/*
 * What x86 debug registers do for a debugger, without their four slots and
 * without touching the guest's own DR0-DR7 (the guest's breakpoints keep
 * raising #DB in the guest, independently). Addresses are guest-linear, as
 * DR0-DR3: they apply to every vCPU through its own page tables at the
 * time of the access. A watch fires a VM_EXITCODE_WATCH exit on the vCPU
 * that hit it.
 */
enum vm_watch_kind {
	VM_WATCH_EXEC,   /* before the instruction at addr executes (len 1) */
	VM_WATCH_WRITE,  /* after an instruction wrote a byte of the range */
	VM_WATCH_READ,   /* ... read a byte of the range */
	VM_WATCH_ACCESS, /* ... read or wrote one */
};
/* How many distinct EXEC watches, and data watches, may be inserted. */
#define VM_MAX_HW_BREAKPOINTS 64
#define VM_MAX_WATCHPOINTS 64
/* A data watch covers at most this many bytes (any alignment). */
#define VM_MAX_WATCH_LEN (1ULL << 20)

/* Call with every vCPU stopped (as for breakpoints): each vCPU picks the
 * change up before it runs guest code again. Inserting the same watch
 * twice needs two removals. insert: 0, -EINVAL (len 0, over
 * VM_MAX_WATCH_LEN, EXEC with len != 1, or the range wraps), -ENOSPC (no
 * slot left). remove: 0 or -ENOENT. */
int vm_watch_insert(struct vm *vm, enum vm_watch_kind kind, uint64_t addr,
		    uint64_t len);
int vm_watch_remove(struct vm *vm, enum vm_watch_kind kind, uint64_t addr,
		    uint64_t len);

/* ---- Running ----------------------------------------------------------- */

enum vm_exitcode {
	VM_EXITCODE_HLT,         /* only with VM_CAP_HALT_EXIT */
	VM_EXITCODE_INOUT,       /* port access no device claimed; completed
				    (IN read all-ones) before the exit */
	VM_EXITCODE_MMIO,        /* MMIO access no device claimed; completed
				    (read all-ones) before the exit */
	VM_EXITCODE_BPT,         /* int3 with VM_CAP_BPT_EXIT; RIP on the int3 */
	VM_EXITCODE_MTRAP,       /* one instruction done with MTRAP_EXIT */
	VM_EXITCODE_DB,          /* trace trap (RFLAGS_TF step) */
	VM_EXITCODE_SUSPENDED,   /* vm_suspend_cpu() asked this vCPU to stop */
	VM_EXITCODE_GUEST_FAULT, /* the backend could not go on (unmapped
				    access, undeliverable event, bad state) */
	VM_EXITCODE_SHUTDOWN,    /* the VM is over; every vCPU sees this */
	VM_EXITCODE_TRIPLE_FAULT, /* the guest triple-faulted (u.fault says
				     where); registers and memory stay as at
				     the fault. The caller ends the VM
				     (VM_SHUTDOWN_TRIPLE_FAULT), perhaps
				     after a debugger looked at it; this
				     vCPU must not run again. */
	VM_EXITCODE_WATCH,       /* a vm_watch_insert watch fired (u.watch):
				    EXEC with RIP on the instruction, not yet
				    executed; data kinds with RIP after the
				    instruction that accessed the range */
	VM_EXITCODE_GUEST_DEAD,  /* vm_declare_guest_dead() named this vCPU:
				    the guest can never go on (u.fault.reason
				    says why). Handled as a crash, like
				    TRIPLE_FAULT. */
};

enum vm_shutdown_reason {
	VM_SHUTDOWN_EXIT_DEVICE, /* port 0xf4: status = (value << 1) | 1 */
	VM_SHUTDOWN_TRIPLE_FAULT,
	VM_SHUTDOWN_REQUESTED,   /* vm_request_shutdown(), e.g. gdb 'k' */
	VM_SHUTDOWN_GUEST_FAULT, /* a vCPU hit GUEST_FAULT; the run loop
				    decided to end the VM */
	VM_SHUTDOWN_POWER_OFF,   /* the guest powered off (ACPI S5) */
	VM_SHUTDOWN_RESET,       /* the guest reset the machine (8042 reset
				    line): hvgdb does not reboot, it ends,
				    as QEMU's -no-reboot */
};

struct vm_exit {
	enum vm_exitcode exitcode;
	uint64_t rip;
	union {
		struct {
			uint16_t port;
			uint8_t bytes;
			bool in;
			uint32_t eax;
		} inout;
		struct {
			uint64_t gpa;
			uint8_t bytes;
			bool write;
			uint64_t value;
		} mmio;
		struct {
			int inst_length;
		} bpt;
		struct {
			uint64_t dr6;
			bool trace_trap;
		} db;
		struct {
			enum vm_watch_kind kind;
			uint64_t addr; /* start of the watch, as inserted */
			uint64_t hit;  /* first watched byte the access
					  touched (EXEC: addr) */
		} watch;
		struct {
			uint64_t addr; /* faulting address when known */
			char reason[96];
		} fault;
		struct {
			enum vm_shutdown_reason reason;
			int status; /* process exit status hvgdb should use */
		} shutdown;
	} u;
};

/* Run vCPU until the next exit. Interrupt delivery, hlt sleeping and device
 * emulation happen inside. Returns 0 with *exit filled, or -errno. */
int vm_run(struct vm *vm, int vcpu, struct vm_exit *exit);

/*
 * Debugger suspension (bhyve's vm_suspend_cpu/vm_resume_cpu). vcpu -1 means
 * every vCPU. A suspended vCPU's vm_run returns VM_EXITCODE_SUSPENDED as soon
 * as it is at an instruction boundary (a running engine is stopped, a halted
 * vCPU is woken), and at once on every later call until resumed. No wake-up
 * is lost: the flag is checked under the vCPU's lock before executing and
 * before sleeping.
 */
int vm_suspend_cpu(struct vm *vm, int vcpu);
int vm_resume_cpu(struct vm *vm, int vcpu);
bool vm_cpu_suspended(struct vm *vm, int vcpu);

/* End the VM: every vCPU's vm_run returns SHUTDOWN with this reason. */
void vm_request_shutdown(struct vm *vm, enum vm_shutdown_reason reason,
			 int status);

/*
 * The VM's owner has seen that the guest can never go on (its kernel
 * panicked, or every vCPU sleeps in hlt with interrupts off): vcpu's
 * vm_run returns VM_EXITCODE_GUEST_DEAD with `reason` (truncated to
 * u.fault.reason) at its next instruction boundary, woken from hlt if it
 * sleeps there, before a pending suspend. Once: later calls for the same
 * vCPU keep the first reason. Any thread, device handlers included.
 */
int vm_declare_guest_dead(struct vm *vm, int vcpu, const char *reason);

/* Queue an exception for delivery through the guest IDT at the next entry.
 * restart_instruction: 1 = return RIP is the current RIP (fault); for #BP
 * and #OF the return RIP is RIP + ENTRY_INST_LENGTH (intel) or RIP (amd). */
int vm_inject_exception(struct vm *vm, int vcpu, int vector, int errcode_valid,
			uint32_t errcode, int restart_instruction);
int vm_inject_nmi(struct vm *vm, int vcpu);
/* Raise a fixed interrupt in vCPU's local APIC (IRR), waking it. */
int vm_lapic_irq(struct vm *vm, int vcpu, int vector);

/* An interrupt message on the APIC bus (from an IO-APIC or an MSI). */
enum vm_apic_delivery {
	VM_APIC_FIXED,
	VM_APIC_LOWEST, /* lowest priority: delivered to one matching APIC */
	VM_APIC_NMI,
};
/* Deliver to every local APIC the destination names (lapic.h's
 * lapic_matches_destination: physical APIC ID, logical mask, 0xff
 * broadcast), latching the vector with its trigger mode and waking the
 * vCPUs. Returns how many APICs accepted it, or -EINVAL. Any thread. */
int vm_apic_message(struct vm *vm, uint8_t dest, bool logical,
		    enum vm_apic_delivery mode, int vector, bool level);
/* Called after a guest's EOI of a vector accepted level-triggered (the
 * LAPIC's EOI broadcast), from the vCPU thread, without APIC locks held.
 * Set before the first vm_run; fn NULL removes it. */
void vm_set_eoi_listener(struct vm *vm, void (*fn)(void *ctx, int vector),
			 void *ctx);

/* The guest clock in ns (the clock the LAPIC timer runs on). */
uint64_t vm_guest_ns(struct vm *vm);

/* ---- Guest memory ------------------------------------------------------ */

/* Host pointer for [gpa, gpa+len) if it is all RAM, else NULL. Writes
 * through it are not seen by translated code: use vm_write_gpa for code. */
void *vm_map_gpa(struct vm *vm, uint64_t gpa, size_t len);
/* RAM only; -EFAULT if any byte is outside RAM. vm_write_gpa keeps every
 * vCPU's translation cache coherent for the written range. */
int vm_read_gpa(struct vm *vm, uint64_t gpa, void *buf, size_t len);
/* Device registers at gpa as vCPU `vcpu` sees them, read without side
 * effects (for a debugger): the local APIC page. 0, or -EFAULT when any
 * byte is not such a register page. */
int vm_peek_device(struct vm *vm, int vcpu, uint64_t gpa, void *buf,
		   size_t len);
int vm_write_gpa(struct vm *vm, uint64_t gpa, const void *buf, size_t len);

/* ---- Paging ------------------------------------------------------------ */

enum vm_cpu_mode {
	CPU_MODE_REAL,
	CPU_MODE_PROTECTED,
	CPU_MODE_COMPATIBILITY, /* IA-32e, 32-bit code segment */
	CPU_MODE_64BIT,
};

enum vm_paging_mode {
	PAGING_MODE_FLAT,
	PAGING_MODE_32,
	PAGING_MODE_PAE,
	PAGING_MODE_64,
	PAGING_MODE_64_LA57,
};

struct vm_guest_paging {
	uint64_t cr3;
	int cpl;
	enum vm_cpu_mode cpu_mode;
	enum vm_paging_mode paging_mode;
	bool wp;  /* CR0.WP */
	bool nxe; /* EFER.NXE */
};

#define VM_PROT_READ 1
#define VM_PROT_WRITE 2
#define VM_PROT_EXECUTE 4

enum vm_gla_fault {
	VM_GLA_OK = 0,
	VM_GLA_NOT_PRESENT,   /* a paging-structure entry had P=0 */
	VM_GLA_NONCANONICAL,  /* address not canonical for the mode */
	VM_GLA_PROTECTION,    /* present but prot/cpl not allowed */
	VM_GLA_RESERVED_BIT,  /* reserved bit set in an entry */
	VM_GLA_BAD_PHYS,      /* a paging structure lies outside RAM */
};

int vm_get_guest_paging(struct vm *vm, int vcpu, struct vm_guest_paging *pg);
/* Returns 0 with *fault == VM_GLA_OK and *gpa set, or 0 with *fault set to
 * why the guest would fault; negative errno only for bad arguments. */
int vm_gla2gpa(struct vm *vm, int vcpu, const struct vm_guest_paging *pg,
	       uint64_t gla, int prot, uint64_t *gpa, enum vm_gla_fault *fault);
/* Is gpa a byte of a paging structure that any vCPU's current CR3 leads to
 * (any level)? 1 yes, 0 no, -E2BIG when a vCPU's tables are too many to
 * search (more than 4096 non-leaf tables), other negative errno on error.
 * Call with the vCPUs stopped: their CR3s and tables must not move. */
int vm_gpa_in_paging_structures(struct vm *vm, uint64_t gpa);

/* ---- Devices ----------------------------------------------------------- */

/* Called synchronously from the vCPU thread doing the access. *val is in/out
 * for reads/writes. Return 0; a non-zero return is logged. */
typedef int (*vm_pio_handler)(void *opaque, int vcpu, bool in, uint16_t port,
			      unsigned bytes, uint32_t *val);
typedef int (*vm_mmio_handler)(void *opaque, int vcpu, bool write,
			       uint64_t gpa, unsigned bytes, uint64_t *val);
/* Register before the first vm_run. -EEXIST on overlap. */
int vm_register_pio(struct vm *vm, uint16_t port, uint16_t count,
		    vm_pio_handler fn, void *opaque);
int vm_register_mmio(struct vm *vm, uint64_t gpa, uint64_t len,
		     vm_mmio_handler fn, void *opaque);

/* Per-vCPU information for debuggers and `info vcpus`. */
struct vm_vcpu_info {
	bool halted;   /* sleeping in hlt */
	bool interrupts_off; /* with halted: the hlt ran with RFLAGS.IF 0,
				so only an NMI or INIT wakes it */
	bool waiting_for_sipi; /* an AP not started yet (vm_set_wait_for_sipi,
				  or INIT again): it runs nothing until a
				  STARTUP IPI */
	bool started;  /* has entered guest code at least once */
	uint64_t instructions_hint; /* slices run, for progress display */
};
int vm_get_vcpu_info(struct vm *vm, int vcpu, struct vm_vcpu_info *info);

#endif
