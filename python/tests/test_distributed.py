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


def measurements(c, workspace, name, mode):
    """Loss, gradient, the three curvature products of 3 vectors and a 1D row of 9 points."""
    p, fr = load_params(workspace, name, mode)
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
        yield {(n, m): measurements(c, workspace, n, m) for n in ("MLP", "CNN") for m in ("data", "points")}


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
        for name, mode in single:
            m = measurements(c, workspace, name, mode)
            assert m["parallel"] == {"ranks": 2, "mode": mode, "threadsPerRank": m["parallel"]["threadsPerRank"]}
            assert single[(name, mode)]["parallel"]["ranks"] == 1 and single[(name, mode)]["parallel"]["mode"] == "single"
            assert_same(m, single[(name, mode)], f"{name} {mode}, 2 ranks")
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
            assert_same(m, single[("CNN", "data")], "CNN on 2 nodes")
        # Node 1 ends when node 0 does.
        assert node1.wait(timeout=30) == 0, node1.stdout.read().decode()
    finally:
        if node1.poll() is None:
            node1.kill()


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
