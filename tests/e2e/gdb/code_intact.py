# Attach to a running guest: its code bytes equal the ELF's .text.
from gdbtest import *

connect()
addr = int(os.environ["E2E_TEXT_ADDR"])
with open(os.environ["E2E_TEXT_BIN"], "rb") as f:
    want = f.read()
got = bytes(gdb.selected_inferior().read_memory(addr, len(want)))
diff = [hex(addr + i) for i in range(len(want)) if got[i] != want[i]]
report(not diff, "guest .text (%d bytes) equals the ELF's; differences at %s"
       % (len(want), diff[:8]))
# A guest that waits for its debugger before it exits (demo's hold_end)
# may go now.
release = os.environ.get("E2E_RELEASE")
if release:
    gdb.execute("set var %s = 1" % release)
gdb.execute("detach")
finish()
