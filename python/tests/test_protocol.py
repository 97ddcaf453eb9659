"""The worker as the engine runs it: a subprocess speaking the framed protocol on stdin/stdout."""
import os
import struct
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import fixture
from helpers import data, load, rel
from losscape_torch.client import Client, WorkerFailed, f32, f64
from losscape_torch.framing import encode_message, read_message
import io


def load_params(model="MLP", n=12, batch=5, **extra):
    x, y = data(n=n)
    p = {
        "model": {"kind": "module", "file": fixture("nets.py"), "name": model},
        "data": {"kind": "frames", "xShape": list(x.shape), "yShape": list(y.shape)},
        "loss": {"kind": "builtin", "name": "categorical_crossentropy"},
        "dtype": "float64", "device": "cpu", "batchSize": batch,
    }
    p.update(extra)
    return p, [f64(x), f32(y)]


def test_framing_round_trip_keeps_bytes_and_nonfinite_numbers():
    a = np.array([1.5, -2.25, np.nan, np.inf], dtype=np.float32)
    b = np.arange(5, dtype=np.float64)
    raw = encode_message({"id": 3, "result": {"loss": float("nan"), "big": float("-inf")}}, [a, b])
    header, frames = read_message(io.BytesIO(raw))
    assert header["result"] == {"loss": "NaN", "big": "-Infinity"}
    assert header["frames"] == [{"dtype": "f32", "length": 4}, {"dtype": "f64", "length": 5}]
    assert frames[0].dtype == np.float32 and np.array_equal(frames[0], a, equal_nan=True)
    assert np.array_equal(frames[1], b)
    # Layout: u32 LE header length, the JSON header, then the raw LE bytes.
    (hlen,) = struct.unpack("<I", raw[:4])
    assert raw[4 + hlen:] == a.astype("<f4").tobytes() + b.astype("<f8").tobytes()


@pytest.fixture(scope="module")
def worker():
    # One worker for the tests that leave it healthy: starting one means importing torch.
    with Client(threads=1) as c:
        yield c


@pytest.mark.smoke
def test_round_trip_matches_in_process_and_user_prints_do_not_corrupt_frames(worker):
    params, frames = load_params(model="Noisy")
    c = worker
    hello = c.call("hello")[0]
    assert hello["protocol"] == 1 and hello["torch"] and hello["float64"]
    res, fr = c.call("load", params, frames)
    assert res["dim"] == 83 and res["backend"]["engine"] == "torch" and res["backend"]["device"] == "cpu"
    theta0 = fr[0]
    assert fr[0].dtype == np.float64 and theta0.size == 83
    gres, (g,) = c.call("grad")
    l = gres["loss"]
    rng = np.random.default_rng(0)
    v = rng.normal(size=83)
    hv = c.call("matmat", {"operator": "hessian"}, [f32(v), f64(2 * v)])[1]
    # The same model and data in process, at the same θ.
    s, _, _ = load("Noisy", *data(n=12))
    s.set_params({}, [theta0])
    l_ref, g_ref = s.obj.grad()
    assert abs(l - l_ref) < 1e-12 and rel(g, g_ref.numpy()) < 1e-12
    hv_ref = s.obj.matmat("hessian", [s._vec(f32(v).astype(np.float64))])[0].numpy()
    assert rel(hv[0], hv_ref) < 1e-12 and rel(hv[1], 2 * s.obj.matmat("hessian", [s._vec(v)])[0].numpy()) < 1e-12
    # loss at k vectors, and at base + Σ c·d with stored directions; θ is left as it was.
    d = rng.normal(size=83) * 0.1
    c.call("store", {"name": "d1"}, [f64(d)])
    _, lf = c.call("loss", {"combos": {"base": "theta0", "dirs": ["d1"], "coeffs": [[0.0], [1.0], [-0.5]]}})
    _, lk = c.call("loss", {}, [f64(theta0), f64(theta0 + d), f64(theta0 - 0.5 * d)])
    assert np.allclose(lf[0], lk[0], rtol=1e-12) and lf[0].size == 3 and lf[1].size == 3
    assert abs(lf[0][0] - l) < 1e-12
    assert abs(c.call("loss")[1][0][0] - l) < 1e-12
    assert any("a user print on stdout" in line for line in c.stderr_lines)


def test_errors_keep_the_worker_alive(worker):
    params, frames = load_params()
    c = worker
    c.call("dispose")
    with pytest.raises(WorkerFailed) as e:
        c.call("grad")
    assert e.value.kind == "input" and "no model is loaded" in str(e.value)
    with pytest.raises(WorkerFailed) as e:
        c.call("nonsense")
    assert e.value.kind == "internal"
    c.call("load", params, frames)
    with pytest.raises(WorkerFailed) as e:
        c.call("set_params", {}, [f64(np.zeros(5))])
    assert e.value.kind == "input" and "has 5 entries, the model has 83" in str(e.value)
    assert c.call("grad")[0]["loss"] > 0


def test_cancel_stops_a_long_product_within_a_second(worker):
    # Slow sleeps 0.2 s per forward: 40 batches ≈ 8 s of work unless cancelled.
    params, frames = load_params(model="Slow", n=40, batch=1)
    c = worker
    res, _ = c.call("load", params, frames)
    rid = c.send("matmat", {"operator": "hessian"}, [f64(np.ones(res["dim"]))])
    time.sleep(0.5)
    t0 = time.monotonic()
    c.cancel(rid)
    with pytest.raises(WorkerFailed) as e:
        c.receive(rid)
    assert e.value.kind == "cancelled"
    assert time.monotonic() - t0 < 1.0
    # The worker goes on answering.
    assert c.call("hello")[0]["protocol"] == 1


def test_worker_exits_at_end_of_input_and_a_dead_worker_is_eof():
    c = Client(threads=1)
    c.call("hello")
    c.proc.kill()
    with pytest.raises((EOFError, BrokenPipeError, OSError)):
        c.call("hello")
    c.close()
    c2 = Client(threads=1)
    c2.proc.stdin.close()
    assert c2.proc.wait(timeout=30) == 0


def test_torch_missing_is_an_environment_error_naming_the_interpreter(tmp_path):
    # A site folder whose `torch` fails to import stands for an interpreter without torch.
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('No module named torch')\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    with Client(threads=1, env=env) as c:
        with pytest.raises(WorkerFailed) as e:
            c.call("hello")
    assert e.value.kind == "environment"
    assert os.path.normpath(sys.executable) in str(e.value) and "pip install torch" in str(e.value)
