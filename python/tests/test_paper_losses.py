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


def episode_classes(way, shot, query):
    return [c for c in range(way) for _ in range(shot)] + [c for c in range(way) for _ in range(query)]


def episode_embeddings(ep, d, seed, spread=1.0):
    g = torch.Generator().manual_seed(seed)
    centre = spread * torch.randn(ep["way"], d, generator=g, dtype=torch.float64)
    cls = torch.tensor(episode_classes(ep["way"], ep["shot"], ep["query"]))
    return centre[cls] + torch.randn(cls.numel(), d, generator=g, dtype=torch.float64)


def dist_ref(a, b):
    return math.sqrt(sum((u - v) ** 2 for u, v in zip(a, b)) + 1e-6)


def proto_triplet_ref(emb, way, shot, query, margin):
    """Mendez-Ruiz et al. 2023 (the authors' proto_triplet_loss): support means as prototypes;
    per query max(0, d(q, c_y) − min_{j≠y} d(q, c_j) + m), mean over queries."""
    d = len(emb[0])
    protos = [[sum(emb[c * shot + s][i] for s in range(shot)) / shot for i in range(d)] for c in range(way)]
    total = 0.0
    for c in range(way):
        for q in range(query):
            x = emb[way * shot + c * query + q]
            neg = min(dist_ref(x, p) for j, p in enumerate(protos) if j != c)
            total += max(0.0, dist_ref(x, protos[c]) - neg + margin)
    return total / (way * query)


def icnn_score_ref(emb, way, shot, query, k0):
    """The authors' modified_score on a whole episode (support and queries, ipc = K + Q), step by
    step: top-(ipc + 1) nearest including the sample itself, first column dropped; ν the smallest
    nonzero other-class distance; rows over max(1, row max) of the first k; other-class distances
    over their global maximum; γ from same-class counts."""
    y = episode_classes(way, shot, query)
    n, eps, ipc = len(emb), 1e-7, shot + query
    k = n - 2 if k0 + 2 >= n else k0
    D, C = [], []
    for i in range(n):
        ranked = sorted(range(n), key=lambda j: (dist_ref(emb[i], emb[j]), j != i, j))[1 : ipc + 1]
        D.append([dist_ref(emb[i], emb[j]) for j in ranked])
        C.append([1 if y[j] == y[i] else 0 for j in ranked])
    kk = min(k, ipc)
    others = [D[i][j] for i in range(n) for j in range(kk) if not C[i][j]]
    dc_max = max(others, default=0.0)
    sc_num = dc_num = 0.0
    sc_rows = dc_rows = 0
    same_total = 0.0
    for i in range(n):
        nz = [v for v, c in zip(D[i], C[i]) if not c]
        nu = min(nz) if nz else math.inf
        nd = [v / (nu + eps) for v in D[i][:kk]]
        norm = max([1.0] + nd)
        s_cnt = sum(C[i][:kk])
        o_cnt = kk - s_cnt
        sc_num += sum(nd[j] / norm for j in range(kk) if C[i][j]) / (s_cnt + eps)
        dc_num += sum(D[i][j] / (dc_max + eps) for j in range(kk) if not C[i][j]) / (o_cnt + eps)
        sc_rows += s_cnt > 0
        dc_rows += o_cnt > 0
        same_total += s_cnt / k
    lam_sc = 1 - sc_num / (sc_rows + eps)
    lam_dc = abs(dc_num / (dc_rows + eps) + (0 if others else -1))
    gamma = same_total / n if k + 2 < n else 1.0
    return ((lam_sc + lam_dc) / 2 + gamma) / 2


def cs_divergence_ref(pred, target, sigma):
    def kern(a, b):
        return math.exp(-sum((u - v) ** 2 for u, v in zip(a, b)) / (2 * sigma * sigma))

    def total(A, B):
        return sum(kern(a, b) for a in A for b in B)

    return math.log(total(target, target)) + math.log(total(pred, pred)) - 2 * math.log(total(target, pred))


EPISODES = [{"way": 2, "shot": 1, "query": 1}, {"way": 3, "shot": 2, "query": 2}, {"way": 5, "shot": 1, "query": 3}, {"way": 4, "shot": 3, "query": 1}]


def test_proto_triplet_matches_hand_computation_edges_and_gradients():
    for t, ep in enumerate(EPISODES):
        for margin in (0, 0.5, 2):
            emb = episode_embeddings(ep, 4, 10 + t, 0.8)
            got = paper_loss("proto_triplet", {"margin": margin}, ep)(emb, None)
            close(float(got), proto_triplet_ref(emb.tolist(), ep["way"], ep["shot"], ep["query"], margin), 1e-12, f"{ep} m={margin}")
    ep = EPISODES[1]
    loss = paper_loss("proto_triplet", {}, ep)
    assert float(loss(episode_embeddings(ep, 3, 4, 100.0), None)) == 0.0
    close(float(loss(torch.ones(12, 3, dtype=torch.float64), None)), 0.5, 1e-12, "coincident embeddings: the margin")
    emb = episode_embeddings(ep, 3, 21, 0.6).requires_grad_()
    assert torch.autograd.gradcheck(lambda e: paper_loss("proto_triplet", {"margin": 1}, ep)(e, None), (emb,), eps=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="is not one 3-way 2-shot episode"):
        loss(torch.ones(11, 3, dtype=torch.float64), None)


def test_icnn_matches_the_authors_procedure_and_gradients():
    for t, ep in enumerate(EPISODES):
        for k in (1, 4, 10):
            for spread in (0.3, 1.5):
                emb = episode_embeddings(ep, 5, 30 + t, spread)
                loss = paper_loss("icnn", {"k": k}, ep)
                ref = icnn_score_ref(emb.tolist(), ep["way"], ep["shot"], ep["query"], k)
                close(float(loss.score(emb)), ref, 1e-12, f"{ep} k={k} spread={spread}")
                close(float(loss(emb, None)), -math.log(ref), 1e-12, "loss = −log(score)")
    sep = {"way": 2, "shot": 2, "query": 3}
    emb = episode_embeddings(sep, 3, 5, 1000.0)
    close(float(paper_loss("icnn", {}, sep).score(emb)), icnn_score_ref(emb.tolist(), 2, 2, 3, 4), 1e-12, "no other-class neighbour")
    ep = EPISODES[1]
    e = episode_embeddings(ep, 3, 41, 0.7).requires_grad_()
    assert torch.autograd.gradcheck(lambda x: paper_loss("icnn", {}, ep)(x, None), (e,), eps=1e-6, atol=1e-6)


def test_cs_divergence_matches_hand_computation_and_is_zero_for_a_permutation():
    g = torch.Generator().manual_seed(8)
    for n, m in ((6, 1), (9, 3)):
        for sigma in (0.3, 1, 4):
            y = torch.randn(n, m, generator=g, dtype=torch.float64)
            p = 1.5 * torch.randn(n, m, generator=g, dtype=torch.float64)
            got = float(paper_loss("cs_divergence", {"sigma": sigma})(p, y))
            close(got, cs_divergence_ref(p.tolist(), y.tolist(), sigma), 1e-12, f"n={n} m={m} σ={sigma}")
            assert got >= -1e-12
    y = torch.randn(7, 2, generator=g, dtype=torch.float64)
    assert abs(float(paper_loss("cs_divergence", {})(y[torch.tensor([3, 0, 6, 1, 5, 2, 4])], y))) < 1e-12
    far = y + 12
    close(float(paper_loss("cs_divergence", {})(far, y)), cs_divergence_ref(far.tolist(), y.tolist(), 1.0), 1e-10, "far")
    p = torch.randn(6, 2, generator=g, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(lambda q: paper_loss("cs_divergence", {"sigma": 0.8})(q, y[:6]), (p,), eps=1e-6, atol=1e-6)


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
        ("nope", {}, "unknown paper loss 'nope'; known: comp_sum, gce, zloss, taylor_softmax, multi_similarity, proto_triplet, icnn, cs_divergence"),
        ("proto_triplet", {"margin": -1}, "proto_triplet needs margin in [0, ∞), got -1"),
        ("icnn", {"k": 2.5}, "icnn needs k in {1, 2, …}, got 2.5"),
        ("icnn", {}, "icnn is an episode loss: pass --episode N,K,Q[,E]"),
        ("cs_divergence", {"sigma": 0}, "cs_divergence needs sigma in (0, ∞), got 0"),
    ],
)
def test_bad_names_and_parameters_are_one_line(name, params, message):
    with pytest.raises(ValueError) as e:
        paper_loss(name, params)
    assert str(e.value) == message


def test_defaults():
    assert resolve_params("multi_similarity") == MS
    assert resolve_params("proto_triplet") == {"margin": 0.5}
    assert resolve_params("icnn") == {"k": 4.0}
    assert resolve_params("cs_divergence") == {"sigma": 1.0}
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
    ep = {"way": 3, "shot": 2, "query": 2}
    emb = episode_embeddings(ep, 4, 23, 0.8)
    for name, params in [("proto_triplet", {"margin": 0.5}), ("proto_triplet", {"margin": 2}), ("icnn", {"k": 4}), ("icnn", {"k": 2})]:
        cases.append({"name": name, "params": params, "episode": ep, "outputs": emb.tolist(), "targets": [0.0] * emb.shape[0]})
    cases.append({"name": "cs_divergence", "params": {"sigma": 0.7}, "outputs": h.tolist(), "targets": (h[torch.randperm(7, generator=g)] + 0.5 * torch.randn(7, 4, generator=g, dtype=torch.float64)).tolist()})
    run = subprocess.run([npx, "tsx", os.path.join("test", "crossEngine", "paperLossesTfjs.ts")], cwd=ROOT, input=json.dumps(cases), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    tfjs = json.loads(run.stdout)
    for case, got in zip(cases, tfjs):
        loss = paper_loss(case["name"], case["params"], case.get("episode"))
        out = torch.tensor(case["outputs"], dtype=torch.float64)
        z = out.clone().requires_grad_()
        v = loss(z, torch.tensor(case["targets"]) if case["name"] != "cs_divergence" else torch.tensor(case["targets"], dtype=torch.float64))
        (v if loss.batch_level else v.sum()).backward()
        ours = [float(v)] * out.shape[0] if loss.batch_level else v.tolist()
        for a, b in zip(got["values"], ours):
            close(a, b, 2e-6, f"{case['name']} value")
        assert torch.allclose(torch.tensor(got["grad"], dtype=torch.float64), z.grad, rtol=1e-4, atol=2e-6), case["name"]
