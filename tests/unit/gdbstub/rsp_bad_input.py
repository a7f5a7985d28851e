#!/usr/bin/env python3
"""Raw-socket client against gdbstub_mock_server: malformed and hostile input.

Every case must get '-', 'E NN', an empty reply or a clean close, and the
server must stay alive and correct afterwards (checked after every case).
Usage: rsp_bad_input.py PATH/TO/gdbstub_mock_server
"""
import os
import socket
import subprocess
import sys
import time

TIMEOUT = 60.0  # a hang; generous for a loaded host
# The 'g' packet's length in bytes: the register table's (gdb_x86_regs.h).
G_BYTES = 796


def checksum(data: bytes) -> bytes:
    return b"%02x" % (sum(data) & 0xFF)


def frame(payload: bytes) -> bytes:
    return b"$" + payload + b"#" + checksum(payload)


class Client:
    """port: a TCP port on 127.0.0.1, or a unix socket path (str)."""

    def __init__(self, port):
        if isinstance(port, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(TIMEOUT)
            self.sock.connect(port)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port),
                                                 timeout=TIMEOUT)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection")
        self.buf += chunk

    def read_ack(self) -> bytes:
        while not self.buf:
            self._fill()
        c, self.buf = self.buf[:1], self.buf[1:]
        return c

    def read_packet(self) -> bytes:
        """Returns the payload of the next packet (acks before it skipped)."""
        while True:
            while b"$" not in self.buf:
                self._fill()
            start = self.buf.index(b"$")
            while b"#" not in self.buf[start:] or len(self.buf) < self.buf.index(b"#", start) + 3:
                self._fill()
            end = self.buf.index(b"#", start)
            payload = self.buf[start + 1:end]
            cs = self.buf[end + 1:end + 3]
            self.buf = self.buf[end + 3:]
            assert cs == checksum(payload), (payload, cs)
            return decode(payload)

    def request(self, payload: bytes) -> bytes:
        self.send_raw(frame(payload))
        ack = self.read_ack()
        assert ack == b"+", ("expected ack", ack, payload)
        reply = self.read_packet()
        self.send_raw(b"+")
        return reply


def decode(payload: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(payload):
        c = payload[i]
        if c == ord("}"):
            out.append(payload[i + 1] ^ 0x20)
            i += 2
        elif c == ord("*"):
            out += bytes([out[-1]]) * (payload[i + 1] - 29)
            i += 2
        else:
            out.append(c)
            i += 1
    return bytes(out)


def is_error(reply: bytes) -> bool:
    return len(reply) == 3 and reply[:1] == b"E" and all(
        chr(c) in "0123456789abcdef" for c in reply[1:])


def check_healthy(port, label):
    """A fresh session must work after whatever happened before."""
    deadline = time.time() + TIMEOUT
    while True:
        try:
            c = Client(port)
            assert c.request(b"qSupported").startswith(b"PacketSize="), label
            break
        except (EOFError, ConnectionError, socket.timeout):
            # a detaching session may still be cleaning up
            if time.time() > deadline:
                raise
            time.sleep(0.05)
    stop = c.request(b"?")
    assert stop.startswith(b"T05thread:"), (label, stop)
    g = c.request(b"g")
    assert len(g) == 2 * G_BYTES, (label, len(g))
    mem = c.request(b"m1000,10")
    assert mem == b"90" * 15 + b"eb", (label, mem)
    assert c.request(b"D") == b"OK"
    c.close()


def cpu_ns(pid):
    """CPU time of all a process's threads, in ns, from the scheduler's own
    accounting (schedstat), which is exact; utime/stime are sampled at clock
    ticks and charge a whole 10 ms tick to whoever happens to run then."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass  # a thread that ended between listdir and open
    return total


IDLE_WINDOW_S = 2.0
# The mock server's own main loop wakes 20 times a second (~1 ms/s, ~2 ms/s
# under TSan); a busy-waiting server would spend ~1000 ms/s.
IDLE_MAX_MS = 40


def check_idle_session_costs_no_cpu(proc, port):
    """An attached debugger that sends nothing must cost the server no CPU
    (it waits in poll, no busy loop)."""
    c = Client(port)
    assert c.request(b"qSupported").startswith(b"PacketSize=")
    time.sleep(0.2)  # the attach's stop and any bounded spin after it end
    before = cpu_ns(proc.pid)
    time.sleep(IDLE_WINDOW_S)
    spent_ms = (cpu_ns(proc.pid) - before) / 1e6
    assert spent_ms <= IDLE_MAX_MS, \
        "idle session used %.1f ms of CPU in %.1f s" % (spent_ms, IDLE_WINDOW_S)
    assert c.request(b"D") == b"OK"
    c.close()


def expect_reply(c, payload, allowed, label):
    reply = c.request(payload)
    ok = (reply == b"" and "empty" in allowed) or \
         (is_error(reply) and "error" in allowed)
    assert ok, (label, payload[:60], reply[:60])


# Malformed or hostile packets and what each may get back: "error" (E NN),
# "empty" (unsupported), "empty-l" (an empty qXfer chunk).
HOSTILE_CASES = [
        (b"m", "error"), (b"m1000", "error"), (b"mzz,4", "error"),
        (b"m1000,zz", "error"), (b"m1000,10000000000000000", "error"),
        (b"mffffffffffffffff,ffffffffffffffff", "error"),
        (b"m7fffffffffff0000,4", "error"),
        (b"M1000,2:zz00", "error"), (b"M1000,3:00", "error"),
        (b"M1000,ffffffffffffffff:00", "error"),
        (b"Mffffffffffffffff,2:0000", "error"),
        (b"X1000,5:ab", "error"), (b"Xffffffffffff0000,1:a", "error"),
        (b"x7fffffffffff0000,4", "error"),
        (b"p", "error"), (b"p999", "error"), (b"pzz", "error"),
        (b"P10=12", "error"), (b"P10=zzzzzzzzzzzzzzzz", "error"),
        (b"G00", "error"), (b"G" + b"z" * (2 * G_BYTES), "error"),
        (b"Hg99", "error"), (b"Hc99", "error"), (b"Hq1", "error"),
        (b"Hgffffffffffffffffff", "error"), (b"T99", "error"),
        (b"qThreadExtraInfo,99", "error"), (b"qThreadExtraInfo,", "error"),
        (b"vCont;s:99", "error"), (b"vCont;q", "error"),
        (b"vCont;c:", "error"), (b"vCont;", "error"),
        (b"Z0,1000,2", "error"), (b"Z9,1000,1", "error"),
        (b"Z0,zz,1", "error"), (b"Z0,1000", "error"), (b"Z", "error"),
        (b"Z0,7fffffffffff0000,1", "error"),
        (b"z0,7fffffffffff0000,1", "error"),
        (b"Z1,1000,2", "error"), (b"Z2,1000,0", "error"),
        (b"Z2,1000,100001", "error"), (b"Z4,ffffffffffffffff,2", "error"),
        (b"Z3,1000,4;X2,0a", "empty"),
        (b"Z0,1000,1;X2,0a", "empty"),
        (b"qXfer:features:read:target.xml:ffffffffffffffff,10", "empty-l"),
        (b"qXfer:features:read:nothere.xml:0,10", "error"),
        (b"qXfer:features:read:target.xml:zz", "error"),
        (b"qRcmd,zz", "error"), (b"qRcmd,abc", "error"),
        (b"c1,2", "error"), (b"Cxx", "error"),
        (b"vUnknownThing", "empty"), (b"qUnknown", "empty"),
        (b"\x00\x01\x02", "empty"), (b"!", "empty"),
    ]


def run(server_path):
    proc = subprocess.Popen([server_path, "--vcpus", "2"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        assert line[0] == "port", line
        port = int(line[1])
        check_healthy(port, "start")
        check_idle_session_costs_no_cpu(proc, port)
        check_healthy(port, "idle session")

        c = Client(port)
        c.request(b"qSupported")

        # bad checksums, garbage and unterminated/restarted frames
        c.send_raw(b"$g#00")
        assert c.read_ack() == b"-"
        c.send_raw(b"$g#zz")
        assert c.read_ack() == b"-"
        c.send_raw(b"garbage\r\n\x7f\xff")
        c.send_raw(b"$unterminated-then-restarted")
        assert len(c.request(b"g")) == 2 * G_BYTES
        # NAK makes the last reply come again
        reply = c.request(b"qC")
        c.send_raw(b"-")
        assert c.read_packet() == reply

        cases = HOSTILE_CASES
        for payload, allowed in cases:
            if allowed == "empty-l":
                assert c.request(payload) == b"l", payload
                continue
            expect_reply(c, payload, allowed, "case")
        # nothing of that changed guest memory
        assert c.request(b"m1000,10") == b"90" * 15 + b"eb"

        # oversize packet: NAK'd (not processed), session still fine
        big = b"M1000,1:" + b"0" * 0x30000
        c.send_raw(frame(big))
        assert c.read_ack() == b"-"
        assert c.request(b"m1000,1") == b"90"
        # a packet at the advertised size is fine
        near = b"X3000,1f000:" + b"\x11" * 0x1f000
        assert c.request(near) == b"OK"
        assert c.request(b"m3000,4") == b"11111111"
        # a second debugger is closed cleanly; the live one is untouched
        c2 = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        assert c2.recv(16) == b""
        c2.close()
        assert c.request(b"qC").startswith(b"QC")
        # abrupt close mid-packet, with a breakpoint inserted
        assert c.request(b"Z0,1003,1") == b"OK"
        c.send_raw(b"$m1000,")
        c.close()
        check_healthy(port, "abrupt close mid-packet")

        # abrupt close while the guest runs, breakpoints inserted
        c = Client(port)
        assert c.request(b"Z0,1f00,1") == b"OK"
        c.send_raw(frame(b"vCont;c"))
        assert c.read_ack() == b"+"
        # packets while running get an error, ^C stops with T02
        expect_reply(c, b"g", "error", "running")
        c.send_raw(b"\x03")
        stop = c.read_packet()
        assert stop.startswith(b"T02thread:"), stop
        c.send_raw(b"+")
        c.send_raw(frame(b"c"))
        assert c.read_ack() == b"+"
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()  # RST
        check_healthy(port, "reset while running")
        c = Client(port)
        assert c.request(b"m1f00,1") != b"cc"  # restored
        # no-ack mode: no more acks, still correct
        assert c.request(b"QStartNoAckMode") == b"OK"
        c.send_raw(frame(b"qC"))
        assert c.read_packet().startswith(b"QC")
        c.send_raw(b"$qC#00")  # checksums are not binding without acks
        assert c.read_packet().startswith(b"QC")
        c.close()
        check_healthy(port, "no-ack session")

        # many connect/disconnect cycles
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
            s.sendall(frame(b"qSupported")[:5])
            s.close()
        check_healthy(port, "connect storm")

        # k ends the "VM": W reply, then the server exits cleanly
        c = Client(port)
        c.send_raw(frame(b"k"))
        assert c.read_ack() == b"+"
        assert c.read_packet() == b"W00"
        assert proc.wait(timeout=TIMEOUT) == 0
        print("rsp_bad_input: all cases passed")
        return 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(run(sys.argv[1]))
