/* The exit device at port 0xf4 (see exit_device.h). */
#include "cli/exit_device.h"

int exit_device_status(uint32_t value)
{
	/* Only the low 8 bits survive exit(); keep the result positive. */
	return (int)((((uint64_t)value << 1) | 1) & 0xff);
}

static int exit_device_pio(void *opaque, int vcpu, bool in, uint16_t port,
			   unsigned bytes, uint32_t *val)
{
	struct exit_device *dev = opaque;
	uint64_t none = 0;
	uint32_t v;

	(void)vcpu;
	(void)port;
	if (in) {
		*val = 0xffffffffU; /* write-only, like QEMU's */
		return 0;
	}
	v = bytes >= 4 ? *val : *val & ((1U << (8 * bytes)) - 1);
	/* Two vCPUs may race to exit: the first value decides, as the VM
	 * keeps the first shutdown request. */
	atomic_compare_exchange_strong(&dev->first_value_plus1, &none,
				       (uint64_t)v + 1);
	vm_request_shutdown(dev->vm, VM_SHUTDOWN_EXIT_DEVICE,
			    exit_device_status(v));
	return 0;
}

bool exit_device_value(struct exit_device *dev, uint32_t *value)
{
	uint64_t recorded = atomic_load(&dev->first_value_plus1);

	if (!recorded)
		return false;
	*value = (uint32_t)(recorded - 1);
	return true;
}

int exit_device_register(struct exit_device *dev, struct vm *vm)
{
	dev->vm = vm;
	atomic_init(&dev->first_value_plus1, 0);
	return vm_register_pio(vm, EXIT_DEVICE_PORT, 1, exit_device_pio, dev);
}
