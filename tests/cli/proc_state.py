"""What a test may wait for in another process before it acts, instead of
sleeping a fixed time that a busy host can outlast (tests/cli)."""
import signal
import time


def _blocked_mask(pid):
    """The signal mask of pid's main thread (SigBlk in /proc), or None once
    it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigBlk:"):
                    return int(line.split()[1], 16)
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def wait_signals_blocked(pid, sigs=(signal.SIGINT, signal.SIGTERM),
                         timeout=60):
    """Waits until pid blocks every signal in sigs: hvgdb blocks SIGINT and
    SIGTERM before anything else and takes them with its signal thread, so
    from then on one sent to it ends the VM with 128+signal instead of
    killing the process before it has started (what a fixed sleep left to
    chance on a loaded host). False if pid ended or the timeout passed."""
    want = 0
    for s in sigs:
        want |= 1 << (int(s) - 1)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        mask = _blocked_mask(pid)
        if mask is None:
            return False
        if mask & want == want:
            return True
        time.sleep(0.01)
    return False
