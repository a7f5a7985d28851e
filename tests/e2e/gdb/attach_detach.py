# One short attach/inspect/detach cycle (run many times by the harness).
from gdbtest import *

connect()
report(thread_tids() == list(range(1, CPUS + 1)), "threads listed on re-attach")
bp = gdb.Breakpoint("demo_work_item")
gdb.execute("continue")
report(stops[-1]["kind"] == "BreakpointEvent", "breakpoint hit on re-attach")
bp.delete()
gdb.execute("detach")
finish()
