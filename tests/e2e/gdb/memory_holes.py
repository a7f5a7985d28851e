# Memory access that runs into unmapped guest memory: reads give the bytes
# before the hole; a write that would cross it changes nothing.
from gdbtest import *

connect()
ram_end = int(os.environ["E2E_RAM_END"])
inf = gdb.selected_inferior()
head = bytes(inf.read_memory(ram_end - 16, 16))
# gdb itself turns a short read into an error for the rest, so look at
# the server's reply to the raw packet.
out = run("maint packet m%x,20" % (ram_end - 16))
report(('received: "%s"' % head.hex()) in out,
       "a read across the end of RAM returns the 16 bytes before the hole: %r"
       % out.strip())
out = run("maint packet m%x,10" % ram_end)
report('received: "E' in out, "a read starting in the hole is an error: %r"
       % out.strip())
try:
    inf.write_memory(ram_end - 8, b"\xAA" * 16)
    report(False, "a write across the end of RAM was refused")
except gdb.MemoryError:
    report(True, "a write across the end of RAM was refused")
report(bytes(inf.read_memory(ram_end - 16, 16)) == head,
       "the bytes before the hole are unchanged by the refused write")
try:
    inf.read_memory(0x0000800000000000, 8)  # non-canonical (4-level paging)
    report(False, "non-canonical address refused")
except gdb.MemoryError:
    report(True, "non-canonical address refused")
inf.write_memory(ram_end - 4, b"\x01\x02\x03\x04")
report(bytes(inf.read_memory(ram_end - 4, 4)) == b"\x01\x02\x03\x04",
       "a write just below the end of RAM works")
gdb.execute("detach")
finish()
