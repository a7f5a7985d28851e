/*
 * Local APIC model in xAPIC mode (MMIO page at 0xFEE00000) and x2APIC mode
 * (MSRs 0x800-0x8ff), switched by IA32_APIC_BASE: ID, version, TPR, EOI,
 * SVR, ISR/TMR/IRR, ESR, ICR (fixed, lowest-priority, NMI, INIT and STARTUP
 * IPIs to physical or logical destinations and shorthands; x2APIC: 32-bit
 * destinations, logical ones in the cluster model, SELF IPI), LVT timer
 * (one-shot, periodic, TSC-deadline), divide, initial/current count. The
 * timer counts at 1 GHz / divide, as QEMU's does, so guests time the same
 * under both.
 *
 * Thread-safe: each lapic has its own mutex; reads/writes come from its own
 * vCPU thread, lapic_set_irr/lapic_set_nmi from any thread.
 */
#ifndef HVGDB_LAPIC_H
#define HVGDB_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_BASE 0xFEE00000ULL
#define LAPIC_SIZE 0x1000ULL
#define LAPIC_TIMER_HZ 1000000000ULL

/* IA32_APIC_BASE (MSR 0x1b) bits. */
#define LAPIC_BASE_BSP (1ULL << 8)
#define LAPIC_BASE_EXTD (1ULL << 10) /* x2APIC mode */
#define LAPIC_BASE_ENABLE (1ULL << 11)
/* The x2APIC registers: MSR 0x800 + (MMIO offset >> 4). */
#define LAPIC_X2APIC_MSR_FIRST 0x800u
#define LAPIC_X2APIC_MSR_LAST 0x8ffu

/* IA32_APIC_BASE's EN and EXTD (SDM 11.12.5); EXTD without EN is the
 * invalid state. */
enum lapic_mode { LAPIC_MODE_DISABLED, LAPIC_MODE_XAPIC, LAPIC_MODE_X2APIC,
		  LAPIC_MODE_INVALID };

struct lapic;

enum lapic_delivery { LAPIC_DM_FIXED, LAPIC_DM_NMI, LAPIC_DM_INIT,
		      LAPIC_DM_STARTUP };

/* The ICR's destination shorthand. */
enum lapic_ipi_target { LAPIC_TO_DEST, LAPIC_TO_SELF, LAPIC_TO_ALL,
			LAPIC_TO_OTHERS };

/* An IPI as the ICR describes it. */
struct lapic_ipi {
	int from;                 /* the sender's APIC ID */
	enum lapic_ipi_target to;
	/* LAPIC_TO_DEST: the ICR's destination field, physical (an APIC ID,
	 * 0xff broadcast) or logical (matched against every LDR); the owner
	 * decides who it reaches with lapic_matches_destination, or for a
	 * sender in x2APIC mode (x2apic_format: 32 bits, 0xffffffff
	 * broadcast) with lapic_matches_x2apic_destination. */
	uint32_t dest;
	bool x2apic_format;
	bool logical;
	bool lowest_priority;     /* one of the matching APICs takes it */
	int vector;
	enum lapic_delivery mode;
};

struct lapic_ops {
	/* Send an IPI to the APICs it names. */
	void (*send_ipi)(void *ctx, const struct lapic_ipi *ipi);
	/* The timer was (re)programmed: the owner recomputes its deadline. */
	void (*timer_changed)(void *ctx, int apic_id);
	void *ctx;
	/* The guest wrote EOI for a vector that was accepted level-triggered
	 * (its TMR bit was set): the owner passes it on to every IO-APIC
	 * (ioapic_eoi), which clears the remote IRR of the pins using that
	 * vector. Optional; last so that positional initialisers stay valid. */
	void (*eoi_broadcast)(void *ctx, int apic_id, int vector);
};

struct lapic *lapic_create(unsigned apic_id, const struct lapic_ops *ops);
void lapic_destroy(struct lapic *l);

/* MMIO: offset within the page, 4-byte aligned accesses (others read 0 /
 * are ignored). now_ns is the guest clock. Out of xAPIC mode (x2APIC or
 * disabled) the page reads all-ones and ignores writes. */
uint32_t lapic_read(struct lapic *l, uint32_t offset, uint64_t now_ns);
void lapic_write(struct lapic *l, uint32_t offset, uint32_t val,
		 uint64_t now_ns);

/* The x2APIC MSR interface, msr in [LAPIC_X2APIC_MSR_FIRST,
 * LAPIC_X2APIC_MSR_LAST]. false: the access raises #GP (not in x2APIC
 * mode, no such register, a read of a write-only register or a write of a
 * read-only one, reserved bits 63:32 outside the ICR, a non-zero EOI or
 * ESR write). The ICR is one 64-bit register: a write sends the IPI. */
bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *val,
		    uint64_t now_ns);
bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t val,
		     uint64_t now_ns);

/* IA32_APIC_BASE: 0xfee00900 on the BSP (APIC ID 0), 0xfee00800 on the
 * others at reset. lapic_set_base returns false where the write raises
 * #GP: reserved bits, a new base address, the invalid state, x2APIC ->
 * xAPIC and disabled -> x2APIC. Disabling resets the registers (the ID
 * stays); xAPIC -> x2APIC keeps them. */
uint64_t lapic_get_base(struct lapic *l);
/* What an INIT does to the APIC (SDM "Local APIC State After an INIT
 * Reset"): every register as after power-up, the timer stopped, except
 * the APIC ID and IA32_APIC_BASE (its enable and x2APIC mode stay, as
 * KVM keeps them). */
void lapic_init_reset(struct lapic *l);
bool lapic_set_base(struct lapic *l, uint64_t val);
enum lapic_mode lapic_get_mode(struct lapic *l);

/* IA32_TSC_DEADLINE, in guest-clock ns (the owner converts from and to
 * TSC values). lapic_tsc_deadline: false if disarmed (the MSR reads 0),
 * always so out of TSC-deadline mode. lapic_set_tsc_deadline arms
 * (arm: deadline_ns, an expiry that is due fires at the next
 * lapic_timer_update) or disarms; ignored out of TSC-deadline mode. */
bool lapic_tsc_deadline(struct lapic *l, uint64_t *deadline_ns);
void lapic_set_tsc_deadline(struct lapic *l, bool arm, uint64_t deadline_ns);

/* TPR in any mode (CR8 is its bits 7:4). */
uint8_t lapic_tpr(struct lapic *l);
void lapic_set_tpr(struct lapic *l, uint8_t tpr);

/* Latch a fixed interrupt in IRR / an NMI. lapic_set_irr is an
 * edge-triggered interrupt (IPIs, the timer, MSIs); lapic_set_irr_trigger
 * also records the trigger mode in TMR, as the APIC does on acceptance: the
 * EOI of a vector accepted level-triggered is broadcast (eoi_broadcast). */
void lapic_set_irr(struct lapic *l, int vector);
void lapic_set_irr_trigger(struct lapic *l, int vector, bool level_triggered);
void lapic_set_nmi(struct lapic *l);

/* Would this APIC accept an interrupt message in xAPIC format (IO-APIC
 * redirection entry, MSI, an xAPIC ICR) sent to dest? Physical mode: dest
 * is its APIC ID or 0xff (broadcast). Logical mode: dest is matched
 * against the LDR in the model the DFR selects (flat: any common bit of
 * the 8-bit mask; cluster: same cluster in bits 7-4 and a common bit in
 * bits 3-0), in x2APIC mode against the logical x2APIC ID (cluster 0);
 * 0xff reaches every APIC. */
bool lapic_matches_destination(struct lapic *l, uint8_t dest, bool logical);
/* The same for an x2APIC-format destination (an ICR written in x2APIC
 * mode): physical, the 32-bit APIC ID; logical, cluster (bits 31:16) and
 * a common bit in 15:0 of the logical x2APIC ID, which an APIC still in
 * xAPIC mode does not have; 0xffffffff reaches every APIC. */
bool lapic_matches_x2apic_destination(struct lapic *l, uint32_t dest,
				      bool logical);

/* Fire the timer if its deadline is <= now_ns (re-arming a periodic one).
 * Returns true if it fired. */
bool lapic_timer_update(struct lapic *l, uint64_t now_ns);
/* Absolute deadline in ns of the next timer interrupt, UINT64_MAX if none. */
uint64_t lapic_next_deadline(struct lapic *l);

/* Highest-priority IRR vector deliverable now (above PPR), or -1. */
int lapic_pending_intr(struct lapic *l);
/* The CPU took vector: IRR -> ISR. */
void lapic_accept_intr(struct lapic *l, int vector);
/* Take a pending NMI (true once per NMI). */
bool lapic_take_nmi(struct lapic *l);
/* Anything that would wake a halted CPU with IF=1 (IRR above PPR) or NMI. */
bool lapic_has_wake_event(struct lapic *l, bool interrupts_enabled);

#endif
