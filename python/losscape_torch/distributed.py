"""Several worker ranks on torch.distributed (docs/distributed.md): rank 0 serves the client's
protocol on stdin/stdout as a single worker does; every other rank follows rank 0's requests.

Two planes:
- data: torch.distributed (Gloo on CPU, NCCL on CUDA) carries the vectors — a request's frames
  are broadcast from rank 0, per-rank sums are gathered to rank 0 and added there in rank order
  (so the float64 sum order is fixed and 1 rank agrees with W ranks to rounding);
- control: one TCP connection per follower to rank 0 (the framed JSON of framing.py) carries
  request headers, per-rank status at each agreement point, cancels and heartbeats. A rank that
  dies closes its connection, which rank 0 sees at once; a rank that stops (SIGSTOP, a hung
  machine) stops its heartbeat, which rank 0 sees within half the timeout.

Rendezvous: torchrun's conventions. `--rendezvous HOST:PORT` is where global rank 0 hosts the
TCPStore every rank joins (`--nnodes M --node-rank R`, `--workers N` ranks per node); without
it (one node) rank 0 hosts the store on 127.0.0.1 on a free port. The local rank 0 of each node
starts that node's other ranks as child processes (they die with it).
"""

import ctypes
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from .errors import WorkerError
from .framing import read_message, write_message

HEARTBEAT_S = 1.0


class Profile:
    """LOSSCAPE_DIST_PROFILE=1 (or =FILE): per-phase wall and this-thread CPU seconds on each
    rank, printed to stderr (or appended to FILE) when the rank closes (where a distributed run's time goes; off by default)."""

    def __init__(self, rank):
        self.rank = rank
        self.on = bool(os.environ.get("LOSSCAPE_DIST_PROFILE"))
        self.acc = {}

    def phase(self, name):
        return _Phase(self, name) if self.on else _NOPHASE

    def report(self):
        if not self.on:
            return
        parts = [f"{k} {w:.3f}s wall/{c:.3f}s cpu ×{n}" for k, (w, c, n) in sorted(self.acc.items())]
        line = f"[rank {self.rank}] profile: " + "; ".join(parts)
        dest = os.environ.get("LOSSCAPE_DIST_PROFILE", "")
        if dest not in ("", "1"):
            with open(dest, "a") as f:  # a file: the engine may not show a worker's stderr
                print(line, file=f)
        else:
            print(line, file=sys.stderr, flush=True)


class _Phase:
    def __init__(self, prof, name):
        self.prof, self.name = prof, name

    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.thread_time()

    def __exit__(self, *exc):
        w, c, n = self.prof.acc.get(self.name, (0.0, 0.0, 0))
        self.prof.acc[self.name] = (w + time.perf_counter() - self.w, c + time.thread_time() - self.c, n + 1)


class _NoPhase:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return None


_NOPHASE = _NoPhase()
# The longest the ranks wait for each other at start (a cluster's nodes start at different times).
JOIN_S = 300.0


class RankFailed(WorkerError):
    """A rank other than this one failed at an agreement point (its error, named by rank)."""

    def __init__(self, error):
        super().__init__(error.get("message", "a rank failed"), error.get("file"))
        self.kind = error.get("kind", "internal")


class CommFailure(Exception):
    """A collective failed: a peer died, hung past the timeout, or the network broke."""


class DistConfig:
    def __init__(self, workers=1, nnodes=1, node_rank=0, rendezvous=None, timeout=60.0, local_rank=0, threads=None):
        self.workers = int(workers)
        self.nnodes = int(nnodes)
        self.node_rank = int(node_rank)
        self.rendezvous = rendezvous  # (host, port) or None
        self.timeout = float(timeout)
        self.local_rank = int(local_rank)
        self.threads = threads
        if self.workers < 1 or self.nnodes < 1 or not 0 <= self.node_rank < self.nnodes:
            raise ValueError(f"bad rank layout: --workers {workers} --nnodes {nnodes} --node-rank {node_rank}")
        if self.nnodes > 1 and self.rendezvous is None:
            raise ValueError("--nnodes > 1 needs --rendezvous HOST:PORT (where rank 0 listens)")

    @property
    def world(self):
        return self.workers * self.nnodes

    @property
    def rank(self):
        return self.node_rank * self.workers + self.local_rank

    @property
    def distributed(self):
        return self.world > 1

    @property
    def hb_limit(self):
        return max(5.0, self.timeout / 2)

    def threads_per_rank(self):
        """Torch threads per rank: the cores of this machine shared by its ranks (GPU ranks: 1
        would starve data loading, so the same rule)."""
        if self.threads:
            return int(self.threads)
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:
            cores = os.cpu_count() or 1
        return max(1, cores // self.workers)


def parse_rendezvous(text):
    host, sep, port = (text or "").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"--rendezvous must be HOST:PORT, got '{text}'")
    return host.strip("[]"), int(port)


def _die_with_parent():
    """Linux: a child rank gets SIGKILL when the rank that started it dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _describe_exit(code):
    if code is None:
        return "is running"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class Control:
    """One framed, locked control connection."""

    def __init__(self, sock):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.rfile = sock.makefile("rb")
        self.wfile = sock.makefile("wb")
        self.lock = threading.Lock()

    def send(self, header):
        with self.lock:
            write_message(self.wfile, header)

    def recv(self):
        try:
            msg = read_message(self.rfile)
        except (OSError, ValueError):
            return None
        return None if msg is None else msg[0]


class Comm:
    """This rank's view of the group: the data plane (collectives) and the control plane."""

    def __init__(self, cfg, torch, dist, device, on_fatal):
        self.cfg = cfg
        self.torch = torch
        self.dist = dist
        self.device = device  # where collective tensors live (cuda:local_rank with NCCL)
        self.rank = cfg.rank
        self.world = cfg.world
        self.is_root = self.rank == 0
        self.on_fatal = on_fatal
        self.seq = 0
        self.k = 0
        self.mode = "data"
        self.threads = torch.get_num_threads()
        # root
        self.peers = {}  # rank -> Control
        self.peer_info = {}
        self.last_seen = {}
        self.statuses = {}
        self.cond = threading.Condition()
        self.children = {}  # rank -> Popen (this node's ranks)
        # follower
        self.root = None
        self.requests = None
        self.goes = None
        self.cancel_flag = None
        self.root_seen = time.monotonic()
        self.status_since = None
        self.prof = Profile(self.rank)

    # ---- layout --------------------------------------------------------------------------------
    def shard(self, n, rank=None, world=None):
        """Contiguous shard [lo, hi) of n items for a rank of `world` (all ranks by default)."""
        r = self.rank if rank is None else rank
        w = self.world if world is None else world
        return r * n // w, (r + 1) * n // w

    def sample_shard(self, n, batch_size, whole_batches=True, part=None, parts=None):
        """Samples [lo, hi) of part `part` of `parts` (this rank of all ranks by default). With
        whole_batches, a contiguous run of whole batches, so every batch is the one a single
        worker sees (a batch-level loss, or train mode's batch statistics, keep their values)
        and only the order in which batch sums are added differs. Otherwise n/parts samples
        each: a per-sample loss in eval mode gives every sample the same value in any batch,
        and fewer batches than ranks (256 samples in one 256-batch) would leave ranks idle."""
        if not whole_batches:
            return self.shard(n, part, parts)
        batches = -(-n // max(1, batch_size))
        a, b = self.shard(batches, part, parts)
        return min(n, a * batch_size), min(n, b * batch_size)

    def samples_of(self, obj, part=None, parts=None):
        """An Objective's samples for this rank (or part `part` of `parts`): sample_shard, split
        within batches where the loss and mode allow it."""
        whole = bool(getattr(obj.loss, "batch_level", False) or obj.train_mode)
        return self.sample_shard(obj.n, obj.batch_size, whole, part, parts)

    def point_deal(self, count, rank=None):
        """A row's `count` points on W ranks, (a, b, j, part, parts): rank r evaluates the
        q = count // W whole points [a, b) = [r·q, (r+1)·q) on all samples, and, when
        m = count mod W points are left over, part `part` of `parts` of the samples at left-over
        point j = W·q + i, the ranks being split into m consecutive groups of ⌊W/m⌋ or ⌈W/m⌉,
        group i sharing point i. The slowest rank does q + 1/⌊W/m⌋ points' work, where dealing
        whole points leaves W − m ranks waiting a point per row (41 points on 2 ranks: 20.5
        each instead of 21 and 20); with W/m < 2 it is the same q + 1. j is None when m = 0."""
        r = self.rank if rank is None else rank
        q, m = divmod(count, self.world)
        if m == 0:
            return r * q, (r + 1) * q, None, 0, 1
        i = next(i for i in range(m) if r < (i + 1) * self.world // m)
        start, stop = i * self.world // m, (i + 1) * self.world // m
        return r * q, (r + 1) * q, self.world * q + i, r - start, stop - start
    def parallel(self):
        return {"ranks": self.world, "mode": self.mode, "threadsPerRank": self.threads}

    # ---- agreement -----------------------------------------------------------------------------
    def begin(self, seq):
        self.seq = seq
        self.k = 0

    def agree(self, error=None):
        """Every rank reaches this point (or fails before it): each posts its status; if any rank
        failed, all raise the same RankFailed (rank 0's own error first) and skip what follows."""
        with self.prof.phase("agree"):
            return self._agree(error)

    def _agree(self, error):
        k = self.k
        self.k += 1
        _trace(self, f"agree {self.seq}.{k} {error}")
        if self.is_root:
            errors = self._collect(k, error)
            go = {"t": "go", "seq": self.seq, "k": k, "errors": errors}
            for c in list(self.peers.values()):
                c.send(go)
        else:
            self.root.send({"t": "st", "seq": self.seq, "k": k, "error": error})
            go = self.goes.get()
            if go is None:
                self.on_fatal("rank 0 went away")
            errors = go.get("errors") or []
        if errors and error is None:
            raise RankFailed(errors[0])
        return errors

    def _collect(self, k, own):
        key = (self.seq, k)
        t0 = time.monotonic()
        with self.cond:
            while len(self.statuses.get(key, {})) < self.world - 1:
                self.cond.wait(0.5)
                waited = time.monotonic() - t0
                if waited > self.cfg.timeout:
                    got = self.statuses.get(key, {})
                    late = [r for r in range(1, self.world) if r not in got]
                    self.on_fatal(f"rank {late[0]}{self._where(late[0])} is more than {self.cfg.timeout:.0f} s behind rank 0 on the same request (hung?)")
            got = self.statuses.pop(key, {})
        errors = [own] if own else []
        for r in sorted(got):
            e = got[r]
            if e:
                errors.append(dict(e, message=f"rank {r}{self._where(r)}: {e.get('message')}"))
        return errors

    def _where(self, r):
        info = self.peer_info.get(r)
        return f" ({info['host']}, pid {info['pid']})" if info else ""

    # ---- data plane ----------------------------------------------------------------------------
    def _collective(self, fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except Exception as e:  # Gloo/NCCL raise RuntimeError subclasses on peer loss or timeout
            raise CommFailure(f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}")

    def broadcast(self, t):
        """t (rank 0's values) on every rank, in t's dtype and device."""
        buf = t.to(self.device).contiguous()
        self._collective(self.dist.broadcast, buf, 0)
        return buf.to(t.device)

    def sum_ranks(self, t):
        """Σ_r t_r on rank 0, added in rank order in float64 (None on other ranks). Gathered in
        chunks so rank 0 holds at most about 2^27 numbers at once."""
        self.agree()
        with self.prof.phase("sum_ranks"):
            return self._sum_ranks(t)

    def _sum_ranks(self, t):
        torch = self.torch
        t = t.reshape(-1).to(device=self.device, dtype=torch.float64).contiguous()
        n = t.numel()
        chunk = max(1, min(n, (1 << 27) // self.world)) if n else 0
        out = torch.zeros(n, dtype=torch.float64) if self.is_root else None
        for a in range(0, n, chunk or 1):
            part = t[a:a + chunk].contiguous()
            bufs = [torch.empty_like(part) for _ in range(self.world)] if self.is_root else None
            self._collective(self.dist.gather, part, bufs, 0)
            if self.is_root:
                acc = bufs[0].clone()
                for b in bufs[1:]:
                    acc += b
                out[a:a + chunk] = acc.cpu()
        return out

    def gather_equal(self, t):
        """Every rank's t (the same number of float64 values on each) on rank 0, as a [W, m]
        tensor in rank order (None on other ranks): one agreement and one collective."""
        self.agree()
        with self.prof.phase("gather_equal"):
            torch = self.torch
            t = t.reshape(-1).to(device=self.device, dtype=torch.float64).contiguous()
            bufs = [torch.empty_like(t) for _ in range(self.world)] if self.is_root else None
            self._collective(self.dist.gather, t, bufs, 0)
            return torch.stack([b.cpu() for b in bufs]) if self.is_root else None

    # ---- frames of a request -------------------------------------------------------------------
    def broadcast_frames(self, descs, frames=None):
        """Rank 0's frames on every rank (numpy arrays)."""
        with self.prof.phase("frames"):
            return self._broadcast_frames(descs, frames)

    def _broadcast_frames(self, descs, frames):
        import numpy as np

        torch = self.torch
        out = []
        for i, d in enumerate(descs):
            dt = torch.float32 if d["dtype"] == "f32" else torch.float64
            if self.is_root:
                t = torch.from_numpy(np.ascontiguousarray(frames[i]))
            else:
                t = torch.empty(int(d["length"]), dtype=dt)
            if t.numel():
                t = self.broadcast(t)
            out.append(frames[i] if self.is_root else t.numpy())
        return out

    # ---- root: requests to followers -----------------------------------------------------------
    def publish(self, seq, method, params, frames):
        descs = [{"dtype": "f32" if f.dtype.itemsize == 4 else "f64", "length": int(f.size)} for f in frames]
        msg = {"t": "req", "seq": seq, "method": method, "params": params, "descs": descs}
        for c in list(self.peers.values()):
            c.send(msg)
        return descs

    def cancel(self, seq):
        for c in list(self.peers.values()):
            try:
                c.send({"t": "cancel", "seq": seq})
            except OSError:
                pass

    def close(self):
        self.prof.report()
        for c in list(self.peers.values()):
            try:
                c.send({"t": "bye"})
            except OSError:
                pass
        for p in self.children.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        try:
            self.dist.destroy_process_group()
        except Exception:
            pass

    def kill_children(self):
        for p in self.children.values():
            try:
                p.kill()
            except OSError:
                pass


# ---- start-up -----------------------------------------------------------------------------------
def spawn_local_ranks(cfg, store_host, store_port):
    """This node's ranks 1..N−1 as child processes; their stdout goes to stderr (fd 1 of rank 0
    is the protocol)."""
    children = {}
    threads = cfg.threads_per_rank()
    for lr in range(1, cfg.workers):
        args = [sys.executable, "-u", "-m", "losscape_torch", "--workers", str(cfg.workers), "--nnodes", str(cfg.nnodes),
                "--node-rank", str(cfg.node_rank), "--dist-timeout", str(cfg.timeout), "--threads", str(threads),
                "--local-rank", str(lr), "--rendezvous", f"{store_host}:{store_port}"]
        env = dict(os.environ)
        env["LOCAL_RANK"] = str(lr)
        env["RANK"] = str(cfg.node_rank * cfg.workers + lr)
        env["WORLD_SIZE"] = str(cfg.world)
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=sys.stderr.fileno(), env=env, preexec_fn=_die_with_parent)
        children[cfg.node_rank * cfg.workers + lr] = p
    return children


def init_group(cfg, torch, on_fatal, watch_children=None):
    """Joins (rank 0: hosts) the store, starts this node's other ranks, initialises the process
    group and connects the control plane. Returns the Comm."""
    import torch.distributed as dist

    timeout = datetime.timedelta(seconds=cfg.timeout)
    # Starting takes longer than a collective may (other machines, importing torch): the ranks
    # meet on the store first, with a longer limit, and only then build the process group.
    join = datetime.timedelta(seconds=max(cfg.timeout, JOIN_S))
    host, port = cfg.rendezvous if cfg.rendezvous else ("127.0.0.1", 0)
    if cfg.rank == 0:
        store = dist.TCPStore(host if cfg.rendezvous else "127.0.0.1", port, cfg.world, True, join, wait_for_workers=False)
        port = store.port
    else:
        store = dist.TCPStore(host, port, cfg.world, False, join)
    children = spawn_local_ranks(cfg, host, port) if cfg.local_rank == 0 else {}
    if watch_children is not None:
        watch_children(children)
    store.add("losscape/joined", 1)
    t0 = told = time.monotonic()
    while store.add("losscape/joined", 0) < cfg.world:
        now = time.monotonic()
        if now - t0 > join.total_seconds():
            raise CommFailure(f"only {store.add('losscape/joined', 0)} of {cfg.world} ranks joined within {join.total_seconds():.0f} s")
        if cfg.rank == 0 and now - told > 15:
            told = now
            print(f"losscape_torch: {store.add('losscape/joined', 0)} of {cfg.world} ranks have joined {host}:{port}; waiting (up to {join.total_seconds():.0f} s)", file=sys.stderr, flush=True)
        time.sleep(0.05)
    cuda = torch.cuda.is_available() and os.environ.get("LOSSCAPE_DIST_BACKEND", "") != "gloo"
    backend = "nccl" if cuda else "gloo"
    if cuda:
        device = torch.device("cuda", cfg.local_rank % max(1, torch.cuda.device_count()))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    dist.init_process_group(backend, store=store, rank=cfg.rank, world_size=cfg.world, timeout=timeout)
    comm = Comm(cfg, torch, dist, device, on_fatal)
    comm.children = children
    comm.store = store
    comm.backend = backend
    if cfg.rank == 0:
        _root_control(comm, store, host if cfg.rendezvous else "127.0.0.1")
    else:
        _follower_control(comm, store)
    return comm


def _root_control(comm, store, host):
    cfg = comm.cfg
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1" if host == "127.0.0.1" else "0.0.0.0", 0))
    lsock.listen(cfg.world)
    lsock.settimeout(cfg.timeout)
    store.set("losscape/control", f"{host}:{lsock.getsockname()[1]}")
    while len(comm.peers) < cfg.world - 1:
        try:
            s, _ = lsock.accept()
        except socket.timeout:
            missing = [r for r in range(1, cfg.world) if r not in comm.peers]
            raise CommFailure(f"rank {missing[0]} did not connect within {cfg.timeout:.0f} s")
        s.settimeout(None)
        c = Control(s)
        hello = c.recv() or {}
        r = int(hello.get("rank", -1))
        comm.peers[r] = c
        comm.peer_info[r] = {"host": hello.get("host", "?"), "pid": hello.get("pid", "?")}
        comm.last_seen[r] = time.monotonic()
    lsock.close()
    for r, c in comm.peers.items():
        threading.Thread(target=_root_reader, args=(comm, r, c), name=f"rank{r}-control", daemon=True).start()
    threading.Thread(target=_root_watchdog, args=(comm,), name="watchdog", daemon=True).start()


def _death_of(comm, r):
    p = comm.children.get(r)
    if p is not None:
        try:
            code = p.wait(timeout=2)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None:
            return f"rank {r} of {comm.world} (pid {p.pid}) {_describe_exit(code)}"
    return f"rank {r} of {comm.world}{comm._where(r)} closed its connection (it exited, or its machine or the network failed)"


def _root_reader(comm, r, c):
    while True:
        msg = c.recv()
        if msg is None:
            if not getattr(comm, "closing", False):
                comm.on_fatal(_death_of(comm, r))
            return
        comm.last_seen[r] = time.monotonic()
        if msg.get("t") == "st":
            with comm.cond:
                comm.statuses.setdefault((msg["seq"], msg["k"]), {})[r] = msg.get("error")
                comm.cond.notify_all()


def _root_watchdog(comm):
    limit = comm.cfg.hb_limit
    while not getattr(comm, "closing", False):
        time.sleep(HEARTBEAT_S / 2)
        now = time.monotonic()
        for r, p in list(comm.children.items()):
            if p.poll() is not None and not getattr(comm, "closing", False):
                comm.on_fatal(f"rank {r} of {comm.world} (pid {p.pid}) {_describe_exit(p.returncode)}")
        for r, seen in list(comm.last_seen.items()):
            if now - seen > limit:
                comm.on_fatal(f"rank {r} of {comm.world}{comm._where(r)} stopped responding (no heartbeat for {now - seen:.0f} s)")
        for c in list(comm.peers.values()):
            try:
                c.send({"t": "hb"})
            except OSError:
                pass


def _follower_control(comm, store):
    import queue

    cfg = comm.cfg
    host, port = store.get("losscape/control").decode().rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=cfg.timeout)
    s.settimeout(None)
    c = Control(s)
    c.send({"t": "hello", "rank": cfg.rank, "pid": os.getpid(), "host": socket.gethostname()})
    comm.root = c
    comm.requests = queue.Queue()
    comm.goes = queue.Queue()
    comm.cancel_flag = threading.Event()
    comm.current = None

    def reader():
        while True:
            msg = c.recv()
            if msg is None or msg.get("t") == "bye":
                comm.requests.put(None)
                comm.goes.put(None)
                return
            comm.root_seen = time.monotonic()
            t = msg.get("t")
            if t == "req":
                comm.requests.put(msg)
            elif t == "go":
                comm.goes.put(msg)
            elif t == "cancel" and msg.get("seq") == comm.current:
                comm.cancel_flag.set()

    def heartbeat():
        while True:
            time.sleep(HEARTBEAT_S)
            try:
                c.send({"t": "hb"})
            except OSError:
                return
            if time.monotonic() - comm.root_seen > cfg.hb_limit:
                comm.on_fatal("rank 0 stopped responding")

    threading.Thread(target=reader, name="control", daemon=True).start()
    threading.Thread(target=heartbeat, name="heartbeat", daemon=True).start()


def follow(comm, session):
    """A follower's loop: rank 0's requests, in order, until it says bye or goes away."""
    while True:
        with comm.prof.phase("idle"):
            msg = comm.requests.get()
        if msg is None:
            break
        seq = msg["seq"]
        comm.current = seq
        comm.cancel_flag.clear()
        try:
            frames = comm.broadcast_frames(msg.get("descs") or [])
            execute(comm, session, seq, msg["method"], msg.get("params") or {}, frames)
        except CommFailure as e:
            comm.on_fatal(f"a collective failed: {e}")
        except WorkerError:
            pass  # rank 0 reports it
        comm.current = None
    comm.prof.report()
    for p in comm.children.values():
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    try:
        comm.dist.destroy_process_group()
    except Exception:
        pass


def _trace(comm, what):
    if os.environ.get("LOSSCAPE_DIST_TRACE"):
        print(f"[rank {comm.rank}] {what}", file=sys.stderr, flush=True)


def execute(comm, session, seq, method, params, frames):
    """One request on this rank; every rank passes the same agreement points in the same order,
    and an error anywhere makes all of them raise it at the next one."""
    comm.begin(seq)
    _trace(comm, f"{seq} {method}")
    with comm.prof.phase(f"request {method}"):
        return _execute(comm, session, seq, method, params, frames)


def _execute(comm, session, seq, method, params, frames):
    try:
        result = getattr(session, method)(params, frames)
    except (RankFailed, CommFailure):
        raise
    except WorkerError as e:
        comm.agree(e.to_json())
        raise
    except Exception as e:
        kind = "input" if "out of memory" in str(e).lower() else "internal"
        comm.agree({"kind": kind, "message": f"{method}: {type(e).__name__}: {e}"})
        raise
    comm.agree()
    return result


