"""Several ranks on torch.distributed (Gloo, this machine): 1 rank, 2 ranks and 2 "nodes" (two
launches on 127.0.0.1 with --nnodes 2) give the same numbers in float64; a rank that dies or
stops ends the request with one line naming it, within the timeout."""
import glob
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import fixture
from helpers import data, rel
from losscape_torch.client import PACKAGE_ROOT, Client, WorkerFailed, f32, f64

TOL = 1e-10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    import nets

    d = tmp_path_factory.mktemp("dist")
    torch.manual_seed(3)
    out = {}
    for name, model, shape in (("MLP", nets.MLP(), (6,)), ("CNN", nets.CNN(), (1, 6, 6))):
        w = str(d / f"{name}.pt")
        torch.save(model.state_dict(), w)
        x, y = data(n=23, shape=shape, seed=4)
        out[name] = (w, x, y)
    return out


def load_params(workspace, name, mode="data", batch=4):
    w, x, y = workspace[name]
    p = {
        "model": {"kind": "module", "file": fixture("nets.py"), "name": name},
        "weights": w,
        "data": {"kind": "frames", "xShape": list(x.shape), "yShape": list(y.shape)},
        "loss": {"kind": "builtin", "name": "categorical_crossentropy"},
        "dtype": "float64", "device": "cpu", "batchSize": batch, "parallel": {"mode": mode},
    }
    return p, [f64(x), f32(y)]


def measurements(c, workspace, name, mode, batch=4):
    """Loss, gradient, the three curvature products of 3 vectors and a 1D row of 9 points."""
    p, fr = load_params(workspace, name, mode, batch)
    res, _ = c.call("load", p, fr)
    dim = res["dim"]
    vs = np.random.default_rng(7).normal(size=(3, dim))
    out = {"parallel": res["parallel"], "loss": c.call("loss")[1][0]}
    g = c.call("grad")
    out["gloss"], out["grad"] = g[0]["loss"], g[1][0]
    for op in ("hessian", "ggn", "fisher"):
        out[op] = c.call("matmat", {"operator": op}, [f64(v) for v in vs])[1]
    c.call("store", {"name": "d1"}, [f64(vs[0])])
    c.call("store", {"name": "d2"}, [f64(vs[1])])
    coeffs = [[a, b] for a in np.linspace(-1, 1, 3) for b in np.linspace(-1, 1, 3)]
    row = c.call("loss", {"accuracy": True, "combos": {"base": "theta0", "dirs": ["d1", "d2"], "coeffs": coeffs}})
    out["row"], out["rowAcc"], out["rowHasAcc"] = row[1][0], row[1][1] if len(row[1]) > 1 else None, row[0]["accuracy"]
    out["pair"] = c.call("loss", {}, [f64(vs[0] * 0.1), f64(vs[2] * 0.1)])[1][0]
    return out


def assert_same(a, b, what):
    assert rel(a["loss"], b["loss"]) <= TOL, f"{what}: loss"
    assert abs(a["gloss"] - b["gloss"]) <= TOL * abs(b["gloss"])
    assert rel(a["grad"], b["grad"]) <= TOL, f"{what}: gradient"
    for op in ("hessian", "ggn", "fisher"):
        for u, v in zip(a[op], b[op]):
            assert rel(u, v) <= TOL, f"{what}: {op} product"
    assert rel(a["row"], b["row"]) <= TOL and rel(a["pair"], b["pair"]) <= TOL, f"{what}: losses at points"
    assert a["rowHasAcc"] == b["rowHasAcc"] is True and np.array_equal(a["rowAcc"], b["rowAcc"])


@pytest.fixture(scope="module")
def single(workspace):
    with Client(threads=1) as c:
        # batch 4: 6 batches of the 23 samples; batch 64: one batch, split within it on 2 ranks.
        yield {(n, m, b): measurements(c, workspace, n, m, b) for n, m, b in CASES}


CASES = [(n, m, 4) for n in ("MLP", "CNN") for m in ("data", "points")] + [("CNN", "points", 64)]


@pytest.fixture(scope="module")
def batch_level_single(workspace):
    p, fr = load_params(workspace, "MLP", batch=5)
    p["loss"] = {"kind": "paper", "name": "multi_similarity", "params": {}}
    with Client(threads=1) as c:
        c.call("load", p, fr)
        return c.call("loss")[1][0], c.call("grad")[1][0]


@pytest.mark.smoke
def test_two_ranks_agree_with_one_in_both_modes(workspace, single, batch_level_single):
    with Client(args=["--workers", "2", "--dist-timeout", "30"]) as c:
        for name, mode, batch in single:
            m = measurements(c, workspace, name, mode, batch)
            assert m["parallel"] == {"ranks": 2, "mode": mode, "threadsPerRank": m["parallel"]["threadsPerRank"]}
            assert single[(name, mode, batch)]["parallel"]["ranks"] == 1 and single[(name, mode, batch)]["parallel"]["mode"] == "single"
            assert_same(m, single[(name, mode, batch)], f"{name} {mode} batch {batch}, 2 ranks")
        # A batch-level loss (multi-similarity: cosine similarities within each batch) keeps its
        # value: a rank's shard is a run of whole batches.
        p, fr = load_params(workspace, "MLP", batch=5)
        p["loss"] = {"kind": "paper", "name": "multi_similarity", "params": {}}
        c.call("load", p, fr)
        two = (c.call("loss")[1][0], c.call("grad")[1][0])
        assert rel(two[0], batch_level_single[0]) <= TOL and rel(two[1], batch_level_single[1]) <= TOL
        # One error on every rank is one error, as a single worker gives it.
        p, fr = load_params(workspace, "MLP")
        p["weights"] = "/nonexistent/w.pt"
        with pytest.raises(WorkerFailed) as e:
            c.call("load", p, fr)
        assert e.value.kind == "input" and "w.pt" in str(e.value) and "\n" not in str(e.value)
        # The group survives an input error.
        assert measurements(c, workspace, "MLP", "data")["parallel"]["ranks"] == 2


def test_four_ranks_share_left_over_points(workspace, single):
    """4 ranks: the 9-point row leaves one point shared by all four ranks (by samples), the pair
    two points shared by two ranks each (Comm.point_deal)."""
    with Client(args=["--workers", "4", "--dist-timeout", "60"]) as c:
        for batch in (4, 64):
            m = measurements(c, workspace, "CNN", "points", batch)
            assert m["parallel"]["ranks"] == 4
            assert_same(m, single[("CNN", "points", batch)], f"CNN points batch {batch}, 4 ranks")


def test_two_nodes_agree_with_one(workspace, single):
    port = free_port()
    common = ["--workers", "1", "--nnodes", "2", "--rendezvous", f"127.0.0.1:{port}", "--dist-timeout", "30", "--threads", "1"]
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT)
    node1 = subprocess.Popen([sys.executable, "-u", "-m", "losscape_torch", *common, "--node-rank", "1"], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with Client(args=[*common, "--node-rank", "0"]) as c:
            m = measurements(c, workspace, "CNN", "data")
            assert m["parallel"]["ranks"] == 2
            assert_same(m, single[("CNN", "data", 4)], "CNN on 2 nodes")
        # Node 1 ends when node 0 does.
        assert node1.wait(timeout=30) == 0, node1.stdout.read().decode()
    finally:
        if node1.poll() is None:
            node1.kill()


def layout(rank, world):
    from losscape_torch.distributed import Comm

    comm = Comm.__new__(Comm)  # the layout only: no group
    comm.rank, comm.world = rank, world
    return comm


@pytest.mark.parametrize("world", [2, 3, 4, 64])
def test_points_and_samples_are_dealt_evenly(world):
    for count in (2, 3, 9, 41, 128):
        deals = [layout(r, world).point_deal(count) for r in range(world)]
        q, m = divmod(count, world)
        # Whole points: consecutive blocks of q; every left-over point shared by a group of
        # consecutive ranks whose parts are 0..size−1; each rank in exactly one group.
        assert [d[:2] for d in deals] == [(r * q, (r + 1) * q) for r in range(world)]
        left = {}
        for d in deals:
            assert (d[2] is None) == (m == 0)
            if d[2] is not None:
                left.setdefault(d[2], []).append((d[3], d[4]))
        assert sorted(left) == list(range(world * q, count))
        for parts in left.values():
            assert [p for p, _ in parts] == list(range(len(parts))) and all(n == len(parts) for _, n in parts)
        # The slowest rank's work, in points: never more than dealing whole points (q + 1).
        work = max(q + (1 / d[4] if d[2] is not None else 0) for d in deals)
        assert work <= q + (1 if m else 0) and (world < 2 * m or m == 0 or work <= q + 0.5)
    # One batch of 256 samples (per-sample loss, eval mode): every rank gets 256 / W of them,
    # where whole batches would leave all but one rank idle.
    shards = [layout(r, world).sample_shard(256, 256, whole_batches=False) for r in range(world)]
    assert shards[0][0] == 0 and shards[-1][1] == 256 and all(a[1] == b[0] for a, b in zip(shards, shards[1:]))
    assert max(b - a for a, b in shards) - min(b - a for a, b in shards) <= 1
    whole = [layout(r, world).sample_shard(256, 256) for r in range(world)]
    assert sorted(b - a for a, b in whole) == [0] * (world - 1) + [256]


def local_ranks(pid):
    """Child processes of the worker (its other ranks), from /proc."""
    kids = []
    for f in glob.glob(f"/proc/{pid}/task/*/children"):
        with open(f) as fh:
            kids += [int(k) for k in fh.read().split()]
    return kids


def started(args):
    c = Client(args=args)
    p, fr = load_params_small()
    c.call("load", p, fr)
    kids = local_ranks(c.proc.pid)
    assert len(kids) == 1
    return c, kids[0], p


def load_params_small():
    x, y = data(n=12)
    return {
        "model": {"kind": "module", "file": fixture("nets.py"), "name": "MLP"},
        "data": {"kind": "frames", "xShape": list(x.shape), "yShape": list(y.shape)},
        "loss": {"kind": "builtin", "name": "categorical_crossentropy"},
        "dtype": "float64", "device": "cpu", "batchSize": 4, "parallel": {"mode": "data"},
    }, [f64(x), f32(y)]


@pytest.mark.smoke
def test_a_killed_rank_ends_the_request_with_one_line_naming_it():
    c, kid, _ = started(["--workers", "2", "--dist-timeout", "20"])
    try:
        os.kill(kid, signal.SIGKILL)
        t0 = time.monotonic()
        with pytest.raises((WorkerFailed, EOFError, BrokenPipeError)) as e:
            for _ in range(50):  # the failure shows at the next request, or ends the worker first
                c.call("grad")
                time.sleep(0.1)
        assert time.monotonic() - t0 < 20
        assert c.proc.wait(timeout=10) != 0
        time.sleep(0.2)
        line = f"rank 1 of 2 (pid {kid}) was killed by SIGKILL"
        if isinstance(e.value, WorkerFailed):
            assert e.value.kind == "rank" and str(e.value).startswith(line) and "\n" not in str(e.value)
        said = [l for l in c.stderr_lines if "losscape_torch:" in l]
        assert len(said) == 1 and line in said[0], c.stderr_lines
    finally:
        c.close()


def test_a_stopped_rank_ends_the_run_within_the_timeout():
    c, kid, _ = started(["--workers", "2", "--dist-timeout", "10"])
    try:
        os.kill(kid, signal.SIGSTOP)
        t0 = time.monotonic()
        with pytest.raises((WorkerFailed, EOFError, BrokenPipeError)):
            for _ in range(400):
                c.call("grad")
                time.sleep(0.05)
        waited = time.monotonic() - t0
        assert waited < 10 + 3, waited
        c.proc.wait(timeout=10)
        time.sleep(0.2)
        said = "".join(c.stderr_lines)
        assert "rank 1 of 2" in said and ("stopped responding" in said or "behind rank 0" in said), said
    finally:
        try:
            os.kill(kid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        c.close()
