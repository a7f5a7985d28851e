/*
 * QEMU's console escape keys, for a terminal on the guest's serial port:
 * Ctrl-A starts a command, the next key says which. Pure: bytes in,
 * decisions out, no I/O.
 *
 *   Ctrl-A x        quit
 *   Ctrl-A h (or ?) print the help
 *   Ctrl-A Ctrl-A   send one Ctrl-A to the guest
 *   Ctrl-A other    nothing (dropped, as QEMU does)
 *
 * Every other byte, Ctrl-C included, goes to the guest.
 */
#ifndef HVGDB_CLI_ESCAPE_KEYS_H
#define HVGDB_CLI_ESCAPE_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#define ESCAPE_KEY 0x01 /* Ctrl-A */

enum escape_action {
	ESCAPE_SEND,    /* send the byte to the guest */
	ESCAPE_NOTHING, /* consumed (the escape key, or an unknown command) */
	ESCAPE_QUIT,
	ESCAPE_HELP,
};

struct escape_keys {
	bool after_escape;
};

/* Start state: no escape seen. */
void escape_keys_init(struct escape_keys *k);
/* One host byte. With ESCAPE_SEND, *to_guest is the byte to send. */
enum escape_action escape_keys_feed(struct escape_keys *k, uint8_t byte,
				    uint8_t *to_guest);

/* The help, one line per command, for Ctrl-A h. */
extern const char escape_keys_help[];

#endif
