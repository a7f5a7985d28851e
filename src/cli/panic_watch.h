/*
 * Reads the guest's console output for a Linux kernel panic. Pure: bytes
 * in, events out.
 *
 * A panicking Linux prints "Kernel panic - not syncing: <why>" first; then
 * either reboots (panic=N, N != 0: after N seconds, at once when N < 0)
 * or, with panic=0 (the default), prints "---[ end Kernel panic - not
 * syncing: <why> ]---" and spins for ever with interrupts on, which no
 * CPU state tells from useful work. These lines are the kernel's own
 * record of both, so hvgdb reads them: after the first a reset is the
 * panic's, not a reboot; the second is the kernel's last word.
 *
 * Lines are matched anywhere after their start (a printk time stamp or log
 * level may come first). Output that only looks like a panic (a program
 * printing these words on the console) is taken for one.
 */
#ifndef HVGDB_CLI_PANIC_WATCH_H
#define HVGDB_CLI_PANIC_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum panic_watch_event {
	PANIC_WATCH_NONE,
	PANIC_WATCH_PANIC,   /* "Kernel panic - not syncing: ..." */
	PANIC_WATCH_STOPPED, /* "---[ end Kernel panic ...": it spins now */
};

#define PANIC_WATCH_LINE_MAX 192
#define PANIC_WATCH_MESSAGE_MAX 96

struct panic_watch {
	char line[PANIC_WATCH_LINE_MAX]; /* the current line's start */
	size_t len;
	bool panicked;
	char message[PANIC_WATCH_MESSAGE_MAX]; /* <why>, printable */
};

void panic_watch_init(struct panic_watch *w);
/* Output as it leaves for the host; the strongest event of the lines it
 * completed. */
enum panic_watch_event panic_watch_feed(struct panic_watch *w,
					const uint8_t *bytes, size_t len);

#endif
