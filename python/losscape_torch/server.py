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
from .frame_slots import FrameSlot
from .framing import ProtocolError, read_message, widen_pipe, write_message
from .session import ALL_RANKS, METHODS, Session


class Server:
    def __init__(self, inp, out, dist_cfg=None, slot_fds=()):
        self.inp = inp
        self.out = out
        # Frame slots (framing.py): the request's big frames were read from its slot before it
        # was queued, so its reply can be written into the same slot.
        self.slots = tuple(FrameSlot(fd) for fd in slot_fds)
        self.queue = queue.Queue()
        self.cancel_flag = threading.Event()
        self.current = None
        self.lock = threading.Lock()
        self.session = Session(self.cancel_flag.is_set)
        # Several ranks (distributed.py): the group starts in the background while `hello` is
        # answered; the first request every rank runs waits for it.
        self.dist_cfg = dist_cfg
        self.comm = None
        self.comm_error = None
        self.seq = 0
        self.fatal_lock = threading.Lock()
        self.failing = False
        self.children = {}
        self.init_thread = None
        self.init_done = threading.Event()
        if dist_cfg is not None:
            self.init_thread = threading.Thread(target=self._init_group, name="dist-init", daemon=True)
            self.init_thread.start()

    def _init_group(self):
        from . import distributed

        try:
            torch = __import__("torch")
            self.comm = distributed.init_group(self.dist_cfg, torch, self.fatal, self._watch_children)
            self.session.comm = self.comm
        except Exception as e:
            self.comm_error = f"the distributed group did not start: {type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
        self.init_done.set()
        # This thread started the local ranks, and PR_SET_PDEATHSIG fires when the *thread* that
        # started a child ends: it stays (idle) for the life of the worker.
        threading.Event().wait()

    def _watch_children(self, children):
        """Until the group is up: a rank that exits while starting ends the run at once."""
        from .distributed import _describe_exit

        self.children = children

        def watch():
            while self.comm is None and self.comm_error is None:
                for r, p in children.items():
                    if p.poll() is not None:
                        self.fatal(f"rank {r} of {self.dist_cfg.world} (pid {p.pid}) {_describe_exit(p.returncode)} while starting")
                time.sleep(0.2)

        threading.Thread(target=watch, name="start-watch", daemon=True).start()

    def fatal(self, message):
        """A rank failed: one line on stderr, an error for the request in flight, and the end of
        this worker (its group cannot continue); the client starts a new worker if asked."""
        with self.fatal_lock:
            if self.failing:
                return
            self.failing = True
        print(f"losscape_torch: {message}; ending the distributed run", file=sys.stderr, flush=True)
        rid = self.current
        try:
            if rid is not None:
                self.send({"id": rid, "error": {"kind": "rank", "message": message}})
        except OSError:
            pass
        for p in self.children.values():
            try:
                p.kill()
            except OSError:
                pass
        os._exit(3)

    def _dispatch(self, method, params, frames):
        if self.dist_cfg is None or method not in ALL_RANKS:
            return getattr(self.session, method)(params, frames)
        from .distributed import CommFailure, execute

        self.init_done.wait()
        if self.comm is None:
            self.fatal(self.comm_error or "the distributed group did not start")
        self.seq += 1
        try:
            descs = self.comm.publish(self.seq, method, params, frames)
            frames = self.comm.broadcast_frames(descs, frames)
            return execute(self.comm, self.session, self.seq, method, params, frames)
        except CommFailure as e:
            # A peer's death usually shows on its control connection first: give the reader a
            # moment to name the rank before falling back to the collective's own message.
            time.sleep(2)
            self.fatal(f"a collective failed ({e})")

    def reader(self):
        try:
            while True:
                msg = read_message(self.inp, self.slots, borrows=_borrows)
                if msg is None:
                    break
                header, frames = msg
                if header.get("method") == "cancel" and "id" not in header:
                    target = (header.get("params") or {}).get("id")
                    with self.lock:
                        if self.current is not None and (target is None or target == self.current):
                            self.cancel_flag.set()
                            if self.comm is not None:
                                self.comm.cancel(self.seq)
                    continue
                self.queue.put((header, frames))
        except (ProtocolError, ValueError) as e:
            print(f"losscape_torch: bad message on stdin: {e}", file=sys.stderr)
        finally:
            self.queue.put(None)

    def send(self, header, frames=(), slot=None):
        known = isinstance(slot, int) and 0 <= slot < len(self.slots)
        with self.lock:
            write_message(self.out, header, frames, self.slots[slot] if known else None, slot)

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
                result, out_frames = self._dispatch(method, header.get("params") or {}, frames)
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
            frames = item = None  # borrowed slot frames (_borrows) are done with
            with self.lock:
                self.current = None
            # The worker's own time for the request (decoding frames to the reply's arrays), so
            # a client can measure what crossing the process boundary costs: round trip − elapsed.
            reply[0]["elapsed"] = time.perf_counter() - t0
            self.send(*reply, slot=header.get("slot"))


def _borrows(header):
    """Requests whose slot frames are views of the slot, not copies: products read their vectors
    into the computation and keep nothing of them (a stored direction or data would be
    overwritten by the next request through that slot)."""
    return header.get("method") == "matmat"


def _slot_fds(text):
    """The frame slots' fds, checked to be open regular files (shared memory)."""
    import stat

    fds = []
    for part in filter(None, text.split(",")):
        fd = int(part)
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            raise ValueError(f"fd {fd} is not open")
        if not stat.S_ISREG(mode):
            raise ValueError(f"fd {fd} is not a file")
        fds.append(fd)
    return fds


def _is_oom(e):
    return "out of memory" in str(e).lower()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m losscape_torch", description="Losscape's PyTorch worker (stdin/stdout frames)")
    env_threads = os.environ.get("LOSSCAPE_TORCH_THREADS", "")
    parser.add_argument("--threads", type=int, default=int(env_threads) if env_threads.isdigit() and int(env_threads) > 0 else None,
                        help="CPU threads (default: $LOSSCAPE_TORCH_THREADS, else all cores; with several ranks, the cores / ranks of this machine)")
    parser.add_argument("--workers", type=int, default=1, help="ranks on this machine (docs/distributed.md)")
    parser.add_argument("--nnodes", type=int, default=1, help="machines")
    parser.add_argument("--node-rank", type=int, default=0, help="this machine's index (0 serves the client)")
    parser.add_argument("--rendezvous", default=None, help="HOST:PORT where global rank 0 hosts the store")
    parser.add_argument("--dist-timeout", type=float, default=60.0, help="seconds after which a silent or stuck rank ends the run")
    parser.add_argument("--local-rank", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--slot-fds", default="", help=argparse.SUPPRESS)  # the client's frame slots (framing.py)
    args = parser.parse_args(argv)
    try:
        slot_fds = _slot_fds(args.slot_fds)
    except ValueError as e:
        print(f"losscape_torch: --slot-fds: {e}", file=sys.stderr)
        sys.exit(2)
    dist_cfg = None
    if args.workers > 1 or args.nnodes > 1:
        from .distributed import DistConfig, parse_rendezvous

        try:
            dist_cfg = DistConfig(args.workers, args.nnodes, args.node_rank,
                                  parse_rendezvous(args.rendezvous) if args.rendezvous else None,
                                  args.dist_timeout, args.local_rank, args.threads)
        except ValueError as e:
            print(f"losscape_torch: {e}", file=sys.stderr)
            sys.exit(2)
        args.threads = dist_cfg.threads_per_rank()
        if dist_cfg.rank != 0:
            return _follower(dist_cfg, args.threads)
    # The protocol keeps fd 1; everything else that writes to "stdout" goes to stderr.
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    for fd in (0, proto_fd):
        widen_pipe(fd)
    out = os.fdopen(proto_fd, "wb")
    sys.stdout = sys.stderr
    inp = os.fdopen(os.dup(0), "rb", buffering=0)
    try:
        from .environment import set_threads

        set_threads(args.threads)
    except EnvironmentProblem:
        pass  # hello reports it
    server = Server(inp, out, dist_cfg, slot_fds)
    code = server.run()
    if server.comm is not None:
        server.comm.closing = True
        server.comm.close()
    sys.exit(code)


def _follower(cfg, threads):
    """A rank other than 0: no client; it follows rank 0's requests (distributed.follow)."""
    os.dup2(2, 1)  # a user's print goes to stderr, as on rank 0
    sys.stdout = sys.stderr
    from .environment import set_threads, require_torch
    from . import distributed

    def fatal(message):
        print(f"losscape_torch: rank {cfg.rank}: {message}; exiting", file=sys.stderr, flush=True)
        os._exit(1)

    try:
        torch = require_torch()
        set_threads(threads)
        session = Session(lambda: False)
        comm = distributed.init_group(cfg, torch, fatal)
        session.cancelled = comm.cancel_flag.is_set
        session.comm = comm
    except Exception as e:
        fatal(f"could not join the group: {type(e).__name__}: {e}")
    distributed.follow(comm, session)
    sys.exit(0)
