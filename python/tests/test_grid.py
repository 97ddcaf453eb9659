"""Loss at many parameter vectors (landscape rows): the vmapped evaluation of several points at
once equals one pass per point, and leaves θ as it was."""
import numpy as np
import pytest
import torch

from conftest import fixture
from helpers import data, load


@pytest.mark.smoke
@pytest.mark.parametrize("model,shape,loss", [
    ("MLP", (6,), None),
    ("CNN", (1, 6, 6), None),
    ("BNNet", (6,), None),
    ("MLP", (6,), {"kind": "module", "file": fixture("losses_user.py"), "name": "focal_loss"}),
])
def test_points_at_once_equal_one_pass_per_point(model, shape, loss):
    x, y = data(n=11, shape=shape)
    s, res, theta0 = load(model, x, y, loss=loss, batch=4)
    s.obj.point_chunk = 4  # 6 points: two chunks, the second partial
    rng = np.random.default_rng(0)
    d1, d2 = rng.normal(size=(2, res["dim"])) * 0.3
    s.store({"name": "d1"}, [d1])
    s.store({"name": "d2"}, [d2])
    coeffs = [[a, b] for a in (-1.0, 0.0, 0.5) for b in (-0.5, 1.0)]
    combos = {"combos": {"base": "theta0", "dirs": ["d1", "d2"], "coeffs": coeffs}}
    fast = s.loss(combos, [])
    # One pass per point at the same θs, through set_params and the plain evaluation.
    serial_l, serial_a = [], []
    for a, b in coeffs:
        s.set_params({}, [np.asarray(theta0) + a * d1 + b * d2])
        l, acc = s.obj.evaluate(True)
        serial_l.append(l)
        serial_a.append(acc)
    s.set_params({}, [theta0])
    assert np.allclose(fast[1][0], serial_l, rtol=1e-12, atol=0)
    if serial_a[0] is not None:
        assert np.allclose(fast[1][1], serial_a, rtol=0, atol=1e-12)
    assert np.array_equal(s.obj.get_flat().numpy(), theta0)  # θ unchanged
    if hasattr(torch, "func"):
        assert s.obj.vmap_points, "the vmapped path fell back to one pass per point"
    # Frames of θs give the same numbers.
    thetas = [np.asarray(theta0) + a * d1 + b * d2 for a, b in coeffs]
    assert np.allclose(s.loss({}, thetas)[1][0], serial_l, rtol=1e-12)


@pytest.mark.parametrize("model,shape", [("MLP", (6,)), ("CNN", (1, 6, 6))])
def test_loop_threads_and_vmap_paths_agree_in_float32(model, shape):
    """The ways a grid's points go (Objective.point_path: one pass per point with θ written in
    place, the same split over threads with a model copy each, or vmap over chunks) give the
    same losses and accuracies as a float64 reference to float32 rounding; the default is a rule
    of the model (vmap without convolutions, else the threads), the same in every run, and θ is
    kept."""
    threads = torch.get_num_threads()
    torch.set_num_threads(max(2, threads))  # the threads path needs ≥ 2
    try:
        _paths_agree(model, shape)
    finally:
        torch.set_num_threads(threads)


def _paths_agree(model, shape):
    x, y = data(n=11, shape=shape)
    s, res, theta0 = load(model, x, y, dtype="float32", batch=4)
    rng = np.random.default_rng(1)
    s.store({"name": "d1"}, [(rng.normal(size=res["dim"]) * 0.3).astype(np.float32)])
    s.store({"name": "d2"}, [(rng.normal(size=res["dim"]) * 0.3).astype(np.float32)])
    coeffs = [[a, b] for a in np.linspace(-1, 1, 5) for b in np.linspace(-1, 1, 5)]
    combos = {"combos": {"base": "theta0", "dirs": ["d1", "d2"], "coeffs": coeffs}}
    s.obj.point_chunk = 4
    assert s.obj.point_path is None
    reply, chosen = s.loss(combos, [])
    assert reply["pointPath"] == ("threads" if model == "CNN" else "vmap")
    assert reply["pointLayout"] == ("channels_last" if model == "CNN" else "model")
    assert np.array_equal(s.loss(combos, [])[1][0], chosen[0]), "the default way gives the same values every time"
    assert np.array_equal(s.obj.get_flat().numpy(), theta0)
    out = {}
    for path in ("loop", "threads", "vmap"):
        s.obj.point_path = path
        out[path] = s.loss(combos, [])[1]
        assert s.obj.point_path == path, f"the {path} path failed and fell back"
    if model == "CNN":
        # The CNN's points went through channels-last copies; the model's own layout too.
        assert s.obj.channels_last_points
        s.obj.channels_last_points = False
        for path in ("loop", "threads"):
            s.obj.point_path = path
            reply, out[path + " model layout"] = s.loss(combos, [])
            assert reply["pointLayout"] == "model" and reply["pointPath"] == path
    # A float64 reference: the same points one at a time in double precision.
    ref_l = []
    m = s.obj.model
    d = [s.stored[n].double() for n in ("d1", "d2")]
    base = s.stored["theta0"].double()
    m.double()
    xs = s.obj.x.double()
    with torch.no_grad():
        for a, b in coeffs:
            th = base + a * d[0] + b * d[1]
            off = 0
            for p, sz in zip(s.obj.params, s.obj.sizes):
                p.copy_(th[off:off + sz].view_as(p))
                off += sz
            ref_l.append(float(s.obj.loss.batch_sum(s.obj.forward(xs), s.obj.y)) / s.obj.n)
    for got in list(out.values()) + [chosen]:
        assert np.allclose(got[0], ref_l, rtol=1e-5, atol=1e-6)
        assert np.array_equal(got[1], out["loop"][1])
    assert np.allclose(out["loop"][0], out["vmap"][0], rtol=1e-6, atol=1e-7)
    assert np.allclose(out["loop"][0], out["threads"][0], rtol=1e-6, atol=1e-7)


def test_the_way_of_grid_points_can_be_forced(monkeypatch):
    """LOSSCAPE_TORCH_POINTS picks the way (here the loop, for a model whose default is vmap or
    the threads); the reply names the way that ran."""
    monkeypatch.setenv("LOSSCAPE_TORCH_POINTS", "loop")
    x, y = data(n=11, shape=(6,))
    s, res, _ = load("MLP", x, y, dtype="float32", batch=4)
    rng = np.random.default_rng(2)
    s.store({"name": "d1"}, [(rng.normal(size=res["dim"]) * 0.3).astype(np.float32)])
    reply, _ = s.loss({"combos": {"base": "theta0", "dirs": ["d1"], "coeffs": [[-1.0], [0.0], [1.0]]}}, [])
    assert reply["pointPath"] == "loop"


def _grid_of(model, dtype="float32"):
    x, y = data(n=11, shape=(1, 6, 6))
    s, res, theta0 = load(model, x, y, dtype=dtype, batch=4)
    rng = np.random.default_rng(3)
    d1 = (rng.normal(size=res["dim"]) * 0.3).astype(np.float32 if dtype == "float32" else np.float64)
    s.store({"name": "d1"}, [d1])
    coeffs = [[-1.0], [0.0], [0.5], [1.0]]
    serial = []
    for (a,) in coeffs:
        s.set_params({}, [np.asarray(theta0) + a * d1])
        serial.append(s.obj.evaluate(True)[0])
    s.set_params({}, [theta0])
    return s, {"combos": {"base": "theta0", "dirs": ["d1"], "coeffs": coeffs}}, serial


@pytest.mark.smoke
def test_a_forward_that_needs_nchw_strides_falls_back_to_the_models_layout():
    """A conv net flattening with .view fails on channels-last activations: its first grid
    request still answers, with the points in the model's own layout, and keeps to it."""
    s, combos, serial = _grid_of("ViewCNN", dtype="float64")
    assert s.obj.channels_last_points, "a CPU conv net starts with channels-last points"
    probe = s.obj._point_models(1)[0][0]
    with pytest.raises(RuntimeError):  # the failure the fallback is for, so this test can fail
        probe(torch.zeros(2, 1, 6, 6, dtype=torch.float64))
    reply, out = s.loss(combos, [])
    assert reply["pointLayout"] == "model"
    assert not s.obj.channels_last_points
    assert np.allclose(out[0], serial, rtol=1e-12, atol=0)
    assert s.loss(combos, [])[0]["pointLayout"] == "model"


@pytest.mark.parametrize("layout,expected", [("model", "model"), ("channels_last", "channels_last")])
def test_the_layout_of_grid_points_can_be_forced(monkeypatch, layout, expected):
    monkeypatch.setenv("LOSSCAPE_TORCH_POINT_LAYOUT", layout)
    s, combos, serial = _grid_of("CNN", dtype="float64")
    reply, out = s.loss(combos, [])
    assert reply["pointLayout"] == expected
    assert np.allclose(out[0], serial, rtol=1e-12, atol=0)
    if expected == "channels_last":
        m = s.obj._point_models(1)[0][0]
        assert m.conv2.weight.is_contiguous(memory_format=torch.channels_last)
        assert not s.obj.model.conv2.weight.is_contiguous(memory_format=torch.channels_last), "the user's model keeps its layout"
