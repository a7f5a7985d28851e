"""Runs one row of in_gdb.py in a real `gdb -batch` against a started target
and returns its JSON result, plus gdb's whole-process CPU time from the
child's resource usage (os.wait4) as a cross-check of the in-script clocks."""

import json
import os
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GDB = "gdb"


def run_row(params, timeout):
    fd, out = tempfile.mkstemp(prefix="bench-gdb-", suffix=".json")
    os.close(fd)
    params = dict(params, out=out)
    env = dict(os.environ, BENCH_PARAMS=json.dumps(params))
    argv = [GDB, "-nx", "-q", "-batch", "-x", os.path.join(HERE, "in_gdb.py")]
    log = tempfile.TemporaryFile()
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline, ru, timed_out = time.monotonic() + timeout, None, False
    while ru is None:
        pid, _, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            ru = usage
        elif time.monotonic() > deadline and not timed_out:
            proc.kill()
            timed_out = True
        else:
            time.sleep(0.01)
    proc.returncode = 0
    try:
        with open(out) as f:
            result = json.load(f)
    except (OSError, ValueError):
        result = {"ok": False, "error": "gdb wrote no result"}
    os.unlink(out)
    if timed_out:
        result = {"ok": False, "error": f"gdb timed out after {timeout} s"}
    result["gdb_process_wall"] = time.perf_counter() - t0
    result["gdb_process_cpu"] = ru.ru_utime + ru.ru_stime
    if not result.get("ok"):
        log.seek(0)
        result["gdb_output"] = log.read().decode(errors="replace")[-2000:]
    log.close()
    return result
