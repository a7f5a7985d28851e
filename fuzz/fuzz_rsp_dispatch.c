/*
 * libFuzzer target: arbitrary bytes from the wire, through the RSP decoder,
 * into the whole packet dispatcher over the mock target, as the server
 * thread would drive them (src/gdbstub/server.c), minus sockets and threads.
 *
 * Input layout: byte 0 picks the target (see apply_config), the rest is the
 * byte stream a debugger sends. Packets with a bad checksum are served too,
 * as in no-ack mode: otherwise nearly every mutation would stop at the
 * checksum and the dispatcher would go unexplored.
 *
 * Besides the sanitizers, it checks properties that must hold for any input:
 * every reply fits its buffer, encodes, and decodes back to itself; resume
 * requests name valid actions; when the session ends the breakpoint table
 * is empty, and if no packet wrote memory (M, X) guest memory is exactly as
 * it was: every int3 the session put in is gone, every byte restored.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/rsp_codec.h"
#include "gdbstub/session.h"
#include "mock_target.h"

/* Everything one fuzz input works on; allocated per input so no state
 * leaks from one input into the next. */
struct harness {
	struct mock_target mt;
	struct gdb_target_ops ops;
	struct gdb_session s;
	struct rsp_decoder dec;
	uint8_t *dec_buf;
	struct gdb_reply reply;
	uint8_t *frame;
	size_t frame_cap;
	struct rsp_decoder check_dec;
	uint8_t *check_buf;
	uint8_t *pristine_mem; /* guest memory before the first packet */
	bool memory_written;   /* an M or X packet was served */
};

#define REQUIRE(cond)                                                    \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "%s:%d: property violated: %s\n", \
				__FILE__, __LINE__, #cond);              \
			abort();                                         \
		}                                                        \
	} while (0)

/*
 * Config byte: bit 0 personality (intel/amd), bits 1-3 vCPU count - 1,
 * bit 4 no x87 registers, bit 5 no physical memory ops (no swbreak, no
 * memory packets), bit 6 no capability ops (no stepping), bit 7 no kill.
 * 0x00 = intel, 1 vCPU, everything supported.
 */
static void apply_config(struct harness *h, uint8_t cfg)
{
	mock_target_init(&h->mt, (cfg & 1) ? MOCK_AMD : MOCK_INTEL,
			 1u + ((cfg >> 1) & 7u));
	h->mt.no_x87 = cfg & 0x10;
	/* a hole in the page table, so translation failures are reachable */
	mock_unmap(&h->mt, 3);
	h->ops = mock_target_ops;
	if (cfg & 0x20) {
		h->ops.read_phys = NULL;
		h->ops.write_phys = NULL;
	}
	if (cfg & 0x40) {
		h->ops.set_cap = NULL;
		h->ops.has_cap = NULL;
	}
	if (cfg & 0x80)
		h->ops.kill = NULL;
}

static bool harness_init(struct harness *h, uint8_t cfg)
{
	memset(h, 0, sizeof(*h));
	apply_config(h, cfg);
	if (gdb_session_init(&h->s, &h->ops, &h->mt) != 0)
		return false;
	h->dec_buf = malloc(RSP_DECODE_CAPACITY);
	h->check_buf = malloc(RSP_DECODE_CAPACITY);
	h->reply.cap = RSP_PACKET_SIZE;
	h->reply.buf = malloc(h->reply.cap);
	h->frame_cap = rsp_encode_bound(h->reply.cap);
	h->frame = malloc(h->frame_cap);
	h->pristine_mem = malloc(MOCK_MEM_SIZE);
	if (!h->dec_buf || !h->check_buf || !h->reply.buf || !h->frame ||
	    !h->pristine_mem)
		return false;
	memcpy(h->pristine_mem, h->mt.mem, MOCK_MEM_SIZE);
	rsp_decoder_init(&h->dec, h->dec_buf, RSP_DECODE_CAPACITY);
	return true;
}

static void harness_free(struct harness *h)
{
	gdb_session_free(&h->s);
	free(h->dec_buf);
	free(h->check_buf);
	free(h->reply.buf);
	free(h->frame);
	free(h->pristine_mem);
	pthread_mutex_destroy(&h->mt.lock);
	pthread_cond_destroy(&h->mt.kick);
}

/* The reply as the server would send it must decode back to itself. */
static void check_reply_round_trip(struct harness *h)
{
	struct gdb_reply *r = &h->reply;

	REQUIRE(r->len <= r->cap);
	size_t n = rsp_encode(r->buf, r->len, h->frame, h->frame_cap);
	REQUIRE(n > 0 && n <= h->frame_cap);

	rsp_decoder_init(&h->check_dec, h->check_buf, RSP_DECODE_CAPACITY);
	enum rsp_event ev;
	size_t used = rsp_decode(&h->check_dec, h->frame, n, &ev);
	REQUIRE(used == n);
	REQUIRE(ev == RSP_EV_PACKET);
	REQUIRE(h->check_dec.len == r->len);
	REQUIRE(memcmp(h->check_dec.buf, r->buf, r->len) == 0);
}

/* What the event machine would report once resumed vCPUs stop again:
 * a hit of the first inserted watch, if there is one. */
static void simulate_stop(struct harness *h, int signal)
{
	struct gdb_stop_info st = { .vcpu = 0, .signal = signal };
	if (h->s.watches.n > 0) {
		st.watch_type = (int)h->s.watches.w[0].type;
		st.watch_addr = h->s.watches.w[0].addr;
	}

	for (unsigned v = 0; v < h->s.nvcpus; v++) {
		REQUIRE(h->s.actions[v] == GDB_ACT_NONE ||
			h->s.actions[v] == GDB_ACT_CONTINUE ||
			h->s.actions[v] == GDB_ACT_STEP);
		if (h->s.actions[v] != GDB_ACT_NONE) {
			st.vcpu = (int)v;
			break;
		}
	}
	gdb_build_stop_reply(&h->s, &st, &h->reply);
	check_reply_round_trip(h);
	REQUIRE(h->s.hg >= 0 && (unsigned)h->s.hg < h->s.nvcpus);
}

/* Detach, kill and the end of the input all clean up like the server. */
static void end_session(struct harness *h)
{
	gdb_bp_remove_all(&h->s);
	REQUIRE(bp_table_count(&h->s.bps) == 0);
	/* every watch the debugger inserted comes out of the target too */
	gdb_watch_remove_all(&h->s);
	REQUIRE(h->mt.nwatches == 0);
	if (!h->memory_written)
		REQUIRE(memcmp(h->mt.mem, h->pristine_mem, MOCK_MEM_SIZE) == 0);
	gdb_session_reset(&h->s);
}

static void serve_packet(struct harness *h)
{
	if (h->dec.len > 0 && (h->dec.buf[0] == 'M' || h->dec.buf[0] == 'X'))
		h->memory_written = true;
	enum gdb_packet_result res = gdb_handle_packet(
		&h->s, h->dec.buf, h->dec.len, &h->reply);

	switch (res) {
	case GDB_PKT_REPLY:
	case GDB_PKT_NOACK:
		check_reply_round_trip(h);
		break;
	case GDB_PKT_DETACH:
		check_reply_round_trip(h);
		end_session(h);
		break;
	case GDB_PKT_RESUME:
		if (h->s.non_stop) {
			/* the server answers OK; stops come as notifications
			 * (here every vCPU is stopped: vCont;t stops nobody) */
			for (unsigned v = 0; v < h->s.nvcpus; v++)
				REQUIRE(h->s.actions[v] <= GDB_ACT_INTERRUPT);
			memset(h->s.actions, 0,
			       h->s.nvcpus * sizeof(*h->s.actions));
			reply_reset(&h->reply);
			reply_str(&h->reply, "OK");
			check_reply_round_trip(h);
			break;
		}
		simulate_stop(h, 5);
		break;
	case GDB_PKT_KILL:
		REQUIRE(h->mt.killed);
		end_session(h);
		break;
	default:
		REQUIRE(!"unknown packet result");
	}
	REQUIRE(h->s.hg >= 0 && (unsigned)h->s.hg < h->s.nvcpus);
	REQUIRE(h->s.hc >= -1 && h->s.hc < (int)h->s.nvcpus);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;

	struct harness *h = malloc(sizeof(*h));
	if (!h)
		return 0;
	if (!harness_init(h, data[0])) {
		harness_free(h);
		free(h);
		return 0;
	}

	const uint8_t *in = data + 1;
	size_t left = size - 1;
	while (left > 0) {
		enum rsp_event ev;
		size_t used = rsp_decode(&h->dec, in, left, &ev);
		REQUIRE(used > 0 && used <= left);
		in += used;
		left -= used;
		REQUIRE(h->dec.len <= h->dec.cap);
		switch (ev) {
		case RSP_EV_PACKET:
		case RSP_EV_BAD_CHECKSUM:
			serve_packet(h);
			break;
		case RSP_EV_INTERRUPT:
			simulate_stop(h, 2);
			break;
		default:
			break;
		}
	}
	end_session(h);
	harness_free(h);
	free(h);
	return 0;
}
