/*
 * I/O APIC. Register semantics follow the 82093AA datasheet and the ICH
 * datasheets (version 0x20 adds the EOI register at offset 0x40).
 *
 * Each pin keeps its input level and, for edge-triggered pins, one latched
 * edge. Delivery is instant (an APIC bus message through ops.deliver), so a
 * pin is "send pending" (delivery status, bit 12) only while its entry is
 * masked and it has something to send: an edge that arrived while masked
 * (kept and sent on unmask, as QEMU does) or an asserted level input.
 *
 * Level-triggered pins send once and set remote IRR; the LAPIC's EOI
 * broadcast for the vector (ioapic_eoi) clears it, and a pin still asserted
 * sends again. NMI, INIT and ExtINT messages are always edge-triggered (the
 * trigger bit is ignored for them, SDM 10.5.1), so they never set remote
 * IRR; SMI and the reserved modes are not modelled and send nothing.
 */
#include "devices/ioapic.h"

#include <pthread.h>
#include <stdlib.h>

#include "sync/checked_mutex.h"

/* Register indices behind IOWIN. */
enum {
	REG_ID = 0x00,
	REG_VERSION = 0x01,
	REG_ARB = 0x02,
	REG_REDIR_FIRST = 0x10,
	REG_REDIR_LAST = REG_REDIR_FIRST + 2 * IOAPIC_PINS - 1,
};

/* Version 0x20 (with the EOI register), highest entry index 23. */
#define IOAPIC_VERSION (0x20u | ((IOAPIC_PINS - 1u) << 16))
#define ID_SHIFT 24
#define ID_MASK 0x0fu

/* Redirection entry fields. */
#define RTE_VECTOR 0xffull
#define RTE_DM_SHIFT 8
#define RTE_DEST_LOGICAL (1ull << 11)
#define RTE_DELIVERY_STATUS (1ull << 12)
#define RTE_POLARITY_LOW (1ull << 13)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_TRIGGER_LEVEL (1ull << 15)
#define RTE_MASKED (1ull << 16)
#define RTE_DEST_SHIFT 56
/* Delivery status and remote IRR are read-only. */
#define RTE_LOW_WRITABLE 0x0001afffu
#define RTE_HIGH_WRITABLE 0xff000000u

struct ioapic {
	struct checked_mutex lock;
	struct ioapic_ops ops;
	uint8_t id;
	uint8_t regsel;
	uint64_t redir[IOAPIC_PINS];
	uint32_t asserted;     /* input level per pin */
	uint32_t edge_latched; /* edge seen, not yet sent */
};

static enum ioapic_delivery delivery_mode(uint64_t rte)
{
	return (enum ioapic_delivery)((rte >> RTE_DM_SHIFT) & 7u);
}

/* Only fixed and lowest-priority messages can be level-triggered. */
static bool level_triggered(uint64_t rte)
{
	enum ioapic_delivery dm = delivery_mode(rte);

	return (rte & RTE_TRIGGER_LEVEL) &&
	       (dm == IOAPIC_DM_FIXED || dm == IOAPIC_DM_LOWEST);
}

static bool modelled_mode(enum ioapic_delivery dm)
{
	return dm == IOAPIC_DM_FIXED || dm == IOAPIC_DM_LOWEST ||
	       dm == IOAPIC_DM_NMI || dm == IOAPIC_DM_INIT ||
	       dm == IOAPIC_DM_EXTINT;
}

static void send_locked(struct ioapic *io, unsigned pin)
{
	lock_assert_held(&io->lock);
	uint64_t rte = io->redir[pin];
	struct ioapic_msg msg = {
		.dest = (uint8_t)(rte >> RTE_DEST_SHIFT),
		.dest_logical = rte & RTE_DEST_LOGICAL,
		.vector = (uint8_t)(rte & RTE_VECTOR),
		.mode = delivery_mode(rte),
		.level = level_triggered(rte),
		.pin = pin,
	};

	if (!modelled_mode(msg.mode) || !io->ops.deliver)
		return;
	io->ops.deliver(io->ops.ctx, &msg);
}

/* Send what the pin has to send, if its entry lets it. */
static void service_locked(struct ioapic *io, unsigned pin)
{
	lock_assert_held(&io->lock);
	uint32_t bit = 1u << pin;
	uint64_t *rte = &io->redir[pin];

	if (*rte & RTE_MASKED)
		return;
	if (level_triggered(*rte)) {
		if ((io->asserted & bit) && !(*rte & RTE_REMOTE_IRR)) {
			*rte |= RTE_REMOTE_IRR;
			send_locked(io, pin);
		}
	} else if (io->edge_latched & bit) {
		io->edge_latched &= ~bit;
		send_locked(io, pin);
	}
}

static uint32_t delivery_status_locked(const struct ioapic *io, unsigned pin)
{
	lock_assert_held(&io->lock);
	uint32_t bit = 1u << pin;
	uint64_t rte = io->redir[pin];
	bool pending = level_triggered(rte) ? (io->asserted & bit) != 0
					    : (io->edge_latched & bit) != 0;

	return (rte & RTE_MASKED) && pending ? (uint32_t)RTE_DELIVERY_STATUS
					     : 0;
}

static void write_redir_locked(struct ioapic *io, unsigned pin, bool high,
			       uint32_t val)
{
	lock_assert_held(&io->lock);
	uint64_t *rte = &io->redir[pin];

	if (high) {
		*rte = (*rte & 0xffffffffull) |
		       (uint64_t)(val & RTE_HIGH_WRITABLE) << 32;
		return;
	}
	*rte = (*rte & ~(uint64_t)RTE_LOW_WRITABLE) | (val & RTE_LOW_WRITABLE);
	if (level_triggered(*rte)) {
		/* An edge latched under the old mode means nothing now. */
		io->edge_latched &= ~(1u << pin);
	} else {
		/* Remote IRR is defined only for level-triggered pins. Linux
		 * clears a stuck one by switching the pin to edge and back. */
		*rte &= ~RTE_REMOTE_IRR;
	}
	service_locked(io, pin);
}

static void eoi_locked(struct ioapic *io, uint8_t vector)
{
	lock_assert_held(&io->lock);
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++) {
		uint64_t *rte = &io->redir[pin];

		if (!level_triggered(*rte) || !(*rte & RTE_REMOTE_IRR) ||
		    (uint8_t)(*rte & RTE_VECTOR) != vector)
			continue;
		*rte &= ~RTE_REMOTE_IRR;
		service_locked(io, pin);
	}
}

static uint32_t read_register_locked(const struct ioapic *io)
{
	lock_assert_held(&io->lock);
	unsigned reg = io->regsel;

	switch (reg) {
	case REG_ID:
	case REG_ARB: /* the arbitration ID is loaded from the ID */
		return (uint32_t)io->id << ID_SHIFT;
	case REG_VERSION:
		return IOAPIC_VERSION;
	default:
		break;
	}
	if (reg >= REG_REDIR_FIRST && reg <= REG_REDIR_LAST) {
		unsigned pin = (reg - REG_REDIR_FIRST) / 2;
		uint64_t rte = io->redir[pin];

		if (reg & 1u)
			return (uint32_t)(rte >> 32);
		return (uint32_t)rte | delivery_status_locked(io, pin);
	}
	return 0;
}

static void write_register_locked(struct ioapic *io, uint32_t val)
{
	lock_assert_held(&io->lock);
	unsigned reg = io->regsel;

	if (reg == REG_ID) {
		io->id = (uint8_t)((val >> ID_SHIFT) & ID_MASK);
	} else if (reg >= REG_REDIR_FIRST && reg <= REG_REDIR_LAST) {
		write_redir_locked(io, (reg - REG_REDIR_FIRST) / 2, reg & 1u,
				   val);
	}
	/* Version and arbitration are read-only. */
}

/* ---- public API --------------------------------------------------------- */

struct ioapic *ioapic_create(uint8_t id, const struct ioapic_ops *ops)
{
	struct ioapic *io = calloc(1, sizeof(*io));

	if (!io)
		return NULL;
	if (checked_mutex_init(&io->lock, LOCK_RANK_IOAPIC) != 0) {
		free(io);
		return NULL;
	}
	if (ops)
		io->ops = *ops;
	io->id = id & ID_MASK;
	/* Reset: every entry masked, edge, fixed, vector 0. */
	for (unsigned pin = 0; pin < IOAPIC_PINS; pin++)
		io->redir[pin] = RTE_MASKED;
	return io;
}

void ioapic_destroy(struct ioapic *io)
{
	if (!io)
		return;
	checked_mutex_destroy(&io->lock);
	free(io);
}

uint32_t ioapic_read(struct ioapic *io, uint32_t offset)
{
	uint32_t val = 0;

	checked_mutex_lock(&io->lock);
	if (offset == IOAPIC_REGSEL)
		val = io->regsel;
	else if (offset == IOAPIC_WINDOW)
		val = read_register_locked(io);
	checked_mutex_unlock(&io->lock);
	return val;
}

void ioapic_write(struct ioapic *io, uint32_t offset, uint32_t val)
{
	checked_mutex_lock(&io->lock);
	if (offset == IOAPIC_REGSEL)
		io->regsel = (uint8_t)val;
	else if (offset == IOAPIC_WINDOW)
		write_register_locked(io, val);
	else if (offset == IOAPIC_EOI)
		eoi_locked(io, (uint8_t)val);
	checked_mutex_unlock(&io->lock);
}

void ioapic_set_irq(struct ioapic *io, unsigned pin, bool asserted)
{
	if (pin >= IOAPIC_PINS)
		return;
	uint32_t bit = 1u << pin;

	checked_mutex_lock(&io->lock);
	bool rising = asserted && !(io->asserted & bit);

	if (asserted)
		io->asserted |= bit;
	else
		io->asserted &= ~bit;
	if (rising && !level_triggered(io->redir[pin]))
		io->edge_latched |= bit;
	service_locked(io, pin);
	checked_mutex_unlock(&io->lock);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	checked_mutex_lock(&io->lock);
	eoi_locked(io, vector);
	checked_mutex_unlock(&io->lock);
}
