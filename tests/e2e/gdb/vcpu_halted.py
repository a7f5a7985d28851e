# A vCPU stopped in hlt is "halted" in `monitor info vcpus` and
# `info threads`. The demo's APs halt for ever (cli; hlt) once their work
# is done; the BSP is held on a breakpoint after the final barrier so the
# guest cannot end meanwhile.
from gdbtest import *

connect()
gdb.execute("set breakpoint always-inserted on")
bp = gdb.Breakpoint("demo.c:%s" % os.environ["E2E_AFTER_BARRIER_LINE"])
gdb.execute("continue")
report(stops[-1]["kind"] == "BreakpointEvent" and stops[-1]["tid"] == 1,
       "the BSP is past the barrier: %s" % stops[-1])
bp.delete()
gdb.execute("set scheduler-locking on")
select_tid(2)
# Let vCPU 1 reach its hlt; it never stops by itself, so interrupt it
# (again, if it was still on its way).
in_hlt = False
for attempt in range(20):
    interrupt_after(0.3)
    gdb.execute("continue")
    select_tid(2)
    pc = reg("rip")
    in_hlt = bytes(gdb.selected_inferior().read_memory(pc - 1, 1)) == b"\xf4"
    if in_hlt:
        break
report(in_hlt, "vCPU 1 stopped right after its hlt (rip 0x%x)" % pc)
out = run("monitor info vcpus")
rows = [l.split() for l in out.splitlines()[1:] if l.strip()]
report(rows[1][1] == "halted", "monitor info vcpus says vCPU 1 is halted: %r"
       % out)
report(rows[0][1] == "stopped", "and vCPU 0 stopped: %r" % out)
report("vCPU 1, halted" in run("info threads"), "info threads says halted")
gdb.execute("kill")
finish()
