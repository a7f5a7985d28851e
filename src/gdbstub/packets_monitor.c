/* qRcmd ("monitor ..." in GDB): help, info vcpus, info breakpoints, info
 * mem, info tlb, info stats, phys, hold. */
#include "gdbstub/session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gdbstub/page_table_dump.h"
#include "gdbstub/rsp_codec.h"
#include "gdbstub/vcpu_events.h"

/* What killed a vCPU parked after a guest crash, or NULL. */
static const char *crash_description(const struct gdb_session *s, int vcpu)
{
	if (!s->ev)
		return NULL;
	enum vcpu_dbg_state state = events_vcpu_state_locked(s->ev, vcpu);
	/* parked, reported or not: a crashed vCPU never runs again */
	if (!vcpu_state_parked(state) || !s->ev->vcpu[vcpu].crash_what[0])
		return NULL;
	return s->ev->vcpu[vcpu].crash_what;
}

static const char *state_name(const struct gdb_session *s, int vcpu)
{
	if (!s->ev)
		return "unknown";
	enum vcpu_dbg_state state = events_vcpu_state_locked(s->ev, vcpu);
	if (state == VCPU_NOT_STARTED)
		return "not started";
	/* non-stop: running, or parked only for the moment this command
	 * takes (every vCPU is paused around a monitor command) */
	if (!vcpu_state_parked(state) || s->ev->vcpu[vcpu].paused)
		return state == VCPU_STEPPING ||
				       state == VCPU_PARKED_MID_STEP
			       ? "stepping"
			       : "running";
	if (crash_description(s, vcpu))
		return "crashed";
	/* also one resumed for a step that another vCPU's stop cut short */
	if (state == VCPU_STEPPING || state == VCPU_PARKED_MID_STEP)
		return "stepping";
	struct gdb_vcpu_status status = { 0 };
	if (s->ops->vcpu_status && s->ops->vcpu_status(s->ctx, vcpu, &status) == 0) {
		if (status.waiting_for_sipi)
			return "wait-for-SIPI"; /* the SDM's name */
		if (status.halted)
			return "halted";
	}
	/* Monitor commands are served while gdb has the VM stopped, so a
	 * parked vCPU is simply stopped there. */
	return vcpu_state_parked(state) ? "stopped" : "running";
}

void gdb_describe_vcpu(const struct gdb_session *s, int vcpu, char *out,
		       size_t outlen)
{
	struct gdb_vcpu_status status = { 0 };
	const char *mode = "unknown mode";

	/* a vCPU that runs (non-stop) is not read: its registers are its
	 * engine's while it runs */
	if (!gdb_vcpu_parked(s, vcpu)) {
		snprintf(out, outlen, "vCPU %d, %s", vcpu, state_name(s, vcpu));
		return;
	}
	if (s->ops->vcpu_status &&
	    s->ops->vcpu_status(s->ctx, vcpu, &status) == 0 && status.mode)
		mode = status.mode;
	const char *why = crash_description(s, vcpu);
	snprintf(out, outlen, "vCPU %d, %s%s%s%s, %s", vcpu,
		 state_name(s, vcpu), why ? " (" : "", why ? why : "",
		 why ? ")" : "", mode);
}

/* Monitor output is plain text; the reply carries it hex-encoded. */
/* The reply carries the text hex-encoded: twice this fits PacketSize. */
#define MONITOR_TEXT_MAX (RSP_PACKET_SIZE / 2 - 256)

struct text {
	char *buf;
	size_t cap;
	size_t len;
	size_t limit;   /* text_add stops here (<= sizeof(buf)) */
	bool truncated; /* something did not fit: it was left out whole */
};

static void text_add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	if (t->truncated)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, t->limit - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->limit - t->len) {
		t->truncated = true;
		t->buf[t->len] = 0;
		return;
	}
	t->len += (size_t)n;
}

static void info_vcpus(struct gdb_session *s, struct text *t)
{
	text_add(t, "vCPU  state          mode          rip\n");
	for (unsigned v = 0; v < s->nvcpus; v++) {
		struct gdb_vcpu_status status = { 0 };
		uint8_t b[8];
		char rip[24] = "unavailable";
		if (s->ops->vcpu_status)
			s->ops->vcpu_status(s->ctx, (int)v, &status);
		if (s->ops->read_reg &&
		    s->ops->read_reg(s->ctx, (int)v, GDB_REG_RIP, b) == 0) {
			uint64_t r = 0;
			for (int i = 7; i >= 0; i--)
				r = r << 8 | b[i];
			snprintf(rip, sizeof(rip), "0x%016llx",
				 (unsigned long long)r);
		}
		const char *why = crash_description(s, (int)v);
		text_add(t, "%-5u %-14s %-13s %s%s%s\n", v,
			 state_name(s, (int)v),
			 status.mode ? status.mode : "unknown", rip,
			 why ? "  " : "", why ? why : "");
	}
}

/* The event machine's counters: an illegal transition is a bug (debug
 * builds stop at the first), so anything but 0 refused is worth a report. */
static void info_stats(struct gdb_session *s, struct text *t)
{
	if (!s->ev) {
		text_add(t, "no vCPU event machine\n");
		return;
	}
	text_add(t, "vCPU state transitions: %lu\n", s->ev->transitions);
	text_add(t, "illegal vCPU state transitions refused: %lu\n",
		 s->ev->illegal_transitions);
	text_add(t, "illegal connection state transitions refused: %lu\n",
		 s->ev->illegal_conn_transitions);
	text_add(t, "range steps (vCont;r): %lu, instructions stepped inside "
		 "their ranges: %lu\n", s->ev->range_resumes,
		 s->ev->range_steps);
}

struct bp_listing {
	struct text *t;
	size_t shown;
};

static void print_bp(const struct breakpoint *bp, void *arg)
{
	struct bp_listing *l = arg;

	text_add(l->t, "0x%016llx  0x%016llx  0x%02x\n",
		 (unsigned long long)bp->gpa, (unsigned long long)bp->gva,
		 bp->saved_byte);
	if (!l->t->truncated)
		l->shown++;
}

/* A line either fits whole or is left out (text_add never writes part of
 * one); room for the closing "not shown" line, and for what follows
 * (reserve), is kept back, so the list never ends in the middle of a
 * line. */
static void info_breakpoints(struct gdb_session *s, struct text *t,
			     size_t reserve)
{
	struct bp_listing l = { .t = t };
	size_t total = bp_table_count(&s->bps);

	text_add(t, "%zu breakpoint(s)\n", total);
	if (total == 0)
		return;
	text_add(t, "gpa                 gva                 saved\n");
	t->limit = t->cap - 64 - reserve;
	bp_table_foreach(&s->bps, print_bp, &l);
	t->limit = t->cap;
	if (t->truncated) {
		t->truncated = false;
		text_add(t, "... %zu more not shown\n", total - l.shown);
	}
}

/* ---- info mem / info tlb ------------------------------------------------ */

struct pt_listing {
	struct text *t;
	bool each_page; /* info tlb */
	uint64_t lo, hi; /* only mappings overlapping [lo, hi] */
	bool open;      /* info mem: a range waits to be printed */
	struct pt_mapping range;
	size_t lines, shown;
};

static void rights(const struct pt_mapping *m, char out[5])
{
	out[0] = m->user ? 'u' : '-';
	out[1] = 'r';
	out[2] = m->write ? 'w' : '-';
	out[3] = m->exec ? 'x' : '-';
	out[4] = 0;
}

static const char *size_name(uint64_t size)
{
	switch (size) {
	case 1ULL << 12: return "4K";
	case 1ULL << 21: return "2M";
	case 1ULL << 22: return "4M";
	case 1ULL << 30: return "1G";
	default: return "?";
	}
}

static void flush_range(struct pt_listing *l)
{
	if (!l->open)
		return;
	char r[5];
	rights(&l->range, r);
	l->lines++;
	size_t before = l->t->len;
	text_add(l->t, "%016" PRIx64 "-%016" PRIx64 " %016" PRIx64 " %s\n",
		 l->range.va, l->range.va + l->range.size, l->range.size, r);
	if (l->t->len > before)
		l->shown++;
	l->open = false;
}

static void list_mapping(const struct pt_mapping *m, void *arg)
{
	struct pt_listing *l = arg;
	if (m->va + (m->size - 1) < l->lo || m->va > l->hi)
		return;
	if (l->each_page) {
		char r[5];
		rights(m, r);
		l->lines++;
		size_t before = l->t->len;
		text_add(l->t, "%016" PRIx64 " -> %016" PRIx64 " %-2s %s %c%c%c\n",
			 m->va, m->pa, size_name(m->size), r,
			 m->global ? 'G' : '-', m->accessed ? 'A' : '-',
			 m->dirty ? 'D' : '-');
		if (l->t->len > before)
			l->shown++;
		return;
	}
	if (l->open && l->range.va + l->range.size == m->va &&
	    l->range.user == m->user && l->range.write == m->write &&
	    l->range.exec == m->exec) {
		l->range.size += m->size;
		return;
	}
	flush_range(l);
	l->range = *m;
	l->open = true;
}

static int read_guest_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	const struct gdb_session *s = ctx;
	return s->ops->read_phys(s->ctx, gpa, buf, len);
}

static int read_reg64(struct gdb_session *s, int regno, uint64_t *val)
{
	uint8_t b[GDB_REG_MAX_SIZE] = { 0 };
	if (!s->ops->read_reg || s->ops->read_reg(s->ctx, s->hg, regno, b))
		return -1;
	*val = 0;
	for (int i = 7; i >= 0; i--)
		*val = *val << 8 | b[i];
	return 0;
}

/* " [START [END]]": hex virtual addresses, END inclusive. */
static int parse_va_range(const char *a, uint64_t *lo, uint64_t *hi)
{
	*lo = 0;
	*hi = UINT64_MAX;
	uint64_t *slot[2] = { lo, hi };
	for (int i = 0; i < 2 && *a; i++) {
		a++; /* the blank before it */
		if (a[0] == '0' && (a[1] == 'x' || a[1] == 'X'))
			a += 2;
		const char *end = a;
		while (*end && *end != ' ')
			end++;
		if (hex_parse_u64(&a, end, slot[i]) || a != end)
			return -1;
	}
	return *a || *lo > *hi ? -1 : 0;
}

/* QEMU's `info mem` and `info tlb`, on the vCPU gdb has selected. */
static void info_page_tables(struct gdb_session *s, struct text *t,
			     bool each_page, const char *args)
{
	struct pt_listing l = { .t = t, .each_page = each_page };
	if (parse_va_range(args, &l.lo, &l.hi) < 0) {
		text_add(t, "usage: info %s [START [END]] (hex addresses)\n",
			 each_page ? "tlb" : "mem");
		return;
	}
	struct pt_regs regs;
	if (!s->ops->read_phys || read_reg64(s, GDB_REG_CR0, &regs.cr0) ||
	    read_reg64(s, GDB_REG_CR3, &regs.cr3) ||
	    read_reg64(s, GDB_REG_CR4, &regs.cr4) ||
	    read_reg64(s, GDB_REG_EFER, &regs.efer)) {
		text_add(t, "vCPU %d: control registers unavailable\n", s->hg);
		return;
	}
	enum pt_mode mode = pt_mode_of(&regs);
	if (mode == PT_PAGING_OFF) {
		text_add(t, "vCPU %d: paging is off\n", s->hg);
		return;
	}
	text_add(t, "vCPU %d, %s, CR3 %#" PRIx64 "\n", s->hg,
		 pt_mode_name(mode), regs.cr3);
	/* Room for the closing lines whatever the listing took. */
	t->limit = t->cap - 128;
	int unreadable = pt_walk(&regs, read_guest_phys, s, list_mapping, &l);
	flush_range(&l);
	t->limit = t->cap;
	t->truncated = false;
	if (l.shown < l.lines)
		text_add(t, "... %zu more not shown (narrow it: info %s START "
			 "END)\n", l.lines - l.shown, each_page ? "tlb" : "mem");
	if (unreadable > 0)
		text_add(t, "%d page table(s) outside RAM skipped\n",
			 unreadable);
}

/* The debugger's Z1-Z4 and the target's limits for them. */
static void info_watches(struct gdb_session *s, struct text *t)
{
	static const char *const name[] = {
		[GDB_HW_BREAKPOINT] = "hbreak",
		[GDB_WATCH_WRITE] = "watch",
		[GDB_WATCH_READ] = "rwatch",
		[GDB_WATCH_ACCESS] = "awatch",
	};
	unsigned hw = 0, wp = 0;
	uint64_t max_len = 0;
	if (!gdb_session_has_watch(s))
		return;
	s->ops->watch_limits(s->ctx, &hw, &wp, &max_len);
	text_add(t, "%u hardware breakpoint(s) of %u, %u watchpoint(s) of %u "
		 "(each 1 to %llu bytes), on every vCPU\n",
		 watch_table_count(&s->watches, true), hw,
		 watch_table_count(&s->watches, false), wp,
		 (unsigned long long)max_len);
	if (s->watches.n == 0)
		return;
	text_add(t, "type    address             length\n");
	for (unsigned i = 0; i < s->watches.n; i++) {
		const struct gdb_watch *w = &s->watches.w[i];
		text_add(t, "%-7s 0x%016llx  %llu\n", name[w->type],
			 (unsigned long long)w->addr,
			 (unsigned long long)w->len);
	}
}

static const char help_text[] =
	"hvgdb monitor commands:\n"
	"  help              this text\n"
	"  info vcpus        index, state, CPU mode and rip of every vCPU\n"
	"  info breakpoints  gpa, gva and saved byte of every breakpoint;\n"
	"                    hardware breakpoints and watchpoints, and\n"
	"                    how many of them fit\n"
	"  info mem [START [END]]\n"
	"                    the selected vCPU's virtual memory: ranges with\n"
	"                    the same rights (u user, w write, x execute)\n"
	"  info tlb [START [END]]\n"
	"                    the selected vCPU's page mappings, one a line:\n"
	"                    virtual, physical, size, rights, G A D bits\n"
	"  info stats        vCPU state transitions made, and illegal ones\n"
	"                    refused (any is a bug in hvgdb); range steps\n"
	"  phys on|off       memory addresses are guest-physical (on) or\n"
	"                    virtual through the selected vCPU (off)\n"
	"  phys              show the current mode\n"
	"  hold on|off       when this debugger leaves, the guest stays\n"
	"                    paused for the next one (on) or runs (off);\n"
	"                    on with --wait until a debugger continues\n"
	"  hold              show the current setting\n";

/* "  info   vcpus " -> "info vcpus": typed commands keep stray blanks
 * (tabs, and a line end from a script, too), and a command word must not
 * depend on them. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

static void squeeze_blanks(char *cmd)
{
	char *out = cmd;
	bool blank = true; /* drops leading blanks */
	for (const char *in = cmd; *in; in++) {
		if (is_blank(*in)) {
			blank = true;
			continue;
		}
		if (blank && out != cmd)
			*out++ = ' ';
		blank = false;
		*out++ = *in;
	}
	*out = 0;
}

/* The longest command once its blanks are squeezed (the longest real
 * one, "info tlb" with two 64-bit addresses, is 47 characters). */
#define MONITOR_COMMAND_MAX 127

enum gdb_packet_result pkt_monitor(struct gdb_session *s, const char *a,
				   const char *end, struct gdb_reply *r)
{
	size_t hexlen = (size_t)(end - a);
	struct text out;
	struct text *t = &out;

	/* Blanks may make a command of any length: it is decoded whole
	 * (the packet bounds it) and judged once they are squeezed. */
	if (hexlen % 2) {
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	char *cmd = malloc(hexlen / 2 + 1);
	t->buf = malloc(MONITOR_TEXT_MAX);
	if (!cmd || !t->buf) {
		free(cmd);
		free(t->buf);
		reply_error(r, ENOMEM);
		return GDB_PKT_REPLY;
	}
	if (hex_decode(a, hexlen / 2, (uint8_t *)cmd)) {
		free(cmd);
		free(t->buf);
		reply_error(r, EINVAL);
		return GDB_PKT_REPLY;
	}
	cmd[hexlen / 2] = 0;
	bool has_nul = strlen(cmd) != hexlen / 2;
	squeeze_blanks(cmd);
	t->cap = MONITOR_TEXT_MAX;
	t->len = 0;
	t->limit = t->cap;
	t->truncated = false;
	t->buf[0] = 0;
	if (has_nul) {
		text_add(t, "a monitor command has no NUL byte; try \"monitor "
			 "help\"\n");
	} else if (strlen(cmd) > MONITOR_COMMAND_MAX) {
		text_add(t, "monitor command too long (%zu characters, at most "
			 "%d); try \"monitor help\"\n", strlen(cmd),
			 MONITOR_COMMAND_MAX);
	} else if (strcmp(cmd, "help") == 0 || cmd[0] == 0) {
		text_add(t, "%s", help_text);
	} else if (strcmp(cmd, "info vcpus") == 0) {
		info_vcpus(s, t);
	} else if (strcmp(cmd, "info breakpoints") == 0) {
		/* a bounded list (the target's limits): it always fits */
		char watch_text[8192];
		struct text watches = { .buf = watch_text,
					.cap = sizeof(watch_text),
					.limit = sizeof(watch_text) };
		watch_text[0] = 0;
		info_watches(s, &watches);
		info_breakpoints(s, t, watches.len);
		text_add(t, "%s", watches.buf);
	} else if (strncmp(cmd, "info mem", 8) == 0 &&
		   (cmd[8] == 0 || cmd[8] == ' ')) {
		info_page_tables(s, t, false, cmd + 8);
	} else if (strncmp(cmd, "info tlb", 8) == 0 &&
		   (cmd[8] == 0 || cmd[8] == ' ')) {
		info_page_tables(s, t, true, cmd + 8);
	} else if (strcmp(cmd, "info stats") == 0) {
		info_stats(s, t);
	} else if (strcmp(cmd, "phys on") == 0) {
		s->phys_mode = true;
		text_add(t, "memory access is now guest-physical\n");
	} else if (strcmp(cmd, "phys off") == 0) {
		s->phys_mode = false;
		text_add(t, "memory access is now virtual (vCPU %d)\n",
			 s->hg);
	} else if (strcmp(cmd, "hold on") == 0) {
		s->hold_when_detached = true;
		text_add(t, "the guest stays paused when the debugger leaves\n");
	} else if (strcmp(cmd, "hold off") == 0) {
		s->hold_when_detached = false;
		text_add(t, "the guest runs when the debugger leaves\n");
	} else if (strcmp(cmd, "hold") == 0) {
		text_add(t, "hold %s\n", s->hold_when_detached ? "on" : "off");
	} else if (strcmp(cmd, "phys") == 0) {
		text_add(t, "phys %s\n", s->phys_mode ? "on" : "off");
	} else {
		text_add(t, "unknown monitor command \"%s\"; try \"monitor help\"\n",
			 cmd);
	}
	reply_hex(r, (const uint8_t *)t->buf, t->len);
	free(t->buf);
	free(cmd);
	return GDB_PKT_REPLY;
}
