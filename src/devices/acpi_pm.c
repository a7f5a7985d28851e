/*
 * ACPI PM1 block and PM timer (ACPI 6.x, section 4.8 "fixed hardware").
 *
 * There is no SMI_CMD port: the FADT says the platform is always in ACPI
 * mode, so SCI_EN reads as 1 and cannot be cleared. Sleep states other
 * than S5 are not offered by the DSDT; a guest that asks for one anyway
 * gets WAK_STS at once (it "wakes" immediately) rather than hanging in the
 * wake-status loop.
 *
 * The timer is derived from the guest clock: ticks = now_ns * 3579545 /
 * 10^9. TMR_STS is set when bit 31 of the tick count changes (about every
 * 600 s); that edge is computed when the registers are touched or at
 * acpi_pm_update(), so no host timer runs while nobody looks.
 */
#include "devices/acpi_pm.h"

#include <pthread.h>
#include <stdlib.h>

#include "sync/checked_mutex.h"

#define NS_PER_SEC 1000000000ull
#define PM1_CNT_WRITABLE 0x1c02u /* SLP_TYP, BM_RLD */
#define PM1_SCI_SOURCES \
	(ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN | \
	 ACPI_PM1_RTC)
#define PM1_EN_WRITABLE PM1_SCI_SOURCES

struct acpi_pm {
	struct checked_mutex lock;
	struct acpi_pm_ops ops;
	uint16_t sts, en, cnt;
	uint64_t tmr_epoch; /* tick count >> ACPI_PM_TIMER_BITS - 1 */
	bool sci_level;
};

/* floor(now_ns * F / 10^9) without overflowing 64 bits. */
static uint64_t ticks_at(uint64_t now_ns)
{
	return now_ns / NS_PER_SEC * ACPI_PM_TIMER_HZ +
	       now_ns % NS_PER_SEC * ACPI_PM_TIMER_HZ / NS_PER_SEC;
}

/* The first guest time at which ticks_at() reaches ticks (saturating). */
static uint64_t time_of_tick(uint64_t ticks)
{
	uint64_t secs = ticks / ACPI_PM_TIMER_HZ;
	uint64_t rem = ticks % ACPI_PM_TIMER_HZ;
	uint64_t frac = (rem * NS_PER_SEC + ACPI_PM_TIMER_HZ - 1) /
			ACPI_PM_TIMER_HZ;

	if (secs > (UINT64_MAX - frac) / NS_PER_SEC)
		return UINT64_MAX;
	return secs * NS_PER_SEC + frac;
}

uint32_t acpi_pm_timer(uint64_t now_ns)
{
	uint64_t mask = (1ull << ACPI_PM_TIMER_BITS) - 1;

	return (uint32_t)(ticks_at(now_ns) & mask);
}

static void update_sci_locked(struct acpi_pm *pm)
{
	lock_assert_held(&pm->lock);
	bool level = (pm->sts & pm->en & PM1_SCI_SOURCES) != 0;

	if (level == pm->sci_level)
		return;
	pm->sci_level = level;
	if (pm->ops.sci)
		pm->ops.sci(pm->ops.ctx, level);
}

static void latch_overflow_locked(struct acpi_pm *pm, uint64_t now_ns)
{
	lock_assert_held(&pm->lock);
	uint64_t epoch = ticks_at(now_ns) >> (ACPI_PM_TIMER_BITS - 1);

	if (epoch != pm->tmr_epoch) {
		pm->tmr_epoch = epoch;
		pm->sts |= ACPI_PM1_TMR;
	}
}

struct acpi_pm *acpi_pm_create(const struct acpi_pm_ops *ops)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	if (checked_mutex_init(&pm->lock, LOCK_RANK_ACPI_PM) != 0) {
		free(pm);
		return NULL;
	}
	if (ops)
		pm->ops = *ops;
	pm->cnt = ACPI_PM1_SCI_EN;
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	checked_mutex_destroy(&pm->lock);
	free(pm);
}

/* One byte of the block as the guest reads it. */
static uint8_t read_byte_locked(const struct acpi_pm *pm, unsigned off,
				uint64_t now_ns)
{
	lock_assert_held(&pm->lock);
	uint32_t reg;
	unsigned shift = (off & 1u) * 8;

	switch (off & ~1u) {
	case ACPI_PM1_EVT_OFFSET:
		reg = pm->sts;
		break;
	case ACPI_PM1_EVT_OFFSET + 2:
		reg = pm->en;
		break;
	case ACPI_PM1_CNT_OFFSET:
		reg = pm->cnt;
		break;
	case ACPI_PM_TMR_OFFSET:
	case ACPI_PM_TMR_OFFSET + 2:
		reg = acpi_pm_timer(now_ns);
		shift = (off - ACPI_PM_TMR_OFFSET) * 8;
		break;
	default:
		reg = 0; /* reserved bytes 6-7 */
		break;
	}
	return (uint8_t)(reg >> shift);
}

static bool valid_access(unsigned offset, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) &&
	       offset < ACPI_PM_PORT_COUNT;
}

uint32_t acpi_pm_read(struct acpi_pm *pm, unsigned offset, unsigned size,
		      uint64_t now_ns)
{
	uint32_t val = 0;

	if (!valid_access(offset, size))
		return 0xffffffffu;
	checked_mutex_lock(&pm->lock);
	latch_overflow_locked(pm, now_ns);
	update_sci_locked(pm);
	for (unsigned i = 0; i < size; i++) {
		unsigned off = offset + i;
		uint8_t b = off < ACPI_PM_PORT_COUNT
				    ? read_byte_locked(pm, off, now_ns)
				    : 0xff;
		val |= (uint32_t)b << (8 * i);
	}
	checked_mutex_unlock(&pm->lock);
	return val;
}

/* The bytes of a write that fall on the 16-bit register at reg_off, as a
 * value and a mask of the bits written. */
static bool slice16(unsigned offset, unsigned size, uint32_t val,
		    unsigned reg_off, uint16_t *bits, uint16_t *mask)
{
	*bits = 0;
	*mask = 0;
	for (unsigned i = 0; i < size; i++) {
		unsigned off = offset + i;

		if (off < reg_off || off >= reg_off + 2)
			continue;
		unsigned shift = (off - reg_off) * 8;
		*bits |= (uint16_t)(((val >> (8 * i)) & 0xffu) << shift);
		*mask |= (uint16_t)(0xffu << shift);
	}
	return *mask != 0;
}

/* Returns true if the guest asked for S5. */
static bool write_cnt_locked(struct acpi_pm *pm, uint16_t bits,
			     uint16_t mask)
{
	lock_assert_held(&pm->lock);
	uint16_t written = (uint16_t)((pm->cnt & ~mask) | (bits & mask));

	pm->cnt = (uint16_t)((written & PM1_CNT_WRITABLE) | ACPI_PM1_SCI_EN);
	if (!(bits & mask & ACPI_PM1_SLP_EN))
		return false;
	unsigned slp_typ = (written >> ACPI_PM1_SLP_TYP_SHIFT) & 7u;
	if (slp_typ == ACPI_S5_SLP_TYP)
		return true;
	pm->sts |= ACPI_PM1_WAK_STS;
	return false;
}

void acpi_pm_write(struct acpi_pm *pm, unsigned offset, unsigned size,
		   uint32_t val, uint64_t now_ns)
{
	uint16_t bits, mask;
	bool power_off = false;

	if (!valid_access(offset, size))
		return;
	checked_mutex_lock(&pm->lock);
	latch_overflow_locked(pm, now_ns);
	/* Status bits are write-1-to-clear. */
	if (slice16(offset, size, val, ACPI_PM1_EVT_OFFSET, &bits, &mask))
		pm->sts &= (uint16_t)~(bits & mask);
	if (slice16(offset, size, val, ACPI_PM1_EVT_OFFSET + 2, &bits, &mask))
		pm->en = (uint16_t)(((pm->en & ~mask) | (bits & mask)) &
				    PM1_EN_WRITABLE);
	if (slice16(offset, size, val, ACPI_PM1_CNT_OFFSET, &bits, &mask))
		power_off = write_cnt_locked(pm, bits, mask);
	/* The timer is read-only. */
	update_sci_locked(pm);
	struct acpi_pm_ops ops = pm->ops;
	checked_mutex_unlock(&pm->lock);

	if (power_off && ops.power_off)
		ops.power_off(ops.ctx);
}

void acpi_pm_update(struct acpi_pm *pm, uint64_t now_ns)
{
	checked_mutex_lock(&pm->lock);
	latch_overflow_locked(pm, now_ns);
	update_sci_locked(pm);
	checked_mutex_unlock(&pm->lock);
}

uint64_t acpi_pm_next_deadline(struct acpi_pm *pm)
{
	uint64_t deadline = UINT64_MAX;

	checked_mutex_lock(&pm->lock);
	if (pm->en & ACPI_PM1_TMR)
		deadline = time_of_tick((pm->tmr_epoch + 1)
					<< (ACPI_PM_TIMER_BITS - 1));
	checked_mutex_unlock(&pm->lock);
	return deadline;
}
