#!/usr/bin/env python3
"""Regenerates the fuzz seed corpora in fuzz/corpus/ from real sessions.

  rsp_dispatch/  what stock gdb 13 and lldb 14 send in real sessions against
                 gdbstub_mock_server, recorded byte for byte by a TCP relay
                 between debugger and server; each seed is one config byte
                 (see fuzz_rsp_dispatch.c) followed by the debugger's bytes.
  elf_loader/    the test guests' ELFs from the build, stripped (the loader
                 reads headers and segments only; smaller seeds fuzz faster).

Usage: fuzz/make_corpus.py BUILD_DIR   (a build with the guests and
       tests/unit/gdbstub/gdbstub_mock_server, e.g. `make build` -> build)
"""
import os
import shutil
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

# fuzz_rsp_dispatch.c config byte: bit 0 amd, bits 1-3 vCPU count - 1.
NVCPUS = 3


def config_byte(cpu):
    return bytes([(1 if cpu == "amd" else 0) | ((NVCPUS - 1) << 1)])


class Relay:
    """Accepts one debugger connection, relays it to the server and keeps
    every byte the debugger sent."""

    def __init__(self, server_port):
        self.server_port = server_port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.sent = bytearray()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def _pump(src, dst, record):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if record is not None:
                    record += data
                dst.sendall(data)
        except OSError:
            pass
        for s in (dst,):
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _run(self):
        client, _ = self.listener.accept()
        server = socket.create_connection(("127.0.0.1", self.server_port))
        up = threading.Thread(target=self._pump,
                              args=(client, server, self.sent), daemon=True)
        up.start()
        self._pump(server, client, None)
        up.join(timeout=10)
        client.close()
        server.close()

    def finish(self):
        self.thread.join(timeout=30)
        self.listener.close()
        return bytes(self.sent)


def start_server(server, cpu):
    # The toy vCPUs loop at 0x1000 + 0x100 * n: 15 nops and a jump back,
    # so breakpoints placed in vCPU 0's loop are really hit.
    proc = subprocess.Popen([server, "--vcpus", str(NVCPUS), "--cpu", cpu,
                             "--instr-delay-us", "100"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    port = int(proc.stdout.readline().split()[1])
    return proc, port


GDB_SESSIONS = {
    "gdb_registers_memory": [
        "info threads",
        "info registers",
        "info all-registers",
        "x/32xb 0x1000",
        "x/4xg $sp",
        "set var $rbx = 0x1122334455667788",
        "set var $xmm1.uint128 = 0x00112233445566778899aabbccddeeff",
        "set {unsigned char}0x2000 = 0x23",
        "set {unsigned int}0x2004 = 0x7d2a2324",
        "x/8xb 0x2000",
        "x/4xb 0x3000",
        "thread 2",
        "p $pc",
        "monitor help",
        "monitor info vcpus",
        "monitor phys on",
        "x/4xb 0x1000",
        "monitor phys off",
        "monitor bogus",
        "detach",
    ],
    "gdb_break_step": [
        "break *0x1004",
        "hbreak *0x1008",
        "delete 2",
        "continue",
        "info threads",
        "stepi",
        "stepi",
        "x/2i $pc",
        "monitor info breakpoints",
        "set scheduler-locking on",
        "stepi",
        "set scheduler-locking off",
        "delete",
        "break *0x1104 thread 2",
        "continue",
        "delete",
        "thread 3",
        "stepi",
        "detach",
    ],
    "gdb_kill": [
        "break *0x1002",
        "continue",
        "kill",
    ],
    "gdb_watch": [
        "watch *(long *)0x2000",
        "rwatch *(int *)0x2008",
        "awatch *(char *)0x2010",
        "hbreak *0x1006",
        "continue",
        "set breakpoint always-inserted on",
        "monitor info breakpoints",
        "set breakpoint always-inserted off",
        "delete",
        "watch -l *(long *)0x3000",
        "delete",
        "detach",
    ],
}

LLDB_SESSIONS = {
    "lldb_registers_memory": [
        "thread list",
        "register read",
        "register read --all",
        "memory read --size 1 --count 32 0x1000",
        "register write rbx 0x1122334455667788",
        "memory write 0x2000 0x23 0x24 0x2a 0x7d",
        "memory read --size 1 --count 8 0x2000",
        "thread select 2",
        "register read rip",
        "process plugin packet monitor help",
        "detach",
    ],
    "lldb_watch": [
        "watchpoint set expression -s 8 -- 0x2000",
        "watchpoint set expression -w read -s 4 -- 0x2008",
        "breakpoint set -H --address 0x1006",
        "continue",
        "watchpoint list",
        "watchpoint delete --force",
        "breakpoint delete --force",
        "detach",
    ],
    "lldb_break_step": [
        "breakpoint set --address 0x1004",
        "continue",
        "thread list",
        "thread step-inst",
        "thread step-inst",
        "breakpoint delete --force",
        "thread select 3",
        "thread step-inst",
        "detach",
    ],
}


def run_gdb(port, cmds, cpu):
    args = ["gdb", "-nx", "-q", "-batch",
            "-ex", "set pagination off", "-ex", "set confirm off",
            "-ex", "set architecture i386:x86-64",
            "-ex", f"target remote 127.0.0.1:{port}"]
    for c in cmds:
        args += ["-ex", c]
    return subprocess.run(args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          timeout=120).stdout


def run_lldb(port, cmds, cpu):
    args = ["lldb", "--no-lldbinit", "--batch",
            "-o", f"gdb-remote 127.0.0.1:{port}"]
    for c in cmds:
        args += ["-o", c]
    return subprocess.run(args, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          stdin=subprocess.DEVNULL, timeout=120).stdout


def record(server, name, runner, cmds, cpu, out_dir):
    proc, port = start_server(server, cpu)
    try:
        relay = Relay(port)
        log = runner(relay.port, cmds, cpu)
        sent = relay.finish()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if not sent:
        print(log)
        raise SystemExit(f"{name}: the debugger sent nothing")
    path = os.path.join(out_dir, f"{name}_{cpu}")
    with open(path, "wb") as f:
        f.write(config_byte(cpu) + sent)
    print(f"{path}: {len(sent)} bytes")


def write_rsp_corpus(build):
    server = os.path.join(build, "tests", "unit", "gdbstub",
                          "gdbstub_mock_server")
    out_dir = os.path.join(CORPUS, "rsp_dispatch")
    os.makedirs(out_dir, exist_ok=True)
    for cpu in ("intel", "amd"):
        for name, cmds in GDB_SESSIONS.items():
            record(server, name, run_gdb, cmds, cpu, out_dir)
    if shutil.which("lldb"):
        for name, cmds in LLDB_SESSIONS.items():
            record(server, name, run_lldb, cmds, "intel", out_dir)
    else:
        print("lldb not found: no lldb seeds", file=sys.stderr)


def write_elf_corpus(build):
    guests = os.path.join(build, "guests")
    out_dir = os.path.join(CORPUS, "elf_loader")
    os.makedirs(out_dir, exist_ok=True)
    for name in sorted(os.listdir(guests)):
        if not name.endswith(".elf"):
            continue
        dst = os.path.join(out_dir, name)
        subprocess.run(["strip", "--strip-all", "-o", dst,
                        os.path.join(guests, name)], check=True)
        print(f"{dst}: {os.path.getsize(dst)} bytes")


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    build = os.path.abspath(argv[1])
    write_rsp_corpus(build)
    write_elf_corpus(build)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
