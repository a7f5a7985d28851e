"""A program on a fresh pty that is its controlling terminal, for tests of
hvgdb's interactive serial console (tests/cli, tests/kernels)."""
import fcntl
import os
import pty
import select
import signal
import termios
import time


class PtyRun:
    """hvgdb with a fresh pty as its controlling terminal, in the
    foreground (or, background=True, as a job outside the foreground)."""

    def __init__(self, argv, background=False):
        self.master, self.slave = pty.openpty()
        self.before = termios.tcgetattr(self.slave)
        self.out = b""
        self.pid = os.fork()
        if self.pid == 0:
            self._child(argv, background)
        # The parent keeps the slave open to read its mode.

    def _child(self, argv, background):
        try:
            os.close(self.master)
            os.setsid()
            fcntl.ioctl(self.slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(self.slave, fd)
            if background:
                # The session leader keeps the foreground; hvgdb runs in a
                # process group of its own, as `hvgdb ... &` in a shell.
                pid = os.fork()
                if pid:
                    _, st = os.waitpid(pid, 0)
                    os._exit(os.waitstatus_to_exitcode(st) & 0xff)
                os.setpgid(0, 0)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)

    def read_until(self, token, timeout=60):
        end = time.monotonic() + timeout
        while token not in self.out and time.monotonic() < end:
            r, _, _ = select.select([self.master], [], [], 0.1)
            if r:
                try:
                    self.out += os.read(self.master, 4096)
                except OSError:
                    break
        return token in self.out

    def type(self, data):
        os.write(self.master, data)

    def mode(self):
        return termios.tcgetattr(self.slave)

    def is_raw(self):
        lflag = self.mode()[3]
        return not lflag & (termios.ICANON | termios.ECHO | termios.ISIG)

    def wait(self, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.read_until(b"\0never\0", 0.2)  # the last output
                return os.waitstatus_to_exitcode(st)
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        return None

    def restored(self):
        return self.mode() == self.before

    def close(self):
        os.close(self.master)
        os.close(self.slave)
