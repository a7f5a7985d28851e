"""Row 4: Ctrl-C stop latency, measured on the wire by a minimal RSP client
(gdb would add its own reaction time): the time from writing the 0x03 byte
to receiving the whole stop-reply packet, while every vCPU is busy."""

import random
import socket
import time


class Rsp:
    def __init__(self, port, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), 2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.buf = b""

    def send(self, payload):
        data = payload.encode()
        pkt = b"$" + data + b"#%02x" % (sum(data) & 0xFF)
        self.sock.sendall(pkt)

    def recv(self):
        """The next packet's payload (acks and stray bytes skipped; every
        packet acknowledged, so this works in ack and no-ack mode)."""
        while True:
            start = self.buf.find(b"$")
            if start >= 0:
                end = self.buf.find(b"#", start)
                if end >= 0 and len(self.buf) >= end + 3:
                    payload = self.buf[start + 1:end]
                    self.buf = self.buf[end + 3:]
                    self.sock.sendall(b"+")
                    return payload.decode(errors="replace")
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("target closed the connection")
            self.buf += chunk

    def command(self, payload):
        self.send(payload)
        return self.recv()

    def close(self):
        self.sock.close()


def measure(port, samples, busy_min=0.02, busy_max=0.08, boot_wait=1.0):
    """Latencies in ms of `samples` interrupts, each after letting the
    guest run a random 20-80 ms (no phase-locking with time slices)."""
    rsp = Rsp(port)
    rsp.command("qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+")
    rsp.command("?")
    rng = random.Random(1)
    lat = []
    rsp.send("c")
    time.sleep(boot_wait)  # boot, and all vCPUs reach their busy loop
    for i in range(samples):
        if i:
            rsp.send("c")
            time.sleep(rng.uniform(busy_min, busy_max))
        t0 = time.perf_counter()
        rsp.sock.sendall(b"\x03")
        reply = rsp.recv()
        lat.append((time.perf_counter() - t0) * 1e3)
        if not reply.startswith(("T", "S")):
            rsp.close()
            raise RuntimeError(f"unexpected stop reply {reply!r}")
    rsp.send("D")
    try:
        rsp.recv()
    except (OSError, ConnectionError):
        pass
    rsp.close()
    return lat
