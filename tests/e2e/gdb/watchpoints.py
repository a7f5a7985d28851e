# Hardware watchpoints and breakpoints on the SMP demo guest: watch, rwatch,
# awatch, watch -l and hbreak each stop the vCPU (thread) that touched the
# variable, a write watchpoint after the write (gdb shows the old and the
# new value), a hardware breakpoint before its instruction; a range longer
# than 8 bytes works; deleting them leaves no spurious stop.
import re

from gdbtest import *

connect()


def cont():
    """continue; returns the thread it stopped on."""
    gdb.execute("continue")
    return gdb.selected_thread().ptid[1]


def value(expr):
    return int(gdb.parse_and_eval(expr))


def pc_in(func):
    pc = reg("rip")
    blk = gdb.block_for_pc(pc)
    name = blk.function.name if blk and blk.function else None
    return name == func, pc


def watch_stop(bp):
    s = stops[-1]
    return s["kind"] == "BreakpointEvent" and bp.number in s["bps"]


def check_write(what, bp, tid_for, rounds=3):
    """`what` is incremented by one vCPU (tid_for) only: each stop is on
    that thread, right after one write (the value read before the continue
    plus one: gdb's Old and New value)."""
    for i in range(rounds):
        old = value(what)
        tid = cont()
        new = value(what)
        inside, pc = pc_in("demo_record")
        report(watch_stop(bp) and tid == tid_for and inside and
               new == old + 1,
               "%s: stop %d on thread %d (want %d) in demo_record at 0x%x, "
               "old %d new %d" % (what, i, tid, tid_for, pc, old, new))


# watch: demo_items[2] is written only by vCPU 2, thread 3 (the BSS clear
# at start writes zeros: gdb sees no change and goes on by itself).
w = gdb.Breakpoint("demo_items[2]", gdb.BP_WATCHPOINT, gdb.WP_WRITE)
check_write("demo_items[2]", w, 3)
w.delete()

# watch -l: the location, not the expression
out = run("watch -l demo_items[1]")
report("atchpoint" in out, "watch -l accepted: %r" % out.strip())
check_write("demo_items[1]", gdb.breakpoints()[-1], 2, rounds=2)
run("delete")

# rwatch: demo_state[1] is read (and written) by vCPU 1 (thread 2) in
# demo_record; a read stop leaves the value as it was
r = gdb.Breakpoint("demo_state[1]", gdb.BP_WATCHPOINT, gdb.WP_READ)
for i in range(2):
    old = value("demo_state[1]")
    tid = cont()
    inside, pc = pc_in("demo_record")
    report(watch_stop(r) and tid == 2 and inside and
           value("demo_state[1]") == old,
           "rwatch stop %d on thread %d in demo_record at 0x%x, value kept"
           % (i, tid, pc))
r.delete()

# awatch: demo_items[CPUS-1] is read and written by the last vCPU
last = "demo_items[%d]" % (CPUS - 1)
a = gdb.Breakpoint(last, gdb.BP_WATCHPOINT, gdb.WP_ACCESS)
kinds = []
for i in range(4):
    old = value(last)
    tid = cont()
    report(watch_stop(a) and tid == CPUS,
           "awatch stop %d on thread %d (want %d)" % (i, tid, CPUS))
    kinds.append("write" if value(last) == old + 1 else
                 "read" if value(last) == old else "?")
report("read" in kinds and "write" in kinds and "?" not in kinds,
       "awatch saw reads and writes, each alone: %s" % kinds)
a.delete()

# A range of several words: the whole demo_items array (every vCPU writes
# it), split by nobody: one Z2 of its size.
arr = gdb.Breakpoint("demo_items", gdb.BP_WATCHPOINT, gdb.WP_WRITE)
seen = set()
for i in range(3 * CPUS):
    tid = cont()
    seen.add(tid)
    if len(seen) == CPUS:
        break
report(seen == set(range(1, CPUS + 1)),
       "a watchpoint on the whole array stops every vCPU in turn: %s"
       % sorted(seen))
arr.delete()

# hbreak: before the first instruction of demo_mix, on every vCPU
hb_out = run("hbreak demo_mix")
report("Hardware assisted breakpoint" in hb_out, hb_out.strip())
mix = func_addr("demo_mix")
seen = set()
for i in range(3 * CPUS):
    tid = cont()
    ok = reg("rip") == mix and stops[-1]["kind"] == "BreakpointEvent"
    report(ok, "hbreak stop %d on thread %d at 0x%x (want 0x%x)"
           % (i, tid, reg("rip"), mix))
    seen.add(tid)
    if len(seen) == CPUS:
        break
report(seen == set(range(1, CPUS + 1)),
       "every vCPU hit the hardware breakpoint: %s" % sorted(seen))

# inserted, they show in the monitor with the limits
gdb.execute("set breakpoint always-inserted on")
w = gdb.Breakpoint("demo_state[0]", gdb.BP_WATCHPOINT, gdb.WP_WRITE)
mon = run("monitor info breakpoints")
report("of 64" in mon and "hbreak" in mon and "watch " in mon,
       "monitor info breakpoints lists both and the limits: %r" % mon)
gdb.execute("set breakpoint always-inserted off")
run("delete")

# nothing left: only Ctrl-C stops the guest
n = len(stops)
for i in range(2):
    interrupt_after(0.7)
    gdb.execute("continue")
traps = [s for s in stops[n:] if s["signal"] == "SIGTRAP"]
report(not traps and stops[-1]["signal"] == "SIGINT",
       "no spurious stop once every watchpoint is deleted: %s" % stops[n:])
gdb.execute("detach")
finish()
