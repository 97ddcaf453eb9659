"""The worker's main loop: a reader thread takes messages off stdin (so a cancel is seen while
a request computes), the main thread answers requests one at a time on the protocol's own
copy of fd 1. fd 1 and sys.stdout are pointed at stderr so nothing else can write a byte
between frames."""

import argparse
import os
import queue
import sys
import threading
import time
import traceback

from .errors import Cancelled, EnvironmentProblem, WorkerError
from .framing import ProtocolError, read_message, write_message
from .session import METHODS, Session


class Server:
    def __init__(self, inp, out):
        self.inp = inp
        self.out = out
        self.queue = queue.Queue()
        self.cancel_flag = threading.Event()
        self.current = None
        self.lock = threading.Lock()
        self.session = Session(self.cancel_flag.is_set)

    def reader(self):
        try:
            while True:
                msg = read_message(self.inp)
                if msg is None:
                    break
                header, frames = msg
                if header.get("method") == "cancel" and "id" not in header:
                    target = (header.get("params") or {}).get("id")
                    with self.lock:
                        if self.current is not None and (target is None or target == self.current):
                            self.cancel_flag.set()
                    continue
                self.queue.put((header, frames))
        except (ProtocolError, ValueError) as e:
            print(f"losscape_torch: bad message on stdin: {e}", file=sys.stderr)
        finally:
            self.queue.put(None)

    def send(self, header, frames=()):
        with self.lock:
            write_message(self.out, header, frames)

    def run(self):
        threading.Thread(target=self.reader, name="stdin-reader", daemon=True).start()
        while True:
            item = self.queue.get()
            if item is None:
                return 0
            header, frames = item
            rid = header.get("id")
            method = header.get("method")
            if method == "shutdown":
                self.send({"id": rid, "result": {}})
                return 0
            with self.lock:
                self.current = rid
                self.cancel_flag.clear()
            t0 = time.perf_counter()
            try:
                if method not in METHODS:
                    raise WorkerError(f"unknown method {method!r}")
                result, out_frames = getattr(self.session, method)(header.get("params") or {}, frames)
                reply = ({"id": rid, "result": result}, out_frames)
            except WorkerError as e:
                reply = ({"id": rid, "error": e.to_json()}, [])
            except MemoryError:
                reply = ({"id": rid, "error": {"kind": "input", "message": f"{method}: out of memory (try a smaller --batch-size or fewer samples)"}}, [])
            except Exception as e:
                traceback.print_exc(file=sys.stderr)
                kind = "input" if _is_oom(e) else "internal"
                message = f"{method}: out of device memory (try a smaller --batch-size)" if kind == "input" else f"{method}: {type(e).__name__}: {e}"
                reply = ({"id": rid, "error": {"kind": kind, "message": message}}, [])
            with self.lock:
                self.current = None
            # The worker's own time for the request (decoding frames to the reply's arrays), so
            # a client can measure what crossing the process boundary costs: round trip − elapsed.
            reply[0]["elapsed"] = time.perf_counter() - t0
            self.send(*reply)


def _is_oom(e):
    return "out of memory" in str(e).lower()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m losscape_torch", description="Losscape's PyTorch worker (stdin/stdout frames)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    args = parser.parse_args(argv)
    # The protocol keeps fd 1; everything else that writes to "stdout" goes to stderr.
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    out = os.fdopen(proto_fd, "wb")
    sys.stdout = sys.stderr
    inp = os.fdopen(os.dup(0), "rb", buffering=0)
    try:
        from .environment import set_threads

        set_threads(args.threads)
    except EnvironmentProblem:
        pass  # hello reports it
    sys.exit(Server(inp, out).run())
