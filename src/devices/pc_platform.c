/* The legacy PC devices behind their ports; see pc_platform.h. */
#include "devices/pc_platform.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "devices/i8042.h"
#include "devices/i8254.h"
#include "devices/mc146818.h"
#include "devices/port61.h"

#define POST_CODE_PORT 0x80

struct pc_platform {
	uint64_t (*now_ns)(void *ctx);
	void *clock_ctx;
	struct irq_router *router;
	struct i8259 *pic;
	struct i8254 *pit;
	struct port61 *port61;
	struct mc146818 *rtc;
	struct i8042 *kbc;
	void (*cpu_reset)(void *ctx, int vcpu);
	void *reset_ctx;
	_Atomic uint8_t post_code;
};

static const struct {
	uint16_t port, count;
} port_ranges[] = {
	{ I8259_MASTER_PORT, 2 },
	{ I8259_SLAVE_PORT, 2 },
	{ I8259_ELCR_PORT, 2 },
	{ I8254_PORT, I8254_PORT_COUNT },
	{ PORT61_PORT, 1 },
	{ MC146818_PORT, MC146818_PORT_COUNT },
	{ POST_CODE_PORT, 1 },
	{ I8042_DATA_PORT, 1 },
	{ I8042_COMMAND_PORT, 1 },
};

struct pc_platform *pc_platform_create(const struct pc_platform_config *cfg)
{
	if (!cfg || !cfg->now_ns)
		return NULL;
	struct pc_platform *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->now_ns = cfg->now_ns;
	p->clock_ctx = cfg->clock_ctx;
	p->cpu_reset = cfg->cpu_reset;
	p->reset_ctx = cfg->reset_ctx;
	uint64_t now = p->now_ns(p->clock_ctx);
	struct mc146818_config rtc_cfg = { cfg->unix_time, cfg->ram_below_4g,
					   cfg->ram_above_4g };

	p->router = irq_router_create();
	p->pic = i8259_create(&cfg->pic_ops);
	if (!p->router || !p->pic || i8259_attach(p->pic, p->router) != 0)
		goto fail;
	p->pit = i8254_create(p->router, now);
	p->port61 = p->pit ? port61_create(p->pit) : NULL;
	p->rtc = mc146818_create(p->router, &rtc_cfg, now);
	p->kbc = i8042_create(p->router);
	if (!p->pit || !p->port61 || !p->rtc || !p->kbc)
		goto fail;
	return p;
fail:
	pc_platform_destroy(p);
	return NULL;
}

void pc_platform_destroy(struct pc_platform *p)
{
	if (!p)
		return;
	i8042_destroy(p->kbc);
	mc146818_destroy(p->rtc);
	port61_destroy(p->port61);
	i8254_destroy(p->pit);
	i8259_destroy(p->pic);
	irq_router_destroy(p->router);
	free(p);
}

int pc_platform_register_ports(struct pc_platform *p, struct vm *vm)
{
	return pc_platform_register_ports_via(p, vm, pc_platform_pio, p);
}

int pc_platform_register_ports_via(struct pc_platform *p, struct vm *vm,
				   vm_pio_handler fn, void *opaque)
{
	(void)p;
	for (size_t i = 0; i < sizeof(port_ranges) / sizeof(port_ranges[0]);
	     i++) {
		int rc = vm_register_pio(vm, port_ranges[i].port,
					 port_ranges[i].count, fn, opaque);
		if (rc != 0)
			return rc;
	}
	return 0;
}

enum device {
	DEV_NONE, DEV_PIC, DEV_PIT, DEV_PORT61, DEV_RTC, DEV_POST, DEV_KBC
};

static bool in_range(uint16_t port, uint16_t base, uint16_t count)
{
	return port >= base && port - base < count;
}

static enum device device_at(uint16_t port)
{
	if (in_range(port, I8259_MASTER_PORT, 2) ||
	    in_range(port, I8259_SLAVE_PORT, 2) ||
	    in_range(port, I8259_ELCR_PORT, 2))
		return DEV_PIC;
	if (in_range(port, I8254_PORT, I8254_PORT_COUNT))
		return DEV_PIT;
	if (port == PORT61_PORT)
		return DEV_PORT61;
	if (in_range(port, MC146818_PORT, MC146818_PORT_COUNT))
		return DEV_RTC;
	if (port == POST_CODE_PORT)
		return DEV_POST;
	if (port == I8042_DATA_PORT || port == I8042_COMMAND_PORT)
		return DEV_KBC;
	return DEV_NONE;
}

static uint8_t read_port(struct pc_platform *p, uint16_t port, uint64_t now)
{
	switch (device_at(port)) {
	case DEV_PIC:
		return i8259_read(p->pic, port);
	case DEV_PIT:
		return i8254_read(p->pit, port - I8254_PORT, now);
	case DEV_PORT61:
		return port61_read(p->port61, now);
	case DEV_RTC:
		return mc146818_read(p->rtc, port - MC146818_PORT, now);
	case DEV_KBC:
		return i8042_read(p->kbc, port);
	default: /* the POST code port, and ports that are not ours */
		return 0xff;
	}
}

/* Returns whether the write pulsed the CPU reset line. */
static bool write_port(struct pc_platform *p, uint16_t port, uint8_t val,
		       uint64_t now)
{
	switch (device_at(port)) {
	case DEV_PIC:
		i8259_write(p->pic, port, val);
		break;
	case DEV_PIT:
		i8254_write(p->pit, port - I8254_PORT, val, now);
		break;
	case DEV_PORT61:
		port61_write(p->port61, val, now);
		break;
	case DEV_RTC:
		mc146818_write(p->rtc, port - MC146818_PORT, val, now);
		break;
	case DEV_POST:
		atomic_store(&p->post_code, val);
		break;
	case DEV_KBC:
		return i8042_write(p->kbc, port, val) == I8042_RESET;
	case DEV_NONE:
		break;
	}
	return false;
}

int pc_platform_pio(void *opaque, int vcpu, bool in, uint16_t port,
		    unsigned bytes, uint32_t *val)
{
	struct pc_platform *p = opaque;
	uint64_t now = p->now_ns(p->clock_ctx);
	uint32_t result = 0;
	bool reset = false;

	if (bytes > 4)
		bytes = 4;
	for (unsigned i = 0; i < bytes; i++) {
		uint16_t byte_port = (uint16_t)(port + i);

		if (in)
			result |= (uint32_t)read_port(p, byte_port, now) << (8 * i);
		else if (write_port(p, byte_port, (uint8_t)(*val >> (8 * i)),
				    now))
			reset = true;
	}
	if (in)
		*val = result;
	if (reset && p->cpu_reset)
		p->cpu_reset(p->reset_ctx, vcpu);
	return 0;
}

void pc_platform_update(struct pc_platform *p, uint64_t now_ns)
{
	i8254_update(p->pit, now_ns);
	mc146818_update(p->rtc, now_ns);
}

uint64_t pc_platform_next_deadline(struct pc_platform *p)
{
	uint64_t pit = i8254_next_deadline(p->pit);
	uint64_t rtc = mc146818_next_deadline(p->rtc);

	return pit < rtc ? pit : rtc;
}

struct irq_router *pc_platform_irq_router(struct pc_platform *p)
{
	return p->router;
}

struct i8259 *pc_platform_pic(struct pc_platform *p)
{
	return p->pic;
}

uint8_t pc_platform_post_code(struct pc_platform *p)
{
	return atomic_load(&p->post_code);
}

bool pc_platform_nmi_disabled(struct pc_platform *p)
{
	return mc146818_nmi_disabled(p->rtc);
}
