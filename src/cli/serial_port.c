/* The COM1 UART wiring (see serial_port.h). */
#include "cli/serial_port.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "devices/uart16550.h"

static void flush_now(void *ctx)
{
	serial_port_flush(ctx);
}

/* UART lock held: the timer's arm takes only its own (leaf) mutex. */
static void partial_line_started(void *ctx)
{
	struct serial_port *sp = ctx;

	serial_flush_timer_arm(&sp->flusher);
}

/* UART tap; sp->lock held by whoever made the UART write out. */
static void output_leaves(void *ctx, const uint8_t *bytes, size_t len)
{
	struct serial_port *sp = ctx;

	if (sp->tap_fn)
		sp->tap_fn(sp->tap_ctx, sp->writer_vcpu, bytes, len);
}

int serial_port_open(struct serial_port *sp, const char *path, char *err,
		     size_t errlen)
{
	memset(sp, 0, sizeof(*sp));
	sp->out_fd = STDOUT_FILENO;
	sp->writer_vcpu = -1;
	if (path) {
		sp->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
				  O_CLOEXEC, 0644);
		if (sp->out_fd < 0) {
			int rc = -errno;

			snprintf(err, errlen, "serial file %s: %s", path,
				 strerror(-rc));
			return rc;
		}
		sp->own_fd = true;
	}
	sp->uart = uart_create(sp->out_fd);
	if (!sp->uart) {
		if (sp->own_fd)
			close(sp->out_fd);
		snprintf(err, errlen, "cannot create the UART");
		return -ENOMEM;
	}
	checked_mutex_init(&sp->lock, LOCK_RANK_SERIAL_PORT);
	int rc = serial_flush_timer_start(&sp->flusher, flush_now, sp);
	if (rc) {
		snprintf(err, errlen, "cannot start the serial flush thread: %s",
			 strerror(-rc));
		serial_port_close(sp);
		return rc;
	}
	uart_set_tx_listener(sp->uart, partial_line_started, sp);
	uart_set_output_tap(sp->uart, output_leaves, sp);
	return 0;
}

static int serial_pio(void *opaque, int vcpu, bool in, uint16_t port,
		      unsigned bytes, uint32_t *val)
{
	struct serial_port *sp = opaque;
	unsigned offset = (unsigned)(port - UART_COM1_BASE);

	(void)bytes; /* the 16550 has byte registers; wider accesses use
			the low byte, as on real hardware */
	checked_mutex_lock(&sp->lock);
	sp->writer_vcpu = vcpu;
	if (in)
		*val = uart_read(sp->uart, offset);
	else
		uart_write(sp->uart, offset, (uint8_t)*val);
	sp->writer_vcpu = -1;
	checked_mutex_unlock(&sp->lock);
	return 0;
}

int serial_port_register(struct serial_port *sp, struct vm *vm)
{
	return vm_register_pio(vm, UART_COM1_BASE, UART_PORT_COUNT,
			       serial_pio, sp);
}

size_t serial_port_receive(struct serial_port *sp, const uint8_t *bytes,
			   size_t len)
{
	checked_mutex_lock(&sp->lock);
	size_t taken = uart_receive(sp->uart, bytes, len);
	checked_mutex_unlock(&sp->lock);
	return taken;
}

void serial_port_on_rx_room(struct serial_port *sp, void (*fn)(void *ctx),
			    void *ctx)
{
	checked_mutex_lock(&sp->lock);
	uart_set_rx_room_listener(sp->uart, fn, ctx);
	checked_mutex_unlock(&sp->lock);
}

void serial_port_flush(struct serial_port *sp)
{
	checked_mutex_lock(&sp->lock);
	uart_flush(sp->uart);
	checked_mutex_unlock(&sp->lock);
}

void serial_port_set_output_tap(struct serial_port *sp,
				void (*fn)(void *ctx, int vcpu,
					   const uint8_t *bytes, size_t len),
				void *ctx)
{
	checked_mutex_lock(&sp->lock);
	sp->tap_fn = fn;
	sp->tap_ctx = ctx;
	checked_mutex_unlock(&sp->lock);
}

void serial_port_close(struct serial_port *sp)
{
	if (!sp->uart)
		return;
	/* The flush thread uses the UART: it goes first. The last flush
	 * (uart_destroy) is for the host only. */
	uart_set_tx_listener(sp->uart, NULL, NULL);
	uart_set_output_tap(sp->uart, NULL, NULL);
	serial_flush_timer_stop(&sp->flusher);
	uart_destroy(sp->uart);
	sp->uart = NULL;
	checked_mutex_destroy(&sp->lock);
	if (sp->own_fd)
		close(sp->out_fd);
}
