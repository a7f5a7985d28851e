/*
 * MC146818 RTC/CMOS. Register semantics from the Motorola MC146818A data
 * sheet; CMOS layout as PC BIOSes fill it.
 *
 * The clock keeps `epoch` (Unix seconds) and, while it runs, `ref_ns`: the
 * guest time at which that second began, so the current second and its
 * phase follow from now_ns. The time registers are encoded from that on
 * every read; writes decode the registers back into `epoch`.
 *
 * The periodic interrupt counts 32.768 kHz divider clocks from `div_ref_ns`
 * (the last divider reset release), so its phase is the divider chain's.
 */
#include "devices/mc146818.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "sync/checked_mutex.h"

#define NS_PER_S 1000000000LL
#define DIVIDER_HZ 32768LL
/* UIP rises this long before each update (244 us on the chip). */
#define UIP_LEAD_NS 244141LL

enum {
	REG_SECONDS = 0x00,
	REG_SECONDS_ALARM = 0x01,
	REG_MINUTES = 0x02,
	REG_MINUTES_ALARM = 0x03,
	REG_HOURS = 0x04,
	REG_HOURS_ALARM = 0x05,
	REG_DAY_OF_WEEK = 0x06,
	REG_DAY = 0x07,
	REG_MONTH = 0x08,
	REG_YEAR = 0x09,
	REG_A = 0x0a,
	REG_B = 0x0b,
	REG_C = 0x0c,
	REG_D = 0x0d,
	CMOS_BASE_MEM_LO = 0x15,
	CMOS_EXT_MEM_LO = 0x17,
	CMOS_CHECKSUM_HI = 0x2e,
	CMOS_EXT_MEM2_LO = 0x30,
	CMOS_CENTURY = 0x32,
	CMOS_MEM_ABOVE_16M_LO = 0x34,
	CMOS_MEM_ABOVE_4G = 0x5b,
};

#define A_UIP 0x80
#define A_DV(a) (((a) >> 4) & 7u)
#define A_RATE(a) ((a)&0x0fu)
#define DV_NORMAL 2u
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define D_VRT 0x80
#define INDEX_NMI_DISABLE 0x80
#define ALARM_DONT_CARE 0xc0
#define HOUR_PM 0x80

struct mc146818 {
	struct checked_mutex lock;
	struct irq_router *router;
	uint8_t cmos[MC146818_CMOS_SIZE];
	uint8_t index;
	bool nmi_disabled;
	bool running;  /* the time advances */
	int64_t epoch; /* seconds; while running, the second at ref_ns */
	int64_t ref_ns;
	int64_t div_ref_ns;
	int64_t last_ns; /* flags are up to date to here */
	uint8_t flags;   /* register C */
};

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* floor(ns * 32768 / 1e9) for ns >= 0, without overflow. */
static int64_t divider_clocks(int64_t ns)
{
	return ns / NS_PER_S * DIVIDER_HZ + ns % NS_PER_S * DIVIDER_HZ / NS_PER_S;
}

/* ceil(clocks * 1e9 / 32768) for clocks >= 0, without overflow. */
static int64_t divider_clocks_to_ns(int64_t clocks)
{
	return clocks / DIVIDER_HZ * NS_PER_S +
	       (clocks % DIVIDER_HZ * NS_PER_S + DIVIDER_HZ - 1) / DIVIDER_HZ;
}

static bool divider_running(const struct mc146818 *rtc)
{
	return A_DV(rtc->cmos[REG_A]) < 6;
}

/* Periodic interrupt period in divider clocks as a power of two, or -1. */
static int periodic_shift(const struct mc146818 *rtc)
{
	unsigned rate = A_RATE(rtc->cmos[REG_A]);

	if (rate == 0)
		return -1;
	/* Rates 1 and 2 repeat rates 8 and 9 (256 and 128 Hz). */
	return rate <= 2 ? (int)rate + 6 : (int)rate - 1;
}

static int64_t current_second(const struct mc146818 *rtc, int64_t now)
{
	if (!rtc->running)
		return rtc->epoch;
	return rtc->epoch + floor_div(now - rtc->ref_ns, NS_PER_S);
}

/* Guest ns since the running clock's last update. */
static int64_t second_phase(const struct mc146818 *rtc, int64_t now)
{
	int64_t since = now - rtc->ref_ns;

	return since - floor_div(since, NS_PER_S) * NS_PER_S;
}

static uint8_t to_reg(const struct mc146818 *rtc, int v)
{
	if (rtc->cmos[REG_B] & B_BINARY)
		return (uint8_t)v;
	return (uint8_t)((v / 10) << 4 | v % 10);
}

static int from_reg(const struct mc146818 *rtc, uint8_t v)
{
	if (rtc->cmos[REG_B] & B_BINARY)
		return v;
	return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t hour_to_reg(const struct mc146818 *rtc, int hour)
{
	if (rtc->cmos[REG_B] & B_24H)
		return to_reg(rtc, hour);
	int h12 = hour % 12 == 0 ? 12 : hour % 12;
	return (uint8_t)(to_reg(rtc, h12) | (hour >= 12 ? HOUR_PM : 0));
}

static int hour_from_reg(const struct mc146818 *rtc, uint8_t v)
{
	if (rtc->cmos[REG_B] & B_24H)
		return from_reg(rtc, v);
	return from_reg(rtc, v & ~HOUR_PM) % 12 + (v & HOUR_PM ? 12 : 0);
}

/* Encode second `t` into the time registers (and the century byte). */
static void encode_time(struct mc146818 *rtc, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm))
		return;
	rtc->cmos[REG_SECONDS] = to_reg(rtc, tm.tm_sec);
	rtc->cmos[REG_MINUTES] = to_reg(rtc, tm.tm_min);
	rtc->cmos[REG_HOURS] = hour_to_reg(rtc, tm.tm_hour);
	rtc->cmos[REG_DAY_OF_WEEK] = to_reg(rtc, tm.tm_wday + 1);
	rtc->cmos[REG_DAY] = to_reg(rtc, tm.tm_mday);
	rtc->cmos[REG_MONTH] = to_reg(rtc, tm.tm_mon + 1);
	int year = tm.tm_year + 1900;
	rtc->cmos[REG_YEAR] = to_reg(rtc, year % 100);
	rtc->cmos[CMOS_CENTURY] = to_reg(rtc, year / 100 % 100);
}

/* The second the time registers hold (out-of-range values wrap over, as
 * timegm normalises them). */
static int64_t decode_time(const struct mc146818 *rtc)
{
	struct tm tm = {
		.tm_sec = from_reg(rtc, rtc->cmos[REG_SECONDS]),
		.tm_min = from_reg(rtc, rtc->cmos[REG_MINUTES]),
		.tm_hour = hour_from_reg(rtc, rtc->cmos[REG_HOURS]),
		.tm_mday = from_reg(rtc, rtc->cmos[REG_DAY]),
		.tm_mon = from_reg(rtc, rtc->cmos[REG_MONTH]) - 1,
		.tm_year = from_reg(rtc, rtc->cmos[CMOS_CENTURY]) * 100 +
			   from_reg(rtc, rtc->cmos[REG_YEAR]) - 1900,
	};
	return (int64_t)timegm(&tm);
}

static bool alarm_matches(struct mc146818 *rtc, int64_t t)
{
	static const uint8_t pairs[][2] = {
		{ REG_SECONDS_ALARM, REG_SECONDS },
		{ REG_MINUTES_ALARM, REG_MINUTES },
		{ REG_HOURS_ALARM, REG_HOURS },
	};

	encode_time(rtc, t);
	for (unsigned i = 0; i < 3; i++) {
		uint8_t alarm = rtc->cmos[pairs[i][0]];

		if ((alarm & ALARM_DONT_CARE) != ALARM_DONT_CARE &&
		    alarm != rtc->cmos[pairs[i][1]])
			return false;
	}
	return true;
}

/* Caller holds the lock: raise the flags of the events since last_ns. */
static void update_locked(struct mc146818 *rtc, int64_t now)
{
	lock_assert_held(&rtc->lock);
	if (now > rtc->last_ns) {
		int shift = periodic_shift(rtc);

		if (shift >= 0 && divider_running(rtc) &&
		    rtc->last_ns >= rtc->div_ref_ns &&
		    divider_clocks(now - rtc->div_ref_ns) >> shift >
			    divider_clocks(rtc->last_ns - rtc->div_ref_ns) >> shift)
			rtc->flags |= C_PF;
		if (rtc->running && current_second(rtc, now) >
					    current_second(rtc, rtc->last_ns)) {
			rtc->flags |= C_UF;
			if (alarm_matches(rtc, current_second(rtc, now)))
				rtc->flags |= C_AF;
		}
		rtc->last_ns = now;
	}
	uint8_t b = rtc->cmos[REG_B];
	if (((rtc->flags & C_PF) && (b & B_PIE)) ||
	    ((rtc->flags & C_AF) && (b & B_AIE)) ||
	    ((rtc->flags & C_UF) && (b & B_UIE)))
		rtc->flags |= C_IRQF;
	if (rtc->router)
		irq_router_set_isa_irq(rtc->router, MC146818_IRQ,
				       rtc->flags & C_IRQF);
}

static void fill_memory_sizes(struct mc146818 *rtc,
			      const struct mc146818_config *cfg)
{
	const uint64_t kib = 1024, mib = 1024 * kib;
	uint64_t below = cfg->ram_below_4g;
	uint64_t ext_kib = below > mib ? (below - mib) / kib : 0;
	uint64_t above_16m = below > 16 * mib ? (below - 16 * mib) / (64 * kib)
					      : 0;
	uint64_t above_4g = cfg->ram_above_4g / (64 * kib);

	/* RAM below 4 GiB is at most 0xff00 units above 16 MiB: no cap. */
	if (below > (4ULL << 30))
		above_16m = (4ULL << 30) / (64 * kib) - 256;

	if (ext_kib > 0xffff)
		ext_kib = 0xffff;
	if (above_4g > 0xffffff)
		above_4g = 0xffffff;
	rtc->cmos[CMOS_BASE_MEM_LO] = 640 & 0xff;
	rtc->cmos[CMOS_BASE_MEM_LO + 1] = 640 >> 8;
	rtc->cmos[CMOS_EXT_MEM_LO] = rtc->cmos[CMOS_EXT_MEM2_LO] =
		(uint8_t)ext_kib;
	rtc->cmos[CMOS_EXT_MEM_LO + 1] = rtc->cmos[CMOS_EXT_MEM2_LO + 1] =
		(uint8_t)(ext_kib >> 8);
	rtc->cmos[CMOS_MEM_ABOVE_16M_LO] = (uint8_t)above_16m;
	rtc->cmos[CMOS_MEM_ABOVE_16M_LO + 1] = (uint8_t)(above_16m >> 8);
	for (unsigned i = 0; i < 3; i++)
		rtc->cmos[CMOS_MEM_ABOVE_4G + i] = (uint8_t)(above_4g >> (8 * i));

	unsigned sum = 0;
	for (unsigned i = 0x10; i < CMOS_CHECKSUM_HI; i++)
		sum += rtc->cmos[i];
	rtc->cmos[CMOS_CHECKSUM_HI] = (uint8_t)(sum >> 8);
	rtc->cmos[CMOS_CHECKSUM_HI + 1] = (uint8_t)sum;
}

struct mc146818 *mc146818_create(struct irq_router *router,
				 const struct mc146818_config *cfg,
				 uint64_t now_ns)
{
	struct mc146818 *rtc;

	if (!cfg || !(rtc = calloc(1, sizeof(*rtc))))
		return NULL;
	if (checked_mutex_init(&rtc->lock, LOCK_RANK_RTC) != 0) {
		free(rtc);
		return NULL;
	}
	rtc->router = router;
	/* As a BIOS leaves it: 32.768 kHz divider, 1024 Hz rate, BCD, 24 h. */
	rtc->cmos[REG_A] = 0x26;
	rtc->cmos[REG_B] = B_24H;
	rtc->cmos[REG_D] = D_VRT;
	fill_memory_sizes(rtc, cfg);
	rtc->running = true;
	rtc->epoch = cfg->unix_time;
	rtc->ref_ns = rtc->div_ref_ns = rtc->last_ns = (int64_t)now_ns;
	encode_time(rtc, rtc->epoch);
	return rtc;
}

void mc146818_destroy(struct mc146818 *rtc)
{
	if (!rtc)
		return;
	checked_mutex_destroy(&rtc->lock);
	free(rtc);
}

static bool is_time_register(unsigned reg)
{
	return reg <= REG_YEAR || reg == CMOS_CENTURY;
}

static bool is_alarm_register(unsigned reg)
{
	return reg == REG_SECONDS_ALARM || reg == REG_MINUTES_ALARM ||
	       reg == REG_HOURS_ALARM;
}

/* Stop the clock at its current second. */
static void stop_clock(struct mc146818 *rtc, int64_t now)
{
	if (!rtc->running)
		return;
	rtc->epoch = current_second(rtc, now);
	encode_time(rtc, rtc->epoch);
	rtc->running = false;
}

/* Run the clock from the time registers; the next update comes
 * `first_update_ns` from now. */
static void start_clock(struct mc146818 *rtc, int64_t now,
			int64_t first_update_ns)
{
	rtc->epoch = decode_time(rtc);
	rtc->ref_ns = now - (NS_PER_S - first_update_ns);
	rtc->running = true;
}

static uint8_t read_register(struct mc146818 *rtc, unsigned reg, int64_t now)
{
	uint8_t val;

	if (is_time_register(reg) && !is_alarm_register(reg)) {
		if (rtc->running)
			encode_time(rtc, current_second(rtc, now));
		return rtc->cmos[reg];
	}
	switch (reg) {
	case REG_A:
		val = rtc->cmos[REG_A];
		if (rtc->running &&
		    second_phase(rtc, now) >= NS_PER_S - UIP_LEAD_NS)
			val |= A_UIP;
		return val;
	case REG_C:
		val = rtc->flags;
		rtc->flags = 0;
		update_locked(rtc, now);
		return val;
	default:
		return rtc->cmos[reg];
	}
}

static void write_a(struct mc146818 *rtc, uint8_t val, int64_t now)
{
	bool was_running = divider_running(rtc);

	rtc->cmos[REG_A] = val & (uint8_t)~A_UIP;
	bool runs = divider_running(rtc);
	if (was_running && !runs) {
		stop_clock(rtc, now);
	} else if (!was_running && runs) {
		rtc->div_ref_ns = now;
		if (!(rtc->cmos[REG_B] & B_SET))
			start_clock(rtc, now, NS_PER_S / 2);
	}
}

static void write_b(struct mc146818 *rtc, uint8_t val, int64_t now)
{
	bool was_set = rtc->cmos[REG_B] & B_SET;

	if (val & B_SET) {
		/* SET stops updates; it also clears UIE. */
		stop_clock(rtc, now);
		val &= (uint8_t)~B_UIE;
	}
	rtc->cmos[REG_B] = val;
	if (was_set && !(val & B_SET) && divider_running(rtc))
		start_clock(rtc, now, NS_PER_S);
}

static void write_register(struct mc146818 *rtc, unsigned reg, uint8_t val,
			   int64_t now)
{
	switch (reg) {
	case REG_A:
		write_a(rtc, val, now);
		break;
	case REG_B:
		write_b(rtc, val, now);
		break;
	case REG_C:
	case REG_D: /* read-only */
		break;
	default:
		if (!is_time_register(reg) || is_alarm_register(reg) ||
		    !rtc->running) {
			rtc->cmos[reg] = val;
			break;
		}
		/* A running clock takes the new value at once and keeps the
		 * phase of its second. */
		encode_time(rtc, current_second(rtc, now));
		rtc->cmos[reg] = val;
		int64_t phase = second_phase(rtc, now);
		rtc->epoch = decode_time(rtc);
		rtc->ref_ns = now - phase;
		break;
	}
}

uint8_t mc146818_read(struct mc146818 *rtc, unsigned offset, uint64_t now_ns)
{
	if (offset != 1)
		return 0xff;
	checked_mutex_lock(&rtc->lock);
	int64_t now = (int64_t)now_ns;
	update_locked(rtc, now);
	uint8_t val = read_register(rtc, rtc->index, now);
	checked_mutex_unlock(&rtc->lock);
	return val;
}

void mc146818_write(struct mc146818 *rtc, unsigned offset, uint8_t val,
		    uint64_t now_ns)
{
	if (offset > 1)
		return;
	checked_mutex_lock(&rtc->lock);
	int64_t now = (int64_t)now_ns;
	update_locked(rtc, now);
	if (offset == 0) {
		rtc->index = val & (MC146818_CMOS_SIZE - 1);
		rtc->nmi_disabled = val & INDEX_NMI_DISABLE;
	} else {
		write_register(rtc, rtc->index, val, now);
		update_locked(rtc, now);
	}
	checked_mutex_unlock(&rtc->lock);
}

bool mc146818_nmi_disabled(struct mc146818 *rtc)
{
	checked_mutex_lock(&rtc->lock);
	bool v = rtc->nmi_disabled;
	checked_mutex_unlock(&rtc->lock);
	return v;
}

void mc146818_update(struct mc146818 *rtc, uint64_t now_ns)
{
	checked_mutex_lock(&rtc->lock);
	update_locked(rtc, (int64_t)now_ns);
	checked_mutex_unlock(&rtc->lock);
}

uint64_t mc146818_next_deadline(struct mc146818 *rtc)
{
	int64_t when = INT64_MAX;

	checked_mutex_lock(&rtc->lock);
	uint8_t b = rtc->cmos[REG_B];
	int shift = periodic_shift(rtc);
	if (!(rtc->flags & C_IRQF)) {
		if ((b & B_PIE) && shift >= 0 && divider_running(rtc)) {
			int64_t since = rtc->last_ns - rtc->div_ref_ns;
			int64_t next = ((divider_clocks(since) >> shift) + 1)
				       << shift;
			when = rtc->div_ref_ns + divider_clocks_to_ns(next);
		}
		if ((b & (B_UIE | B_AIE)) && rtc->running) {
			int64_t next = rtc->ref_ns +
				       (floor_div(rtc->last_ns - rtc->ref_ns,
						  NS_PER_S) + 1) * NS_PER_S;
			if (next < when)
				when = next;
		}
	}
	checked_mutex_unlock(&rtc->lock);
	return when == INT64_MAX || when < 0 ? UINT64_MAX : (uint64_t)when;
}
