#!/usr/bin/env python3
"""Debian's Linux with an interactive busybox shell on hvgdb's serial
console (`--serial stdio`, the default).

    linux_console_test.py HVGDB INITRD_DIR VMLINUZ VMLINUX

On a terminal (a pty that is hvgdb's controlling terminal): commands typed
at the prompt run and answer; Ctrl-C interrupts the shell's foreground job
in the guest (it is byte 0x03 there, not a signal to hvgdb); Ctrl-A x ends
hvgdb with status 0 and the terminal gets its mode back. On a pipe: every
command arrives, the first byte included (input waits for the guest's RTS;
QEMU drops the first bytes into a FIFO the driver resets), and `exit`
powers the machine off (status 0).
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
from pty_run import PtyRun  # noqa: E402

APPEND = "console=ttyS0 hvgdb_init=shell"
BOOT_TIMEOUT = 300  # a loaded CI machine; a hang is still a failure
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def hvgdb_argv(hvgdb, initrd, vmlinux):
    return [hvgdb, "run", "--memory", "512M", "--initrd", initrd,
            "--append", APPEND, vmlinux]


def after(run, marker, token, timeout=60):
    """Wait for token in the output after the last marker."""
    if not run.read_until(token, timeout):
        return False
    return token in run.out[run.out.rfind(marker):]


def test_terminal(argv):
    run = PtyRun(argv)
    up = run.read_until(b"hvgdb-init: shell", BOOT_TIMEOUT) and \
        run.read_until(b"/ # ", 60)
    check(up, "Linux boots to the shell's prompt on the terminal")
    check(run.is_raw(), "the terminal is raw while the guest runs")
    run.type(b"echo answer=$((6*7))\r")
    check(after(run, b"echo answer", b"answer=42\r"),
          "a typed command runs in the guest and answers")
    # The job says it runs, from inside itself, before Ctrl-C is typed:
    # sent on the echo of the command line alone, the Ctrl-C could reach
    # the shell before it started the job (it then dropped the line, and
    # $? stayed 0: seen once on a loaded host).
    run.type(b"sh -c 'echo sleeping; exec sleep 60'\r")
    run.read_until(b"sleeping\r\n", 60)
    run.type(b"\x03")
    run.type(b"echo status=$?\r")
    check(after(run, b"sleep 60", b"status=130", 60),
          "Ctrl-C interrupts the guest's foreground job (status 130 in "
          "the guest), hvgdb runs on")
    run.type(b"\x01x")
    status = run.wait(60)
    check(status == 0, "Ctrl-A x ends hvgdb with status 0 (got %s)"
          % status)
    check(run.restored(), "the terminal has its mode back")
    if failures:
        print(run.out[-3000:].decode(errors="replace"))
    run.close()


def test_pipe(argv):
    p = subprocess.run(argv, input=b"echo piped=$((6*7))\nexit\n",
                       capture_output=True, timeout=BOOT_TIMEOUT)
    out = p.stdout.decode(errors="replace")
    check("# echo piped=$((6*7))" in out,
          "piped input arrives whole, its first bytes included")
    check("piped=42" in out, "the piped command runs in the guest")
    check(p.returncode == 0 and "reboot: Power down" in out,
          "`exit` powers off: status %d" % p.returncode)
    if failures:
        print(out[-3000:], p.stderr.decode(errors="replace")[-1000:])


def main():
    hvgdb, initrd_dir, _vmlinuz, vmlinux = sys.argv[1:5]
    initrd = subprocess.run([os.path.join(HERE, "make-initramfs.sh"),
                             initrd_dir], check=True, stdout=subprocess.PIPE,
                            text=True).stdout.strip()
    argv = hvgdb_argv(hvgdb, initrd, vmlinux)
    test_terminal(argv)
    test_pipe(argv)
    if failures:
        sys.exit("FAIL: %d check(s)" % len(failures))
    print("PASS")


if __name__ == "__main__":
    main()
