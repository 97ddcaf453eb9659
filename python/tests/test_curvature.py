"""Torch-engine curvature against float64 truth from torch.autograd.functional (dense Hessian,
Jacobian, loss Hessian on the outputs), on an MLP and a small CNN: issue 10's tolerances —
top-5 eigenvalues and products to 1e-7 relative in float64, 1e-4 in float32."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers import data, dense_fisher, dense_ggn, dense_hessian, functional_loss, load, operator_matrix, rel

CASES = {
    "MLP": dict(shape=(6,)),
    "CNN": dict(shape=(1, 6, 6)),
}


def ce(out, y):
    return F.cross_entropy(out, y.long(), reduction="none")


_DENSE = {}


def dense(model_name, kind, make):
    """The float64 reference matrices, built once per model (the same seed gives the same θ0)."""
    key = (model_name, kind)
    if key not in _DENSE:
        _DENSE[key] = make().numpy()
    return _DENSE[key]


def truth(model_name, dtype="float64"):
    x, y = data(n=10, shape=CASES[model_name]["shape"])
    torch.manual_seed(0)
    s, res, theta0 = load(model_name, x, y, dtype=dtype, batch=10)
    # The reference: a float64 copy of the same module, evaluated functionally.
    ref_session, _, _ = load(model_name, x, y, dtype="float64", batch=10)
    theta64 = np.asarray(theta0, dtype=np.float64)
    ref_session.set_params({}, [theta64])
    model = ref_session.obj.model
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    outputs, loss = functional_loss(model, xt, yt, ce)
    theta = torch.from_numpy(np.asarray(theta64, dtype=np.float64))
    return s, res, model, xt, yt, outputs, loss, theta


def top(m, k=5):
    return np.sort(np.linalg.eigvalsh(0.5 * (m + m.T)))[::-1][:k]


@pytest.mark.smoke
@pytest.mark.parametrize("model_name", ["MLP", "CNN"])
def test_hessian_float64(model_name):
    s, res, model, x, y, outputs, loss, theta = truth(model_name)
    H = dense(model_name, "H", lambda: dense_hessian(loss, theta))
    assert res["dim"] == theta.numel() and H.shape == (res["dim"], res["dim"])
    M = operator_matrix(s, "hessian")
    assert rel(M, H) < 1e-10
    lam, ref = top(M), top(H)
    assert ref[0] > 0 and np.all(np.abs(ref) > 1e-3 * ref[0]), ref  # a meaningful relative test
    assert np.max(np.abs(lam - ref) / np.abs(ref)) < 1e-7
    # The loss itself and its gradient agree with the functional reference.
    l, g = s.grad({}, [])[0]["loss"], s.grad({}, [])[1][0]
    assert abs(l - float(loss(theta))) < 1e-12
    g_ref = torch.autograd.functional.jacobian(loss, theta).numpy()
    assert rel(g, g_ref) < 1e-10


@pytest.mark.parametrize("model_name", ["MLP", "CNN"])
def test_ggn_float64(model_name):
    s, res, model, x, y, outputs, loss, theta = truth(model_name)
    G = dense(model_name, "G", lambda: dense_ggn(outputs, ce, y, theta))
    M = operator_matrix(s, "ggn")
    assert rel(M, G) < 1e-10
    lam, ref = top(M), top(G)
    assert np.max(np.abs(lam - ref) / np.abs(ref)) < 1e-7
    # The GGN is positive semi-definite for a convex loss; the Hessian of this model is not.
    assert np.linalg.eigvalsh(0.5 * (M + M.T)).min() > -1e-10


@pytest.mark.parametrize("model_name", ["MLP", "CNN"])
def test_fisher_float64(model_name):
    s, res, model, x, y, outputs, loss, theta = truth(model_name)
    Fm = dense(model_name, "F", lambda: dense_fisher(model, x, y, ce, theta))
    M = operator_matrix(s, "fisher")
    assert rel(M, Fm) < 1e-10
    assert np.max(np.abs(top(M) - top(Fm)) / np.abs(top(Fm))) < 1e-7


@pytest.mark.parametrize("model_name", ["MLP", "CNN"])
def test_float32_against_float64_truth(model_name):
    s, res, model, x, y, outputs, loss, theta = truth(model_name, dtype="float32")
    assert res["dtype"] == "float32"
    theta32 = torch.from_numpy(np.asarray(s.obj.get_flat().numpy(), dtype=np.float64))
    assert rel(theta32, theta) < 1e-7  # the same θ0, rounded: the truth is at the float64 point
    H = dense(model_name, "H", lambda: dense_hessian(loss, theta))
    M = operator_matrix(s, "hessian")
    ref = top(H)
    assert np.max(np.abs(top(M) - ref) / np.abs(ref)) < 1e-4
    G = dense(model_name, "G", lambda: dense_ggn(outputs, ce, y, theta))
    Mg = operator_matrix(s, "ggn")
    assert np.max(np.abs(top(Mg) - top(G)) / np.abs(top(G))) < 1e-4


def test_products_with_several_vectors_and_batches_agree():
    # matmat on k vectors equals k single products, and the batch size does not change a product.
    x, y = data(n=13)
    s5, _, _ = load("MLP", x, y, batch=5)
    s13, _, _ = load("MLP", x, y, batch=13)
    s13.set_params({}, [s5.obj.get_flat().numpy()])
    rng = np.random.default_rng(3)
    vs = [rng.normal(size=s5.obj.dim) for _ in range(3)]
    for op in ("hessian", "ggn", "fisher"):
        many = s5.matmat({"operator": op}, vs)[1]
        for v, mv in zip(vs, many):
            one = s13.matmat({"operator": op}, [v])[1][0]
            assert rel(mv, one) < 1e-12


def test_mse_ggn_is_two_jtj_over_outputs():
    # For MSE with C outputs (mean over units), H_f = 2/C · I: G = (2 / (n C)) JᵀJ.
    x, y = data(n=8)
    yy = np.random.default_rng(1).normal(size=(8, 3))
    s, _, theta0 = load("MLP", x, yy, loss={"kind": "builtin", "name": "mse"})
    model = s.obj.model
    outputs, _ = functional_loss(model, torch.from_numpy(x), torch.from_numpy(yy), lambda o, t: ((o - t) ** 2).mean(-1))
    theta = torch.from_numpy(np.asarray(theta0))
    J = torch.autograd.functional.jacobian(outputs, theta).reshape(8 * 3, -1).numpy()
    assert rel(operator_matrix(s, "ggn"), 2.0 / (8 * 3) * J.T @ J) < 1e-10


def test_jvp_vjp_and_output_jacobian():
    x, y = data(n=7)
    s, res, theta0 = load("CNN", x.reshape(7, 1, 1, 6).repeat(6, axis=2), y)
    obj = s.obj
    outputs, _ = functional_loss(obj.model, obj.x, obj.y, ce)
    theta = torch.from_numpy(np.asarray(theta0))
    J = torch.autograd.functional.jacobian(outputs, theta).reshape(7 * 3, -1).numpy()
    rng = np.random.default_rng(4)
    v = rng.normal(size=res["dim"])
    u = rng.normal(size=7 * 3)
    assert rel(s.jvp({}, [v])[1][0], J @ v) < 1e-10
    assert rel(s.vjp({}, [u])[1][0], J.T @ u) < 1e-10
    jac = s.output_jacobian({"indices": [2, 5]}, [])[1][0].reshape(2, 3, -1)
    assert rel(jac, J.reshape(7, 3, -1)[[2, 5]]) < 1e-12


def test_subset_gradients_are_per_sample_gradients():
    x, y = data(n=6)
    s, res, theta0 = load("MLP", x, y, batch=4)
    model = s.obj.model
    rows = s.subset_grads({"groups": [[0], [3], [1, 2, 5]]}, [])[1][0].reshape(3, -1)
    for r, grp in enumerate([[0], [3], [1, 2, 5]]):
        _, l = functional_loss(model, torch.from_numpy(x[grp]), torch.from_numpy(y[grp]), ce)
        g = torch.autograd.functional.jacobian(l, torch.from_numpy(np.asarray(theta0))).numpy()
        assert rel(rows[r], g) < 1e-10
    # Their outer products average to the Fisher operator.
    per = s.subset_grads({"groups": [[i] for i in range(6)]}, [])[1][0].reshape(6, -1)
    v = np.random.default_rng(5).normal(size=res["dim"])
    assert rel(s.matmat({"operator": "fisher"}, [v])[1][0], per.T @ (per @ v) / 6) < 1e-10


@pytest.mark.parametrize("model_name", ["MLP", "CNN"])
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 1e-5)])
def test_products_with_batches_over_threads_equal_one_thread(model_name, dtype, tol):
    """Objective.matmat_sums with several batches and ≥ 2 CPU threads gives groups of batches to
    threads (_matmat_threads); the products equal the one-thread sum over the batches in order
    (float64: to rounding; float32: to float32 rounding), for every operator."""
    x, y = data(n=12, shape=CASES[model_name]["shape"])
    torch.manual_seed(0)
    s, res, _ = load(model_name, x, y, dtype=dtype, batch=4)  # 3 batches
    rng = np.random.default_rng(3)
    vs = [rng.normal(size=res["dim"]) for _ in range(3)]
    threads = torch.get_num_threads()
    torch.set_num_threads(max(2, threads))
    ran = []
    inner = s.obj._matmat_threads
    s.obj._matmat_threads = lambda *a: ran.append(a[-1]) or inner(*a)
    try:
        for op in ("hessian", "ggn", "fisher"):
            assert s.obj.point_threads() >= 2
            threaded = s.matmat({"operator": op}, vs)[1]
            assert ran and ran[-1] >= 2, "the products did not go over threads"
            s.obj.threads_ok = False
            single = s.matmat({"operator": op}, vs)[1]
            s.obj.threads_ok = True
            for a, b in zip(threaded, single):
                assert rel(a, b) < tol, (op, rel(a, b))
    finally:
        torch.set_num_threads(threads)
