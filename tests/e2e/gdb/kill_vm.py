# gdb `kill` ends the VM.
from gdbtest import *

connect()
interrupt_after(0.5)
gdb.execute("continue")
out = run("kill")
report(len(gdb.selected_inferior().threads()) == 0,
       "no threads after kill: %r" % out.strip())
finish()
