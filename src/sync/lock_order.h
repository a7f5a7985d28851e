/*
 * Every lock in hvgdb, outermost first. A thread may take a lock only if
 * it holds no lock of the same or a later rank: a cycle of waits then
 * cannot form. Debug builds check this on every acquire (checked_mutex.h);
 * docs/design-notes.md ("Lock order") has the same list, and
 * unit.test_lock_order fails if the two disagree.
 *
 * Ranks are named after what they guard. Several locks may share a rank
 * (every vCPU's mutex is VCPU); two of them are never held together.
 */
#ifndef HVGDB_SYNC_LOCK_ORDER_H
#define HVGDB_SYNC_LOCK_ORDER_H

/* X(ID, name): ID gives LOCK_RANK_ID; name is what a report prints. */
#define HVGDB_LOCK_RANKS(X)                                                \
	/* gdbstub: the session and the vCPU event machine (ev.lock); its   \
	 * holder calls the target ops, and so the whole VM API */          \
	X(STUB, "stub")                                                    \
	/* a vCPU's right to execute guest code: a token per vCPU, not a  \
	 * mutex (exec_sched.c, exec_parallel.c); device handlers run under \
	 * it, and a vCPU never enters the debug server holding it */       \
	X(EXEC, "exec")                                                    \
	/* cli: the run's COM1 (serial_port.c), around the UART */          \
	X(SERIAL_PORT, "serial_port")                                      \
	/* device models, each raising its IRQ line under its own lock */   \
	X(UART, "uart")                                                    \
	X(PORT61, "port61") /* reads and gates PIT channel 2 */            \
	X(PIT, "pit")                                                      \
	X(RTC, "rtc")                                                      \
	X(ACPI_PM, "acpi_pm")                                              \
	X(I8042, "i8042") /* keyboard controller: IRQs 1 and 12 */         \
	X(HPET, "hpet") /* its comparators' IRQ lines */                   \
	/* the interrupt router: tells its sinks of line changes */         \
	X(IRQ_ROUTER, "irq_router")                                        \
	/* the sinks: the PIC pair, the IO-APIC (whose delivery takes the   \
	 * LAPIC, vCPU and scheduler locks through vm_apic_message) */      \
	X(PIC, "pic")                                                      \
	X(IOAPIC, "ioapic")                                                \
	/* one vCPU's flags, halt sleep and invalidation queue (vm.c) */    \
	X(VCPU, "vcpu")                                                    \
	/* the scheduler's state and the preemption thread (exec_sched.c) */\
	X(SCHED, "sched")                                                  \
	X(LAPIC, "lapic")                                                  \
	/* leaves: nothing is taken under them */                           \
	X(GUEST_CLOCK, "guest_clock") /* its freeze and thaw (vm.c) */     \
	X(VM_STATE, "vm_state") /* shutdown state, log-once sets (vm.c) */ \
	X(VM_WATCHES, "vm_watches") /* the debugger's watches (vm_watch.c) */ \
	X(PANIC_WATCH, "panic_watch") /* cli: console output scanned */   \
	X(SERIAL_FLUSH_TIMER, "serial_flush_timer") /* cli thread's wait */ \
	X(HALT_WATCH, "halt_watch") /* cli thread's wait */                \
	X(PLATFORM_TIMER, "platform_timer") /* cli timer thread's wait */

enum lock_rank {
#define HVGDB_LOCK_RANK_ENUM(id, name) LOCK_RANK_##id,
	HVGDB_LOCK_RANKS(HVGDB_LOCK_RANK_ENUM)
#undef HVGDB_LOCK_RANK_ENUM
	LOCK_RANK_COUNT
};

/* The rank's name as in the design notes ("stub", "vcpu", ...). */
const char *lock_rank_name(enum lock_rank rank);

#endif
