/*
 * The x86-64 target description, generated from the register table
 * (hvgdb/gdb_x86_regs.h): GDB's amd64 order (core, sse, segments), then
 * our system, descriptor and debug-register features, regnum = position
 * in the table = enum gdb_x86_reg. Features gdb does not know are taken
 * as they are: gdb's amd64 shows their integer registers in `info
 * registers` (it ignores groups), lldb 14 puts the "system" group in a
 * register set of its own, out of a plain `register read`.
 */
#include "gdbstub/target_xml.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "hvgdb/gdbstub.h"

/* A 'g' reply carries every register: gdb's amd64 layout (560 bytes up to
 * gs_base) plus our features. A row added or resized changes the wire for
 * gdb and lldb. */
_Static_assert(GDB_X86_G_PACKET_BYTES == 796,
	       "the 'g' packet of the register table is 796 bytes");
#define GDB_X86_REG_FITS(ID, name, bits, type, group, feature, place)     \
	_Static_assert((bits) % 8 == 0 && (bits) / 8 <= GDB_REG_MAX_SIZE, \
		       name " has a whole number of bytes, at most "        \
			    "GDB_REG_MAX_SIZE");
GDB_X86_REGS(GDB_X86_REG_FITS)
#undef GDB_X86_REG_FITS

enum feature { CORE, SSE, SEGMENTS, SYSTEM, DESCRIPTORS, DEBUG_REGS,
	       FEATURE_COUNT };

/* Each feature's name and the types its registers use, in the order the
 * description lists them. */
static const struct {
	const char *name;
	const char *types;
} features[FEATURE_COUNT] = {
	[CORE] = { "org.gnu.gdb.i386.core",
		   "  <flags id=\"i386_eflags\" size=\"4\">\n"
		   "   <field name=\"CF\" start=\"0\" end=\"0\"/>\n"
		   "   <field name=\"\" start=\"1\" end=\"1\"/>\n"
		   "   <field name=\"PF\" start=\"2\" end=\"2\"/>\n"
		   "   <field name=\"AF\" start=\"4\" end=\"4\"/>\n"
		   "   <field name=\"ZF\" start=\"6\" end=\"6\"/>\n"
		   "   <field name=\"SF\" start=\"7\" end=\"7\"/>\n"
		   "   <field name=\"TF\" start=\"8\" end=\"8\"/>\n"
		   "   <field name=\"IF\" start=\"9\" end=\"9\"/>\n"
		   "   <field name=\"DF\" start=\"10\" end=\"10\"/>\n"
		   "   <field name=\"OF\" start=\"11\" end=\"11\"/>\n"
		   "   <field name=\"NT\" start=\"14\" end=\"14\"/>\n"
		   "   <field name=\"RF\" start=\"16\" end=\"16\"/>\n"
		   "   <field name=\"VM\" start=\"17\" end=\"17\"/>\n"
		   "   <field name=\"AC\" start=\"18\" end=\"18\"/>\n"
		   "   <field name=\"VIF\" start=\"19\" end=\"19\"/>\n"
		   "   <field name=\"VIP\" start=\"20\" end=\"20\"/>\n"
		   "   <field name=\"ID\" start=\"21\" end=\"21\"/>\n"
		   "  </flags>\n" },
	[SSE] = { "org.gnu.gdb.i386.sse",
		  "  <vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
		  "  <vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
		  "  <vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
		  "  <vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
		  "  <vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
		  "  <vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
		  "  <union id=\"vec128\">\n"
		  "   <field name=\"v4_float\" type=\"v4f\"/>\n"
		  "   <field name=\"v2_double\" type=\"v2d\"/>\n"
		  "   <field name=\"v16_int8\" type=\"v16i8\"/>\n"
		  "   <field name=\"v8_int16\" type=\"v8i16\"/>\n"
		  "   <field name=\"v4_int32\" type=\"v4i32\"/>\n"
		  "   <field name=\"v2_int64\" type=\"v2i64\"/>\n"
		  "   <field name=\"uint128\" type=\"uint128\"/>\n"
		  "  </union>\n"
		  "  <flags id=\"i386_mxcsr\" size=\"4\">\n"
		  "   <field name=\"IE\" start=\"0\" end=\"0\"/>\n"
		  "   <field name=\"DE\" start=\"1\" end=\"1\"/>\n"
		  "   <field name=\"ZE\" start=\"2\" end=\"2\"/>\n"
		  "   <field name=\"OE\" start=\"3\" end=\"3\"/>\n"
		  "   <field name=\"UE\" start=\"4\" end=\"4\"/>\n"
		  "   <field name=\"PE\" start=\"5\" end=\"5\"/>\n"
		  "   <field name=\"DAZ\" start=\"6\" end=\"6\"/>\n"
		  "   <field name=\"IM\" start=\"7\" end=\"7\"/>\n"
		  "   <field name=\"DM\" start=\"8\" end=\"8\"/>\n"
		  "   <field name=\"ZM\" start=\"9\" end=\"9\"/>\n"
		  "   <field name=\"OM\" start=\"10\" end=\"10\"/>\n"
		  "   <field name=\"UM\" start=\"11\" end=\"11\"/>\n"
		  "   <field name=\"PM\" start=\"12\" end=\"12\"/>\n"
		  "   <field name=\"FZ\" start=\"15\" end=\"15\"/>\n"
		  "  </flags>\n" },
	[SEGMENTS] = { "org.gnu.gdb.i386.segments", "" },
	[SYSTEM] = { "org.hvgdb.x86.system", "" },
	/* a hidden part's attributes in the VMX access-rights layout, so
	 * gdb shows them decoded (lldb shows the number) */
	[DESCRIPTORS] = { "org.hvgdb.x86.descriptors",
			  "  <flags id=\"x86_seg_attr\" size=\"4\">\n"
			  "   <field name=\"type\" start=\"0\" end=\"3\"/>\n"
			  "   <field name=\"S\" start=\"4\" end=\"4\"/>\n"
			  "   <field name=\"DPL\" start=\"5\" end=\"6\"/>\n"
			  "   <field name=\"P\" start=\"7\" end=\"7\"/>\n"
			  "   <field name=\"AVL\" start=\"12\" end=\"12\"/>\n"
			  "   <field name=\"L\" start=\"13\" end=\"13\"/>\n"
			  "   <field name=\"DB\" start=\"14\" end=\"14\"/>\n"
			  "   <field name=\"G\" start=\"15\" end=\"15\"/>\n"
			  "   <field name=\"unusable\" start=\"16\" "
			  "end=\"16\"/>\n"
			  "  </flags>\n" },
	[DEBUG_REGS] = { "org.hvgdb.x86.debug", "" },
};

static const struct {
	const char *name, *type, *group;
	unsigned char bytes;
	enum feature feature;
} regs[GDB_REG_COUNT] = {
#define GDB_X86_REG_ROW(ID, name, bits, type, group, feature, place) \
	[GDB_REG_##ID] = { name, type, group, (bits) / 8, feature },
	GDB_X86_REGS(GDB_X86_REG_ROW)
#undef GDB_X86_REG_ROW
};

/* The description is built once, on first use, and never changes. */
static char xml[20480];
static size_t xml_len;
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void add(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(xml + xml_len, sizeof(xml) - xml_len, fmt, ap);
	va_end(ap);
	/* the buffer is sized for the table: a failure here is a bug that
	 * every test touching the description shows */
	if (n > 0)
		xml_len += (size_t)n < sizeof(xml) - xml_len
				   ? (size_t)n
				   : sizeof(xml) - xml_len - 1;
}

static void build_xml(void)
{
	add("<?xml version=\"1.0\"?>\n"
	    "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	    "<target version=\"1.0\">\n"
	    " <architecture>i386:x86-64</architecture>\n");
	for (int r = 0; r < GDB_REG_COUNT; r++) {
		enum feature f = regs[r].feature;
		if (r == 0 || regs[r - 1].feature != f)
			add(" <feature name=\"%s\">\n%s", features[f].name,
			    features[f].types);
		add("  <reg name=\"%s\" bitsize=\"%u\" type=\"%s\" "
		    "regnum=\"%d\"", regs[r].name, 8u * regs[r].bytes,
		    regs[r].type, r);
		if (regs[r].group[0])
			add(" group=\"%s\"", regs[r].group);
		add("/>\n");
		if (r + 1 == GDB_REG_COUNT || regs[r + 1].feature != f)
			add(" </feature>\n");
	}
	add("</target>\n");
}

const char *gdb_target_xml(size_t *len)
{
	pthread_once(&xml_once, build_xml);
	*len = xml_len;
	return xml;
}

unsigned gdb_x86_reg_size(int regno)
{
	if (regno < 0 || regno >= GDB_REG_COUNT)
		return 0;
	return regs[regno].bytes;
}

const char *gdb_x86_reg_name(int regno)
{
	if (regno < 0 || regno >= GDB_REG_COUNT)
		return NULL;
	return regs[regno].name;
}

size_t gdb_x86_regs_total_size(void)
{
	return GDB_X86_G_PACKET_BYTES;
}
