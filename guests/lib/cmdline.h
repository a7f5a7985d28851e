/* Guest command line: space-separated words, "key=value" or bare flags. */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

/* True if the bare word appears (e.g. "forever"). */
bool cmdline_has_flag(const char *cmdline, const char *word);
/* Decimal or 0x-hex value of key=...; false if absent or malformed (then
 * *out is untouched). */
bool cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out);

#endif
