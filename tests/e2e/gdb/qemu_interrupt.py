# QEMU's gdbstub interrupt.py scenario on our demo guest: with
# scheduler-locking on, each thread in turn is continued alone and
# interrupted (Ctrl-C), and the stop is that thread's, every other vCPU
# left where it was.
from gdbtest import *

connect()
# past the start-up barrier: every vCPU is in its worker loop
bp = gdb.Breakpoint("demo_work_item")
gdb.execute("continue")
bp.delete()
gdb.execute("set scheduler-locking on")


def items():
    """Work items done per thread (demo_items[vCPU]): they grow only
    while that vCPU runs."""
    return {t: int(gdb.parse_and_eval("demo_items[%d]" % (t - 1)))
            for t in thread_tids()}


tids = thread_tids()
report(len(tids) == CPUS, "one thread per vCPU: %s" % tids)
for t in tids:
    before = items()
    select_tid(t)
    interrupt_after(0.5)
    gdb.execute("continue")
    s = stops[-1]
    now = gdb.selected_thread().ptid[1]
    report(s["signal"] == "SIGINT" and now == t,
           "thread %d continued alone is the one interrupted (stop on %d, "
           "%s)" % (t, now, s["signal"]))
    after = items()
    moved = [o for o in tids if o != t and after[o] != before[o]]
    report(not moved and after[t] > before[t],
           "thread %d ran (%d items), the others did not (moved: %s)"
           % (t, after[t] - before[t], moved))
gdb.execute("set scheduler-locking off")
gdb.execute("detach")
finish()
