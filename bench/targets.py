"""Starting the things a benchmark row talks to: hvgdb, QEMU (TCG) and the
debug server over the mock target, each as a child process we always reap
(with its resource usage) and never leave behind."""

import os
import signal
import socket
import subprocess
import tempfile
import time

QEMU = "qemu-system-x86_64"
MEMORY = "256M"

# The mock's toy memory is 256 KiB; the guest ELF (linked at 1 MiB) is
# copied in at MOCK_ELF_AT and gdb loads its symbols shifted to match.
MOCK_ELF_AT = 0x10000
MOCK_RAM = 64 << 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def elf_symbols(elf):
    """name -> address, from nm (binutils is there with gdb)."""
    out = subprocess.run(["nm", elf], capture_output=True, text=True,
                         check=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            syms[parts[2]] = int(parts[0], 16)
    return syms


def elf_lowest_load(elf):
    out = subprocess.run(["readelf", "-lW", elf], capture_output=True,
                         text=True, check=True).stdout
    lows = []
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD" and int(f[5], 16) > 0:  # FileSiz
            lows.append(int(f[3], 16))  # PhysAddr
    return min(lows)


class Child:
    """A started process: wait() reaps it and keeps its rusage."""

    def __init__(self, name, argv, env=None, stdout=subprocess.DEVNULL):
        self.name, self.argv = name, argv
        self.serial = tempfile.NamedTemporaryFile(
            prefix=f"bench-{name}-", suffix=".log", delete=False).name
        argv = [a.replace("@SERIAL@", self.serial) for a in argv]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=stdout, stderr=subprocess.PIPE,
                                     env=env, start_new_session=True)
        self.t_start = time.perf_counter()
        self.rusage = None
        self.status = None
        self.wall = None

    @property
    def pid(self):
        return self.proc.pid

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                pid, status, ru = os.wait4(self.proc.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: no rusage
                self.rusage = self.rusage or False
                return self.proc.returncode

            if pid:
                self.wall = time.perf_counter() - self.t_start
                self.status, self.rusage = status, ru
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                return self.proc.returncode
            if time.monotonic() > deadline:
                return None
            time.sleep(0.005)

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL: the child is gone when this returns."""
        if self.rusage is not None:
            return self.proc.returncode
        for sig in (signal.SIGTERM, signal.SIGKILL):
            # os.kill, not Popen.send_signal: that one polls, reaping the
            # child (and its rusage) behind wait4's back
            rc = self.wait(0)
            if rc is not None:
                return rc
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            rc = self.wait(timeout)
            if rc is not None:
                return rc
        return None

    def stderr_text(self):
        try:
            return self.proc.stderr.read().decode(errors="replace")
        except (OSError, ValueError):
            return ""

    def cleanup(self):
        self.stop()
        try:
            self.proc.stderr.close()
        except OSError:
            pass
        try:
            os.unlink(self.serial)
        except OSError:
            pass

    def cpu_seconds(self):
        """utime+stime so far, read from /proc while it runs."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / tick


def hvgdb_argv(build, elf, cpus, args="", port=None, wait=False):
    argv = [os.path.join(build, "src/cli/hvgdb"), "run", "--cpus", str(cpus),
            "--memory", MEMORY, "--serial", "file:@SERIAL@"]
    if port is not None:
        argv += ["--gdb", f"127.0.0.1:{port}"]
    if wait:
        argv.append("--wait")
    argv.append(elf)
    if args:
        argv += ["--"] + args.split()
    return argv


def qemu_argv(elf, cpus, args="", port=None):
    argv = [QEMU, "-kernel", elf, "-smp", str(cpus), "-m", MEMORY,
            "-display", "none", "-serial", "file:@SERIAL@", "-no-reboot",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if args:
        argv += ["-append", args]
    if port is not None:
        argv += ["-gdb", f"tcp:127.0.0.1:{port}", "-S"]
    return argv


def start_guest(kind, build, elf, cpus, args="", debug=False):
    """kind 'hvgdb' or 'qemu'; with debug, waits for gdb at .port."""
    port = free_port() if debug else None
    if kind == "hvgdb":
        argv = hvgdb_argv(build, elf, cpus, args, port, wait=debug)
    else:
        argv = qemu_argv(elf, cpus, args, port)
    child = Child(kind, argv)
    child.port = port
    return child


def start_mock(build, elf=None, loop_sym=None, cpus=1):
    """The debug server over the mock target, serving elf's bytes
    relocated to MOCK_ELF_AT; returns the child with .port and
    .sym_offset (what gdb adds to the ELF's addresses)."""
    argv = [os.path.join(build, "tests/unit/gdbstub/gdbstub_mock_server"),
            "--vcpus", str(cpus), "--instr-delay-us", "0",
            "--ram", str(MOCK_RAM)]
    offset = 0
    if elf:
        offset = MOCK_ELF_AT - elf_lowest_load(elf)
        argv += ["--elf", elf, "--elf-at", hex(MOCK_ELF_AT)]
        if loop_sym:
            argv += ["--loop-at", hex(elf_symbols(elf)[loop_sym] + offset)]
    child = Child("mock", argv, stdout=subprocess.PIPE)
    line = child.proc.stdout.readline().decode()
    if not line.startswith("port "):
        child.cleanup()
        raise RuntimeError(f"mock_server did not start: {line!r}")
    child.port = int(line.split()[1])
    child.sym_offset = offset
    return child
