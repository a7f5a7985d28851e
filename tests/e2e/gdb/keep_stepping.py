# Step forever with breakpoints inserted, to be SIGKILLed mid-step.
from gdbtest import *

connect()
gdb.execute("set breakpoint always-inserted on")
gdb.Breakpoint("demo_work_item")
gdb.Breakpoint("demo_mix")
gdb.execute("continue")
print("STEPPING", flush=True)
while True:
    gdb.execute("stepi", to_string=True)
