"""A Python client of the worker (tests, the bench's boundary measurements): starts
`python -m losscape_torch` and sends requests in the protocol's framing."""

import os
import subprocess
import sys
import threading

import numpy as np

from .frame_slots import FrameSlot
from .framing import read_message, write_message

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class WorkerFailed(Exception):
    def __init__(self, error):
        super().__init__(error.get("message"))
        self.error = error
        self.kind = error.get("kind")


class Client:
    def __init__(self, python=None, threads=None, env=None, args=(), slots=0):
        """`slots`: frame slots to open and pass to the worker (frame_slots.py), as the engine does."""
        cmd = [python or sys.executable, "-u", "-m", "losscape_torch"]
        if threads:
            cmd += ["--threads", str(threads)]
        self.slot_fds = [_unlinked_shm_file() for _ in range(slots)]
        self.slots = [FrameSlot(fd) for fd in self.slot_fds]
        if slots:
            cmd += ["--slot-fds", ",".join(str(fd) for fd in self.slot_fds)]
        cmd += list(args)  # e.g. --workers 2 (docs/distributed.md)
        e = dict(os.environ if env is None else env)
        e["PYTHONPATH"] = PACKAGE_ROOT + (os.pathsep + e["PYTHONPATH"] if e.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, pass_fds=self.slot_fds)
        self.next_id = 1
        self.notifications = []
        self.stderr_lines = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line.decode("utf-8", "replace"))

    def send(self, method, params=None, frames=(), rid=None, slot=None):
        """`slot`: the index of a frame slot for this request's big frames and its reply's."""
        rid = self.next_id if rid is None else rid
        self.next_id = rid + 1
        header = {"id": rid, "method": method, "params": params or {}}
        if slot is not None:
            header["slot"] = slot
        write_message(self.proc.stdin, header, frames, self.slots[slot] if slot is not None else None, slot)
        return rid

    def cancel(self, rid=None):
        write_message(self.proc.stdin, {"method": "cancel", "params": {} if rid is None else {"id": rid}})

    def receive(self, rid):
        while True:
            msg = read_message(self.proc.stdout, self.slots)
            if msg is None:
                raise EOFError(f"the worker exited ({self.proc.wait()}); stderr: {''.join(self.stderr_lines[-5:])}")
            header, frames = msg
            if "id" not in header:
                self.notifications.append(header)
                continue
            if header["id"] != rid:
                continue
            if "error" in header:
                raise WorkerFailed(header["error"])
            return header["result"], frames

    def call(self, method, params=None, frames=(), slot=None):
        return self.receive(self.send(method, params, frames, slot=slot))

    def close(self):
        try:
            if self.proc.poll() is None:
                self.call("shutdown")
        except (EOFError, BrokenPipeError, OSError):
            pass
        for s in (self.proc.stdin, self.proc.stdout):
            try:
                s.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for slot in self.slots:
            slot.close()
        for fd in self.slot_fds:
            os.close(fd)
        self.slots, self.slot_fds = [], []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _unlinked_shm_file():
    """An fd of a file in /dev/shm (else the temp folder) that no name points to any more."""
    import tempfile

    folder = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    fd, name = tempfile.mkstemp(prefix="losscape-client-", dir=folder)
    os.unlink(name)
    return fd


def f32(a):
    return np.ascontiguousarray(a, dtype=np.float32).reshape(-1)


def f64(a):
    return np.ascontiguousarray(a, dtype=np.float64).reshape(-1)
