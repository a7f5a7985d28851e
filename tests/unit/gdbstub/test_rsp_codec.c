/* RSP framing: every decoder case, the encoder, and hex helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "gdbstub/rsp_codec.h"

struct dec {
	struct rsp_decoder d;
	uint8_t buf[64];
};

static void dec_init(struct dec *x)
{
	rsp_decoder_init(&x->d, x->buf, sizeof(x->buf));
}

/* Feeds s and collects events; the payload of the last packet is kept. */
static int feed(struct dec *x, const char *s, size_t n, enum rsp_event *evs,
		int max)
{
	int count = 0;
	size_t off = 0;
	while (off < n) {
		enum rsp_event ev;
		off += rsp_decode(&x->d, (const uint8_t *)s + off, n - off, &ev);
		if (ev != RSP_EV_NONE && count < max)
			evs[count++] = ev;
	}
	return count;
}

static void frame(const char *payload, char *out)
{
	unsigned sum = 0;
	for (const char *p = payload; *p; p++)
		sum += (uint8_t)*p;
	sprintf(out, "$%s#%02x", payload, sum & 0xff);
}

static void test_simple_packet(void **state)
{
	(void)state;
	struct dec x;
	enum rsp_event ev[4];
	char f[64];
	dec_init(&x);
	frame("qSupported", f);
	assert_int_equal(feed(&x, f, strlen(f), ev, 4), 1);
	assert_int_equal(ev[0], RSP_EV_PACKET);
	assert_int_equal(x.d.len, 10);
	assert_memory_equal(x.d.buf, "qSupported", 10);
}

static void test_acks_interrupt_and_noise(void **state)
{
	(void)state;
	struct dec x;
	enum rsp_event ev[8];
	char f[64], in[128];
	dec_init(&x);
	frame("g", f);
	snprintf(in, sizeof(in), "+xyz-\x03 \r\n%s+", f);
	int n = feed(&x, in, strlen(in), ev, 8);
	assert_int_equal(n, 5);
	assert_int_equal(ev[0], RSP_EV_ACK);
	assert_int_equal(ev[1], RSP_EV_NAK);
	assert_int_equal(ev[2], RSP_EV_INTERRUPT);
	assert_int_equal(ev[3], RSP_EV_PACKET);
	assert_int_equal(ev[4], RSP_EV_ACK);
}

static void test_bad_checksum(void **state)
{
	(void)state;
	struct dec x;
	enum rsp_event ev[4];
	dec_init(&x);
	assert_int_equal(feed(&x, "$g#00", 5, ev, 4), 1);
	assert_int_equal(ev[0], RSP_EV_BAD_CHECKSUM);
	/* non-hex checksum digits are a bad checksum too */
	assert_int_equal(feed(&x, "$g#zz", 5, ev, 4), 1);
	assert_int_equal(ev[0], RSP_EV_BAD_CHECKSUM);
	/* and the decoder still works afterwards */
	assert_int_equal(feed(&x, "$g#67", 5, ev, 4), 1);
	assert_int_equal(ev[0], RSP_EV_PACKET);
}

static void test_byte_by_byte(void **state)
{
	(void)state;
	struct dec x;
	enum rsp_event ev[4];
	char f[64];
	int got = 0;
	dec_init(&x);
	frame("m1000,4", f);
	for (size_t i = 0; i < strlen(f); i++)
		got += feed(&x, f + i, 1, ev + got, 4 - got);
	assert_int_equal(got, 1);
	assert_int_equal(ev[0], RSP_EV_PACKET);
	assert_memory_equal(x.d.buf, "m1000,4", 7);
}

static void test_escape_and_interrupt_byte_inside(void **state)
{
	(void)state;
	struct dec x;
	enum rsp_event ev[4];
	/* X payload containing '#' (escaped as }\x03) and a raw 0x03 */
	const char raw[] = "X0,3:}\x03\x03}]";
	unsigned sum = 0;
	for (size_t i = 0; i < sizeof(raw) - 1; i++)
		sum += (uint8_t)raw[i];
	char in[64];
	int n = snprintf(in, sizeof(in), "$%s#%02x", raw, sum & 0xff);
	dec_init(&x);
	assert_int_equal(feed(&x, in, (size_t)n, ev, 4), 1);
	assert_int_equal(ev[0], RSP_EV_PACKET);
	assert_int_equal(x.d.len, 8);
	assert_memory_equal(x.d.buf, "X0,3:#\x03}", 8);
}

static void test_rle_input(void **state)
{
	(void)state;
	struct dec x;
	enum rsp_event ev[4];
	char f[64];
	dec_init(&x);
	frame("0* ", f); /* '0' then 3 more */
	assert_int_equal(feed(&x, f, strlen(f), ev, 4), 1);
	assert_int_equal(ev[0], RSP_EV_PACKET);
	assert_int_equal(x.d.len, 4);
	assert_memory_equal(x.d.buf, "0000", 4);
}

/* A run-length count of '#' or '$' would be 6 or 7 repeats, but those
 * bytes frame packets: the frame must end (and be NAKed) or restart there,
 * not swallow the checksum and the next packet. */
static void test_rle_count_is_frame_char(void **state)
{
	(void)state;
	struct dec x;
	enum rsp_event ev[4];
	char f[64], in[128];
	dec_init(&x);
	frame("?", f);
	snprintf(in, sizeof(in), "$0*#00%s", f);
	assert_int_equal(feed(&x, in, strlen(in), ev, 4), 2);
	assert_int_equal(ev[0], RSP_EV_OVERSIZE); /* answered with '-' */
	assert_int_equal(ev[1], RSP_EV_PACKET);
	assert_int_equal(x.d.len, 1);
	assert_memory_equal(x.d.buf, "?", 1);
	/* '$' as the count starts a new frame, as anywhere in a payload */
	snprintf(in, sizeof(in), "$0*%s", f);
	assert_int_equal(feed(&x, in, strlen(in), ev, 4), 1);
	assert_int_equal(ev[0], RSP_EV_PACKET);
	assert_int_equal(x.d.len, 1);
	assert_memory_equal(x.d.buf, "?", 1);
}

static void test_oversize_dropped(void **state)
{
	(void)state;
	struct dec x;
	enum rsp_event ev[4];
	char payload[200], f[256];
	memset(payload, 'a', 100);
	payload[100] = 0;
	frame(payload, f);
	dec_init(&x);
	assert_int_equal(feed(&x, f, strlen(f), ev, 4), 1);
	assert_int_equal(ev[0], RSP_EV_OVERSIZE);
	/* RLE cannot overflow the buffer either */
	frame("a~~~~~~~~", f);
	assert_int_equal(feed(&x, f, strlen(f), ev, 4), 1);
	assert_int_equal(ev[0], RSP_EV_PACKET); /* '~' is literal w/o '*' */
	frame("a*~b*~", f);
	assert_int_equal(feed(&x, f, strlen(f), ev, 4), 1);
	assert_int_equal(ev[0], RSP_EV_OVERSIZE);
	frame("ok", f);
	assert_int_equal(feed(&x, f, strlen(f), ev, 4), 1);
	assert_int_equal(ev[0], RSP_EV_PACKET);
}

static void test_dollar_restarts_and_unterminated(void **state)
{
	(void)state;
	struct dec x;
	enum rsp_event ev[4];
	char f[64], in[96];
	dec_init(&x);
	frame("?", f);
	snprintf(in, sizeof(in), "$garbage-without-end%s", f);
	assert_int_equal(feed(&x, in, strlen(in), ev, 4), 1);
	assert_int_equal(ev[0], RSP_EV_PACKET);
	assert_int_equal(x.d.len, 1);
	/* an unterminated packet produces nothing */
	assert_int_equal(feed(&x, "$abc", 4, ev, 4), 0);
}

static void test_encode_roundtrip(void **state)
{
	(void)state;
	uint8_t payload[300];
	uint8_t out[700];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i < 100 ? '0' : i);
	size_t n = rsp_encode(payload, sizeof(payload), out, sizeof(out));
	assert_true(n > 4);
	assert_int_equal(out[0], '$');
	/* no unescaped special char inside */
	for (size_t i = 1; i < n - 3; i++) {
		assert_true(out[i] != '$' && out[i] != '#');
		if (out[i] == '}')
			i++;
	}
	/* RLE made the run of '0's short */
	assert_true(n < sizeof(payload) + 40);
	struct rsp_decoder d;
	uint8_t buf[400];
	enum rsp_event ev;
	rsp_decoder_init(&d, buf, sizeof(buf));
	assert_int_equal(rsp_decode(&d, out, n, &ev), n);
	assert_int_equal(ev, RSP_EV_PACKET);
	assert_int_equal(d.len, sizeof(payload));
	assert_memory_equal(buf, payload, sizeof(payload));
}

static void test_encode_every_run_length(void **state)
{
	(void)state;
	for (size_t run = 1; run < 260; run++) {
		uint8_t payload[300], out[700], buf[400];
		memset(payload, 'x', run);
		payload[run] = '*';
		size_t n = rsp_encode(payload, run + 1, out, sizeof(out));
		assert_true(n > 0);
		for (size_t i = 1; i < n - 3; i++)
			assert_true(out[i] != '#' && out[i] != '$');
		struct rsp_decoder d;
		enum rsp_event ev;
		rsp_decoder_init(&d, buf, sizeof(buf));
		rsp_decode(&d, out, n, &ev);
		assert_int_equal(ev, RSP_EV_PACKET);
		assert_int_equal(d.len, run + 1);
		assert_memory_equal(buf, payload, run + 1);
	}
}

static void test_encode_too_small(void **state)
{
	(void)state;
	uint8_t out[8];
	assert_int_equal(rsp_encode((const uint8_t *)"0123456789", 10, out,
				    sizeof(out)),
			 0);
	assert_int_equal(rsp_encode((const uint8_t *)"", 0, out, sizeof(out)),
			 4);
	assert_memory_equal(out, "$#00", 4);
}

static void test_hex_helpers(void **state)
{
	(void)state;
	uint8_t b[4];
	char h[8];
	assert_int_equal(hex_decode("0aFf", 2, b), 0);
	assert_int_equal(b[0], 0x0a);
	assert_int_equal(b[1], 0xff);
	assert_int_equal(hex_decode("0g", 1, b), -1);
	hex_encode((const uint8_t *)"\x01\xab", 2, h);
	assert_memory_equal(h, "01ab", 4);

	const char *s = "0000000000000000000001234,";
	const char *p = s;
	uint64_t v;
	assert_int_equal(hex_parse_u64(&p, s + strlen(s), &v), 0);
	assert_true(v == 0x1234);
	assert_int_equal(*p, ',');
	s = "ffffffffffffffff";
	p = s;
	assert_int_equal(hex_parse_u64(&p, s + strlen(s), &v), 0);
	assert_true(v == UINT64_MAX);
	s = "10000000000000000"; /* 2^64 */
	p = s;
	assert_int_equal(hex_parse_u64(&p, s + strlen(s), &v), -1);
	s = ",";
	p = s;
	assert_int_equal(hex_parse_u64(&p, s + 1, &v), -1);
}

/* %Stop notifications: '%' frame, the payload's own checksum, nothing in
 * it that ends or starts a frame (no run-length counts, '%' escaped), and
 * what a decoder gets back is the payload. */
static void test_encode_notification(void **state)
{
	(void)state;
	uint8_t out[256];
	const char *plain = "Stop:T05thread:1;";
	size_t n = rsp_encode_notification((const uint8_t *)plain,
					   strlen(plain), out, sizeof(out));
	char want[64];
	frame(plain, want);
	want[0] = '%';
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);

	/* a run that rsp_encode would compress with the count '%' (8
	 * repeats), and every frame character */
	const char *hostile = "Stop:000000000#$}*%";
	n = rsp_encode_notification((const uint8_t *)hostile, strlen(hostile),
				    out, sizeof(out));
	assert_true(n > 4 && out[0] == '%' && out[n - 3] == '#');
	for (size_t i = 1; i < n - 3; i++)
		assert_true(out[i] != '%' && out[i] != '$' && out[i] != '#' &&
			    out[i] != '*');
	/* the same bytes in a '$' frame decode to the payload */
	out[0] = '$';
	struct dec x;
	dec_init(&x);
	enum rsp_event ev[2];
	assert_int_equal(feed(&x, (const char *)out, n, ev, 2), 1);
	assert_int_equal(ev[0], RSP_EV_PACKET);
	assert_int_equal(x.d.len, strlen(hostile));
	assert_memory_equal(x.d.buf, hostile, x.d.len);
	/* too small: nothing */
	assert_int_equal(rsp_encode_notification((const uint8_t *)plain,
						 strlen(plain), out, 10),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_packet),
		cmocka_unit_test(test_acks_interrupt_and_noise),
		cmocka_unit_test(test_bad_checksum),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_escape_and_interrupt_byte_inside),
		cmocka_unit_test(test_rle_input),
		cmocka_unit_test(test_rle_count_is_frame_char),
		cmocka_unit_test(test_oversize_dropped),
		cmocka_unit_test(test_dollar_restarts_and_unterminated),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test(test_encode_every_run_length),
		cmocka_unit_test(test_encode_too_small),
		cmocka_unit_test(test_hex_helpers),
		cmocka_unit_test(test_encode_notification),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
