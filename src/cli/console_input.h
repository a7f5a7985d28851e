/*
 * Host input for the guest's serial port (`--serial stdio`): a thread
 * reads standard input and feeds COM1's receive FIFO at the guest's pace.
 *
 *   terminal, hvgdb in the foreground
 *       raw mode (host_terminal.h) and QEMU's Ctrl-A keys (escape_keys.h):
 *       Ctrl-A x quits, Ctrl-C is byte 0x03 for the guest
 *   terminal, hvgdb a background job
 *       left alone, output only (reading would stop hvgdb with SIGTTIN,
 *       and the shell owns the terminal's mode); said once on stderr
 *   pipe, file, /dev/null
 *       the bytes as they are (no escape keys); at end of file the guest
 *       gets no more input and the VM runs on
 *
 * Flow control: what the FIFO has no room for is held, and standard input
 * is not read meanwhile (a pipe's writer waits), until the guest takes
 * bytes (uart16550.h's rx-room listener): nothing is dropped.
 */
#ifndef HVGDB_CLI_CONSOLE_INPUT_H
#define HVGDB_CLI_CONSOLE_INPUT_H

#include <stddef.h>

struct serial_port;
struct console_input;

struct console_input_ops {
	/* Ctrl-A x: end the VM. Called from the input thread. */
	void (*quit)(void *ctx);
	void *ctx;
};

/* Start feeding sp from fd. *out is NULL when there is nothing to read
 * (fd closed, or a terminal hvgdb does not own). 0, or -errno with one
 * line in err (the terminal is left as it was). */
int console_input_start(struct console_input **out, int fd,
			struct serial_port *sp,
			const struct console_input_ops *ops, char *err,
			size_t errlen);
/* Stop the thread and give the terminal its mode back. NULL: no-op.
 * Before the serial port is closed. */
void console_input_stop(struct console_input *ci);

#endif
