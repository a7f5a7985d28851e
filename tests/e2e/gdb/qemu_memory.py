# QEMU's gdbstub memory.py scenario on our demo guest: single steps in the
# boot code (hvgdb --wait: nothing has run yet), a breakpoint, then watch,
# rwatch and awatch of 1, 2, 4 and 8 bytes (Z2/Z3/Z4 of each length), and
# unaligned ones (an odd byte; 4 bytes across two variables). Each stops
# the vCPU that touched the bytes, in the function that did.
from gdbtest import *

connect()


def pc_function():
    blk = gdb.block_for_pc(reg("rip"))
    return blk.function.name if blk and blk.function else None


moved = 0
for i in range(3):
    pc = reg("rip")
    gdb.execute("stepi")
    moved += reg("rip") != pc
report(moved == 3, "3 single steps in the boot code each moved rip")

bp = gdb.Breakpoint("demo_record")
gdb.execute("continue")
report(bp.hit_count == 1 and pc_function() == "demo_record",
       "breakpoint at demo_record hit once")
bp.delete()


def watch_round(expr, kind, wtype, want_tids):
    """One watchpoint, one continue: the stop is the watchpoint's, on a
    thread that touches the bytes, inside demo_record."""
    wp = gdb.Breakpoint(expr, gdb.BP_WATCHPOINT, wtype)
    gdb.execute("continue")
    s = stops[-1]
    tid = gdb.selected_thread().ptid[1]
    fn = pc_function()
    report(s["kind"] == "BreakpointEvent" and wp.number in s["bps"] and
           wp.hit_count == 1 and tid in want_tids and fn == "demo_record",
           "%s %s: stop on thread %d (want %s) in %s" % (kind, expr, tid,
                                                       want_tids, fn))
    wp.delete()


# demo_items[1] is incremented by vCPU 1 alone (thread 2); its low bytes
# change on every increment, so `watch` sees a new value each time
TYPES = {1: "unsigned char", 2: "unsigned short", 4: "unsigned int",
         8: "unsigned long"}
for size, ctype in TYPES.items():
    expr = "*(%s *)&demo_items[1]" % ctype
    for kind, wtype in (("watch", gdb.WP_WRITE), ("rwatch", gdb.WP_READ),
                        ("awatch", gdb.WP_ACCESS)):
        watch_round(expr, kind, wtype, (2,))

# byte 3 of demo_items[1]: read and written by every increment
watch_round("*((unsigned char *)&demo_items[1] + 3)", "awatch",
            gdb.WP_ACCESS, (2,))
# 4 bytes across demo_items[1] and demo_items[2] (threads 2 and 3)
watch_round("*(unsigned int *)((char *)&demo_items[1] + 6)", "awatch",
            gdb.WP_ACCESS, (2, 3))
watch_round("*(unsigned int *)((char *)&demo_items[1] + 6)", "rwatch",
            gdb.WP_READ, (2, 3))

gdb.execute("detach")
finish()
