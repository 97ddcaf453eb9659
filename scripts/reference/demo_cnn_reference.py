"""Float64 references for the demo-digits CNN (Conv2D 8 → MaxPool → Conv2D 16 → Dense 10,
20,618 parameters), built without TF.js or Losscape: the weights read from each checkpoint's
model.json shards into a functional torch float64 network (kernels converted NHWC → NCHW, the
activations put back in NHWC order before Flatten so the Dense kernel keeps TF.js's row order),
exact products by torch.autograd / torch.func, scipy eigsh (ARPACK) for eigenvalues.

Cross-entropy from the logits (the pre-softmax values, as Keras and Losscape read a softmax
model); ReLU's second derivative is 0 (the almost-everywhere Hessian, as Losscape's products).

For the last checkpoint:
  hessianTop, ggnTop   top-5 eigenvalues (eigsh, tol 1e-10)
  trace                the exact Hessian trace. In a network of ReLU, max-pooling and linear
                       layers the logits are (almost everywhere) linear in each single layer's
                       parameters, so the Hessian's layer-diagonal blocks, hence its diagonal,
                       equal the Gauss–Newton matrix's: tr H = mean_i tr(H_ℓ,i J_i J_iᵀ) from the
                       per-sample Jacobians J_i (also the NTK's). Checked against Hessian
                       products e_kᵀHe_k at entries of every parameter tensor.
  sam                  SAM ρ-sharpness: first order and the same projected normalised-gradient
                       ascent as Losscape's ballAscent (src/engine/curvature/sharpness.ts)
and for every checkpoint the grokking statistics of src/engine/analyses/grokking.ts (their
definitions in GROKKING_DEFINITIONS): losses, accuracies, norms, distances, the empirical NTK of
the logits on the probe set (here: all train samples) and its statistics, output change,
trajectory KL (τ = 5, lag 1) and λ_max of the Hessian (eigsh).

usage: python demo_cnn_reference.py FIXTURE_DIR  (reads FIXTURE_DIR/data.npz, FIXTURE_DIR/run/step-*/model.json;
       prints one JSON line)
"""
import glob
import json
import math
import os
import re
import sys

import numpy as np
import scipy.sparse.linalg as sla
import torch
import torch.nn.functional as F
from torch.func import grad, jacrev, vmap

torch.set_default_dtype(torch.float64)
RHO = 0.05
ASCENT_STEPS = 2
TAU = 5.0


def read_weights(model_json):
    with open(model_json) as f:
        m = json.load(f)
    out = []
    for group in m["weightsManifest"]:
        data = b"".join(open(os.path.join(os.path.dirname(model_json), p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            assert w["dtype"] == "float32", w
            n = int(np.prod(w["shape"]))
            out.append((w["shape"], np.frombuffer(data, dtype="<f4", count=n, offset=off).astype(np.float64)))
            off += 4 * n
    return out


class Net:
    """The CNN as a function of a flat θ in TF.js's order (per layer: kernel, bias)."""

    def __init__(self, shapes):
        self.shapes = shapes
        self.sizes = [int(np.prod(s)) for s in shapes]
        assert [len(s) for s in shapes] == [4, 1, 4, 1, 2, 1], shapes

    def logits(self, theta, x):
        w1, b1, w2, b2, wd, bd = [p.reshape(s) for p, s in zip(torch.split(theta, self.sizes), self.shapes)]
        h = x.permute(0, 3, 1, 2)  # NHWC → NCHW
        h = torch.relu(F.conv2d(h, w1.permute(3, 2, 0, 1), b1))  # [kh, kw, in, out] → [out, in, kh, kw]
        h = F.max_pool2d(h, 2)
        h = torch.relu(F.conv2d(h, w2.permute(3, 2, 0, 1), b2))
        h = h.permute(0, 2, 3, 1).flatten(1)  # back to NHWC: TF.js's Flatten order
        return h @ wd + bd, h

    def loss(self, theta, x, y):
        return F.cross_entropy(self.logits(theta, x)[0], y)


def top_eigs(matvec, n, k):
    op = sla.LinearOperator((n, n), matvec=lambda v: matvec(torch.tensor(np.asarray(v).reshape(-1))).numpy(), dtype=np.float64)
    vals = sla.eigsh(op, k=k, which="LA", tol=1e-10, return_eigenvectors=False, v0=np.ones(n) / math.sqrt(n))
    return sorted(vals.tolist(), reverse=True)


def hessian_matvec(net, theta, x, y):
    """Hv by double back-propagation through one retained graph of ∇L."""
    t = theta.clone().requires_grad_(True)
    g = torch.autograd.grad(net.loss(t, x, y), t, create_graph=True)[0]
    return lambda v: torch.autograd.grad(g, t, grad_outputs=v, retain_graph=True)[0].detach()


def ggn_matvec(net, theta, x, y):
    """Gv = Jᵀ H_ℓ J v / n: J v by the double-VJP trick, H_ℓ = diag(p) − ppᵀ per sample."""
    n = x.shape[0]
    t = theta.clone().requires_grad_(True)
    z = net.logits(t, x)[0]
    p = torch.softmax(z, dim=1).detach()
    u = torch.zeros_like(z, requires_grad=True)
    jtu = torch.autograd.grad(z, t, grad_outputs=u, create_graph=True)[0]

    def mv(v):
        jv = torch.autograd.grad(jtu, u, grad_outputs=v, retain_graph=True)[0]
        hjv = p * jv - p * (p * jv).sum(1, keepdim=True)
        return torch.autograd.grad(z, t, grad_outputs=hjv / n, retain_graph=True)[0].detach()

    return mv


def jacobians(net, theta, x, chunk=16):
    """Per-sample Jacobians of the logits, [n, C, d]."""
    f = lambda t, xi: net.logits(t, xi[None])[0][0]
    jf = vmap(jacrev(f), in_dims=(None, 0))
    return torch.cat([jf(theta, x[s : s + chunk]) for s in range(0, x.shape[0], chunk)])


def exact_trace(net, theta, x, y, J):
    z = net.logits(theta, x)[0]
    p = torch.softmax(z, dim=1)
    n, C, d = J.shape
    # diag(G)_k = mean_i J_i[:, k]ᵀ H_i J_i[:, k], H_i = diag(p_i) − p_i p_iᵀ
    pj = torch.einsum("nc,ncd->nd", p, J)
    diag = (torch.einsum("nc,ncd->d", p, J * J) - (pj * pj).sum(0)) / n
    hv = hessian_matvec(net, theta, x, y)
    offsets = np.cumsum([0] + net.sizes)
    checked = []
    for a, b in zip(offsets[:-1], offsets[1:]):
        for k in sorted({int(a), int((a + b) // 2), int(b - 1)}):
            e = torch.zeros(d)
            e[k] = 1
            hkk = hv(e)[k].item()
            assert abs(hkk - diag[k].item()) <= 1e-9 * max(1e-3, abs(hkk)), (k, hkk, diag[k].item())
            checked.append(k)
    return float(diag.sum()), checked


def sam(net, theta, x, y):
    loss = lambda t: net.loss(t, x, y).item()
    gfun = grad(lambda t: net.loss(t, x, y))
    base = loss(theta)
    g = gfun(theta)
    delta = RHO * g / g.norm()
    first = loss(theta + delta) - base
    best = first
    for t in range(1, ASCENT_STEPS + 1):
        gt = gfun(theta + delta)
        best = max(best, loss(theta + delta) - base)
        delta = delta + (RHO / (2 * math.sqrt(t))) * gt / gt.norm()
        dn = delta.norm()
        if dn > RHO:
            delta = delta * (RHO / dn)
    best = max(best, loss(theta + delta) - base)
    return {"rho": RHO, "loss": base, "gradientNorm": float(g.norm()), "firstOrder": first, "ascent": best, "steps": ASCENT_STEPS}


def ntk_stats(J, y, K0):
    n, C, d = J.shape
    Jc = J.permute(1, 0, 2)  # [C, n, d]
    K = torch.einsum("cnd,cmd->nm", Jc, Jc)
    H = torch.eye(n) - torch.ones(n, n) / n
    Y = F.one_hot(y, C).double()
    Kc = H @ K @ H
    Yc = H @ Y
    YY = Yc @ Yc.T
    alignment = float((Kc * YY).sum() / (Kc.norm() * YY.norm()))
    ev = torch.linalg.eigvalsh(K).clamp(min=0)
    pr = ev / ev.sum()
    pr = pr[pr > 0]
    rank = float(torch.exp(-(pr * pr.log()).sum()))
    base = K if K0 is None else K0
    movement = float(1 - (base * K).sum() / (base.norm() * K.norm()))
    distance = float((K - base).norm() / base.norm())
    return K, {"ntkAlignment": alignment, "ntkEffectiveRank": rank, "ntkTrace": float(torch.trace(K) / n), "ntkMovement": movement, "ntkDistance": distance}


def log(what, t0=[None]):
    import time

    now = time.time()
    print(f"demo_cnn_reference: {what} ({0 if t0[0] is None else now - t0[0]:.0f} s)", file=sys.stderr, flush=True)
    t0[0] = t0[0] or now


def main():
    root = sys.argv[1]
    log("start")
    d = np.load(os.path.join(root, "data.npz"))
    x = torch.tensor(d["x"].astype(np.float64))
    y = torch.tensor(d["y"].astype(np.int64))
    xt = torch.tensor(d["x_test"].astype(np.float64))
    yt = torch.tensor(d["y_test"].astype(np.int64))
    files = sorted(glob.glob(os.path.join(root, "run", "step-*", "model.json")), key=lambda f: int(re.findall(r"\d+", os.path.basename(os.path.dirname(f)))[-1]))
    series = {k: [] for k in ["trainLoss", "testLoss", "trainAccuracy", "testAccuracy", "paramNorm", "paramDistance", "ntkAlignment", "ntkMovement", "ntkDistance", "ntkEffectiveRank", "ntkTrace", "outputChange", "trajectoryKL", "lambdaMax"]}
    theta0 = None
    K0 = None
    prev = None
    net = None
    theta = None
    for f in files:
        w = read_weights(f)
        net = Net([s for s, _ in w])
        theta = torch.tensor(np.concatenate([a for _, a in w]))
        theta0 = theta if theta0 is None else theta0
        z = net.logits(theta, x)[0]
        zt = net.logits(theta, xt)[0]
        series["trainLoss"].append(float(F.cross_entropy(z, y)))
        series["testLoss"].append(float(F.cross_entropy(zt, yt)))
        series["trainAccuracy"].append(float((z.argmax(1) == y).double().mean()))
        series["testAccuracy"].append(float((zt.argmax(1) == yt).double().mean()))
        series["paramNorm"].append(float(theta.norm()))
        series["paramDistance"].append(float((theta - theta0).norm() / theta0.norm()))
        J = jacobians(net, theta, x)
        K, st = ntk_stats(J, y, K0)
        K0 = K if K0 is None else K0
        for k, v in st.items():
            series[k].append(v)
        if prev is None:
            series["outputChange"].append(None)
            series["trajectoryKL"].append(None)
        else:
            series["outputChange"].append(float(((z - prev) ** 2).sum() / x.shape[0]))
            lp = torch.log_softmax(prev / TAU, 1)
            lc = torch.log_softmax(z / TAU, 1)
            series["trajectoryKL"].append(float(TAU * TAU * (lp.exp() * (lp - lc)).sum() / x.shape[0]))
        prev = z
        # The last checkpoint's top-5 are reported too: one eigsh gives both.
        tops = top_eigs(hessian_matvec(net, theta, x, y), theta.numel(), 5 if f == files[-1] else 1)
        series["lambdaMax"].append(tops[0])
        log(f"{os.path.relpath(f, root)}: statistics and λ_max")
    trace, checked = exact_trace(net, theta, x, y, J)
    log("trace, top-5 Hessian and GGN eigenvalues, SAM")
    out = {
        "parameters": int(theta.numel()),
        "samples": int(x.shape[0]),
        "checkpoints": [os.path.relpath(f, root) for f in files],
        "loss": float(net.loss(theta, x, y)),
        "hessianTop": tops,
        "ggnTop": top_eigs(ggn_matvec(net, theta, x, y), theta.numel(), 5),
        "trace": trace,
        "traceCheckedEntries": checked,
        "sam": sam(net, theta, x, y),
        "grokking": series,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
