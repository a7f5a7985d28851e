# Many step-overs and short stepi runs mixed with continues, on whichever
# vCPU stops: every single-step leaves code that was compiled for it behind
# in the engine, and none of it may change what the guest computes (the
# driver compares the guest's result with an undebugged run).
from gdbtest import *

connect()
bp = gdb.Breakpoint("demo_work_item")
mix = gdb.Breakpoint("demo_mix")
steps = 0
for i in range(40):
    gdb.execute("continue")
    for k in range(i % 4):
        gdb.execute("stepi")
        steps += 1
report(steps == 60, "40 continues with %d stepi in between" % steps)
mix.delete()
bp.delete()
# Steps inside a loop: the loop head is a block start the guest runs again
# and again once it continues without breakpoints.
mix_loop = int(gdb.parse_and_eval("(long)&demo_mix")) + 24
loop_bp = gdb.Breakpoint("*0x%x" % mix_loop)
# (a step event another vCPU left pending may be reported first)
for i in range(10):
    gdb.execute("continue")
    if reg("rip") == mix_loop:
        break
report(reg("rip") == mix_loop, "stopped at demo_mix's loop head 0x%x"
       % reg("rip"))
for k in range(12):
    gdb.execute("stepi")
loop_bp.delete()
gdb.execute("detach")
finish()
