/*
 * GDB remote serial protocol framing: an incremental decoder fed arbitrary
 * bytes from the wire, an encoder that builds a whole frame in one buffer,
 * and the hex helpers every packet handler uses. Pure code: no I/O, no locks.
 */
#ifndef HVGDB_GDBSTUB_RSP_CODEC_H
#define HVGDB_GDBSTUB_RSP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Advertised as PacketSize (hex 20000). The decoder keeps slack on top. */
#define RSP_PACKET_SIZE 0x20000u
#define RSP_DECODE_CAPACITY (RSP_PACKET_SIZE + 256u)

enum rsp_event {
	RSP_EV_NONE,         /* all input consumed, nothing complete yet */
	RSP_EV_ACK,          /* '+' */
	RSP_EV_NAK,          /* '-': resend the last reply */
	RSP_EV_INTERRUPT,    /* 0x03 outside a packet */
	RSP_EV_PACKET,       /* a packet with a good checksum (or no-ack) */
	RSP_EV_BAD_CHECKSUM, /* answer '-' */
	RSP_EV_OVERSIZE,     /* payload larger than the buffer, or a bad
				run-length count: dropped, answer '-' */
};

enum rsp_decode_state {
	RSP_DEC_IDLE,
	RSP_DEC_PAYLOAD,
	RSP_DEC_ESCAPE,  /* after '}' */
	RSP_DEC_RLE,     /* after '*' */
	RSP_DEC_CSUM1,
	RSP_DEC_CSUM2,
};

struct rsp_decoder {
	enum rsp_decode_state state;
	uint8_t *buf; /* unescaped, RLE-expanded payload */
	size_t cap;
	size_t len;
	uint8_t sum;      /* running checksum of raw payload bytes */
	uint8_t csum_hi;  /* first checksum digit */
	bool overflow;
	bool have_last;   /* RLE needs a previous byte */
};

/* buf must hold cap bytes; it receives each packet's payload. */
void rsp_decoder_init(struct rsp_decoder *d, uint8_t *buf, size_t cap);
/*
 * Consumes bytes from in[0..n) up to and including the first complete
 * event, which is stored in *ev (RSP_EV_NONE if none). Returns the number of
 * bytes consumed. For RSP_EV_PACKET the payload is d->buf[0..d->len) and
 * stays valid until the next call.
 */
size_t rsp_decode(struct rsp_decoder *d, const uint8_t *in, size_t n,
		  enum rsp_event *ev);

/*
 * Builds "$<payload escaped and run-length encoded>#cs" into out. Returns
 * the frame length, or 0 if out (of size cap) is too small.
 */
size_t rsp_encode(const uint8_t *payload, size_t len, uint8_t *out,
		  size_t cap);
/* Builds the notification "%<payload escaped>#cs" (GDB's %Stop): no
 * run-length encoding, and '%' escaped too, so no '$', '%' or '#' appears
 * inside. Same bound as rsp_encode; 0 if out is too small. */
size_t rsp_encode_notification(const uint8_t *payload, size_t len,
			       uint8_t *out, size_t cap);
/* Worst case frame size for a payload of len bytes. */
size_t rsp_encode_bound(size_t len);

/* ---- hex helpers ------------------------------------------------------- */

int hex_digit_value(char c); /* -1 if not a hex digit */
/* Writes 2*len lowercase hex chars (no NUL). */
void hex_encode(const uint8_t *bytes, size_t len, char *out);
/* Decodes exactly 2*len hex chars; -1 on any invalid digit. */
int hex_decode(const char *hex, size_t len, uint8_t *out);
/*
 * Parses a hex number starting at *p (at least one digit, leading zeros
 * allowed), stopping at the first non-hex char, which *p then points to.
 * -1 on no digits or overflow of 64 bits.
 */
int hex_parse_u64(const char **p, const char *end, uint64_t *val);

#endif
