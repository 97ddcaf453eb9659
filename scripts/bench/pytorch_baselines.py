"""Plain-PyTorch baselines for `npm run bench`, written from the published algorithms so the
torch engine can be timed against what users run today, on the same models and samples:

- PyHessian-style (Yao et al. 2020, "PyHessian: Neural networks through the lens of the
  Hessian"): top-5 Hessian eigenvalues by power iteration with deflation (each iterate
  orthogonalised against the eigenvectors found, stop at relative change < 1e-3 or 100
  iterations), and the Hutchinson trace with 100 Rademacher probes; every Hessian-vector
  product is a full pass over the data (forward, backward with create_graph, a second
  backward per batch), as PyHessian's data-loader product does.
- loss-landscape-style (Li et al. 2018, "Visualizing the loss landscape of neural nets"):
  two Gaussian directions, filter-normalised (each filter d_i scaled to ‖θ_i‖, biases and
  BatchNorm zeroed), and the loss and accuracy at θ + a·d₁ + b·d₂ on a 41×41 grid over
  [-1, 1]², one evaluation pass per point under torch.no_grad().
(The process boundary's share of a product is measured from the engine's side, in
scripts/bench/torchBoundary.ts.)

  python scripts/bench/pytorch_baselines.py [--out bench-results/pytorch-baselines.json]

Writes rows {name, seconds, note, ...} in scripts/bench/types.ts's Row shape.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "pytorch")
sys.path.insert(0, EXAMPLE)
sys.path.insert(0, os.path.join(ROOT, "python"))


def demo_models():
    """(tag, model, x, y) for the demo MLP and CNN, with their trained weights when present."""
    from mlp import MnistMLP
    from net import SmallCNN

    gen = os.path.join(EXAMPLE, "generated")
    d = np.load(os.path.join(gen, "digits.npz"))
    x = torch.from_numpy(d["x"])
    y = torch.from_numpy(d["y"].astype(np.int64))
    out = []
    for tag, cls, weights in (("demo MLP", MnistMLP, "mlp.pt"), ("demo CNN", SmallCNN, "cnn.pt")):
        m = cls()
        path = os.path.join(gen, weights)
        if os.path.exists(path):
            m.load_state_dict(torch.load(path, map_location="cpu"))
        m.eval()
        out.append((tag, m, x, y))
    return out


def first_samples_file(n, folder):
    """The demo digits' first n samples as their own .npz, so the torch engine (given the whole
    file, no --samples subset) computes on exactly the samples the baselines use."""
    d = np.load(os.path.join(EXAMPLE, "generated", "digits.npz"))
    path = os.path.join(folder, f"digits-first-{n}.npz")
    np.savez(path, x=d["x"][:n], y=d["y"][:n])
    return path


def batches(x, y, size):
    for i in range(0, x.shape[0], size):
        yield x[i:i + size], y[i:i + size]


# ---- PyHessian-style --------------------------------------------------------------------------
def hvp_full(model, params, data, v):
    """H v of the mean loss over all samples: per batch, a forward pass, the gradient with a
    graph, and its derivative along v, weighted by the batch's share."""
    n = sum(xb.shape[0] for xb, _ in data)
    out = [torch.zeros_like(p) for p in params]
    for xb, yb in data:
        loss = F.cross_entropy(model(xb), yb)
        g = torch.autograd.grad(loss, params, create_graph=True)
        hv = torch.autograd.grad(g, params, grad_outputs=v)
        for o, h in zip(out, hv):
            o.add_(h, alpha=xb.shape[0] / n)
    return out


def dot(a, b):
    return sum(float((x * y).sum()) for x, y in zip(a, b))


def normalise(v):
    s = math.sqrt(dot(v, v)) + 1e-6
    return [x / s for x in v]


def orthogonalise(v, basis):
    for b in basis:
        c = dot(v, b)
        v = [x - c * y for x, y in zip(v, b)]
    return normalise(v)


def power_top(model, params, data, k=5, max_iter=100, tol=1e-3, seed=0):
    g = torch.Generator().manual_seed(seed)
    values, vectors, products = [], [], 0
    for _ in range(k):
        v = normalise([torch.randn(p.shape, generator=g, dtype=p.dtype) for p in params])
        lam = None
        for _ in range(max_iter):
            v = orthogonalise(v, vectors)
            hv = hvp_full(model, params, data, v)
            products += 1
            new = dot(hv, v)
            v = normalise(hv)
            if lam is not None and abs(lam - new) / (abs(lam) + 1e-6) < tol:
                lam = new
                break
            lam = new
        values.append(lam)
        vectors.append(v)
    return values, products


def hutchinson(model, params, data, probes=100, seed=1):
    g = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(probes):
        v = [torch.randint(0, 2, p.shape, generator=g).to(p.dtype) * 2 - 1 for p in params]
        samples.append(dot(hvp_full(model, params, data, v), v))
    mean = statistics.fmean(samples)
    return mean, statistics.stdev(samples) / math.sqrt(len(samples)), probes


# ---- loss-landscape-style ---------------------------------------------------------------------
def filter_normalised_direction(params, g):
    d = []
    with torch.no_grad():
        for p in params:
            r = torch.randn(p.shape, generator=g, dtype=p.dtype)
            if p.dim() <= 1:
                r.zero_()  # biases and BatchNorm parameters: loss-landscape's ignore='biasbn'
            else:
                for i in range(r.shape[0]):
                    r[i] *= p[i].norm() / (r[i].norm() + 1e-10)
            d.append(r)
    return d


def plane(model, params, data, points=41, seed=2):
    g = torch.Generator().manual_seed(seed)
    d1 = filter_normalised_direction(params, g)
    d2 = filter_normalised_direction(params, g)
    theta = [p.detach().clone() for p in params]
    coords = np.linspace(-1.0, 1.0, points)
    n = sum(xb.shape[0] for xb, _ in data)
    losses = np.zeros((points, points))
    with torch.no_grad():
        for i, a in enumerate(coords):
            for j, b in enumerate(coords):
                for p, t, u, w in zip(params, theta, d1, d2):
                    p.copy_(t + float(a) * u + float(b) * w)
                total, correct = 0.0, 0
                for xb, yb in data:
                    out = model(xb)
                    total += float(F.cross_entropy(out, yb, reduction="sum"))
                    correct += int((out.argmax(-1) == yb).sum())
                losses[i, j] = total / n
        for p, t in zip(params, theta):
            p.copy_(t)
    return losses


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-results", "pytorch-baselines.json"))
    ap.add_argument("--samples", type=int, default=int(os.environ.get("LOSSCAPE_BENCH_CURVATURE_SAMPLES", 1000)))
    ap.add_argument("--plane-samples", type=int, default=int(os.environ.get("LOSSCAPE_BENCH_SAMPLES", 256)))
    ap.add_argument("--points", type=int, default=41)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--only", choices=["curvature", "plane"], action="append")
    ap.add_argument("--models", default="", help="comma-separated words; only the demo models whose tag contains one (MLP, CNN)")
    args = ap.parse_args()
    only = set(args.only or ["curvature", "plane"])
    rows = []
    picked = [w for w in args.models.split(",") if w]
    for tag, model, x, y in demo_models():
        if picked and not any(w in tag for w in picked):
            continue
        params = [p for p in model.parameters() if p.requires_grad]
        P = sum(p.numel() for p in params)
        if "curvature" in only:
            data = list(batches(x[: args.samples], y[: args.samples], args.batch_size))
            t0 = time.perf_counter()
            values, products = power_top(model, params, data)
            t_eig = time.perf_counter() - t0
            t0 = time.perf_counter()
            tr, se, probes = hutchinson(model, params, data)
            t_tr = time.perf_counter() - t0
            common = {"model": tag, "parameters": P, "samples": args.samples}
            rows.append(dict(common, name=f"PyHessian-style top-5 (power iteration, deflation), {tag}, {args.samples} samples",
                             seconds=t_eig, products=products, eigenvalues=values,
                             note=f"{products} Hessian-vector products; λ = {', '.join(f'{v:.4g}' for v in values)}"))
            rows.append(dict(common, name=f"PyHessian-style Hutchinson trace, 100 probes, {tag}, {args.samples} samples",
                             seconds=t_tr, products=probes, trace=tr, stderr=se, note=f"tr = {tr:.4g} ± {se:.2g}"))
            rows.append(dict(common, name=f"PyHessian-style top-5 + trace, {tag}, {args.samples} samples", seconds=t_eig + t_tr,
                             products=products + probes, note="the torch engine's target: ≤ 0.8× this time"))
        if "plane" in only:
            data = list(batches(x[: args.plane_samples], y[: args.plane_samples], args.batch_size))
            t0 = time.perf_counter()
            losses = plane(model, params, data, args.points)
            t_plane = time.perf_counter() - t0
            rows.append({"name": f"loss-landscape-style {args.points}×{args.points} filter-normalised plane, {tag}, {args.plane_samples} samples",
                         "seconds": t_plane, "model": tag, "parameters": P, "samples": args.plane_samples,
                         "points": args.points ** 2, "lossRange": [float(losses.min()), float(losses.max())],
                         "note": f"{args.points ** 2 / t_plane:.1f} loss evaluations/s; the torch engine's target: ≤ 1.0× this time"})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    folder = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(folder, exist_ok=True)
    report = {
        "dataFiles": {"curvature": first_samples_file(args.samples, folder), "plane": first_samples_file(args.plane_samples, folder)},
        "torch": torch.__version__, "threads": torch.get_num_threads(), "device": "cpu",
        "python": sys.version.split()[0], "peakRssBytes": peak, "rows": rows,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)
    for r in rows:
        print(f"{r['name']:<100} {r['seconds']:9.3f} s  {r.get('note', '')}")
    print(f"peak memory of the baselines process: {peak / 2**20:.0f} MiB; wrote {args.out}")


if __name__ == "__main__":
    main()
