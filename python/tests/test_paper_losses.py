"""python/losscape_torch/paper_losses.py against float64 hand computations written from the
definitions (plain Python math, independent of torch), pytorch-metric-learning's
MultiSimilarityLoss with its MultiSimilarityMiner, and the TF.js engine's losses on the same
numbers (values and gradients between the engines)."""

import json
import math
import os
import shutil
import subprocess

import pytest
import torch

from losscape_torch.paper_losses import paper_loss, resolve_params

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def lse(h):
    m = max(h)
    return m + math.log(sum(math.exp(v - m) for v in h))


def comp_sum_ref(h, y, tau):
    u = sum(math.exp(v - h[y]) for k, v in enumerate(h) if k != y)
    return math.log1p(u) if tau == 1 else ((1 + u) ** (1 - tau) - 1) / (1 - tau)


def gce_ref(h, y, q):
    return (1 - math.exp(h[y] - lse(h)) ** q) / q


def zloss_ref(h, y, a, b):
    K = len(h)
    mu = sum(h) / K
    sd = math.sqrt(sum((v - mu) ** 2 for v in h) / K)
    z = 0.0 if sd == 0 else (h[y] - mu) / sd
    x = a * (b - z)
    return (max(x, 0) + math.log1p(math.exp(-abs(x)))) / a


def taylor_ref(h, y):
    t = [1 + v + v * v / 2 for v in h]
    return -math.log(t[y] / sum(t))


def ms_ref(emb, labels, alpha, beta, lam, eps):
    n = len(emb)
    unit = [[v / max(math.sqrt(sum(x * x for x in e)), 1e-12) for v in e] for e in emb]
    S = [[sum(a * b for a, b in zip(u, w)) for w in unit] for u in unit]
    total = 0.0
    for i in range(n):
        P = [j for j in range(n) if j != i and labels[j] == labels[i]]
        N = [k for k in range(n) if labels[k] != labels[i]]
        min_pos = min((S[i][j] for j in P), default=math.inf)
        max_neg = max((S[i][k] for k in N), default=-math.inf)
        kp = [j for j in P if S[i][j] < max_neg + eps]
        kn = [k for k in N if S[i][k] > min_pos - eps]
        total += math.log1p(sum(math.exp(-alpha * (S[i][j] - lam)) for j in kp)) / alpha
        total += math.log1p(sum(math.exp(beta * (S[i][k] - lam)) for k in kn)) / beta
    return total / n


def batches():
    g = torch.Generator().manual_seed(3)
    return [
        (2 * torch.randn(6, 5, generator=g, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 4, 0])),
        (torch.tensor([[8.0, -2, 1], [-3, 4, 0.5], [0, 0, 0]], dtype=torch.float64), torch.tensor([0, 2, 1])),
        (torch.tensor([[60.0, -40, 5], [-30, 30, 29.5]], dtype=torch.float64), torch.tensor([1, 2])),
    ]


def close(a, b, tol, what):
    assert abs(a - b) <= tol * max(1.0, abs(b)), f"{what}: {a} vs {b}"


@pytest.mark.parametrize("tau", [0, 0.5, 1, 1.5, 2])
def test_comp_sum_matches_phi_tau_and_closed_forms(tau):
    loss = paper_loss("comp_sum", {"tau": tau})
    assert not loss.batch_level and loss.params == {"tau": float(tau)}
    for h, y in batches():
        got = loss(h, y)
        assert got.shape == (h.shape[0],)
        for i in range(h.shape[0]):
            row, c = h[i].tolist(), int(y[i])
            ref = comp_sum_ref(row, c, tau)
            if math.isfinite(ref) and ref < 1e300:
                close(float(got[i]), ref, 1e-10, f"τ={tau} sample {i}")
            p = math.exp(row[c] - lse(row))
            if tau == 1:
                close(float(got[i]), lse(row) - row[c], 1e-12, "τ = 1 is cross-entropy")
            if tau == 2:
                close(float(got[i]), 1 - p, 1e-12, "τ = 2 is 1 − p_y")
            if tau == 0 and 1 / p < 1e300:
                close(float(got[i]), 1 / p - 1, 1e-10, "τ = 0 is the sum-exponential loss")


def test_comp_sum_tau_1_is_torch_cross_entropy_and_gce_tends_to_it():
    h, y = batches()[0]
    ce = torch.nn.functional.cross_entropy(h, y, reduction="none")
    assert torch.allclose(paper_loss("comp_sum", {"tau": 1})(h, y), ce, rtol=1e-12, atol=0)
    gaps = [float((paper_loss("gce", {"q": q})(h, y) - ce).abs().max()) for q in (1e-1, 1e-2, 1e-3, 1e-4)]
    assert all(b < a for a, b in zip(gaps, gaps[1:])), gaps
    assert gaps[-1] < 1e-3 * float(ce.max() ** 2)


@pytest.mark.parametrize("q", [1, 0.7, 0.1])
def test_gce(q):
    loss = paper_loss("gce", {"q": q})
    for h, y in batches():
        got = loss(h, y)
        for i in range(h.shape[0]):
            close(float(got[i]), gce_ref(h[i].tolist(), int(y[i]), q), 1e-10, f"q={q} sample {i}")


def test_zloss_values_invariance_and_zero_std():
    for a, b in [(1, 2), (3, 0.5), (0.2, -1)]:
        loss = paper_loss("zloss", {"a": a, "b": b})
        for h, y in batches():
            got = loss(h, y)
            for i in range(h.shape[0]):
                close(float(got[i]), zloss_ref(h[i].tolist(), int(y[i]), a, b), 1e-12, f"a={a} b={b}")
            assert torch.allclose(loss(3.5 * h - 7, y), got, rtol=1e-10, atol=1e-12)
    tie = torch.full((1, 3), 0.3, dtype=torch.float64, requires_grad=True)
    v = paper_loss("zloss", {"a": 2, "b": 1})(tie, torch.tensor([1]))
    close(float(v.detach()), math.log1p(math.exp(2)) / 2, 1e-12, "σ = 0: z = 0")
    v.sum().backward()
    assert torch.isfinite(tie.grad).all()


def test_taylor_softmax():
    loss = paper_loss("taylor_softmax", {})
    for h, y in batches():
        got = loss(h, y)
        for i in range(h.shape[0]):
            close(float(got[i]), taylor_ref(h[i].tolist(), int(y[i])), 1e-12, f"sample {i}")
    assert loss.correct(torch.tensor([[-4.0, 1, 0]]), torch.tensor([0])).tolist() == [1.0]


@pytest.mark.parametrize("name,params", [("comp_sum", {"tau": 0.3}), ("comp_sum", {"tau": 1.6}), ("gce", {"q": 0.7}), ("taylor_softmax", {}), ("zloss", {"a": 1.5, "b": 2}), ("zloss", {"a": 4, "b": -0.5})])
def test_output_hessian_is_the_autograd_hessian(name, params):
    loss = paper_loss(name, params)
    h, y = batches()[0]
    K = h.shape[1]
    for i in range(h.shape[0]):
        H = torch.autograd.functional.hessian(lambda z: loss(z.unsqueeze(0), y[i : i + 1]).sum(), h[i])
        cols = torch.stack([loss.output_hessian(h[i : i + 1], y[i : i + 1], torch.eye(K, dtype=h.dtype)[k : k + 1])[0] for k in range(K)], 1)
        assert torch.allclose(cols, H, rtol=1e-9, atol=1e-12), f"{name} sample {i}"


def test_gradients_are_float64_central_differences():
    h, y = batches()[1]
    for name, params in [("comp_sum", {"tau": 0.5}), ("gce", {"q": 0.7}), ("zloss", {"a": 1.5, "b": 2}), ("taylor_softmax", {})]:
        loss = paper_loss(name, params)
        assert torch.autograd.gradcheck(lambda z: loss(z, y[:2]), (h[:2].clone().requires_grad_(),), eps=1e-6, atol=1e-6)


MS = {"alpha": 2.0, "beta": 50.0, "lambda": 1.0, "epsilon": 0.1}


def test_multi_similarity_matches_hand_computation_and_is_zero_without_mined_pairs():
    g = torch.Generator().manual_seed(5)
    for trial in range(5):
        n = 6 + trial
        emb = torch.randn(n, 4, generator=g, dtype=torch.float64)
        labels = torch.arange(n) % 3
        for p in (MS, {"alpha": 1, "beta": 10, "lambda": 0.5, "epsilon": 0.3}):
            loss = paper_loss("multi_similarity", p)
            assert loss.batch_level and loss(emb, labels).ndim == 0
            ref = ms_ref(emb.tolist(), labels.tolist(), *(float(p[k]) for k in ("alpha", "beta", "lambda", "epsilon")))
            close(float(loss(emb, labels)), ref, 1e-12, f"trial {trial}")
    emb = torch.tensor([[1.0, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], dtype=torch.float64)
    loss = paper_loss("multi_similarity", {})
    for labels in ([0, 0, 0, 0], [0, 1, 2, 3], [0, 0, 1, 1]):
        assert float(loss(emb, torch.tensor(labels))) == 0.0, labels
    assert loss.output_hessian is None


def test_multi_similarity_equals_pytorch_metric_learning():
    from pytorch_metric_learning import losses as pml_losses
    from pytorch_metric_learning.miners import MultiSimilarityMiner

    g = torch.Generator().manual_seed(9)
    for trial, (alpha, beta, base, eps) in enumerate([(2, 50, 1, 0.1), (2, 50, 0.5, 0.1), (1, 10, 0.5, 0.4)]):
        emb = torch.randn(24, 8, generator=g, dtype=torch.float64)
        labels = torch.randint(0, 4, (24,), generator=g)
        miner = MultiSimilarityMiner(epsilon=eps)
        ref_loss = pml_losses.MultiSimilarityLoss(alpha=alpha, beta=beta, base=base)
        ref = ref_loss(emb, labels, miner(emb, labels))
        ours = paper_loss("multi_similarity", {"alpha": alpha, "beta": beta, "lambda": base, "epsilon": eps})(emb, labels)
        close(float(ours), float(ref), 1e-10, f"trial {trial}")
        # Gradients agree too.
        e1 = emb.clone().requires_grad_()
        e2 = emb.clone().requires_grad_()
        ref_loss(e1, labels, miner(e1, labels)).backward()
        paper_loss("multi_similarity", {"alpha": alpha, "beta": beta, "lambda": base, "epsilon": eps})(e2, labels).backward()
        assert torch.allclose(e1.grad, e2.grad, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(
    "name,params,message",
    [
        ("comp_sum", {"tau": 2.5}, "comp_sum needs tau in [0, 2], got 2.5"),
        ("comp_sum", {"tau": -0.1}, "comp_sum needs tau in [0, 2], got -0.1"),
        ("gce", {"q": 0}, "gce needs q in (0, 1], got 0"),
        ("zloss", {"a": 0}, "zloss needs a in (0, ∞), got 0"),
        ("comp_sum", {"q": 1}, "comp_sum has no parameter 'q' (its parameters: tau)"),
        ("nope", {}, "unknown paper loss 'nope'; known: comp_sum, gce, zloss, taylor_softmax, multi_similarity"),
    ],
)
def test_bad_names_and_parameters_are_one_line(name, params, message):
    with pytest.raises(ValueError) as e:
        paper_loss(name, params)
    assert str(e.value) == message


def test_defaults():
    assert resolve_params("multi_similarity") == MS
    assert resolve_params("zloss") == {"a": 1.0, "b": 2.0}
    assert resolve_params("gce") == {"q": 0.7}


def test_values_and_gradients_agree_with_the_tfjs_engine():
    """The TF.js engine (float32) on the same numbers: values and gradients to float32 accuracy."""
    npx = shutil.which("npx")
    if npx is None or not os.path.isdir(os.path.join(ROOT, "node_modules", "tsx")):
        pytest.fail("node/npx with the repository's node_modules is needed for the cross-engine check")
    g = torch.Generator().manual_seed(21)
    cases = []
    h = 1.5 * torch.randn(7, 4, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2])
    for name, params in [("comp_sum", {"tau": 0.5}), ("comp_sum", {"tau": 1.5}), ("gce", {"q": 0.7}), ("zloss", {"a": 1, "b": 2}), ("taylor_softmax", {}), ("multi_similarity", {"alpha": 2, "beta": 5, "lambda": 0.5, "epsilon": 0.3})]:
        cases.append({"name": name, "params": params, "outputs": h.tolist(), "targets": y.tolist()})
    run = subprocess.run([npx, "tsx", os.path.join("test", "crossEngine", "paperLossesTfjs.ts")], cwd=ROOT, input=json.dumps(cases), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    tfjs = json.loads(run.stdout)
    for case, got in zip(cases, tfjs):
        loss = paper_loss(case["name"], case["params"])
        z = h.clone().requires_grad_()
        v = loss(z, y)
        (v if loss.batch_level else v.sum()).backward()
        ours = [float(v)] * h.shape[0] if loss.batch_level else v.tolist()
        for a, b in zip(got["values"], ours):
            close(a, b, 2e-6, f"{case['name']} value")
        assert torch.allclose(torch.tensor(got["grad"], dtype=torch.float64), z.grad, rtol=1e-4, atol=2e-6), case["name"]
