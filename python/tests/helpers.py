"""Shared helpers: an in-process worker session, and float64 references built without the
code under test (torch.autograd.functional on a functional call of the model)."""
import numpy as np
import torch

from conftest import fixture
from losscape_torch.session import Session


def data(n=12, shape=(6,), classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n,) + tuple(shape))
    y = rng.integers(0, classes, size=n).astype(np.float64)
    return x, y


def load(model="MLP", x=None, y=None, loss=None, dtype="float64", batch=5, weights=None, file="nets.py", **extra):
    s = Session(lambda: False)
    if x is None:
        x, y = data()
    params = {
        "model": {"kind": "module", "file": fixture(file), "name": model},
        "data": {"kind": "frames", "xShape": list(x.shape), "yShape": list(y.shape)},
        "loss": loss or {"kind": "builtin", "name": "categorical_crossentropy"},
        "dtype": dtype,
        "device": "cpu",
        "batchSize": batch,
        "weights": weights,
    }
    params.update(extra)
    result, frames = s.load(params, [x.astype(np.float32 if dtype == "float32" else np.float64), y.astype(np.float32)])
    return s, result, frames[0]


def functional_loss(model, x, y, per_sample_fn):
    """θ ↦ mean loss, evaluating the model with θ swapped in by functional_call."""
    fcall = getattr(getattr(torch, "func", None), "functional_call", None) or torch.nn.utils.stateless.functional_call
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]

    def unflatten(theta):
        out, off = {}, 0
        for n, p in named:
            out[n] = theta[off:off + p.numel()].view_as(p)
            off += p.numel()
        return out

    def outputs(theta):
        return fcall(model, unflatten(theta), (x,))

    def loss(theta):
        return per_sample_fn(outputs(theta), y).mean()

    return outputs, loss


def dense_hessian(loss, theta):
    return torch.autograd.functional.hessian(loss, theta, vectorize=True).reshape(theta.numel(), theta.numel())


def dense_ggn(outputs, per_sample_fn, y, theta):
    f0 = outputs(theta).detach()
    n = f0.shape[0]
    J = torch.autograd.functional.jacobian(outputs, theta, vectorize=True).reshape(f0.numel(), theta.numel())
    Hf = torch.autograd.functional.hessian(lambda f: per_sample_fn(f.reshape(f0.shape), y).mean(), f0.reshape(-1), vectorize=True)
    return J.T @ Hf @ J


def dense_fisher(model, x, y, per_sample_fn, theta):
    outputs, _ = functional_loss(model, x, y, per_sample_fn)
    rows = []
    for i in range(x.shape[0]):
        _, li = functional_loss(model, x[i:i + 1], y[i:i + 1], per_sample_fn)
        rows.append(torch.autograd.functional.jacobian(li, theta))
    G = torch.stack(rows)
    return G.T @ G / x.shape[0]


def operator_matrix(session, operator):
    dim = session.obj.dim
    eye = np.eye(dim)
    cols = session.matmat({"operator": operator}, list(eye))[1]
    return np.stack(cols, axis=1)


def rel(a, b):
    a, b = np.asarray(a).reshape(-1), np.asarray(b).reshape(-1)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))
