/* The guest's own ends of a kernel boot (see panic_and_reset.h). */
#include "cli/panic_and_reset.h"

#include <stdio.h>
#include <string.h>

#include "cli/serial_port.h"

/* The vCPU to stop when hvgdb itself flushed the line (-1). */
static int vcpu_or_bsp(int vcpu)
{
	return vcpu < 0 ? 0 : vcpu;
}

/* Serial port and UART locks held (the output tap). */
static void console_output(void *ctx, int vcpu, const uint8_t *bytes,
			   size_t len)
{
	struct panic_and_reset *pr = ctx;
	char reason[sizeof(pr->watch.message) + 32];

	checked_mutex_lock(&pr->lock);
	enum panic_watch_event e = panic_watch_feed(&pr->watch, bytes, len);
	snprintf(reason, sizeof(reason), "kernel panic: %s",
		 pr->watch.message);
	checked_mutex_unlock(&pr->lock);
	/* panic=0: the kernel's last words; it spins from here on. */
	if (e == PANIC_WATCH_STOPPED)
		vm_declare_guest_dead(pr->vm, vcpu_or_bsp(vcpu), reason);
}

void panic_and_reset_cpu_reset(void *ctx, int vcpu)
{
	struct panic_and_reset *pr = ctx;
	char reason[sizeof(pr->watch.message) + 32];

	checked_mutex_lock(&pr->lock);
	bool panicked = pr->watch.panicked;
	snprintf(reason, sizeof(reason), "kernel panic, then a reset: %s",
		 pr->watch.message);
	checked_mutex_unlock(&pr->lock);
	if (panicked)
		vm_declare_guest_dead(pr->vm, vcpu_or_bsp(vcpu), reason);
	else
		vm_request_shutdown(pr->vm, VM_SHUTDOWN_RESET, 0);
}

int panic_and_reset_start(struct panic_and_reset *pr, struct vm *vm,
			  struct serial_port *sp)
{
	int rc = -checked_mutex_init(&pr->lock, LOCK_RANK_PANIC_WATCH);

	if (rc)
		return rc;
	pr->vm = vm;
	pr->serial = sp;
	panic_watch_init(&pr->watch);
	pr->ready = true;
	serial_port_set_output_tap(sp, console_output, pr);
	return 0;
}

void panic_and_reset_stop(struct panic_and_reset *pr)
{
	if (!pr->ready)
		return;
	serial_port_set_output_tap(pr->serial, NULL, NULL);
	checked_mutex_destroy(&pr->lock);
	pr->ready = false;
}
