/*
 * The VM object shared by vm.c, the scheduler and the backends. Nothing
 * outside src/vmm includes this; nothing here includes a Unicorn header.
 */
#ifndef HVGDB_VM_INTERNAL_H
#define HVGDB_VM_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "hvgdb/vmm.h"
#include "sync/checked_mutex.h"
#include "vmm/exec_sched.h"
#include "vmm/vm_watch.h"

struct lapic;
struct vcpu;

/* What a backend provides; vm.c does argument checking and locking. */
struct vm_backend_ops {
	const char *name;
	int (*vcpu_init)(struct vcpu *v, char *err, size_t errlen);
	void (*vcpu_fini)(struct vcpu *v);
	int (*get_reg)(struct vcpu *v, enum vm_reg_name r, uint64_t *val);
	int (*set_reg)(struct vcpu *v, enum vm_reg_name r, uint64_t val);
	int (*get_desc)(struct vcpu *v, enum vm_reg_name r, struct seg_desc *d);
	int (*set_desc)(struct vcpu *v, enum vm_reg_name r,
			const struct seg_desc *d);
	int (*get_fpregs)(struct vcpu *v, struct vm_fpregs *fp);
	int (*set_fpregs)(struct vcpu *v, const struct vm_fpregs *fp);
	int (*run)(struct vcpu *v, struct vm_exit *exit);
	/* Stop the engine if it is executing; callable from any thread. */
	void (*kick)(struct vcpu *v);
};

#define VCPU_MAX_INVAL 1024
/* Host writes up to this long keep their old bytes (code_write_queue.c). */
#define VCPU_INVAL_CHECK_MAX 16
#define VM_PAGE_SHIFT 12

/* A guest-memory range written since the vCPU's engine last saw it. */
struct code_write {
	uint64_t start, end;
	/* before[] holds what [start, end) read when the engine last ran. */
	bool checked;
	uint8_t before[VCPU_INVAL_CHECK_MAX];
};

struct pending_exception {
	bool valid;
	int vector;
	bool errcode_valid;
	uint32_t errcode;
	bool restart;
};

struct vcpu {
	struct vm *vm;
	int id;
	struct checked_mutex mtx; /* guards the fields below up to `backend` */
	pthread_cond_t cond; /* halted vCPU waits here (CLOCK_MONOTONIC) */
	bool suspended;
	bool halted;
	bool halted_interrupts_off; /* the hlt ran with IF 0 */
	bool started;
	/* vm_declare_guest_dead: reported by the next vm_run, once. */
	bool dead;
	bool dead_reported;
	char dead_reason[96];
	/* INIT/SIPI (vcpu_startup.c): waiting for a STARTUP IPI, an INIT
	 * to take, the vector of a STARTUP taken (-1: none). */
	bool wait_for_sipi;
	bool init_pending;
	int sipi_vector;
	uint64_t slices;
	struct pending_exception exc;
	/* Writes to guest memory not yet dropped from the engine's
	 * translation cache (code_write_queue.c); overflow means "flush
	 * everything". in_engine: between vcpu_take_invalidations and
	 * vcpu_left_engine; engine_entries counts the takes. inval_skipped:
	 * entries found unchanged. */
	struct code_write inval[VCPU_MAX_INVAL];
	unsigned ninval;
	bool inval_all;
	bool in_engine;
	uint64_t engine_entries;
	uint64_t inval_skipped;

	/* Set by other threads to make the vCPU re-check its state soon. */
	atomic_bool stop_req;

	/* Held while the vCPU may execute guest code (between sched_acquire
	 * and sched_release), for the lock-order checker: ranked EXEC, so
	 * its holder never takes the stub lock or sleeps on a condition
	 * (lock_order.h). */
	struct lock_token exec_token;

	/* Guarded by vm->sched.mtx. */
	uint64_t sched_last_run;   /* sched.epoch at its last engine entry */
	bool sched_waiting;        /* in sched_acquire */
	bool sched_expected;       /* resumed, not yet back at the lock */
	bool sched_urgent;         /* waiting with an interrupt sent to it */
	bool sched_step;           /* waiting to execute one instruction */
	bool sched_returning;      /* released the lock, will ask again */
	/* Parallel mode's head start (exec_head_start.c): the stamp of its
	 * last debug event (0: none yet); a member of the group; its
	 * thread's CPU clock and CPU time when it passed the gate; excused
	 * from waiting (suspended again while it waited). */
	uint64_t sched_last_event;
	bool sched_head;
	bool sched_head_began;
	clockid_t sched_cpu_clock;
	uint64_t sched_head_cpu0;
	bool sched_excused;
	/* Parallel mode: inside uc_emu_start; asked to leave it (when,
	 * guest ns) and stopped by a kick. */
	bool sched_in_engine;
	bool sched_kick_requested;
	bool sched_kicked;
	uint64_t sched_kicked_at;

	/* Owned by the vCPU thread (or by whoever holds it parked). */
	int caps[VM_CAP_MAX];
	uint64_t entry_inst_length;
	struct lapic *lapic;
	void *backend;
};

struct pio_range {
	uint16_t port, count;
	vm_pio_handler fn;
	void *opaque;
};

struct mmio_range {
	uint64_t gpa, len;
	vm_mmio_handler fn;
	void *opaque;
};

#define VM_MAX_PIO 32
#define VM_MAX_MMIO 16
#define VM_MAX_LOGGED_MMIO 64

struct vm {
	unsigned ncpus;
	uint64_t mem_size;
	enum vm_cpu_vendor vendor;
	unsigned code_buffer_mib; /* per vCPU engine */
	uint8_t *ram;
	/* Per guest page: how many vCPU engines hold translated code from
	 * it (tcg_code_coherence.c). Zero pages, allocated on demand. */
	_Atomic uint8_t *code_engines;
	const struct vm_backend_ops *ops;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	/* The guest clock (vm_now_ns): host monotonic time minus
	 * clock_offset_ns, frozen at frozen_at_ns (UINT64_MAX: running)
	 * while the debugger holds every vCPU, as QEMU's TCG does: a kernel
	 * stopped at a breakpoint for a minute must not see a minute pass.
	 * Transitions under clock_mtx; readers use the atomics only. */
	uint64_t clock_base_ns;
	_Atomic uint64_t clock_offset_ns;
	_Atomic uint64_t frozen_at_ns;
	uint64_t frozen_host_ns;
	struct checked_mutex clock_mtx;

	struct pio_range pio[VM_MAX_PIO];
	unsigned npio;
	struct mmio_range mmio[VM_MAX_MMIO];
	unsigned nmmio;

	struct checked_mutex state_mtx; /* shutdown state, log-once sets */
	atomic_bool shutdown;
	enum vm_shutdown_reason shutdown_reason;
	int shutdown_status;
	uint8_t logged_ports[65536 / 8];
	uint64_t logged_mmio[VM_MAX_LOGGED_MMIO];
	unsigned nlogged_mmio;

	struct exec_sched sched;
	/* The debugger's watchpoints and hardware breakpoints (vm_watch.h). */
	struct vm_watch_table watches;

	/* vm_set_eoi_listener; written before the vCPUs run. */
	void (*eoi_fn)(void *ctx, int vector);
	void *eoi_ctx;
};

uint64_t vm_now_ns(const struct vm *vm);
/* The host monotonic time (ns) at which the guest clock reads guest_ns,
 * if it keeps running. */
uint64_t vm_host_ns_of(const struct vm *vm, uint64_t guest_ns);
/* Wake a halted vCPU and make a running one leave the engine. */
void vcpu_notify(struct vcpu *v);
/* Make v leave its engine at its next block boundary, or not enter it
 * for long if it is about to (lock-free: callable from inside an engine,
 * under any lock). */
void vcpu_stop_soon(struct vcpu *v);
/* Writes to guest memory for the vCPUs' translation caches
 * (code_write_queue.c). vcpu_take_invalidations runs on the vCPU's thread
 * just before it enters its engine: it fills ranges (at most
 * VCPU_MAX_INVAL) with what must be dropped and returns how many, or -1
 * for "flush all"; vcpu_left_engine follows the engine's return. */
int vcpu_take_invalidations(struct vcpu *v, uint64_t (*ranges)[2]);
void vcpu_left_engine(struct vcpu *v);
/* Write len bytes of guest RAM at gpa (checked by the caller) and queue
 * them for every vCPU. */
void vm_host_write(struct vm *vm, uint64_t gpa, const void *buf, size_t len);
/* A guest store by `writer` into [start, end), which other vCPUs may hold
 * translated code from: every other vCPU drops it before it runs again. */
void vcpu_queue_code_write(struct vcpu *writer, uint64_t start, uint64_t end);
/* How many queued writes were found undone (bytes back as they were) and
 * cost no invalidation. */
uint64_t vcpu_invalidations_skipped(struct vcpu *v);
/* INIT/SIPI (vcpu_startup.c). The take functions run on the sender's
 * thread; vcpu_wait_for_start on the vCPU's own, before it runs guest
 * code: it sleeps while the vCPU waits for SIPI and, once one came, puts
 * the vCPU in real mode at the SIPI vector. *startable is false when it
 * returned for a suspend, a shutdown or another INIT instead. 0 or the
 * failing register write's -errno. */
void vcpu_take_init(struct vcpu *v);
void vcpu_take_sipi(struct vcpu *v, int vector);
int vcpu_wait_for_start(struct vcpu *v, bool *startable);
bool vcpu_waits_for_sipi(struct vcpu *v);
/* Port and MMIO lookup for registered devices; NULL if unclaimed. */
const struct pio_range *vm_find_pio(const struct vm *vm, uint16_t port);
const struct mmio_range *vm_find_mmio(const struct vm *vm, uint64_t gpa);
/* True the first time for this port/address (for log-once messages). */
bool vm_first_unknown_port(struct vm *vm, uint16_t port);
bool vm_first_unknown_mmio(struct vm *vm, uint64_t gpa);
/* Sleep in hlt until a wake event, suspend or shutdown; interrupts_enabled
 * is the guest's RFLAGS.IF. Returns true if woken by a guest event. */
bool vcpu_halt_sleep(struct vcpu *v, bool interrupts_enabled);
/* vm_declare_guest_dead's reason for v, taken once (false: none). The
 * backend turns it into VM_EXITCODE_GUEST_DEAD. */
bool vcpu_take_death(struct vcpu *v, char *reason, size_t len);
/* The backend says whether the vCPU is in the halt state (executed hlt,
 * not yet woken by an event): vm_get_vcpu_info's `halted`, also while a
 * debugger holds the vCPU there. */
void vcpu_set_halted(struct vcpu *v, bool halted);
/* Translate a linear address with the vCPU's current paging. */
int vcpu_gla2gpa(struct vcpu *v, uint64_t gla, int prot, uint64_t *gpa);

#endif
