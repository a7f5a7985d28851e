"""What the Linux debugging tests share: Debian's kernel booted under
hvgdb with the debug server on a unix socket, its serial output in a file
the test reads as it grows.

    with linux_session.boot(hvgdb, vmlinux, initrd, cpus, "hvgdb-x-") as vm:
        text = vm.wait_for("ready", BOOT_TIMEOUT)
        ... gdb against vm.sock ...
        ok = vm.powered_off(BOOT_TIMEOUT)

Leaving the block kills hvgdb if it still runs and removes its files.
"""
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def read_text(path):
    """The file's text so far; empty before it exists."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def make_initramfs(initrd_dir, name, init_script, *files):
    """The initramfs make-initramfs.sh builds: init_script as /init, and
    files beside it; returns its path."""
    return subprocess.run(
        [os.path.join(HERE, "make-initramfs.sh"), initrd_dir, name,
         os.path.join(HERE, init_script), *files],
        check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


class Session:
    """hvgdb running a kernel: proc, the debug socket sock, the serial
    output's file log."""

    def __init__(self, tmp, hvgdb, vmlinux, initrd, cpus, args, append,
                 serial_on_stdio):
        self.sock = os.path.join(tmp, "gdb.sock")
        self.log = os.path.join(tmp, "serial.log")
        self.stderr = os.path.join(tmp, "stderr")
        # serial_on_stdio: the test writes to the guest's console through
        # proc.stdin (the UART's input), and reads its output from log.
        serial = "stdio" if serial_on_stdio else "file:" + self.log
        cmd = [hvgdb, "run", "--cpus", str(cpus), *args, "--memory", "512M",
               "--serial", serial, "--gdb", "unix:" + self.sock,
               "--initrd", initrd, "--append", append, vmlinux]
        print("+ " + " ".join(cmd), flush=True)
        with contextlib.ExitStack() as files:
            err = files.enter_context(open(self.stderr, "w"))
            if serial_on_stdio:
                out = files.enter_context(open(self.log, "w"))
                self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                             stdout=out, stderr=err)
            else:
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                             stderr=err)

    def wait_for(self, pattern, timeout):
        """The serial output once it holds pattern; the test fails (its
        last 4000 characters shown, and hvgdb's status and stderr if it
        ended) if hvgdb ends or time runs out first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = read_text(self.log)
            if pattern in text:
                return text
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        print(read_text(self.log)[-4000:])
        rc = self.proc.poll()
        if rc is not None:
            print(f"hvgdb ended first, status {rc}; its stderr ends:")
            print(read_text(self.stderr)[-4000:])
        sys.exit(f"FAIL: no '{pattern}' on the serial port")

    def powered_off(self, timeout):
        """True if hvgdb exits 0 (the guest's ACPI power-off); else says
        why, with the end of hvgdb's stderr."""
        rc = self.proc.wait(timeout=timeout)
        if rc == 0:
            return True
        print(f"FAIL: hvgdb exited {rc}, want 0 (power-off)")
        print(read_text(self.stderr)[-2000:])
        return False


@contextlib.contextmanager
def boot(hvgdb, vmlinux, initrd, cpus, prefix, args=(),
         append="console=ttyS0", serial_on_stdio=False):
    """A Session in a temporary directory named with prefix; args go to
    `hvgdb run` after --cpus."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        vm = Session(tmp, hvgdb, vmlinux, initrd, cpus, args, append,
                     serial_on_stdio)
        try:
            yield vm
        finally:
            if vm.proc.poll() is None:
                vm.proc.kill()
                vm.proc.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
