# First debugger: attach, then wait for the harness to try a second
# connection, then check the session still works.
import time
from gdbtest import *

connect()
regs_before = reg("rip")
print("ATTACHED", flush=True)
go = os.environ["E2E_GO"]
while not os.path.exists(go):
    time.sleep(0.05)
report(reg("rip") == regs_before, "session state untouched by the second client")
report(thread_tids() == list(range(1, CPUS + 1)), "threads still listed")
pc = reg("rip")
gdb.execute("stepi", to_string=True)
report(reg("rip") != pc, "stepping still works after the refused connection")
interrupt_after(0.5)
gdb.execute("continue")
report(stops[-1]["signal"] == "SIGINT", "continue + Ctrl-C still works")
gdb.execute("detach")
finish()
