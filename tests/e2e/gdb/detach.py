# Debug a while (breakpoints, steps) and detach with breakpoints inserted.
from gdbtest import *

connect()
gdb.execute("set breakpoint always-inserted on")
gdb.Breakpoint("demo_work_item")
gdb.Breakpoint("demo_mix")
for i in range(4):
    gdb.execute("continue")
for i in range(3):
    gdb.execute("stepi")
gdb.execute("detach")
finish()
