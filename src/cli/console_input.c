/* Standard input into the guest's serial port (see console_input.h). */
#include "cli/console_input.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/escape_keys.h"
#include "cli/host_terminal.h"
#include "cli/report.h"
#include "cli/serial_port.h"

/* One read's worth; a typist never comes near it, a pipe is held back. */
#define INPUT_CHUNK 256

struct console_input {
	int fd;
	bool is_terminal;
	struct serial_port *sp;
	struct console_input_ops ops;
	/* Self-pipe: the FIFO has room again, or stop. */
	int wake[2];
	atomic_bool stopping;
	atomic_bool wants_room;
	pthread_t thread;
	struct escape_keys keys;
	bool input_over; /* end of file, error, or Ctrl-A x */
	uint8_t held[INPUT_CHUNK];
	size_t held_off, held_len;
};

static void wake_up(struct console_input *ci)
{
	/* Non-blocking: a full pipe already wakes the thread. */
	if (write(ci->wake[1], "w", 1) < 0)
		return;
}

/* Guest thread, UART lock held: only a byte into the pipe. */
static void on_rx_room(void *ctx)
{
	struct console_input *ci = ctx;

	if (atomic_load(&ci->wants_room))
		wake_up(ci);
}

static void drain_wake_pipe(struct console_input *ci)
{
	char buf[64];

	while (read(ci->wake[0], buf, sizeof(buf)) > 0)
		;
}

/* Offer what is held; true when all of it was taken. */
static bool feed_held(struct console_input *ci)
{
	/* Asked before offering: a guest read between the offer and the
	 * poll still leaves a byte in the pipe. */
	atomic_store(&ci->wants_room, true);
	size_t n = serial_port_receive(ci->sp, ci->held + ci->held_off,
				       ci->held_len);
	ci->held_off += n;
	ci->held_len -= n;
	if (ci->held_len)
		return false;
	atomic_store(&ci->wants_room, false);
	ci->held_off = 0;
	return true;
}

static void help(void)
{
	/* stderr: the serial output on stdout may be mid-line. */
	if (write(STDERR_FILENO, escape_keys_help,
		  strlen(escape_keys_help)) < 0)
		return;
}

/* Turn what was read into bytes for the guest (held). */
static void take_input(struct console_input *ci, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = in[i];

		if (!ci->is_terminal) {
			ci->held[ci->held_len++] = b;
			continue;
		}
		switch (escape_keys_feed(&ci->keys, b, &b)) {
		case ESCAPE_SEND:
			ci->held[ci->held_len++] = b;
			break;
		case ESCAPE_NOTHING:
			break;
		case ESCAPE_HELP:
			help();
			break;
		case ESCAPE_QUIT:
			ci->input_over = true;
			ci->ops.quit(ci->ops.ctx);
			return;
		}
	}
}

static void read_input(struct console_input *ci)
{
	uint8_t in[INPUT_CHUNK];
	ssize_t n = read(ci->fd, in, sizeof(in));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* End of a pipe or file, or a terminal that went away (EIO):
		 * the guest gets no more input; the VM goes on. */
		ci->input_over = true;
		return;
	}
	take_input(ci, in, (size_t)n);
}

static void *input_main(void *arg)
{
	struct console_input *ci = arg;

	while (!atomic_load(&ci->stopping)) {
		struct pollfd p[2] = {
			{ .fd = ci->wake[0], .events = POLLIN },
			{ .fd = ci->fd, .events = POLLIN },
		};
		bool waiting = ci->held_len && !feed_held(ci);
		/* Standard input is read only when everything read so far is
		 * in the FIFO: that is the flow control. */
		nfds_t n = (waiting || ci->input_over) ? 1 : 2;

		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			report_error("console input: poll failed: %s",
				     strerror(errno));
			break;
		}
		if (p[0].revents)
			drain_wake_pipe(ci);
		if (n == 2 && p[1].revents)
			read_input(ci);
	}
	return NULL;
}

/* A terminal whose foreground is another process group: hvgdb runs in the
 * background there. Not our controlling terminal at all (tcgetpgrp
 * fails): nobody's job control to fear. */
static bool background_of(int fd)
{
	pid_t fg = tcgetpgrp(fd);

	return fg >= 0 && fg != getpgrp();
}

static int open_wake_pipe(struct console_input *ci, char *err, size_t errlen)
{
	if (pipe(ci->wake) == 0) {
		for (int i = 0; i < 2; i++) {
			fcntl(ci->wake[i], F_SETFD, FD_CLOEXEC);
			fcntl(ci->wake[i], F_SETFL, O_NONBLOCK);
		}
		return 0;
	}
	int rc = -errno;
	snprintf(err, errlen, "console input: %s", strerror(-rc));
	return rc;
}

int console_input_start(struct console_input **out, int fd,
			struct serial_port *sp,
			const struct console_input_ops *ops, char *err,
			size_t errlen)
{
	struct console_input *ci;
	int rc;

	*out = NULL;
	if (fcntl(fd, F_GETFL) < 0)
		return 0; /* no standard input at all */
	bool terminal = isatty(fd);
	if (terminal && background_of(fd)) {
		report_error("standard input is a terminal of a background "
			     "job: the serial console is output-only");
		return 0;
	}
	ci = calloc(1, sizeof(*ci));
	if (!ci) {
		snprintf(err, errlen, "console input: out of memory");
		return -ENOMEM;
	}
	ci->fd = fd;
	ci->is_terminal = terminal;
	ci->sp = sp;
	ci->ops = *ops;
	atomic_init(&ci->stopping, false);
	atomic_init(&ci->wants_room, false);
	escape_keys_init(&ci->keys);
	rc = open_wake_pipe(ci, err, errlen);
	if (rc) {
		free(ci);
		return rc;
	}
	if (terminal && (rc = host_terminal_make_raw(fd, err, errlen)))
		goto fail;
	serial_port_on_rx_room(sp, on_rx_room, ci);
	rc = -pthread_create(&ci->thread, NULL, input_main, ci);
	if (rc) {
		serial_port_on_rx_room(sp, NULL, NULL);
		host_terminal_restore();
		snprintf(err, errlen, "console input: %s", strerror(-rc));
		goto fail;
	}
	*out = ci;
	return 0;
fail:
	close(ci->wake[0]);
	close(ci->wake[1]);
	free(ci);
	return rc;
}

void console_input_stop(struct console_input *ci)
{
	if (!ci)
		return;
	atomic_store(&ci->stopping, true);
	wake_up(ci);
	pthread_join(ci->thread, NULL);
	serial_port_on_rx_room(ci->sp, NULL, NULL);
	if (ci->is_terminal)
		host_terminal_restore();
	close(ci->wake[0]);
	close(ci->wake[1]);
	free(ci);
}
