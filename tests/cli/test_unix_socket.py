#!/usr/bin/env python3
"""`--gdb unix:PATH`: the socket file is 0600 under any umask, a live
server's path is never taken over (the second hvgdb exits with status 2 and
one line), a stale socket file is replaced, and hvgdb removes only the
socket file it created.

usage: test_unix_socket.py HVGDB"""

import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_elf  # noqa: E402

TIMEOUT = 60  # a hang; generous for a loaded host
failures = []


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (f": {detail}" if detail
                                                 else ""), flush=True)
    if not ok:
        failures.append(name)


def start(hvgdb, elf, path, umask=None):
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    p = subprocess.Popen([hvgdb, "run", "--gdb", "unix:" + path, elf],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, preexec_fn=preexec)
    deadline = time.time() + TIMEOUT
    while not answers(path):
        if p.poll() is not None or time.time() > deadline:
            raise RuntimeError("hvgdb did not serve " + path + ": " +
                               p.stderr.read().decode(errors="replace"))
        time.sleep(0.05)
    return p


def answers(path):
    """A debug server answers qSupported on path (then we detach)."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        s.connect(path)
        s.sendall(b"$qSupported#37")
        data = b""
        while b"PacketSize" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return False
            data += chunk
        s.sendall(b"+$D#44")
        s.close()
        return True
    except OSError:
        return False


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()


def refused_run(hvgdb, elf, path):
    """(status, stderr) of an hvgdb that must give up on path at once."""
    try:
        p = subprocess.run([hvgdb, "run", "--gdb", "unix:" + path, elf],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return None, "still running: it took the path over"
    return p.returncode, p.stderr.decode(errors="replace")


def main():
    hvgdb = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="hvgdb-unix-")
    elf = os.path.join(tmp, "spin.elf")
    with open(elf, "wb") as f:
        f.write(tiny_elf.elf64(tiny_elf.spin_guest()))
    path = os.path.join(tmp, "gdb.sock")

    # 0600 even when the umask would allow everyone
    live = start(hvgdb, elf, path, umask=0)
    mode = stat.S_IMODE(os.lstat(path).st_mode)
    check("socket mode under umask 0", mode == 0o600, f"{mode:o}")
    ino = os.lstat(path).st_ino

    # a second and a third hvgdb on the live path: refused, file untouched
    for who in ("second", "third"):
        status, err = refused_run(hvgdb, elf, path)
        lines = err.splitlines()
        check(f"{who} hvgdb on a live path refused",
              status == 2 and len(lines) == 1 and
              lines[0].startswith("hvgdb: ") and "in use" in err,
              f"status {status}, stderr {err.strip()!r}")
        same = os.path.exists(path) and os.lstat(path).st_ino == ino
        check(f"live socket file kept after the {who} exits", same)
        check(f"live server still answers after the {who}", answers(path))
    check("live hvgdb ends on SIGTERM", stop(live) == 143)
    check("own socket file removed at exit", not os.path.exists(path))

    # a stale socket (nobody listening) is replaced
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()
    try:
        p = start(hvgdb, elf, path)
        check("stale socket file replaced", True)
    except RuntimeError as e:
        p = None
        check("stale socket file replaced", False, str(e))

    # a file that is no longer ours stays when we exit
    if p:
        os.unlink(path)
        other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        other.bind(path)
        other.listen(1)
        other_ino = os.lstat(path).st_ino
        check("hvgdb ends on SIGTERM", stop(p) == 143)
        check("someone else's socket file kept at exit",
              os.path.exists(path) and os.lstat(path).st_ino == other_ino)
        other.close()
        os.unlink(path)

    # not a socket: never removed, refused
    with open(path, "w") as f:
        f.write("precious")
    status, err = refused_run(hvgdb, elf, path)
    check("regular file at the path refused", status == 2, err.strip())
    with open(path) as f:
        check("regular file at the path kept", f.read() == "precious")

    for name in os.listdir(tmp):
        os.unlink(os.path.join(tmp, name))
    os.rmdir(tmp)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
