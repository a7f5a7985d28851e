# The debugger through real paging, on the paging guest's "debug" loop
# (guests/paging/debug_target.c): breakpoints at virtual addresses whose
# physical address differs, through one of two aliases, and at an address
# the guest remaps while the breakpoint is in; memory through the selected
# vCPU's tables and physically; writes that are all or nothing, also when
# they rewrite the page table they are translated through.
import re
import struct

from gdbtest import *

connect()
# Breakpoints stay in guest memory while stopped, and delete sends z0 at
# once: what the server does with each packet is visible between them.
gdb.execute("set breakpoint always-inserted on")
gdb.execute("set code-cache off")
gdb.execute("set stack-cache off")
inf = gdb.selected_inferior()


def raw(packet):
    out = run("maint packet " + packet)
    m = re.search(r'received: "(.*)"', out)
    return m.group(1) if m else out


def vread(addr, n):
    """Through the selected vCPU's page tables; None on an error reply."""
    r = raw("m%x,%x" % (addr, n))
    return None if r.startswith("E") else bytes.fromhex(r)


def pread(addr, n):
    run("monitor phys on")
    try:
        return vread(addr, n)
    finally:
        run("monitor phys off")


def pwrite(addr, data):
    run("monitor phys on")
    try:
        return raw("M%x,%x:%s" % (addr, len(data), data.hex()))
    finally:
        run("monitor phys off")


def info(field):
    return int(gdb.parse_and_eval("dbg_info.%s" % field)) & (2**64 - 1)


def bp_lines():
    return [l for l in run("monitor info breakpoints").splitlines()
            if re.search(r"0x[0-9a-f]+", l)]


def cont():
    n = len(stops)
    gdb.execute("continue")
    return stops[-1] if len(stops) > n else {}


def pc():
    return reg("pc")


def to_sync(what):
    """Run to the loop's dbg_sync; a stop anywhere else is a failure."""
    b = gdb.Breakpoint("dbg_sync")
    st = cont()
    report(b.number in st.get("bps", []) and pc() == func_addr("dbg_sync"),
           "%s: the next stop is at dbg_sync (got %r, pc 0x%x)"
           % (what, st, pc()))
    b.delete()


to_sync("start")
select_tid(1)
where_pa = func_addr("where_am_i")
high = info("high_where")
alias = info("alias_where")
orig = pread(where_pa, 8)
report(orig is not None and vread(high, 8) == orig and vread(alias, 8) == orig,
       "where_am_i reads the same at physical 0x%x, VA 0x%x and VA 0x%x"
       % (where_pa, high, alias))

# 1. Z0 at a VA whose physical address differs.
b = gdb.Breakpoint("*0x%x" % high)
st = cont()
report(b.number in st.get("bps", []) and st.get("tid") == 1 and pc() == high,
       "breakpoint at higher-half VA 0x%x hit on thread 1 at its VA: %r pc 0x%x"
       % (high, st, pc()))
report(vread(high, 8) == orig and pread(where_pa, 8) == orig,
       "while inserted, reads through the VA and physically show the "
       "original bytes")
report(len(bp_lines()) == 1, "the server holds one breakpoint")
b.delete()
report(bp_lines() == [], "z0 at the VA removed it: %r" % bp_lines())
report(vread(high, 8) == orig and pread(where_pa, 8) == orig,
       "the original bytes are back (VA and physical)")
to_sync("after z0 at the higher-half VA")

# 2. One physical page at two VAs: the breakpoint is on the byte.
b = gdb.Breakpoint("*0x%x" % alias)
st = cont()
# gdb has no breakpoint at this PC: a plain SIGTRAP stop, which gdb shows
# (a swbreak stop there it would take for a stale hit and resume forever).
report(st.get("kind") in ("StopEvent", "SignalEvent") and st.get("tid") == 1
       and pc() == high,
       "inserted at VA 0x%x, hit when the code ran through VA 0x%x: %r pc 0x%x"
       % (alias, high, st, pc()))
report(vread(alias, 8) == orig and vread(high, 8) == orig and
       pread(where_pa, 8) == orig,
       "reads through both VAs and physically agree while inserted")
b.delete()
report(bp_lines() == [] and vread(alias, 8) == orig and
       vread(high, 8) == orig and pread(where_pa, 8) == orig,
       "removed through the VA it was inserted at; both VAs agree")
to_sync("after z0 of the alias")

# 3. A breakpoint whose VA the guest remaps while it is inserted.
remap = info("remap_va")
c1, c2 = info("page_c1"), info("page_c2")
orig_c1, orig_c2 = pread(c1, 8), pread(c2, 8)
report(orig_c1 != orig_c2 and vread(remap, 8) == orig_c1,
       "VA 0x%x maps page C1 (0x%x)" % (remap, c1))
b = gdb.Breakpoint("*0x%x" % remap)
st = cont()
report(b.number in st.get("bps", []) and pc() == remap,
       "breakpoint at VA 0x%x hit: %r" % (remap, st))
gdb.execute("set var dbg_request = 1")  # the guest maps C2 there
to_sync("guest remapped the breakpoint's VA")
report(vread(remap, 8) == orig_c2, "VA 0x%x now maps page C2 (0x%x)"
       % (remap, c2))
b.delete()
report(bp_lines() == [], "z0 after the remap dropped the breakpoint: %r"
       % bp_lines())
report(pread(c1, 8) == orig_c1 and pread(c2, 8) == orig_c2,
       "page C1's byte is restored and page C2 untouched")
gdb.execute("set var dbg_request = 2")  # and C1 back: no int3 left there
to_sync("guest mapped C1 back")
to_sync("C1 ran without a breakpoint")
report(int(gdb.parse_and_eval("dbg_last_remap")) == 0xc1,
       "the code at VA 0x%x ran from page C1 and returned 0xc1" % remap)

# 4. Memory through the selected vCPU's tables (Hg), and physically.
marker = info("marker_va")
for tid in (2, 1):
    select_tid(tid)
    got = int(gdb.parse_and_eval("*(unsigned long *)0x%x" % marker))
    report(got == 0xda7a0000 + tid - 1,
           "thread %d reads its own page at VA 0x%x: 0x%x" % (tid, marker, got))
report(vread(marker, 4) == struct.pack("<I", 0xda7a0000),
       "m through thread 1's tables")
report(vread(info("page_a"), 4) == struct.pack("<I", 0xda7a0000),
       "physical page A is identity-mapped too")
r = raw("m%x,8" % (info("pt_va") + 0x1000 * 2 + 0x10))  # past slot 511
report(r.startswith("E"), "a read that does not translate is E..: %r" % r)

# 5. All-or-nothing writes.
page_a, page_b, pt = info("page_a"), info("page_b"), info("test_pt")
pt_va, after_va = info("pt_va"), info("after_va")
a_before, b_before = pread(page_a, 16), pread(page_b, 16)
pte_before = pread(pt + 0xff8, 8)
report(struct.unpack("<Q", pte_before)[0] & ~0xfff & (2**52 - 1) == page_b,
       "the last PTE of the table at VA 0x%x maps page B" % pt_va)
# A write whose second page does not translate: E.., nothing written.
hole = info("marker_va") + 0x2000 - 4  # VA_DATA_ALIAS's end, VA_NOT_PRESENT
a_end = pread(page_a + 0xff8, 8)
r = raw("M%x,8:%s" % (hole, "11" * 8))
report(r.startswith("E") and pread(page_a + 0xff8, 8) == a_end,
       "M across an unmapped page is E.. and writes nothing: %r" % r)
try:
    inf.write_memory(hole, b"\x22" * 8)
    report(False, "X across an unmapped page refused")
except gdb.MemoryError:
    report(pread(page_a + 0xff8, 8) == a_end,
           "X across an unmapped page refused; nothing written")
# A write whose first half rewrites the PTE its second half goes through:
# both halves are translated before either is written, as a CPU's split
# store does.
not_present = struct.pack("<Q", 0)
inf.write_memory(pt_va + 0xff8, not_present + b"\x5a" * 8)
report(pread(pt + 0xff8, 8) == not_present and
       pread(page_b, 8) == b"\x5a" * 8 and pread(page_a, 16) == a_before,
       "X rewriting its own PTE: the PTE changed and the second half went "
       "to page B, through the translation before the write")
# Now the second page does not translate: refused, nothing written.
new_pte = struct.pack("<Q", page_a | 0x3 | (1 << 63))
r = raw("M%x,10:%s" % (pt_va + 0xff8, (new_pte + b"\x66" * 8).hex()))
report(r.startswith("E") and pread(pt + 0xff8, 8) == not_present and
       pread(page_a, 16) == a_before and pread(page_b, 8) == b"\x5a" * 8,
       "M through a not-present PTE is E.. and writes nothing: %r" % r)
pwrite(pt + 0xff8, pte_before)
r = raw("M%x,10:%s" % (pt_va + 0xff8, (new_pte + b"\x77" * 8).hex()))
report(r == "OK" and pread(pt + 0xff8, 8) == new_pte and
       pread(page_b, 8) == b"\x77" * 8 and pread(page_a, 16) == a_before,
       "M remapping its own second page: the data went to page B, page A "
       "untouched: %r" % r)
pwrite(pt + 0xff8, pte_before)
pwrite(page_b, b_before)

to_sync("guest runs on after the writes")
report(int(gdb.parse_and_eval("dbg_last_where")) == high,
       "where_am_i still runs at its higher-half address")
gdb.execute("detach")
finish()
