# --wait: no guest instruction runs before the debugger continues, so a
# breakpoint on the guest's first C function is hit before any UART output.
from gdbtest import *

connect()
report(serial_text() == "", "no UART output before continue")
bp = gdb.Breakpoint("guest_main")
gdb.execute("continue")
report(stops and stops[-1]["kind"] == "BreakpointEvent", "stopped at guest_main")
report(serial_text() == "", "still no UART output at guest_main: %r" % serial_text())
bp.delete()
gdb.execute("detach")
finish()
