"""The "host busy" series: one busy-loop process per host CPU but one, as
on a developer's machine that is compiling while they debug. Started and
stopped by the bench; each loop also ends by itself after a bounded time,
so an interrupted bench leaves nothing spinning."""
import contextlib
import os
import subprocess
import sys

SPIN = "import time\nend = time.monotonic() + %d\n" \
       "while time.monotonic() < end:\n    pass\n"


@contextlib.contextmanager
def busy_host(max_seconds=1800):
    n = max(1, (os.cpu_count() or 2) - 1)
    procs = [subprocess.Popen([sys.executable, "-c", SPIN % max_seconds],
                              stdin=subprocess.DEVNULL)
             for _ in range(n)]
    try:
        yield n
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
