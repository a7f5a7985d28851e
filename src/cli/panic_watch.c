/* Linux's panic lines in the console output (see panic_watch.h). */
#include "cli/panic_watch.h"

#include <string.h>

static const char panic_line[] = "Kernel panic - not syncing: ";
static const char end_line[] = "---[ end Kernel panic - not syncing: ";

void panic_watch_init(struct panic_watch *w)
{
	memset(w, 0, sizeof(*w));
}

/* <why>: up to the end of the line or of the end marker's " ]---",
 * control characters shown as '?'. */
static void keep_message(struct panic_watch *w, const char *why)
{
	size_t n = 0;

	while (why[n] && n < sizeof(w->message) - 1 &&
	       strncmp(why + n, " ]---", 5) != 0) {
		unsigned char c = (unsigned char)why[n];

		w->message[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	w->message[n] = '\0';
}

static enum panic_watch_event end_of_line(struct panic_watch *w)
{
	const char *at;

	w->line[w->len] = '\0';
	w->len = 0;
	if ((at = strstr(w->line, end_line))) {
		if (!w->panicked)
			keep_message(w, at + strlen(end_line));
		w->panicked = true;
		return PANIC_WATCH_STOPPED;
	}
	if ((at = strstr(w->line, panic_line))) {
		/* The first panic's reason is the one to report. */
		if (!w->panicked)
			keep_message(w, at + strlen(panic_line));
		w->panicked = true;
		return PANIC_WATCH_PANIC;
	}
	return PANIC_WATCH_NONE;
}

enum panic_watch_event panic_watch_feed(struct panic_watch *w,
					const uint8_t *bytes, size_t len)
{
	enum panic_watch_event strongest = PANIC_WATCH_NONE;

	for (size_t i = 0; i < len; i++) {
		char c = (char)bytes[i];

		if (c == '\n') {
			enum panic_watch_event e = end_of_line(w);

			if (e > strongest)
				strongest = e;
		} else if (c != '\r' && c != '\0' &&
			   w->len < sizeof(w->line) - 1) {
			/* A longer line keeps its start: the markers come
			 * right after the time stamp. */
			w->line[w->len++] = c;
		}
	}
	return strongest;
}
