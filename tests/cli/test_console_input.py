#!/usr/bin/env python3
"""The serial console's input side (`--serial stdio`), against the real
hvgdb and a tiny guest that echoes what COM1 receives, upper-cased
(tiny_elf.uart_echo_guest).

On a terminal (a pty that is hvgdb's controlling terminal): raw mode while
the guest runs, Ctrl-C reaches the guest as 0x03, QEMU's Ctrl-A keys, and
the terminal's own mode back after every way out (Ctrl-A x, SIGTERM, two
SIGINTs, a guest crash, fatal signals). A background job leaves the
terminal alone. On a pipe: nothing is dropped with a slow guest, and end of
file does not end the VM.

    test_console_input.py HVGDB
"""
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tiny_elf  # noqa: E402
from pty_run import PtyRun  # noqa: E402

HVGDB = sys.argv[1]
# How long hvgdb may take to start, echo or end: generous, as a loaded host
# runs it many times slower; every wait ends as soon as its event comes.
TIMEOUT = 60
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def guest_file(delay=0):
    fd, path = tempfile.mkstemp(suffix=".elf")
    os.write(fd, tiny_elf.elf64(tiny_elf.uart_echo_guest(delay)))
    os.close(fd)
    return path


def start(guest, background=False):
    run = PtyRun([HVGDB, "run", guest], background)
    up = run.read_until(b"ready", TIMEOUT)
    return run, up


def test_typing_and_ctrl_a_x(guest):
    run, up = start(guest)
    check(up, "the guest runs on a terminal")
    check(run.is_raw(), "the terminal is raw (no echo, no line editing, "
          "no signal keys) while the guest runs")
    run.type(b"hello\x03 world\r")
    check(run.read_until(b"HELLO\x03 WORLD\r"),
          "typed bytes reach the guest at once, Ctrl-C as 0x03")
    run.type(b"\x01h")
    check(run.read_until(b"Ctrl-A x"), "Ctrl-A h prints the help")
    run.type(b"\x01\x01z")
    check(run.read_until(b"\x01Z"), "Ctrl-A Ctrl-A sends one Ctrl-A")
    run.type(b"\x01x")
    status = run.wait()
    check(status == 0, "Ctrl-A x ends hvgdb with status 0 (got %s)" % status)
    check(b"Ctrl-A x: quitting" in run.out, "and says so")
    check(run.restored(), "the terminal has its mode back after Ctrl-A x")
    run.close()


def test_ways_out_restore_the_terminal(guest):
    def after(action, want, what):
        run, up = start(guest)
        raw = up and run.is_raw()
        action(run)
        status = run.wait()
        check(raw and status == want and run.restored(),
              "%s: status %s (want %s), terminal restored" %
              (what, status, want))
        run.close()

    after(lambda r: os.kill(r.pid, signal.SIGTERM), 143, "SIGTERM")

    def two_sigints(r):
        os.kill(r.pid, signal.SIGINT)
        os.kill(r.pid, signal.SIGINT)
    after(two_sigints, 130, "two SIGINTs at once")
    after(lambda r: r.type(b"?"), 3, "a guest crash")
    after(lambda r: r.type(b"!"), 67, "the guest's exit device")
    for sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGHUP):
        after(lambda r, s=sig: os.kill(r.pid, s), -sig,
              "fatal %s sent to hvgdb" % signal.Signals(sig).name)


def test_background_job_leaves_the_terminal_alone(guest):
    # The guest ends by itself; hvgdb must neither stop on SIGTTIN nor
    # change the mode of a terminal its shell owns.
    fd, echo = tempfile.mkstemp(suffix=".elf")
    os.write(fd, tiny_elf.elf64(tiny_elf.echo_guest(0x21)))
    os.close(fd)
    try:
        run = PtyRun([HVGDB, "run", echo], background=True)
        status = run.wait()
        check(status == 67, "a background hvgdb runs its guest to the end "
              "(status %s)" % status)
        check(b"output-only" in run.out, "and says the console is "
              "output-only: %r" % run.out[-200:])
        check(run.restored(), "without touching the terminal's mode")
        run.close()
    finally:
        os.unlink(echo)


def test_pipe_slow_guest_loses_nothing(slow_guest):
    data = b"".join(b"%04d abcdefghijklmnopqrstuvwxyz\n" % i
                    for i in range(200))
    p = subprocess.run([HVGDB, "run", slow_guest], input=data + b"!",
                       capture_output=True, timeout=120)
    got = p.stdout[len(b"ready\n"):]
    check(p.returncode == 67, "the piped input's '!' ends the guest "
          "(status %d)" % p.returncode)
    check(got == data.upper(), "a slow guest gets all %d piped bytes, in "
          "order (%d echoed)" % (len(data), len(got)))


def test_pipe_is_8_bit_clean(guest):
    # Every byte value but the guest's own two commands ('!' ends, '?'
    # crashes), NUL and 0x01 (no escape keys on a pipe) included.
    data = bytes(b for b in range(256) if b not in b"!?")
    p = subprocess.run([HVGDB, "run", guest], input=data + b"!",
                       capture_output=True, timeout=3 * TIMEOUT)
    want = bytes(b - 0x20 if 0x61 <= b <= 0x7a else b for b in data)
    check(p.returncode == 67 and p.stdout[len(b"ready\n"):] == want,
          "a pipe's bytes reach the guest unchanged, all 8 bits (status "
          "%d)" % p.returncode)


def read_until(f, token, timeout):
    """Reads the pipe f until token has come (or end of file, or the
    timeout): what was read."""
    got = b""
    end = time.monotonic() + timeout
    while token not in got and time.monotonic() < end:
        r, _, _ = select.select([f], [], [], 0.1)
        if r:
            chunk = os.read(f.fileno(), 4096)
            if not chunk:
                break
            got += chunk
    return got


def test_pipe_end_of_file_keeps_the_vm(guest):
    p = subprocess.Popen([HVGDB, "run", guest], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(b"abc\n")
    p.stdin.close()
    p.stdin = None  # communicate() must not flush it
    # The guest echoes the bytes before the end of file first (a busy
    # host may take seconds to start it), then must live on after it.
    out = read_until(p.stdout, b"ABC\n", TIMEOUT)
    time.sleep(1.5)
    alive = p.poll() is None
    p.send_signal(signal.SIGTERM)
    rest, err = p.communicate(timeout=TIMEOUT)
    out += rest
    check(alive, "end of file on a pipe does not end the VM")
    check(out == b"ready\nABC\n", "the bytes before it arrived: %r" % out)
    check(p.returncode == 143, "SIGTERM still ends it (status %d)"
          % p.returncode)


def main():
    guest, slow = guest_file(), guest_file(delay=20000)
    try:
        test_typing_and_ctrl_a_x(guest)
        test_ways_out_restore_the_terminal(guest)
        test_background_job_leaves_the_terminal_alone(guest)
        test_pipe_slow_guest_loses_nothing(slow)
        test_pipe_is_8_bit_clean(guest)
        test_pipe_end_of_file_keeps_the_vm(guest)
    finally:
        os.unlink(guest)
        os.unlink(slow)
    if failures:
        sys.exit("FAIL: %d check(s)" % len(failures))
    print("PASS")


if __name__ == "__main__":
    main()
