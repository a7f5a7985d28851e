/* QEMU's console escape keys (see escape_keys.h). */
#include "cli/escape_keys.h"

const char escape_keys_help[] =
	"Ctrl-A h    print this help\n"
	"Ctrl-A x    quit hvgdb (the VM ends, status 0)\n"
	"Ctrl-A Ctrl-A  send Ctrl-A to the guest\n";

void escape_keys_init(struct escape_keys *k)
{
	k->after_escape = false;
}

enum escape_action escape_keys_feed(struct escape_keys *k, uint8_t byte,
				    uint8_t *to_guest)
{
	if (!k->after_escape) {
		if (byte == ESCAPE_KEY) {
			k->after_escape = true;
			return ESCAPE_NOTHING;
		}
		*to_guest = byte;
		return ESCAPE_SEND;
	}
	k->after_escape = false;
	switch (byte) {
	case ESCAPE_KEY:
		*to_guest = byte;
		return ESCAPE_SEND;
	case 'x':
		return ESCAPE_QUIT;
	case 'h':
	case '?':
		return ESCAPE_HELP;
	default:
		return ESCAPE_NOTHING;
	}
}
