"""The papers' losses (issue 11) in PyTorch, the torch engine's half of src/engine/losses/*.ts.

    paper_loss(name, params) -> PaperLoss

`PaperLoss` is callable `(outputs, targets) -> Tensor`:

* per-sample losses (`batch_level` False: comp_sum, gce, zloss, taylor_softmax) return one loss
  per sample, shape [n]. `outputs` are the logits h [n, K] (on a model ending in a softmax: its
  pre-softmax values, as Keras computes a cross-entropy), `targets` class indices [n] (or
  [n, 1]) or one-hot [n, K];
* batch-level losses (`batch_level` True: multi_similarity, cs_divergence, proto_triplet, icnn)
  return the batch's loss, a 0-dim tensor. `outputs` are the embeddings [n, d] (the predictions
  for cs_divergence) as they are, `targets` the labels [n] (the targets for cs_divergence). The
  objective evaluates them on fixed batches (src/engine/lossBatches.ts: a seeded permutation,
  then consecutive groups of --batch-size) and averages Σ_b n_b·L_b / n; the episode losses
  proto_triplet and icnn on seeded episodes, one per batch, laid out support then queries class
  by class (`paper_loss(name, params, episode={way, shot, query})`).

Attributes: `name`, `params` (every parameter, defaults filled in), `batch_level`, `definition`
(the formula, as recorded in results), `output_hessian(logits, targets, r) -> [n, K]` (H_ℓ r per
sample at the logits, closed form, for the Gauss–Newton matrix) or None where there is none
(the batch-level losses), and `correct(outputs, targets) -> [n]` for the classification losses.
A bad name or parameter raises ValueError with one line, the same text as the TS engine's.

Definitions (REFERENCES.md): comp-sum (Mao, Mohri & Zhong 2023)
ℓ_τ = Φ_τ(Σ_{k≠y} e^{h_k − h_y}), Φ_τ(u) = ((1+u)^{1−τ} − 1)/(1 − τ), Φ_1 = log(1+u); GCE (Zhang &
Sabuncu 2018) (1 − p_y^q)/q; Z-loss (de Brébisson & Vincent 2016) softplus(a(b − z_y))/a with z the
logits standardised by their mean and population standard deviation; log-Taylor-softmax of
order 2; multi-similarity (Wang et al. 2019) with the mining rule of MalongTech/research-ms-loss
and pytorch-metric-learning's MultiSimilarityMiner.
"""

import math

import torch
import torch.nn.functional as F

# name -> [(param, default, range text, check)]; the TS table is src/shared/lossParams.ts.
PARAMS = {
    "comp_sum": [("tau", 1.0, "[0, 2]", lambda v: 0 <= v <= 2)],
    "gce": [("q", 0.7, "(0, 1]", lambda v: 0 < v <= 1)],
    "zloss": [("a", 1.0, "(0, ∞)", lambda v: v > 0), ("b", 2.0, "(−∞, ∞)", math.isfinite)],
    "taylor_softmax": [],
    "multi_similarity": [
        ("alpha", 2.0, "(0, ∞)", lambda v: v > 0),
        ("beta", 50.0, "(0, ∞)", lambda v: v > 0),
        ("lambda", 1.0, "(−∞, ∞)", math.isfinite),
        ("epsilon", 0.1, "[0, ∞)", lambda v: v >= 0),
    ],
    "proto_triplet": [("margin", 0.5, "[0, ∞)", lambda v: v >= 0)],
    "icnn": [("k", 4.0, "{1, 2, …}", lambda v: float(v).is_integer() and v >= 1)],
    "cs_divergence": [("sigma", 1.0, "(0, ∞)", lambda v: v > 0)],
}
NAMES = tuple(PARAMS)


def resolve_params(name, given=None):
    """Every parameter of `name` with defaults filled in; ValueError (one line) on a bad key or value."""
    if name not in PARAMS:
        raise ValueError(f"unknown paper loss '{name}'; known: {', '.join(NAMES)}")
    specs = PARAMS[name]
    given = dict(given or {})
    known = [s[0] for s in specs]
    for key in given:
        if key not in known:
            what = f"its parameters: {', '.join(known)}" if known else "it takes none"
            raise ValueError(f"{name} has no parameter '{key}' ({what})")
    out = {}
    for key, default, rng, ok in specs:
        v = given.get(key, default)
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{name} needs {key} in {rng}, got {v!r}") from None
        if not math.isfinite(v) or not ok(v):
            raise ValueError(f"{name} needs {key} in {rng}, got {_num(v)}")
        out[key] = v
    return out


def _num(v):
    return int(v) if float(v).is_integer() else v


def _one_hot(targets, logits):
    K = logits.shape[-1]
    if targets.ndim == 1 or (targets.ndim == 2 and targets.shape[1] == 1 and K > 1):
        return F.one_hot(targets.reshape(-1).long(), K).to(logits.dtype)
    return targets.reshape(logits.shape).to(logits.dtype)


def _class_index(targets):
    return targets.reshape(-1).long() if targets.ndim == 1 or targets.shape[1] == 1 else targets.argmax(-1)


class PaperLoss:
    batch_level = False

    def __init__(self, name, params, definition):
        self.name = name
        self.params = params
        self.definition = definition
        self.output_hessian = None

    def __call__(self, outputs, targets):
        raise NotImplementedError

    def correct(self, outputs, targets):
        return (outputs.argmax(-1) == _class_index(targets)).to(outputs.dtype)

    def __repr__(self):
        return f"PaperLoss({self.name}, {self.params})"


class _LogPyLoss(PaperLoss):
    """ℓ = g_c(s) = −(e^{cs} − 1)/c, s = log p_y (g_0 = −s): comp_sum with c = τ − 1, gce with c = q."""

    def __init__(self, name, params, c, definition):
        super().__init__(name, params, definition)
        self.c = c
        self.output_hessian = self._hessian

    def _s(self, logits, targets):
        y = _one_hot(targets, logits)
        logp = F.log_softmax(logits, dim=-1)
        return y, (y * logp).sum(-1), logp

    def __call__(self, logits, targets):
        _, s, _ = self._s(logits, targets)
        c = self.c
        return -s if c == 0 else -torch.expm1(c * s) / c

    def _hessian(self, logits, targets, r):
        # H = −c·w·(e_y − p)(e_y − p)ᵀ + w·(diag p − ppᵀ), w = p_y^c.
        y, s, logp = self._s(logits, targets)
        p = logp.exp()
        w = torch.exp(self.c * s).unsqueeze(-1)
        fisher = p * (r - (p * r).sum(-1, keepdim=True))
        d = y - p
        return w * fisher - self.c * w * d * (d * r).sum(-1, keepdim=True)


class _ZLoss(PaperLoss):
    def __init__(self, name, params, definition):
        super().__init__(name, params, definition)
        self.output_hessian = self._hessian

    def _hessian(self, logits, targets, r):
        # u = e_y − 1/K, g = ∇z_y = (u − z_y z/K)/σ, ∇²z_y = (−(u zᵀ + z uᵀ) − z_y P + 3 z_y z zᵀ/K)/(Kσ²),
        # H = a·s(1 − s)·g gᵀ − s·∇²z_y with s = sigmoid(a(b − z_y)) (src/engine/losses/zLoss.ts).
        a, b = self.params["a"], self.params["b"]
        K = logits.shape[-1]
        y = _one_hot(targets, logits)
        u = y - 1.0 / K
        d = logits - logits.mean(-1, keepdim=True)
        var = d.pow(2).mean(-1, keepdim=True)
        sigma = torch.where(var > 0, var, torch.ones_like(var)).sqrt()
        z = torch.where(var > 0, d / sigma, torch.zeros_like(d))
        zy = (z * y).sum(-1, keepdim=True)
        s = torch.sigmoid(a * (b - zy))
        g = (u - z * zy / K) / sigma
        zr = (z * r).sum(-1, keepdim=True)
        ur = (u * r).sum(-1, keepdim=True)
        pr = r - r.mean(-1, keepdim=True)
        d2r = (-u * zr - z * ur - zy * pr + 3 * zy * z * zr / K) / (K * sigma.pow(2))
        return a * s * (1 - s) * g * (g * r).sum(-1, keepdim=True) - s * d2r

    def __call__(self, logits, targets):
        a, b = self.params["a"], self.params["b"]
        y = _one_hot(targets, logits)
        d = logits - logits.mean(-1, keepdim=True)
        var = d.pow(2).mean(-1, keepdim=True)
        # The square root of a safe variance keeps the gradient finite when every logit is equal (σ = 0, z = 0).
        sigma = torch.where(var > 0, var, torch.ones_like(var)).sqrt()
        z = torch.where(var > 0, d / sigma, torch.zeros_like(d))
        zy = (z * y).sum(-1)
        return F.softplus(a * (b - zy)) / a


def _taylor(h):
    return 1 + h + 0.5 * h * h


class _TaylorSoftmax(PaperLoss):
    def __init__(self, name, params, definition):
        super().__init__(name, params, definition)
        self.output_hessian = self._hessian

    def __call__(self, logits, targets):
        y = _one_hot(targets, logits)
        t = _taylor(logits)
        return t.sum(-1).log() - (t * y).sum(-1).log()

    def correct(self, outputs, targets):
        return (_taylor(outputs).argmax(-1) == _class_index(targets)).to(outputs.dtype)

    def _hessian(self, logits, targets, r):
        # H = diag(e_y)(t'_y² − t_y)/t_y² + I/S − t' t'ᵀ/S².
        y = _one_hot(targets, logits)
        t = _taylor(logits)
        dt = logits + 1
        S = t.sum(-1, keepdim=True)
        ty = (t * y).sum(-1, keepdim=True)
        dty = (dt * y).sum(-1, keepdim=True)
        return y * r * (dty.pow(2) - ty) / ty.pow(2) + r / S - dt * (dt * r).sum(-1, keepdim=True) / S.pow(2)


def _log1p_sum_exp(x, mask):
    """log(1 + Σ_j mask_ij e^{x_ij}) per row, stable: shifted by max(0, max masked x)."""
    masked = torch.where(mask, x, torch.full_like(x, -math.inf))
    m = masked.max(-1, keepdim=True).values.clamp(min=0).detach()
    inner = torch.exp(-m) + torch.where(mask, torch.exp(x - m), torch.zeros_like(x)).sum(-1, keepdim=True)
    return (m + inner.log()).squeeze(-1)


class _MultiSimilarity(PaperLoss):
    batch_level = True

    def correct(self, outputs, targets):
        return None

    def __call__(self, embeddings, labels):
        alpha, beta, lam, eps = (self.params[k] for k in ("alpha", "beta", "lambda", "epsilon"))
        n = embeddings.shape[0]
        e = F.normalize(embeddings.reshape(n, -1), dim=-1)
        S = e @ e.T
        g = labels.reshape(-1)
        same = g.unsqueeze(1) == g.unsqueeze(0)
        eye = torch.eye(n, dtype=torch.bool, device=S.device)
        pos = same & ~eye
        neg = ~same
        with torch.no_grad():
            # Mining on the sets before mining; an empty positive set mines no negative, and vice versa.
            min_pos = torch.where(pos, S, torch.full_like(S, math.inf)).min(-1, keepdim=True).values
            max_neg = torch.where(neg, S, torch.full_like(S, -math.inf)).max(-1, keepdim=True).values
            neg_keep = neg & (S > min_pos - eps)
            pos_keep = pos & (S < max_neg + eps)
        pos_term = _log1p_sum_exp(-alpha * (S - lam), pos_keep) / alpha
        neg_term = _log1p_sum_exp(beta * (S - lam), neg_keep) / beta
        return (pos_term + neg_term).mean()


def _episode_classes(way, shot, query, device):
    """Episode class of every position: support blocks of K, then query blocks of Q (src/engine/losses/episodes.ts)."""
    sup = torch.arange(way, device=device).repeat_interleave(shot)
    qry = torch.arange(way, device=device).repeat_interleave(query)
    return torch.cat([sup, qry])


def _pair_distances(a, b):
    """√(‖a_i − b_j‖² + 10⁻⁶), from the differences (the authors' nearest_neighbors)."""
    return ((a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(-1) + 1e-6).sqrt()


class _EpisodeLoss(PaperLoss):
    """One value per episode; the batch is one episode laid out support then queries, class by
    class (the objective's episodes, src/engine/lossBatches.ts)."""

    batch_level = True

    def __init__(self, name, params, definition, episode):
        super().__init__(name, params, definition)
        self.episode = episode

    def correct(self, outputs, targets):
        return None

    def _embeddings(self, outputs):
        way, shot, query = (self.episode[k] for k in ("way", "shot", "query"))
        n = way * (shot + query)
        if outputs.shape[0] != n:
            raise ValueError(f"{self.name}: a batch of {outputs.shape[0]} samples is not one {way}-way {shot}-shot episode with {query} queries per class ({n} samples)")
        return outputs.reshape(n, -1), way, shot, query


class _ProtoTriplet(_EpisodeLoss):
    """Mendez-Ruiz et al. 2023, as the authors' proto_triplet_loss (maumruiz/FewShot-KidneyStones,
    pro-fewshot/algorithms/icnn_loss.py): prototypes = support means; per query
    max(0, d(q, c_y) − min_{j≠y} d(q, c_j) + m), mean over queries."""

    def __call__(self, outputs, targets):
        x, way, shot, query = self._embeddings(outputs)
        protos = x[: way * shot].reshape(way, shot, -1).mean(1)
        D = _pair_distances(x[way * shot:], protos)
        cls = torch.arange(way, device=x.device).repeat_interleave(query)
        own = F.one_hot(cls, way).to(torch.bool)
        pos = D[own]
        neg = torch.where(own, torch.full_like(D, math.inf), D).min(-1).values
        return torch.relu(pos - neg + self.params["margin"]).mean()


class _ICNN(_EpisodeLoss):
    """The ICNN loss −log(score) of Mendez-Ruiz et al. 2023, the authors' modified_score on the
    whole episode (their `fullicnn`: support and queries, ipc = K + Q); the formula is in
    src/engine/losses/icnn.ts. Neighbour sets and arg-min/arg-max choices are made on the values."""

    def score(self, outputs):
        x, way, shot, query = self._embeddings(outputs)
        n = x.shape[0]
        eps = 1e-7
        cls = _episode_classes(way, shot, query, x.device)
        ipc = shot + query
        k0 = int(self.params["k"])
        k = n - 2 if k0 + 2 >= n else k0
        kk = min(k, ipc)
        D = _pair_distances(x, x)
        with torch.no_grad():
            # Ascending, ties by index (a stable sort), own sample last.
            eye = torch.eye(n, dtype=torch.bool, device=D.device)
            key = torch.where(eye, torch.full_like(D, math.inf), D.detach())
            order = torch.sort(key, dim=1, stable=True).indices[:, :ipc]
        Dn = D.gather(1, order)
        same = cls[order] == cls.unsqueeze(1)
        with torch.no_grad():
            other = ~same
            has_nu = other.any(1)
            nu_at = torch.where(has_nu, other.to(torch.int64).argmax(1), torch.zeros_like(has_nu, dtype=torch.int64))
        nu = Dn.gather(1, nu_at.unsqueeze(1))
        inv = has_nu.to(x.dtype).unsqueeze(1) / (nu + eps)
        first = Dn[:, :kk]
        nd = first * inv
        with torch.no_grad():
            over = (nd[:, kk - 1] > 1).to(x.dtype).unsqueeze(1)
        ndn = nd / (nd[:, kk - 1 : kk] * over + (1 - over))
        sc = same[:, :kk].to(x.dtype)
        s_count = sc.sum(1)
        o_count = kk - s_count
        sc_sum = (ndn * sc).sum(1) / (s_count + eps)
        lam_sc = 1 - sc_sum.sum() / (int((s_count > 0).sum()) + eps)
        if bool((o_count > 0).any()):
            with torch.no_grad():
                at = torch.where(sc > 0, torch.full_like(first, -math.inf), first.detach()).reshape(-1).argmax()
            d_max = first.reshape(-1)[at]
            dcn = first * (1 - sc) / (d_max + eps)
            lam_dc = (dcn.sum(1) / (o_count + eps)).sum() / (int((o_count > 0).sum()) + eps)
        else:
            lam_dc = torch.ones((), dtype=x.dtype, device=x.device)
        gamma = float(s_count.sum()) / k / n if k + 2 < n else 1.0
        return ((lam_sc + lam_dc) / 2 + gamma) / 2

    def __call__(self, outputs, targets):
        return -torch.log(self.score(outputs))


def _log_sum_kernel(a, b, sigma):
    return torch.logsumexp((-(a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(-1) / (2 * sigma * sigma)).reshape(-1), 0)


class _CSDivergence(PaperLoss):
    """Cauchy–Schwarz divergence of the batch's targets and predictions (Yu et al. 2024): log Σκ(y,y)
    + log Σκ(ŷ,ŷ) − 2 log Σκ(y,ŷ), κ(a, b) = exp(−‖a − b‖²/(2σ²)) (src/engine/losses/csDivergence.ts)."""

    batch_level = True

    def correct(self, outputs, targets):
        return None

    def __call__(self, outputs, targets):
        n = outputs.shape[0]
        q = outputs.reshape(n, -1)
        p = targets.reshape(q.shape).to(q.dtype)
        s = self.params["sigma"]
        return _log_sum_kernel(p, p, s) + _log_sum_kernel(q, q, s) - 2 * _log_sum_kernel(p, q, s)


EPISODE_LOSSES = ("proto_triplet", "icnn")


def paper_loss(name, params=None, episode=None):
    """The paper loss `name` with `params` (see the module docstring); ValueError on bad input.
    The episode losses need `episode` = {way, shot, query} (the layout of every batch)."""
    p = resolve_params(name, params)
    if name in EPISODE_LOSSES:
        if not episode:
            raise ValueError(f"{name} is an episode loss: pass --episode N,K,Q[,E]")
        shape = {k: int(episode[k]) for k in ("way", "shot", "query")}
        w, s_, q_ = shape["way"], shape["shot"], shape["query"]
        if name == "proto_triplet":
            return _ProtoTriplet(name, p, f"proto_triplet (Mendez-Ruiz et al. 2023, as in the authors' code), margin m = {_num(p['margin'])}: on each {w}-way {s_}-shot episode with {q_} queries per class, prototypes = support means; ℓ_q = max(0, d(q, c_y) − min_{{j≠y}} d(q, c_j) + m), d(a, b) = √(‖a − b‖² + 10⁻⁶); mean over queries, then over the fixed seeded episodes.", shape)
        return _ICNN(name, p, f"icnn (Mendez-Ruiz et al. 2023, the ICNN loss as in the authors' code, support and queries together), k = {_num(p['k'])}: on each {w}-way {s_}-shot episode with {q_} queries per class, ℓ = −log(((λ_sc + λ_dc)/2 + γ)/2) over each sample's K + Q nearest neighbours (src/engine/losses/icnn.ts); mean over the fixed seeded episodes.", shape)
    if name == "cs_divergence":
        return _CSDivergence(name, p, f"cs_divergence (Cauchy–Schwarz divergence, Yu et al. 2024), σ = {_num(p['sigma'])}: log Σκ(y_i, y_j) + log Σκ(ŷ_i, ŷ_j) − 2 log Σκ(y_i, ŷ_j), κ(a, b) = exp(−‖a − b‖²/(2σ²)), within each fixed seeded batch (natural log).")
    if name == "comp_sum":
        tau = p["tau"]
        return _LogPyLoss(name, p, tau - 1, f"comp_sum (Mao, Mohri & Zhong 2023), τ = {_num(tau)}: ℓ = Φ_τ(Σ_{{k≠y}} exp(h_k − h_y)), Φ_τ(u) = ((1+u)^{{1−τ}} − 1)/(1 − τ), Φ_1(u) = log(1+u); h the logits.")
    if name == "gce":
        q = p["q"]
        return _LogPyLoss(name, p, q, f"gce (Zhang & Sabuncu 2018), q = {_num(q)}: ℓ = (1 − p_y^q)/q, p = softmax(h).")
    if name == "zloss":
        return _ZLoss(name, p, f"zloss (de Brébisson & Vincent 2016), a = {_num(p['a'])}, b = {_num(p['b'])}: z = (h − mean h)/std h (population std; z = 0 when it is 0), ℓ = softplus(a(b − z_y))/a. GGN: H_ℓ at the logits in closed form, a·s(1 − s)·g gᵀ − s·∇²z_y with s = sigmoid(a(b − z_y)), g = ∇z_y (indefinite in general).")
    if name == "taylor_softmax":
        return _TaylorSoftmax(name, p, "taylor_softmax (order 2): ℓ = −log(t(h_y)/Σ_k t(h_k)), t(x) = 1 + x + x²/2.")
    return _MultiSimilarity(
        name,
        p,
        f"multi_similarity (Wang et al. 2019), α = {_num(p['alpha'])}, β = {_num(p['beta'])}, λ = {_num(p['lambda'])}, ε = {_num(p['epsilon'])}: cosine similarities within the batch, "
        "negatives kept when S_ik > min_P S_ij − ε, positives when S_ij < max_N S_ik + ε; ℓ_i = (1/α) log(1 + Σ_P e^{−α(S_ij − λ)}) + (1/β) log(1 + Σ_N e^{β(S_ik − λ)}), mean over anchors. "
        "Batch-level: no per-sample loss Hessian, no GGN or empirical Fisher.",
    )
