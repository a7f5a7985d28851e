# Device registers through gdb's memory commands: the local APIC page reads
# as each vCPU's own APIC (its ID register says which), without side
# effects; writes there are refused, not sent to the device.
from gdbtest import *

connect()
inf = gdb.selected_inferior()
APIC = 0xFEE00000
for tid in thread_tids():
    select_tid(tid)
    words = bytes(inf.read_memory(APIC + 0x20, 16))
    apic_id = int.from_bytes(words[:4], "little") >> 24
    report(apic_id == tid - 1 and words[4:] == bytes(12),
           "thread %d: APIC ID register reads %d, the slot's rest zeros"
           % (tid, apic_id))
    version = int.from_bytes(bytes(inf.read_memory(APIC + 0x30, 4)),
                             "little")
    report(version & 0xff != 0, "thread %d: APIC version %#x" % (tid, version))
out = run("x/4wx %#x" % (APIC + 0x20))
report("0x01000000" in out, "x/4wx on vCPU 1's APIC page: %r" % out.strip())
before = bytes(inf.read_memory(APIC + 0x80, 4))
try:
    inf.write_memory(APIC + 0x80, b"\x10\x00\x00\x00")
    report(False, "a write to the APIC page is refused")
except gdb.MemoryError:
    report(True, "a write to the APIC page is refused")
report(bytes(inf.read_memory(APIC + 0x80, 4)) == before,
       "the APIC's TPR is unchanged")
out = run("maint packet m%x,10" % (APIC - 0x10000))
report('received: "E' in out, "a read of the hole below the APIC is still "
       "an error: %r" % out.strip())
gdb.execute("detach")
finish()
