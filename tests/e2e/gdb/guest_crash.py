# The guest triple-faults while gdb is attached: gdb is told the program
# terminated with a signal (X packet) and the session ends cleanly.
from gdbtest import *

connect()
gdb.execute("continue")
# gdb prints "Program terminated with signal SIGSEGV" (the harness checks
# that line); the exit event has no exit code for a signal.
report(exits == [None], "gdb saw the inferior end by a signal: %s" % exits)
report(len(gdb.selected_inferior().threads()) == 0, "no threads left")
finish()
