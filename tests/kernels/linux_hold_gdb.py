"""The gdb side of linux_hold_test.py: run inside `gdb -batch -x`.

Attaches to the running kernel, sets a breakpoint on the sync system call
and says "hold-gdb: armed" (the test then tells the guest's /init to call
sync); when the breakpoint is hit, holds the VM stopped for HOLD_SECONDS,
deletes the breakpoint and detaches, leaving the kernel to run on.

Environment: HOLD_TARGET (gdb's `target remote` argument), HOLD_SYM (the
address of __x64_sys_sync, hex), HOLD_SECONDS. Exits 1 if the stop was not
at the breakpoint.
"""
import os
import time

import gdb

SYNC = int(os.environ["HOLD_SYM"], 16)
HOLD = float(os.environ["HOLD_SECONDS"])


def run(cmd):
    return gdb.execute(cmd, to_string=True)


run("set pagination off")
run("set confirm off")
run("set architecture i386:x86-64")
run("set remotetimeout 60")
gdb.execute("target remote " + os.environ["HOLD_TARGET"])
bp = gdb.Breakpoint("*%#x" % SYNC)
print("hold-gdb: armed", flush=True)
gdb.execute("continue")
pc = int(gdb.parse_and_eval("$pc")) & (2**64 - 1)
if pc != SYNC or bp.hit_count != 1:
    print("hold-gdb: FAIL: stopped at %#x (hits %d), want the breakpoint "
          "at %#x" % (pc, bp.hit_count, SYNC), flush=True)
    gdb.execute("kill")
    gdb.execute("quit 1")
print("hold-gdb: stopped in sync(2) on thread %d; holding the VM %g s"
      % (gdb.selected_thread().num, HOLD), flush=True)
start = time.monotonic()
time.sleep(HOLD)
bp.delete()
gdb.execute("detach")
print("hold-gdb: released after %.1f s" % (time.monotonic() - start),
      flush=True)
