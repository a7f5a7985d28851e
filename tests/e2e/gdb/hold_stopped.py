# Stop with breakpoints inserted, then wait to be SIGKILLed.
import time
from gdbtest import *

connect()
gdb.execute("set breakpoint always-inserted on")
gdb.Breakpoint("demo_work_item")
gdb.Breakpoint("demo_mix")
for i in range(3):
    gdb.execute("continue")
print("STOPPED", flush=True)
time.sleep(600)
