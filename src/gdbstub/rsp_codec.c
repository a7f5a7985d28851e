#include "gdbstub/rsp_codec.h"

#include <string.h>

void rsp_decoder_init(struct rsp_decoder *d, uint8_t *buf, size_t cap)
{
	memset(d, 0, sizeof(*d));
	d->buf = buf;
	d->cap = cap;
	d->state = RSP_DEC_IDLE;
}

static void start_packet(struct rsp_decoder *d)
{
	d->state = RSP_DEC_PAYLOAD;
	d->len = 0;
	d->sum = 0;
	d->overflow = false;
	d->have_last = false;
}

static void append(struct rsp_decoder *d, uint8_t c)
{
	if (d->len >= d->cap) {
		d->overflow = true;
		return;
	}
	d->buf[d->len++] = c;
	d->have_last = true;
}

size_t rsp_decode(struct rsp_decoder *d, const uint8_t *in, size_t n,
		  enum rsp_event *ev)
{
	*ev = RSP_EV_NONE;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];
		int v;

		switch (d->state) {
		case RSP_DEC_IDLE:
			if (c == '$')
				start_packet(d);
			else if (c == '+')
				*ev = RSP_EV_ACK;
			else if (c == '-')
				*ev = RSP_EV_NAK;
			else if (c == 0x03)
				*ev = RSP_EV_INTERRUPT;
			/* anything else is line noise between packets */
			if (*ev != RSP_EV_NONE)
				return i + 1;
			break;
		case RSP_DEC_PAYLOAD:
			if (c == '#') {
				d->state = RSP_DEC_CSUM1;
				break;
			}
			if (c == '$') {
				/* A new frame started before this one ended:
				 * the truncated one is abandoned. */
				start_packet(d);
				break;
			}
			d->sum += c;
			if (c == '}')
				d->state = RSP_DEC_ESCAPE;
			else if (c == '*' && d->have_last)
				d->state = RSP_DEC_RLE;
			else
				append(d, c);
			break;
		case RSP_DEC_ESCAPE:
			d->sum += c;
			append(d, c ^ 0x20);
			d->state = RSP_DEC_PAYLOAD;
			break;
		case RSP_DEC_RLE:
			/* A count of '#' (6) or '$' (7) is never sent (the
			 * encoder skips them): they keep their framing
			 * meaning, so the frame ends (poisoned: answered with
			 * a NAK) or restarts instead of eating what follows. */
			if (c == '#') {
				d->overflow = true;
				d->state = RSP_DEC_CSUM1;
				break;
			}
			if (c == '$') {
				start_packet(d);
				break;
			}
			d->sum += c;
			if (c >= 29 + 3) {
				uint8_t rep = d->len ? d->buf[d->len - 1] : 0;
				for (int k = 0; k < c - 29; k++)
					append(d, rep);
			} else {
				/* invalid count: poison the packet */
				d->overflow = true;
			}
			d->state = RSP_DEC_PAYLOAD;
			break;
		case RSP_DEC_CSUM1:
			v = hex_digit_value((char)c);
			/* 0xff marks an invalid digit (valid ones are < 16) */
			d->csum_hi = (uint8_t)(v < 0 ? 0xff : v);
			d->state = RSP_DEC_CSUM2;
			break;
		case RSP_DEC_CSUM2: {
			int lo = hex_digit_value((char)c);
			bool valid = d->csum_hi != 0xff && lo >= 0 &&
				     (uint8_t)((d->csum_hi << 4) | lo) == d->sum;
			d->state = RSP_DEC_IDLE;
			if (d->overflow)
				*ev = RSP_EV_OVERSIZE;
			else
				*ev = valid ? RSP_EV_PACKET
					    : RSP_EV_BAD_CHECKSUM;
			return i + 1;
		}
		}
	}
	return n;
}

static bool needs_escape(uint8_t c)
{
	return c == '#' || c == '$' || c == '}' || c == '*';
}

size_t rsp_encode_bound(size_t len)
{
	return 2 * len + 4;
}

/* Run-length counts that would produce '#', '$' or be escaped are not
 * allowed as the count character. */
static bool rle_count_ok(size_t extra)
{
	uint8_t ch = (uint8_t)(extra + 29);
	return extra >= 3 && ch <= 126 && ch != '#' && ch != '$' &&
	       ch != '}' && ch != '*' && ch != '+' && ch != '-';
}

size_t rsp_encode(const uint8_t *payload, size_t len, uint8_t *out,
		  size_t cap)
{
	size_t o = 0;
	uint8_t sum = 0;

	if (cap < 4)
		return 0;
	out[o++] = '$';
	for (size_t i = 0; i < len;) {
		uint8_t c = payload[i];
		if (needs_escape(c)) {
			if (o + 2 > cap - 3)
				return 0;
			out[o++] = '}';
			out[o++] = c ^ 0x20;
			sum += '}' + (c ^ 0x20);
			i++;
			continue;
		}
		size_t run = 1;
		while (i + run < len && payload[i + run] == c && run < 98)
			run++;
		size_t extra = run - 1;
		while (extra >= 3 && !rle_count_ok(extra))
			extra--;
		if (extra >= 3) {
			if (o + 3 > cap - 3)
				return 0;
			uint8_t cnt = (uint8_t)(extra + 29);
			out[o++] = c;
			out[o++] = '*';
			out[o++] = cnt;
			sum += c + '*' + cnt;
			i += extra + 1;
		} else {
			if (o + 1 > cap - 3)
				return 0;
			out[o++] = c;
			sum += c;
			i++;
		}
	}
	static const char digits[] = "0123456789abcdef";
	out[o++] = '#';
	out[o++] = (uint8_t)digits[sum >> 4];
	out[o++] = (uint8_t)digits[sum & 15];
	return o;
}

size_t rsp_encode_notification(const uint8_t *payload, size_t len,
			       uint8_t *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;
	uint8_t sum = 0;

	if (cap < 4)
		return 0;
	out[o++] = '%';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = payload[i];
		/* no run-length encoding: a count could be '%' */
		bool esc = needs_escape(c) || c == '%';
		if (o + (esc ? 2 : 1) > cap - 3)
			return 0;
		if (esc) {
			out[o++] = '}';
			c ^= 0x20;
			sum += '}';
		}
		out[o++] = c;
		sum += c;
	}
	out[o++] = '#';
	out[o++] = (uint8_t)digits[sum >> 4];
	out[o++] = (uint8_t)digits[sum & 15];
	return o;
}

int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void hex_encode(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
}

int hex_decode(const char *hex, size_t len, uint8_t *out)
{
	for (size_t i = 0; i < len; i++) {
		int hi = hex_digit_value(hex[2 * i]);
		int lo = hex_digit_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int hex_parse_u64(const char **p, const char *end, uint64_t *val)
{
	const char *s = *p;
	uint64_t v = 0;
	int n = 0;

	while (s < end) {
		int d = hex_digit_value(*s);
		if (d < 0)
			break;
		if (v >> 60)
			return -1;
		v = v << 4 | (uint64_t)d;
		s++;
		n++;
	}
	if (n == 0)
		return -1;
	*p = s;
	*val = v;
	return 0;
}
