# The guest exits through the exit device while gdb is attached: gdb sees
# the exit status (W packet).
from gdbtest import *

connect()
gdb.execute("continue")
code = int(gdb.parse_and_eval("$_exitcode"))
report(exits == [0] and code == 0,
       "gdb reports a normal exit (events %s, $_exitcode %d)" % (exits, code))
finish()
