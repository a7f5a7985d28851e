/* Every packet family against the mock target: no sockets, no threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/packet_table.h"
#include "gdbstub/rsp_codec.h"
#include "gdbstub/session.h"
#include "gdbstub/target_xml.h"
#include "mock_target.h"

struct fixture {
	struct mock_target mt;
	struct gdb_session s;
	struct gdb_reply r;
	uint8_t rbuf[RSP_PACKET_SIZE];
	char text[RSP_PACKET_SIZE + 1];
	enum gdb_packet_result res;
};

static struct fixture *make(enum mock_personality p, unsigned n)
{
	struct fixture *f = calloc(1, sizeof(*f));
	mock_target_init(&f->mt, p, n);
	assert_int_equal(gdb_session_init(&f->s, &mock_target_ops, &f->mt), 0);
	f->r.buf = f->rbuf;
	f->r.cap = sizeof(f->rbuf);
	return f;
}

static int setup_intel(void **state)
{
	*state = make(MOCK_INTEL, 4);
	return 0;
}

static int setup_amd(void **state)
{
	*state = make(MOCK_AMD, 2);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	gdb_session_free(&f->s);
	free(f);
	return 0;
}

/* Sends pkt (may contain NULs when len given) and returns reply text. */
static const char *sendn(struct fixture *f, const char *pkt, size_t len)
{
	f->res = gdb_handle_packet(&f->s, (const uint8_t *)pkt, len, &f->r);
	memcpy(f->text, f->r.buf, f->r.len);
	f->text[f->r.len] = 0;
	return f->text;
}

static const char *send(struct fixture *f, const char *pkt)
{
	return sendn(f, pkt, strlen(pkt));
}

static void test_qsupported_from_ops(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(send(f, "qSupported:multiprocess+;swbreak+"),
			    "PacketSize=20000;qXfer:features:read+;swbreak+;"
			    "hwbreak+;vContSupported+;QStartNoAckMode+;"
			    "binary-upload+;qXfer:threads:read+;"
			    "QThreadEvents+;QNonStop+");
	/* without memory ops: no swbreak, no binary-upload */
	struct gdb_target_ops ops = mock_target_ops;
	ops.write_phys = NULL;
	ops.read_phys = NULL;
	ops.insert_watch = NULL;
	struct gdb_session s2;
	assert_int_equal(gdb_session_init(&s2, &ops, &f->mt), 0);
	f->r.len = 0;
	gdb_handle_packet(&s2, (const uint8_t *)"qSupported", 10, &f->r);
	f->rbuf[f->r.len] = 0;
	assert_string_equal((char *)f->rbuf,
			    "PacketSize=20000;qXfer:features:read+;"
			    "vContSupported+;QStartNoAckMode+;"
			    "qXfer:threads:read+;QThreadEvents+;QNonStop+");
	/* and Z0 then is "unsupported" (empty) */
	gdb_handle_packet(&s2, (const uint8_t *)"Z0,1000,1", 9, &f->r);
	assert_int_equal(f->r.len, 0);
	gdb_session_free(&s2);
}

static void test_vcont_query_by_step_cap(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(send(f, "vCont?"), "vCont;c;C;s;S;r");
	assert_true(f->s.can_step);
	struct gdb_target_ops ops = mock_target_ops;
	ops.has_cap = NULL;
	struct gdb_session s2;
	assert_int_equal(gdb_session_init(&s2, &ops, &f->mt), 0);
	gdb_handle_packet(&s2, (const uint8_t *)"vCont?", 6, &f->r);
	f->rbuf[f->r.len] = 0;
	assert_string_equal((char *)f->rbuf, "vCont;c;C");
	gdb_handle_packet(&s2, (const uint8_t *)"s", 1, &f->r);
	assert_int_equal(f->rbuf[0], 'E');
	gdb_session_free(&s2);
}

static void test_step_method_per_personality(void **state)
{
	struct fixture *f = *state;
	if (f->mt.personality == MOCK_INTEL)
		assert_int_equal(f->s.step_cap, GDB_CAP_MTRAP_EXIT);
	else
		assert_int_equal(f->s.step_cap, GDB_CAP_RFLAGS_TF);
}

static void test_g_layout_and_unavailable(void **state)
{
	struct fixture *f = *state;
	f->mt.no_x87 = true;
	const char *g = send(f, "g");
	size_t total = gdb_x86_regs_total_size();
	assert_int_equal(total, 796);
	assert_int_equal(strlen(g), 2 * total);
	/* rip at offset 16*8 */
	char rip[17];
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(0x1000ULL >> (8 * i));
	hex_encode(b, 8, rip);
	assert_memory_equal(g + 2 * 128, rip, 16);
	/* st0 at 164 bytes: unavailable */
	assert_memory_equal(g + 2 * 164, "xxxxxxxxxxxxxxxxxxxx", 20);
	/* efer ends gdb's amd64 layout and our system feature (608 bytes);
	 * dr7 is the last register */
	char eh[17];
	hex_encode(f->mt.vcpu[0].regs[GDB_REG_EFER], 8, eh);
	assert_memory_equal(g + 2 * (608 - 8), eh, 16);
	hex_encode(f->mt.vcpu[0].regs[GDB_REG_DR7], 8, eh);
	assert_memory_equal(g + 2 * (total - 8), eh, 16);
}

static void test_G_roundtrip_and_errors(void **state)
{
	struct fixture *f = *state;
	char *pkt = malloc(2 * GDB_X86_G_PACKET_BYTES + 2);
	pkt[0] = 'G';
	for (int i = 0; i < 2 * GDB_X86_G_PACKET_BYTES; i++)
		pkt[1 + i] = "0123456789abcdef"[i % 16];
	pkt[1 + 2 * GDB_X86_G_PACKET_BYTES] = 0;
	assert_string_equal(send(f, pkt), "OK");
	assert_true(mock_get_reg64(&f->mt, 0, GDB_REG_RAX) ==
		    0xefcdab8967452301ULL);
	/* what G wrote, g reads back */
	assert_memory_equal(send(f, "g"), pkt + 1, 2 * GDB_X86_G_PACKET_BYTES);
	/* wrong length and bad hex write nothing */
	uint64_t before = mock_get_reg64(&f->mt, 0, GDB_REG_RAX);
	pkt[100] = 'z';
	assert_string_equal(send(f, pkt), "E16");
	pkt[100] = '0';
	pkt[2 * GDB_X86_G_PACKET_BYTES] = 0;
	assert_string_equal(send(f, pkt), "E16");
	assert_true(mock_get_reg64(&f->mt, 0, GDB_REG_RAX) == before);
	free(pkt);
}

static int g_writes[GDB_REG_COUNT];

/* Counts writes per register; cr8 over 15 is refused, as on the VM. */
static int counting_write_reg(void *ctx, int vcpu, int regno,
			      const uint8_t *val)
{
	if (regno == GDB_REG_CR8 && val[0] > 15)
		return -EINVAL;
	g_writes[regno]++;
	return mock_target_ops.write_reg(ctx, vcpu, regno, val);
}

static int writes_total(void)
{
	int n = 0;
	for (int i = 0; i < GDB_REG_COUNT; i++)
		n += g_writes[i];
	return n;
}

/* G writes only the registers that changed, and a refused value leaves
 * every register as it was behind the E reply. */
static void test_G_writes_only_changes_or_nothing(void **state)
{
	struct fixture *f = *state;
	struct gdb_target_ops counting = mock_target_ops;
	char pkt[2 * GDB_X86_G_PACKET_BYTES + 2] = "G";
	counting.write_reg = counting_write_reg;
	f->s.ops = &counting;
	mock_set_reg64(&f->mt, 0, GDB_REG_CS, 0x10);
	mock_set_reg64(&f->mt, 0, GDB_REG_CR0, 0x80000011);
	memset(g_writes, 0, sizeof(g_writes));
	/* what g gave back unchanged: nothing written */
	strcpy(pkt + 1, send(f, "g"));
	assert_string_equal(send(f, pkt), "OK");
	assert_int_equal(writes_total(), 0);
	/* rax (bytes 0-7) changed: rax alone is written */
	memcpy(pkt + 1, "1122334455667788", 16);
	assert_string_equal(send(f, pkt), "OK");
	assert_int_equal(g_writes[GDB_REG_RAX], 1);
	assert_int_equal(writes_total(), 1);
	assert_true(mock_get_reg64(&f->mt, 0, GDB_REG_RAX) ==
		    0x8877665544332211ULL);
	/* rbx changed too, and cr8 (last but one register) to 0x20: refused,
	 * and rbx is as before */
	uint64_t rbx = mock_get_reg64(&f->mt, 0, GDB_REG_RBX);
	uint64_t cr8 = mock_get_reg64(&f->mt, 0, GDB_REG_CR8);
	size_t cr8_off = 0;
	for (int regno = 0; regno < GDB_REG_CR8; regno++)
		cr8_off += gdb_x86_reg_size(regno);
	memcpy(pkt + 1 + 16, "ffffffffffffffff", 16);
	memcpy(pkt + 1 + 2 * cr8_off, "20", 2);
	assert_string_equal(send(f, pkt), "E16");
	assert_true(mock_get_reg64(&f->mt, 0, GDB_REG_RBX) == rbx);
	assert_true(mock_get_reg64(&f->mt, 0, GDB_REG_CR8) == cr8);
	assert_true(mock_get_reg64(&f->mt, 0, GDB_REG_CS) == 0x10);
	assert_true(mock_get_reg64(&f->mt, 0, GDB_REG_CR0) == 0x80000011);
	f->s.ops = &mock_target_ops;
}

static void test_p_and_P(void **state)
{
	struct fixture *f = *state;
	mock_set_reg64(&f->mt, 0, GDB_REG_CR3, 0x123000);
	assert_string_equal(send(f, "p3e"), "0030120000000000");
	assert_string_equal(send(f, "P10=efbeadde00000000"), "OK");
	assert_true(mock_get_reg64(&f->mt, 0, GDB_REG_RIP) == 0xdeadbeef);
	assert_string_equal(send(f, "p10"), "efbeadde00000000");
	/* register number beyond the description, bad sizes, bad hex */
	char beyond[16];
	snprintf(beyond, sizeof(beyond), "p%x", GDB_REG_COUNT);
	assert_string_equal(send(f, beyond), "E16");
	assert_string_equal(send(f, "pffffffffffffffffff"), "E16");
	assert_string_equal(send(f, "P10=efbe"), "E16");
	assert_string_equal(send(f, "P10=zzbeadde00000000"), "E16");
	assert_string_equal(send(f, "P10"), "E16");
	f->mt.no_x87 = true;
	assert_string_equal(send(f, "p18"), "xxxxxxxxxxxxxxxxxxxx");
	assert_string_equal(send(f, "P18=00000000000000000000"), "E02");
	/* Hg selects whose registers */
	mock_set_reg64(&f->mt, 2, GDB_REG_RAX, 0x77);
	assert_string_equal(send(f, "Hg3"), "OK");
	assert_string_equal(send(f, "p0"), "7700000000000000");
}

static void test_memory_read_hole_and_alias(void **state)
{
	struct fixture *f = *state;
	char expect[64];
	/* a read that crosses into an unmapped page returns bytes before */
	mock_unmap(&f->mt, 3);
	const char *m = send(f, "m2ffc,8");
	hex_encode(f->mt.mem + 0x2ffc, 4, expect);
	expect[8] = 0;
	assert_string_equal(m, expect);
	assert_string_equal(send(f, "m3000,4"), "E0e");
	/* the high alias maps the same memory */
	hex_encode(f->mt.mem + 0x1000, 4, expect);
	expect[8] = 0;
	assert_string_equal(send(f, "mffff800000001000,4"), expect);
	/* addresses nothing maps, overflowing lengths, bad syntax */
	assert_string_equal(send(f, "m7fffffff0000,4"), "E0e");
	assert_string_equal(send(f, "mffffffffffffffff,ffffffffffffffff"),
			    "E0e");
	assert_string_equal(send(f, "m1000,10000000000000000"), "E16");
	assert_string_equal(send(f, "m1000"), "E16");
	assert_string_equal(send(f, "mzz,4"), "E16");
	/* physical mode through the monitor */
	f->mt.vmap[1] = 5; /* virtual page 1 -> physical page 5 */
	hex_encode(f->mt.mem + 0x5000, 2, expect);
	expect[4] = 0;
	assert_string_equal(send(f, "m1000,2"), expect);
	send(f, "qRcmd,70687973206f6e"); /* "phys on" */
	assert_true(f->s.phys_mode);
	hex_encode(f->mt.mem + 0x1000, 2, expect);
	expect[4] = 0;
	assert_string_equal(send(f, "m1000,2"), expect);
	send(f, "qRcmd,70687973206f6666"); /* "phys off" */
	assert_false(f->s.phys_mode);
}

static void test_binary_read(void **state)
{
	struct fixture *f = *state;
	memcpy(f->mt.mem + 0x2000, "a#$}*", 5);
	const char *x = send(f, "x2000,5");
	assert_int_equal(f->r.len, 6);
	assert_memory_equal(x, "ba#$}*", 6);
	assert_string_equal(send(f, "x0,0"), "b");
	assert_string_equal(send(f, "x3000000,4"), "E0e");
}

static void test_memory_write_all_or_nothing(void **state)
{
	struct fixture *f = *state;
	mock_unmap(&f->mt, 3);
	uint8_t before[16];
	memcpy(before, f->mt.mem + 0x2ff8, 16);
	assert_string_equal(send(f, "M2ffc,8:0102030405060708"), "E0e");
	assert_memory_equal(f->mt.mem + 0x2ff8, before, 16);
	assert_string_equal(send(f, "M2000,2:abcd"), "OK");
	assert_int_equal(f->mt.mem[0x2000], 0xab);
	assert_int_equal(f->mt.mem[0x2001], 0xcd);
	/* length mismatch, invalid hex */
	assert_string_equal(send(f, "M2000,3:abcd"), "E16");
	assert_string_equal(send(f, "M2000,2:abcx"), "E16");
	assert_string_equal(send(f, "M2000,ffffffffffffffff:ab"), "E16");
	/* X: binary (already unescaped), probe with length 0 */
	assert_string_equal(send(f, "X2000,0:"), "OK");
	assert_string_equal(sendn(f, "X2004,3:\x00#}", 11), "OK");
	assert_memory_equal(f->mt.mem + 0x2004, "\x00#}", 3);
	assert_string_equal(sendn(f, "X2ffe,4:\x01\x02\x03\x04", 12), "E0e");
	assert_string_equal(sendn(f, "X2004,4:\x01", 9), "E16");
	/* a write that wraps the address space */
	assert_string_equal(send(f, "Mffffffffffffffff,2:0102"), "E0e");
}

static void test_breakpoints_shadow_memory(void **state)
{
	struct fixture *f = *state;
	uint8_t orig = f->mt.mem[0x1005];
	char expect[8];
	assert_string_equal(send(f, "Z0,1005,1"), "OK");
	assert_int_equal(f->mt.mem[0x1005], 0xcc);
	/* idempotent: a second insert keeps the real original */
	assert_string_equal(send(f, "Z0,1005,1"), "OK");
	assert_int_equal(bp_table_count(&f->s.bps), 1);
	assert_int_equal(bp_table_find(&f->s.bps, 0x1005)->saved_byte, orig);
	/* the alias names the same gpa */
	assert_string_equal(send(f, "Z0,ffff800000001005,1"), "OK");
	assert_int_equal(bp_table_count(&f->s.bps), 1);
	/* reads show the original */
	hex_encode(&orig, 1, expect);
	expect[2] = 0;
	assert_string_equal(send(f, "m1005,1"), expect);
	const char *x = send(f, "x1005,1");
	assert_int_equal((uint8_t)x[1], orig);
	/* a write over it updates the saved byte and keeps the int3 */
	assert_string_equal(send(f, "M1004,3:414243"), "OK");
	assert_int_equal(f->mt.mem[0x1004], 0x41);
	assert_int_equal(f->mt.mem[0x1005], 0xcc);
	assert_int_equal(f->mt.mem[0x1006], 0x43);
	assert_int_equal(bp_table_find(&f->s.bps, 0x1005)->saved_byte, 0x42);
	assert_string_equal(send(f, "m1004,3"), "414243");
	/* remove restores the updated byte; removing again is OK */
	assert_string_equal(send(f, "z0,1005,1"), "OK");
	assert_int_equal(f->mt.mem[0x1005], 0x42);
	assert_string_equal(send(f, "z0,1005,1"), "OK");
	assert_int_equal(f->mt.mem[0x1005], 0x42);
}

static int refuse_write_phys(void *ctx, uint64_t gpa, const void *buf,
			     size_t len)
{
	(void)ctx;
	(void)gpa;
	(void)buf;
	(void)len;
	return -EIO;
}

/* A removal whose restore fails keeps the breakpoint: the int3 stays
 * known (reads still hide it, a later z0 or detach restores it). */
static void test_failed_remove_keeps_breakpoint(void **state)
{
	struct fixture *f = *state;
	uint8_t orig = f->mt.mem[0x1005];
	char expect[3];
	assert_string_equal(send(f, "Z0,1005,1"), "OK");
	struct gdb_target_ops failing = mock_target_ops;
	failing.write_phys = refuse_write_phys;
	f->s.ops = &failing;
	assert_string_equal(send(f, "z0,1005,1"), "E0e");
	f->s.ops = &mock_target_ops;
	assert_int_equal(f->mt.mem[0x1005], 0xcc);
	assert_int_equal(bp_table_count(&f->s.bps), 1);
	hex_encode(&orig, 1, expect);
	expect[2] = 0;
	assert_string_equal(send(f, "m1005,1"), expect);
	assert_string_equal(send(f, "z0,1005,1"), "OK");
	assert_int_equal(f->mt.mem[0x1005], orig);
	assert_int_equal(bp_table_count(&f->s.bps), 0);
}

static int cannot_tell_paging(void *ctx, uint64_t gpa)
{
	(void)ctx;
	(void)gpa;
	return -E2BIG;
}

/* An int3 in a page table would corrupt every translation through it:
 * refused with an error and nothing written, as is a byte the target
 * cannot clear; the rest of the page is just as much a table. */
static void test_breakpoint_on_page_table_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t before[MOCK_PAGE];
	f->mt.page_table_page = 3;
	memcpy(before, f->mt.mem + 0x3000, MOCK_PAGE);
	assert_string_equal(send(f, "Z0,3000,1"), "E01");
	assert_string_equal(send(f, "Z0,3ff8,1"), "E01");
	/* through the alias too, and in physical mode */
	assert_string_equal(send(f, "Z0,ffff800000003010,1"), "E01");
	f->s.phys_mode = true;
	assert_string_equal(send(f, "Z0,3020,1"), "E01");
	f->s.phys_mode = false;
	assert_memory_equal(f->mt.mem + 0x3000, before, MOCK_PAGE);
	assert_int_equal(bp_table_count(&f->s.bps), 0);
	/* next to it is fine */
	assert_string_equal(send(f, "Z0,4000,1"), "OK");
	assert_string_equal(send(f, "Z0,2fff,1"), "OK");
	struct gdb_target_ops unsure = mock_target_ops;
	unsure.in_paging_structures = cannot_tell_paging;
	f->s.ops = &unsure;
	assert_string_equal(send(f, "Z0,1005,1"), "E07");
	f->s.ops = &mock_target_ops;
	assert_int_equal(bp_table_count(&f->s.bps), 2);
}

static void test_breakpoint_bad_input(void **state)
{
	struct fixture *f = *state;
	uint8_t before = f->mt.mem[0x1005];
	assert_string_equal(send(f, "Z0,1005,2"), "E16");    /* kind */
	assert_string_equal(send(f, "Z9,1005,1"), "E16");    /* bad type */
	assert_string_equal(send(f, "Z0,1005,1;X1,0"), ""); /* condition */
	assert_string_equal(send(f, "Z0,1005"), "E16");
	assert_string_equal(send(f, "Z0,,1"), "E16");
	assert_string_equal(send(f, "Z"), "E16");
	assert_string_equal(send(f, "Z0,1005,1junk"), "E16");
	assert_int_equal(f->mt.mem[0x1005], before);
	/* unmapped: error, nothing written, nothing recorded */
	mock_unmap(&f->mt, 4);
	assert_string_equal(send(f, "Z0,4000,1"), "E0e");
	assert_int_equal(bp_table_count(&f->s.bps), 0);
}

static void test_remove_all_restores(void **state)
{
	struct fixture *f = *state;
	uint8_t before[64];
	memcpy(before, f->mt.mem + 0x1000, 64);
	for (int i = 0; i < 64; i += 3) {
		char pkt[32];
		snprintf(pkt, sizeof(pkt), "Z0,%x,1", 0x1000 + i);
		assert_string_equal(send(f, pkt), "OK");
	}
	assert_int_equal(f->mt.mem[0x1000], 0xcc);
	gdb_bp_remove_all(&f->s);
	assert_memory_equal(f->mt.mem + 0x1000, before, 64);
	assert_int_equal(bp_table_count(&f->s.bps), 0);
}

static void test_threads(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(send(f, "qfThreadInfo"), "m1,2,3,4");
	assert_string_equal(send(f, "qsThreadInfo"), "l");
	assert_string_equal(send(f, "Hg0002"), "OK"); /* leading zeros */
	assert_int_equal(f->s.hg, 1);
	assert_string_equal(send(f, "Hc-1"), "OK");
	assert_int_equal(f->s.hc, -1);
	assert_int_equal(f->s.hg, 1); /* Hc does not touch Hg */
	assert_string_equal(send(f, "Hc3"), "OK");
	assert_int_equal(f->s.hg, 1);
	assert_int_equal(f->s.hc, 2);
	assert_string_equal(send(f, "qC"), "QC2");
	assert_string_equal(send(f, "Hg5"), "E16"); /* unknown thread */
	assert_string_equal(send(f, "Hgzz"), "E16");
	assert_string_equal(send(f, "Hx1"), "E16");
	assert_string_equal(send(f, "Hg0"), "OK");
	assert_int_equal(f->s.hg, 0);
	assert_string_equal(send(f, "T4"), "OK");
	assert_string_equal(send(f, "T5"), "E03");
	assert_string_equal(send(f, "T0"), "E03");
	assert_string_equal(send(f, "Tffffffffffffffffffff"), "E03");
	/* qThreadExtraInfo is hex text naming the vCPU and its mode */
	const char *hex = send(f, "qThreadExtraInfo,2");
	char text[128] = { 0 };
	assert_int_equal(hex_decode(hex, strlen(hex) / 2, (uint8_t *)text), 0);
	assert_non_null(strstr(text, "vCPU 1"));
	assert_non_null(strstr(text, "64-bit"));
	assert_string_equal(send(f, "qThreadExtraInfo,9"), "E03");
}

static void test_run_control_actions(void **state)
{
	struct fixture *f = *state;
	send(f, "c");
	assert_int_equal(f->res, GDB_PKT_RESUME);
	for (unsigned v = 0; v < 4; v++)
		assert_int_equal(f->s.actions[v], GDB_ACT_CONTINUE);
	/* s steps the Hc thread only (Hg when Hc is "all") */
	send(f, "Hg2");
	send(f, "s");
	assert_int_equal(f->res, GDB_PKT_RESUME);
	assert_int_equal(f->s.actions[1], GDB_ACT_STEP);
	assert_int_equal(f->s.actions[0], GDB_ACT_NONE);
	assert_int_equal(f->s.actions[2], GDB_ACT_NONE);
	/* vCont;s:1;c : step 1, continue the others */
	send(f, "vCont;s:1;c");
	assert_int_equal(f->res, GDB_PKT_RESUME);
	assert_int_equal(f->s.actions[0], GDB_ACT_STEP);
	for (unsigned v = 1; v < 4; v++)
		assert_int_equal(f->s.actions[v], GDB_ACT_CONTINUE);
	/* scheduler-locking: only the named thread; LLDB's zero padding */
	send(f, "vCont;s:0003");
	assert_int_equal(f->res, GDB_PKT_RESUME);
	assert_int_equal(f->s.actions[2], GDB_ACT_STEP);
	assert_int_equal(f->s.actions[0] + f->s.actions[1] + f->s.actions[3],
			 0);
	assert_int_equal(f->s.resumed_vcpu, 2);
	send(f, "vCont;c:2");
	assert_int_equal(f->s.actions[1], GDB_ACT_CONTINUE);
	assert_int_equal(f->s.actions[0], GDB_ACT_NONE);
	send(f, "vCont;C05:2;c");
	assert_int_equal(f->res, GDB_PKT_RESUME);
	/* leftmost wins */
	send(f, "vCont;c:1;s:1");
	assert_int_equal(f->s.actions[0], GDB_ACT_CONTINUE);
	/* bad ones are errors and resume nothing */
	assert_string_equal(send(f, "vCont;s:9"), "E16");
	assert_int_equal(f->res, GDB_PKT_REPLY);
	assert_string_equal(send(f, "vCont;x"), "E16");
	assert_string_equal(send(f, "vCont;"), "E16");
	assert_string_equal(send(f, "vCont;c:"), "E16");
	assert_string_equal(send(f, "vCont;c:1x"), "E16");
	assert_string_equal(send(f, "vCont;t:1"), "E16");
	/* trailing separators are malformed, not "nothing more" */
	assert_string_equal(send(f, "vCont;c;"), "E16");
	assert_string_equal(send(f, "vCont;s:1;c;"), "E16");
	assert_int_equal(f->s.actions[0] + f->s.actions[1], 0);
	/* c with an address sets RIP of the Hc/Hg thread */
	send(f, "Hc1");
	send(f, "c2000");
	assert_int_equal(f->res, GDB_PKT_RESUME);
	assert_true(mock_get_reg64(&f->mt, 0, GDB_REG_RIP) == 0x2000);
	assert_string_equal(send(f, "cxyz"), "E16");
	send(f, "C05");
	assert_int_equal(f->res, GDB_PKT_RESUME);
	send(f, "S05");
	assert_int_equal(f->res, GDB_PKT_RESUME);
	assert_string_equal(send(f, "Cxx"), "E16");
	assert_string_equal(send(f, "C05;"), "E16");
	assert_int_equal(f->res, GDB_PKT_REPLY);
	assert_string_equal(send(f, "S05;"), "E16");
	send(f, "C05;3000");
	assert_int_equal(f->res, GDB_PKT_RESUME);
	assert_true(mock_get_reg64(&f->mt, 0, GDB_REG_RIP) == 0x3000);
}

static void test_stop_reply_selects_thread(void **state)
{
	struct fixture *f = *state;
	struct gdb_stop_info st = { .vcpu = 2, .signal = 5, .swbreak = true };
	/* swbreak only for a debugger that offered swbreak+ (gdb), never
	 * for one that did not (lldb), nor before qSupported */
	static const char *const no_swbreak[] = {
		NULL, "qSupported", "qSupported:xmlRegisters=i386",
		"qSupported:swbreak-", "qSupported:swbreak+x;hwbreak+",
	};
	for (size_t i = 0; i < sizeof(no_swbreak) / sizeof(*no_swbreak); i++) {
		if (no_swbreak[i])
			send(f, no_swbreak[i]);
		gdb_build_stop_reply(&f->s, &st, &f->r);
		assert_memory_equal(f->rbuf, "T05thread:3;10:", 15);
	}
	send(f, "qSupported:multiprocess+;swbreak+;hwbreak+");
	send(f, "Hg1");
	send(f, "Hc1");
	gdb_build_stop_reply(&f->s, &st, &f->r);
	f->rbuf[f->r.len] = 0;
	assert_string_equal((char *)f->rbuf,
			    "T05thread:3;swbreak:;"
			    "10:0012000000000000;07:0082000000000000;"
			    "06:0092000000000000;");
	assert_int_equal(f->s.hg, 2);
	assert_int_equal(f->s.hc, 2);
	/* '?' repeats the last stop */
	const char *q = send(f, "?");
	assert_memory_equal(q, "T05thread:3;swbreak:;", 21);
	st = (struct gdb_stop_info){ .vcpu = 0, .signal = 2 };
	gdb_build_stop_reply(&f->s, &st, &f->r);
	assert_memory_equal(f->rbuf, "T02thread:1;10:", 15);
}

static void test_queries(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(send(f, "qAttached"), "1");
	assert_string_equal(send(f, "qAttached:1"), "1");
	assert_string_equal(send(f, "qOffsets"), "Text=0;Data=0;Bss=0");
	assert_string_equal(send(f, "qSymbol::"), "OK");
	assert_string_equal(send(f, "qTStatus"), "");
	assert_string_equal(send(f, "vMustReplyEmpty"), "");
	assert_string_equal(send(f, "QStartNoAckMode"), "OK");
	assert_int_equal(f->res, GDB_PKT_NOACK);
	assert_string_equal(send(f, "!"), "");
	assert_string_equal(send(f, ""), "");
	assert_string_equal(send(f, "D"), "OK");
	assert_int_equal(f->res, GDB_PKT_DETACH);
	assert_string_equal(send(f, "D;1"), "OK");
	send(f, "k");
	assert_int_equal(f->res, GDB_PKT_KILL);
	assert_true(f->mt.killed);
}

/* vKill;PID ends the VM as k does, answered OK; the PID is not checked
 * (one VM), its syntax is. */
static void test_vkill(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(send(f, "vKill;"), "E16");
	assert_string_equal(send(f, "vKill;xyz"), "E16");
	assert_int_equal(f->res, GDB_PKT_REPLY);
	assert_false(f->mt.killed);
	assert_string_equal(send(f, "vKill;a410"), "OK");
	assert_int_equal(f->res, GDB_PKT_KILL);
	assert_true(f->mt.killed);
}

/* vCont;r START,END: a step with its range; an empty range is a plain
 * step; a backwards or half-written one is refused. */
static void test_vcont_range(void **state)
{
	struct fixture *f = *state;
	send(f, "vCont;r1000,1040:2;c");
	assert_int_equal(f->res, GDB_PKT_RESUME);
	assert_int_equal(f->s.actions[1], GDB_ACT_STEP);
	assert_true(f->s.ranges[1].start == 0x1000 &&
		    f->s.ranges[1].end == 0x1040);
	for (unsigned v = 0; v < 4; v++) {
		if (v == 1)
			continue;
		assert_int_equal(f->s.actions[v], GDB_ACT_CONTINUE);
		assert_true(f->s.ranges[v].start == f->s.ranges[v].end);
	}
	/* a later plain step clears the range */
	send(f, "vCont;s:2");
	assert_int_equal(f->s.actions[1], GDB_ACT_STEP);
	assert_true(f->s.ranges[1].start == 0 && f->s.ranges[1].end == 0);
	send(f, "vCont;r2000,2000:1");
	assert_int_equal(f->res, GDB_PKT_RESUME);
	assert_int_equal(f->s.actions[0], GDB_ACT_STEP);
	static const char *const bad[] = {
		"vCont;r", "vCont;r1000", "vCont;r1000,", "vCont;r,1000",
		"vCont;r2000,1000:1", "vCont;r1000;2000", "vCont;r1000,2000:",
		"vCont;r1000,2000x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_string_equal(send(f, bad[i]), "E16");
		assert_int_equal(f->res, GDB_PKT_REPLY);
		for (unsigned v = 0; v < 4; v++)
			assert_int_equal(f->s.actions[v], GDB_ACT_NONE);
	}
}

/* qXfer:threads:read: every vCPU with the text qThreadExtraInfo gives,
 * in chunks that add up to the whole document. */
static void test_xfer_threads(void **state)
{
	struct fixture *f = *state;
	char doc[8192] = "";
	for (unsigned off = 0;;) {
		char pkt[64];
		snprintf(pkt, sizeof(pkt), "qXfer:threads:read::%x,40", off);
		const char *r = send(f, pkt);
		assert_true(r[0] == 'm' || r[0] == 'l');
		assert_true(strlen(r + 1) <= 0x40);
		strcat(doc, r + 1);
		off += (unsigned)strlen(r + 1);
		if (r[0] == 'l')
			break;
	}
	assert_memory_equal(doc, "<?xml version=\"1.0\"?>\n<threads>\n", 32);
	for (unsigned v = 0; v < 4; v++) {
		char want[200], text[160], pkt[32];
		snprintf(pkt, sizeof(pkt), "qThreadExtraInfo,%x", v + 1);
		const char *hex = send(f, pkt);
		size_t n = strlen(hex) / 2;
		assert_int_equal(hex_decode(hex, n, (uint8_t *)text), 0);
		text[n] = 0;
		snprintf(want, sizeof(want),
			 "<thread id=\"%x\" core=\"%u\">%s</thread>\n", v + 1,
			 v, text);
		assert_non_null(strstr(doc, want));
	}
	assert_non_null(strstr(doc, "</threads>\n"));
	assert_string_equal(send(f, "qXfer:threads:read::10000,10"), "l");
	assert_string_equal(send(f, "qXfer:threads:read:x:0,10"), "E16");
	assert_string_equal(send(f, "qXfer:threads:read::0"), "E16");
	assert_string_equal(send(f, "QThreadEvents:1"), "OK");
	assert_true(f->s.thread_events);
	assert_string_equal(send(f, "QThreadEvents:0"), "OK");
	assert_false(f->s.thread_events);
	assert_string_equal(send(f, "QThreadEvents:2"), "E16");
}

/* LLDB's switches: the thread suffix selects the thread of g/G/p/P,
 * stop replies list threads and PCs, E replies carry their text; and
 * qThreadStopInfo / jThreadsInfo describe each thread's stop. */
static void test_lldb_extensions(void **state)
{
	struct fixture *f = *state;
	/* before QThreadSuffixSupported the suffix is not ours to cut */
	assert_string_equal(send(f, "p10;thread:2;"), "E16");
	assert_string_equal(send(f, "QThreadSuffixSupported"), "OK");
	char want[64];
	send(f, "Hg3");
	const char *viaHg = send(f, "p10");
	assert_true(strlen(viaHg) == 16);
	memcpy(want, viaHg, 17);
	send(f, "Hg1");
	assert_string_equal(send(f, "p10;thread:0003;"), want);
	assert_int_equal(f->s.hg, 2);
	assert_string_equal(send(f, "p10;thread:3"), want);
	assert_string_equal(send(f, "p10;thread:9;"), "E03");
	assert_string_equal(send(f, "p10;thread:;"), "E16");
	assert_true(send(f, "g;thread:1;")[0] != 'E');
	assert_int_equal(f->s.hg, 0);

	struct gdb_stop_info st = { .vcpu = 1, .signal = 5 };
	gdb_build_stop_reply(&f->s, &st, &f->r);
	f->rbuf[f->r.len] = 0;
	assert_null(strstr((char *)f->rbuf, "threads:"));
	assert_string_equal(send(f, "QListThreadsInStopReply"), "OK");
	gdb_build_stop_reply(&f->s, &st, &f->r);
	f->rbuf[f->r.len] = 0;
	char pcs[128];
	snprintf(pcs, sizeof(pcs), "threads:1,2,3,4;thread-pcs:%llx,%llx,%llx,"
		 "%llx;",
		 (unsigned long long)mock_get_reg64(&f->mt, 0, GDB_REG_RIP),
		 (unsigned long long)mock_get_reg64(&f->mt, 1, GDB_REG_RIP),
		 (unsigned long long)mock_get_reg64(&f->mt, 2, GDB_REG_RIP),
		 (unsigned long long)mock_get_reg64(&f->mt, 3, GDB_REG_RIP));
	assert_non_null(strstr((char *)f->rbuf, pcs));

	/* the reported thread has its signal, the others none */
	assert_memory_equal(send(f, "qThreadStopInfo2"), "T05thread:2;", 12);
	assert_memory_equal(send(f, "qThreadStopInfo1"), "T00thread:1;", 12);
	assert_int_equal(f->s.hg, 1); /* no side effect on the selection */
	assert_string_equal(send(f, "qThreadStopInfo9"), "E03");
	const char *json = send(f, "jThreadsInfo");
	assert_true(json[0] == '[' && json[strlen(json) - 1] == ']');
	assert_non_null(strstr(json, "{\"tid\":2,\"name\":\"vCPU 1"));
	assert_non_null(strstr(json, "\"signal\":5,\"registers\":{\"0\":\""));
	/* rip of vCPU 1, as p10 gives it; eflags is 4 bytes */
	char rip[64];
	send(f, "Hg2");
	snprintf(rip, sizeof(rip), "\"16\":\"%.16s\",\"17\":\"", send(f, "p10"));
	json = send(f, "jThreadsInfo");
	assert_non_null(strstr(json, rip));
	assert_non_null(strstr(json, "\"15\":\""));
	assert_null(strstr(json, "\"18\":"));
	assert_non_null(strstr(json, "{\"tid\":4,"));
	assert_int_equal((int)(strstr(json, "\"signal\":0") != NULL), 1);

	assert_string_equal(send(f, "QEnableErrorStrings"), "OK");
	char err[128] = "E03;";
	const char *text = strerror(ESRCH);
	hex_encode((const uint8_t *)text, strlen(text), err + 4);
	err[4 + 2 * strlen(text)] = 0;
	assert_string_equal(send(f, "qThreadStopInfo9"), err);
	/* a new connection starts without them */
	gdb_session_reset(&f->s);
	assert_string_equal(send(f, "qThreadStopInfo9"), "E03");
	assert_false(f->s.thread_suffix || f->s.threads_in_stop);
}

static void test_target_xml_transfer(void **state)
{
	struct fixture *f = *state;
	size_t len;
	const char *xml = gdb_target_xml(&len);
	assert_non_null(strstr(xml, "<architecture>i386:x86-64</architecture>"));
	assert_non_null(strstr(xml, "org.gnu.gdb.i386.core"));
	assert_non_null(strstr(xml, "org.gnu.gdb.i386.sse"));
	assert_non_null(strstr(xml, "org.gnu.gdb.i386.segments"));
	assert_null(strstr(xml, "org.gnu.gdb.i386.linux"));
	assert_non_null(strstr(xml, "type=\"i387_ext\""));
	assert_non_null(strstr(xml, "name=\"efer\" bitsize=\"64\" type=\"int\" regnum=\"65\""));
	assert_non_null(strstr(xml, "name=\"fs_base\" bitsize=\"64\" type=\"int\" regnum=\"57\""));
	/* read in chunks, reassemble */
	char *got = calloc(1, len + 1);
	size_t off = 0;
	for (;;) {
		char pkt[64];
		snprintf(pkt, sizeof(pkt), "qXfer:features:read:target.xml:%zx,100", off);
		const char *r = send(f, pkt);
		assert_true(r[0] == 'm' || r[0] == 'l');
		memcpy(got + off, r + 1, f->r.len - 1);
		off += f->r.len - 1;
		if (r[0] == 'l')
			break;
	}
	assert_int_equal(off, len);
	assert_memory_equal(got, xml, len);
	free(got);
	/* bounds */
	assert_string_equal(send(f, "qXfer:features:read:target.xml:ffffffffffffffff,ffffffffffffffff"), "l");
	const char *r = send(f, "qXfer:features:read:target.xml:0,ffffffffffffffff");
	assert_int_equal(r[0], 'l');
	assert_int_equal(f->r.len, len + 1);
	assert_string_equal(send(f, "qXfer:features:read:other.xml:0,10"), "E02");
	assert_string_equal(send(f, "qXfer:features:read:target.xml:0"), "E16");
	assert_string_equal(send(f, "qXfer:features:read:target.xml:zz,1"), "E16");
}

/* The description names every register of the 'g' packet, in order, with
 * its number and size: 796 bytes in all (what gdb's amd64 layout and our
 * system, descriptor and debug-register features make). */
static void test_target_xml_lists_every_register(void **state)
{
	(void)state;
	size_t len;
	const char *xml = gdb_target_xml(&len);
	const char *at = xml;
	unsigned bytes = 0;

	assert_int_equal(strlen(xml), len);
	for (int regno = 0; regno < GDB_REG_COUNT; regno++) {
		char want[128];
		const char *reg = strstr(at, "<reg name=\"");
		unsigned bits;
		int num;
		assert_non_null(reg);
		snprintf(want, sizeof(want), "<reg name=\"%s\" bitsize=\"",
			 gdb_x86_reg_name(regno));
		assert_memory_equal(reg, want, strlen(want));
		assert_int_equal(sscanf(reg + strlen(want), "%u", &bits), 1);
		assert_int_equal(bits, 8 * gdb_x86_reg_size(regno));
		const char *rn = strstr(reg, "regnum=\"");
		assert_true(rn && rn < strstr(reg, "/>"));
		assert_int_equal(sscanf(rn, "regnum=\"%d", &num), 1);
		assert_int_equal(num, regno);
		bytes += bits / 8;
		at = reg + 1;
	}
	assert_null(strstr(at, "<reg ")); /* and nothing else */
	assert_int_equal(bytes, 796);
	assert_int_equal(gdb_x86_regs_total_size(), 796);
	/* six features, each closed; the document closed */
	unsigned open = 0, closed = 0;
	for (const char *p = xml; (p = strstr(p, "<feature ")); p++)
		open++;
	for (const char *p = xml; (p = strstr(p, "</feature>")); p++)
		closed++;
	assert_int_equal(open, 6);
	assert_int_equal(closed, 6);
	assert_string_equal(xml + len - strlen("</target>\n"), "</target>\n");
}

static char *monitor(struct fixture *f, const char *cmd)
{
	static char pkt[4096] = "qRcmd,";
	assert_true(6 + 2 * strlen(cmd) < sizeof(pkt));
	hex_encode((const uint8_t *)cmd, strlen(cmd), pkt + 6);
	pkt[6 + 2 * strlen(cmd)] = 0;
	const char *hex = send(f, pkt);
	static char text[RSP_PACKET_SIZE / 2 + 1];
	size_t n = strlen(hex) / 2;
	assert_int_equal(hex_decode(hex, n, (uint8_t *)text), 0);
	text[n] = 0;
	return text;
}

static void test_monitor(void **state)
{
	struct fixture *f = *state;
	assert_non_null(strstr(monitor(f, "help"), "info breakpoints"));
	char *t = monitor(f, "info vcpus");
	assert_non_null(strstr(t, "0x0000000000001000"));
	assert_non_null(strstr(t, "0x0000000000001300"));
	assert_null(strstr(t, "SIPI"));
	/* an application processor that INIT/SIPI has not started yet: its
	 * mode column (the state needs the event machine, which this
	 * fixture has not; e2e.ap_waits_for_sipi checks it) */
	f->mt.vcpu[1].waiting_for_sipi = true;
	t = monitor(f, "info vcpus");
	char *row1 = strstr(t, "\n1 ");
	assert_non_null(row1);
	assert_non_null(strstr(row1, " real "));
	f->mt.vcpu[1].waiting_for_sipi = false;
	send(f, "Z0,1007,1");
	t = monitor(f, "info breakpoints");
	assert_non_null(strstr(t, "1 breakpoint(s)"));
	assert_non_null(strstr(t, "0x0000000000001007"));
	assert_non_null(strstr(monitor(f, "bogus"), "unknown monitor command"));
	/* stray blanks and tabs around and between the words */
	assert_non_null(strstr(monitor(f, "  info \t  vcpus "),
			       "0x0000000000001300"));
	assert_non_null(strstr(monitor(f, "phys   on"), "guest-physical"));
	assert_non_null(strstr(monitor(f, " phys\toff  "), "virtual"));
	assert_non_null(strstr(monitor(f, "  help"), "info breakpoints"));
	/* info mem / info tlb: a listing or "paging is off" for the selected
	 * vCPU; arguments are hex addresses, a range never reversed */
	assert_non_null(strstr(monitor(f, "info mem"), "vCPU 0"));
	assert_non_null(strstr(monitor(f, "info tlb 0 fff"), "vCPU 0"));
	assert_non_null(strstr(monitor(f, "info mem zz"), "usage: info mem"));
	assert_non_null(strstr(monitor(f, "info tlb 2000 1000"),
			       "usage: info tlb"));
	assert_non_null(strstr(monitor(f, "info mem 1 2 3"), "usage"));
	assert_non_null(strstr(monitor(f, "info memory"), "unknown"));
	assert_string_equal(send(f, "qRcmd,zz"), "E16");
	assert_string_equal(send(f, "qRcmd,6"), "E16");
	/* 10,000 breakpoints: the list is truncated, never overflows */
	for (int i = 0; i < 10000; i++) {
		char pkt[32];
		snprintf(pkt, sizeof(pkt), "Z0,%x,1", 0x10000 + i);
		assert_string_equal(send(f, pkt), "OK");
	}
	t = monitor(f, "info breakpoints");
	assert_non_null(strstr(t, "10001 breakpoint(s)\n"));
	/* only whole lines: the two headers, breakpoint lines, a line that
	 * says how many were left out, and the watch limits last */
	char *line = strchr(strchr(t, '\n') + 1, '\n') + 1;
	unsigned shown = 0, not_shown = 0;
	bool limits = false;
	for (char *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = 0;
		unsigned long long gpa, gva;
		unsigned saved;
		char tail;
		if (sscanf(line, "0x%16llx  0x%16llx  0x%2x%c", &gpa, &gva,
			   &saved, &tail) == 3 && strlen(line) == 44) {
			shown++;
			continue;
		}
		if (!not_shown) {
			assert_int_equal(sscanf(line, "... %u more not shown",
						&not_shown), 1);
			continue;
		}
		assert_non_null(strstr(line, "watchpoint(s) of 3"));
		limits = true;
		assert_int_equal(nl[1], 0); /* and it is the last line */
	}
	assert_true(limits);
	assert_int_equal(*line, 0); /* the text ends with a whole line */
	assert_true(shown > 100);
	assert_int_equal(shown + not_shown, 10001);
}

/* Every monitor command answers the same whatever blanks (spaces, tabs,
 * a line end) surround and separate its words. */
static void test_monitor_blanks(void **state)
{
	struct fixture *f = *state;
	static const char *const commands[] = {
		"help", "info vcpus", "info breakpoints", "info mem",
		"info mem 0 fff", "info tlb", "info tlb 1000 1fff",
		"info stats", "phys on", "phys", "phys off", "hold on", "hold",
		"hold off",
	};
	/* what goes before the command, between its words, after it */
	static const char *const blanks[][3] = {
		{ "", "  ", "" },
		{ "\t", "\t", "\t" },
		{ "   ", " \t  ", "  \r\n" },
		{ "", " ", "\n" },
	};
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		char clean[RSP_PACKET_SIZE / 2 + 1];
		snprintf(clean, sizeof(clean), "%s", monitor(f, commands[c]));
		assert_null(strstr(clean, "unknown monitor command"));
		assert_null(strstr(clean, "usage:"));
		for (size_t b = 0; b < sizeof(blanks) / sizeof(blanks[0]); b++) {
			char messy[256];
			size_t n = (size_t)snprintf(messy, sizeof(messy), "%s",
						    blanks[b][0]);
			for (const char *w = commands[c]; *w; w++)
				n += (size_t)snprintf(messy + n,
						      sizeof(messy) - n, "%s",
						      *w == ' ' ? blanks[b][1]
								: (char[]){ *w, 0 });
			snprintf(messy + n, sizeof(messy) - n, "%s",
				 blanks[b][2]);
			assert_string_equal(monitor(f, messy), clean);
		}
	}
	/* blanks make a command of any length; its words decide */
	char wide[1200] = "info";
	memset(wide + 4, ' ', 1000);
	strcpy(wide + 1004, "vcpus");
	char want[RSP_PACKET_SIZE / 2 + 1];
	snprintf(want, sizeof(want), "%s", monitor(f, "info vcpus"));
	assert_string_equal(monitor(f, wide), want);
	/* too long once squeezed, or with a NUL byte: a message, not E */
	memset(wide, 'x', 200);
	wide[200] = 0;
	assert_non_null(strstr(monitor(f, wide), "too long"));
	const char *hex = send(f, "qRcmd,68656c7000"); /* "help\0" */
	char text[128] = { 0 };
	assert_true(strlen(hex) / 2 < sizeof(text));
	assert_int_equal(hex_decode(hex, strlen(hex) / 2, (uint8_t *)text), 0);
	assert_non_null(strstr(text, "no NUL byte"));
}

/* ---- The packet table ------------------------------------------------- */

static const char *handle(struct gdb_session *s, struct fixture *f,
			  const char *pkt, enum gdb_packet_result *res)
{
	*res = gdb_handle_packet(s, (const uint8_t *)pkt, strlen(pkt), &f->r);
	memcpy(f->text, f->r.buf, f->r.len);
	f->text[f->r.len] = 0;
	return f->text;
}

/* Target variants: all ops; no guest memory (no breakpoints, no 'x'); no
 * capabilities (no single-step); no watch ops (no Z1-Z4). */
#define TARGET_VARIANTS 5
static struct gdb_target_ops variant_ops(int variant)
{
	struct gdb_target_ops ops = mock_target_ops;
	if (variant == 1) {
		ops.read_phys = NULL;
		ops.write_phys = NULL;
	}
	if (variant == 2)
		ops.has_cap = NULL;
	if (variant == 3)
		ops.insert_watch = NULL;
	if (variant == 4) /* no single-vCPU stops: no non-stop mode */
		ops.suspend = NULL;
	return ops;
}

/* Non-stop's packets on the session alone (no event machine: every vCPU
 * counts as stopped). The threads' side is test_vcpu_events. */
static void test_non_stop_packets(void **state)
{
	struct fixture *f = *state;
	/* all-stop: non-stop's packets are unsupported, vCont? has no t */
	assert_string_equal(send(f, "vStopped"), "");
	assert_string_equal(send(f, "vCtrlC"), "");
	assert_string_equal(send(f, "vCont;t:1"), "E16");
	assert_string_equal(send(f, "vCont?"), "vCont;c;C;s;S;r");
	/* bad modes change nothing */
	static const char *const bad[] = { "QNonStop:2", "QNonStop:",
					   "QNonStop:11", "QNonStop:1;",
					   "QNonStop" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		const char *reply = send(f, bad[i]);
		assert_true(reply[0] == 'E' || reply[0] == 0);
		assert_false(f->s.non_stop);
	}
	assert_string_equal(send(f, "QNonStop:1"), "OK");
	assert_true(f->s.non_stop);
	assert_string_equal(send(f, "QNonStop:1"), "OK"); /* idempotent */
	assert_string_equal(send(f, "vCont?"), "vCont;c;C;s;S;r;t");
	/* resumes are vCont's: c and s cannot say who stays stopped */
	assert_string_equal(send(f, "c"), "E5f");
	assert_string_equal(send(f, "s"), "E5f");
	/* vStopped with no notification in flight: OK */
	assert_string_equal(send(f, "vStopped"), "OK");
	/* '?': the first stopped vCPU, signal 0 (stopped for no reason of
	 * its own; the others are notified by the server afterwards, see
	 * test_vcpu_events); the selected thread stays (non-stop gdb selects
	 * with Hg) */
	send(f, "Hg3");
	assert_memory_equal(send(f, "?"), "T00thread:1;", 12);
	assert_true(f->s.quiet_stops_owed);
	assert_string_equal(send(f, "vStopped"), "OK");
	assert_string_equal(send(f, "vStopped"), "OK");
	assert_int_equal(f->s.hg, 2);
	/* vCont;t stops the named thread; the rest are left as they are */
	send(f, "vCont;t:2");
	assert_int_equal(f->res, GDB_PKT_RESUME);
	assert_int_equal(f->s.actions[1], GDB_ACT_STOP);
	assert_int_equal(f->s.actions[0] + f->s.actions[2] + f->s.actions[3],
			 0);
	send(f, "vCont;c:1;t");
	assert_int_equal(f->s.actions[0], GDB_ACT_CONTINUE);
	for (unsigned v = 1; v < 4; v++)
		assert_int_equal(f->s.actions[v], GDB_ACT_STOP);
	assert_string_equal(send(f, "vCont;t:9"), "E16");
	assert_string_equal(send(f, "vCont;t:"), "E16");
	/* vCtrlC: nobody runs here, so nobody is stopped; the reply is OK */
	assert_string_equal(send(f, "vCtrlC"), "OK");
	assert_int_equal(f->res, GDB_PKT_RESUME);
	for (unsigned v = 0; v < 4; v++)
		assert_int_equal(f->s.actions[v], GDB_ACT_NONE);
	assert_string_equal(send(f, "vCtrlC1"), "");
	/* registers and memory are served (every vCPU is stopped) */
	assert_true(send(f, "g")[0] != 'E');
	assert_string_equal(send(f, "QNonStop:0"), "OK");
	assert_false(f->s.non_stop);
	assert_string_equal(send(f, "vStopped"), "");
}

static void test_packet_table_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < gdb_packet_table_len; i++) {
		const struct gdb_packet_entry *e = &gdb_packet_table[i];
		assert_true(e->prefix[0] && e->handler);
		/* each row is what its own prefix reaches */
		assert_ptr_equal(gdb_packet_lookup(e->prefix,
						   e->prefix + strlen(e->prefix)),
				 e);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(gdb_packet_table[j].prefix,
						e->prefix);
		/* a feature needs a packet that can serve it */
		if (e->feature)
			assert_non_null(strchr(e->feature, '+'));
	}
	static const char unknown[] = "qTStatus";
	assert_null(gdb_packet_lookup(unknown, unknown + strlen(unknown)));
}

/* What qSupported advertises is exactly the features of the rows the
 * target can serve, and a row the target cannot serve is refused, on every
 * target variant. */
static void test_advertised_is_handled(void **state)
{
	struct fixture *f = *state;
	for (int variant = 0; variant < TARGET_VARIANTS; variant++) {
		struct gdb_target_ops ops = variant_ops(variant);
		struct gdb_session s;
		enum gdb_packet_result res;
		char supported[512];
		assert_int_equal(gdb_session_init(&s, &ops, &f->mt), 0);
		const char *reply = handle(&s, f, "qSupported", &res);
		assert_true(strlen(reply) + 2 <= sizeof(supported));
		strcpy(supported, reply);
		strcat(supported, ";");
		for (size_t i = 0; i < gdb_packet_table_len; i++) {
			const struct gdb_packet_entry *e = &gdb_packet_table[i];
			bool meets = gdb_session_meets(&s, e->need);
			if (e->feature) {
				char item[64];
				snprintf(item, sizeof(item), ";%s;",
					 e->feature);
				if (meets != (strstr(supported, item) != NULL))
					fail_msg("variant %d: %s %s advertised "
						 "(%s)", variant, e->feature,
						 meets ? "not" : "wrongly",
						 supported);
			}
			if (meets)
				continue;
			char pkt[64], want[8] = "";
			snprintf(pkt, sizeof(pkt), "%s%s", e->prefix,
				 e->exact ? "" : "1000,1");
			if (e->refuse_errno)
				snprintf(want, sizeof(want), "E%02x",
					 e->refuse_errno);
			assert_string_equal(handle(&s, f, pkt, &res), want);
			assert_int_equal(res, GDB_PKT_REPLY);
		}
		gdb_session_free(&s);
	}
}

/* vCont? lists exactly the actions vCont; takes. */
static void test_vcont_query_is_what_vcont_takes(void **state)
{
	struct fixture *f = *state;
	for (int variant = 0; variant < TARGET_VARIANTS; variant++) {
		struct gdb_target_ops ops = variant_ops(variant);
		struct gdb_session s;
		enum gdb_packet_result res;
		char listed[64];
		assert_int_equal(gdb_session_init(&s, &ops, &f->mt), 0);
		const char *query = handle(&s, f, "vCont?", &res);
		assert_true(strlen(query) + 2 <= sizeof(listed));
		strcpy(listed, query);
		strcat(listed, ";");
		assert_memory_equal(listed, "vCont;", 6);
		/* every letter GDB's manual defines for vCont */
		for (const char *c = "cCsSrt"; *c; c++) {
			char item[4] = { ';', *c, ';', 0 }, pkt[32];
			bool advertised = strstr(listed, item) != NULL;
			bool sig = *c == 'C' || *c == 'S';
			snprintf(pkt, sizeof(pkt), "vCont;%c%s", *c,
				 sig ? "05" : *c == 'r' ? "1000,2000" : "");
			const char *reply = handle(&s, f, pkt, &res);
			if (advertised != (res == GDB_PKT_RESUME))
				fail_msg("variant %d: %s is %sadvertised but "
					 "got \"%s\"", variant, pkt,
					 advertised ? "" : "not ", reply);
		}
		gdb_session_free(&s);
	}
}

int main(void)
{
#define BOTH(t)                                                     \
	cmocka_unit_test_setup_teardown(t, setup_intel, teardown),  \
		cmocka_unit_test_setup_teardown(t, setup_amd, teardown)
#define INTEL(t) cmocka_unit_test_setup_teardown(t, setup_intel, teardown)
	const struct CMUnitTest tests[] = {
		INTEL(test_qsupported_from_ops),
		INTEL(test_vcont_query_by_step_cap),
		BOTH(test_step_method_per_personality),
		BOTH(test_g_layout_and_unavailable),
		INTEL(test_G_roundtrip_and_errors),
		INTEL(test_G_writes_only_changes_or_nothing),
		INTEL(test_p_and_P),
		BOTH(test_memory_read_hole_and_alias),
		INTEL(test_binary_read),
		INTEL(test_memory_write_all_or_nothing),
		BOTH(test_breakpoints_shadow_memory),
		INTEL(test_breakpoint_bad_input),
		INTEL(test_failed_remove_keeps_breakpoint),
		INTEL(test_breakpoint_on_page_table_refused),
		INTEL(test_remove_all_restores),
		INTEL(test_threads),
		INTEL(test_run_control_actions),
		INTEL(test_stop_reply_selects_thread),
		INTEL(test_queries),
		INTEL(test_vkill),
		INTEL(test_vcont_range),
		INTEL(test_xfer_threads),
		INTEL(test_lldb_extensions),
		INTEL(test_target_xml_transfer),
		INTEL(test_target_xml_lists_every_register),
		INTEL(test_monitor),
		INTEL(test_monitor_blanks),
		cmocka_unit_test(test_packet_table_rows),
		INTEL(test_advertised_is_handled),
		INTEL(test_vcont_query_is_what_vcont_takes),
		INTEL(test_non_stop_packets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
