#include "lapic.h"

#include "io.h"

#define LAPIC_BASE 0xfee00000u
#define REG_ID 0x20
#define REG_TPR 0x80
#define REG_EOI 0xb0
#define REG_SVR 0xf0
#define REG_ICR_LOW 0x300
#define REG_ICR_HIGH 0x310
#define REG_LVT_TIMER 0x320
#define REG_TIMER_INITIAL 0x380
#define REG_TIMER_DIVIDE 0x3e0

#define SVR_ENABLE 0x100u
#define SPURIOUS_VECTOR 0xffu
#define LVT_MASKED 0x10000u
#define LVT_TIMER_PERIODIC 0x20000u
#define TIMER_DIVIDE_BY_1 0xbu
#define ICR_SEND_PENDING 0x1000u
#define ICR_POLL_LIMIT 1000000

static uint32_t rd(unsigned reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

static void wr(unsigned reg, uint32_t v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

unsigned lapic_id(void)
{
	return rd(REG_ID) >> 24;
}

void lapic_enable(void)
{
	wr(REG_TPR, 0);
	wr(REG_SVR, SVR_ENABLE | SPURIOUS_VECTOR);
}

void lapic_eoi(void)
{
	wr(REG_EOI, 0);
}

void lapic_timer_start_periodic(unsigned vector, unsigned hz)
{
	if (hz == 0)
		hz = 1;
	wr(REG_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
	wr(REG_LVT_TIMER, LVT_TIMER_PERIODIC | (vector & 0xff));
	wr(REG_TIMER_INITIAL, LAPIC_TIMER_CLOCK_HZ / hz);
}

void lapic_timer_stop(void)
{
	wr(REG_LVT_TIMER, LVT_MASKED);
	wr(REG_TIMER_INITIAL, 0);
}

bool lapic_send_ipi(unsigned dest, uint32_t icr_low)
{
	wr(REG_ICR_HIGH, dest << 24);
	wr(REG_ICR_LOW, icr_low);
	for (unsigned i = 0; i < ICR_POLL_LIMIT; i++) {
		if (!(rd(REG_ICR_LOW) & ICR_SEND_PENDING))
			return true;
		cpu_relax();
	}
	return false;
}
