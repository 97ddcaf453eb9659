"""Losses: the shared loss table's names (src/shared/lossNames.ts EngineLossName) with the
TF.js engine's reduction (the mean over samples of a per-sample loss that is itself a mean over
output units, Keras's convention) in their PyTorch definitions, user loss modules
(`loss.py:NAME`) and the papers' losses (paper_losses.py)."""

import math

from .errors import InputError, describe
from .user_code import accepts_keyword, call_user, lookup

# Keras's epsilon for clipping probabilities (the TF.js engine's EPS); logits are never clipped.
EPS = 1e-7
BUILTIN = ("categorical_crossentropy", "binary_crossentropy", "mse", "mae", "huber", "hinge")
CLOSED_FORM = {"categorical_crossentropy", "binary_crossentropy", "mse", "huber"}


def _mean_trailing(t):
    return t if t.ndim == 1 else t.reshape(t.shape[0], -1).mean(-1)


class Loss:
    """per_sample(out, y) → [b]; batch_sum(out, y) → scalar Σ over the batch; correct → [b] or None."""

    name = "custom"
    from_logits = False
    classification = False
    per_sample_native = True
    description = ""

    def per_sample(self, out, y):
        raise NotImplementedError

    def batch_sum(self, out, y):
        return self.per_sample(out, y).sum()

    def correct(self, out, y):
        return None

    def to_json(self):
        return {
            "name": self.name,
            "fromLogits": self.from_logits,
            "classification": self.classification,
            "description": self.description,
            "perSample": self.per_sample_native,
        }


class Builtin(Loss):
    def __init__(self, torch, name, from_logits):
        self.torch = torch
        self.F = torch.nn.functional
        self.name = name
        self.from_logits = bool(from_logits) if name in ("categorical_crossentropy", "binary_crossentropy") else False
        self.classification = name in ("categorical_crossentropy", "binary_crossentropy")
        self.description = {
            "categorical_crossentropy": "torch.nn.functional.cross_entropy on logits" if self.from_logits
            else "−Σ y log clip(p/Σp, 1e−7, 1−1e−7) (Keras categorical cross-entropy on probabilities)",
            "binary_crossentropy": "torch.nn.functional.binary_cross_entropy_with_logits, mean over outputs" if self.from_logits
            else "binary cross-entropy of clip(p, 1e−7, 1−1e−7), mean over outputs",
            "mse": "torch.nn.functional.mse_loss, mean over outputs",
            "mae": "torch.nn.functional.l1_loss, mean over outputs",
            "huber": "torch.nn.functional.huber_loss (δ = 1), mean over outputs",
            "hinge": "mean(max(1 − y·ŷ, 0)), labels {0,1} → {−1,1} (Keras hinge)",
        }[name]

    def _labels_are_indices(self, out, y):
        return y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and out.shape[-1] > 1)

    def per_sample(self, out, y):
        torch, F = self.torch, self.F
        if self.name == "categorical_crossentropy":
            out2 = out.reshape(out.shape[0], -1)
            if self._labels_are_indices(out2, y):
                idx = y.reshape(-1).long()
                if self.from_logits:
                    return F.cross_entropy(out2, idx, reduction="none")
                onehot = F.one_hot(idx, out2.shape[-1]).to(out2.dtype)
            else:
                onehot = y.reshape(out2.shape).to(out2.dtype)
            if self.from_logits:
                logp = F.log_softmax(out2, dim=-1)
            else:
                logp = torch.log((out2 / out2.sum(-1, keepdim=True)).clamp(EPS, 1 - EPS))
            return -(onehot * logp).sum(-1)
        yy = y.reshape(out.shape).to(out.dtype)
        if self.name == "binary_crossentropy":
            if self.from_logits:
                return _mean_trailing(F.binary_cross_entropy_with_logits(out, yy, reduction="none"))
            p = out.clamp(EPS, 1 - EPS)
            return _mean_trailing(-(yy * torch.log(p) + (1 - yy) * torch.log(1 - p)))
        if self.name == "mse":
            return _mean_trailing(F.mse_loss(out, yy, reduction="none"))
        if self.name == "mae":
            return _mean_trailing(F.l1_loss(out, yy, reduction="none"))
        if self.name == "huber":
            return _mean_trailing(F.huber_loss(out, yy, reduction="none", delta=1.0))
        if self.name == "hinge":
            s = torch.where(yy == 0, -torch.ones_like(yy), yy)
            return _mean_trailing(torch.relu(1 - s * out))
        raise AssertionError(self.name)

    def correct(self, out, y):
        torch = self.torch
        if self.name == "categorical_crossentropy":
            out2 = out.reshape(out.shape[0], -1)
            truth = y.reshape(-1).long() if self._labels_are_indices(out2, y) else y.reshape(out2.shape).argmax(-1)
            return (out2.argmax(-1) == truth).to(torch.float64)
        if self.name == "binary_crossentropy":
            pred = out.reshape(out.shape[0], -1) > (0.0 if self.from_logits else 0.5)
            truth = y.reshape(out.shape[0], -1) > 0.5
            return (pred == truth).all(-1).to(torch.float64)
        return None


class UserLoss(Loss):
    """A function (outputs, targets) or an nn.Module class from a user's file. Per-sample values
    come from reduction='none' when it accepts it; a scalar result is the batch mean, and then
    per-sample values take one call per sample."""

    def __init__(self, torch, fn, path, name, native):
        self.torch = torch
        self.fn = fn
        self.path = path
        self.label = name
        self.name = "custom"
        self.per_sample_native = native
        self.description = f"{name} from {path}" + ("" if native else " (one call per sample for per-sample values)")

    def _call(self, out, y):
        try:
            v = self.fn(out, y)
        except Exception as e:
            raise InputError(self.path, f"the loss {self.label} raised {describe(e)} (outputs {list(out.shape)}, targets {list(y.shape)})")
        if not self.torch.is_tensor(v):
            raise InputError(self.path, f"the loss {self.label} returned a {type(v).__name__}, not a tensor")
        return v

    def _check(self, v, b):
        if v.ndim == 0:
            return v
        if v.shape[0] != b:
            raise InputError(self.path, f"the loss {self.label} returned shape {list(v.shape)}, expected [{b}] (one loss per sample) or a scalar")
        return _mean_trailing(v)

    def per_sample(self, out, y):
        b = out.shape[0]
        v = self._check(self._call(out, y), b)
        if v.ndim == 1:
            return v.to(out.dtype)
        # A scalar is the batch mean: per-sample values need one call per sample.
        parts = [self._check(self._call(out[i:i + 1], y[i:i + 1]), 1).reshape(1) for i in range(b)]
        return self.torch.cat(parts).to(out.dtype)

    def batch_sum(self, out, y):
        b = out.shape[0]
        v = self._check(self._call(out, y), b)
        return v.sum() if v.ndim == 1 else v * b


class PaperLoss(UserLoss):
    """A loss of paper_losses.py (issue 11's torch versions). Per-sample ones read the outputs as
    logits ([n] values); batch-level ones (multi_similarity) give one value per batch, so the
    objective is Σ_b n_b L_b / n over the worker's batches — the client sends the sample order
    (samples.indices) that fixes those batches, as the TF.js engine's lossBatches does."""

    def __init__(self, torch, name, params, episode=None):
        try:
            from .paper_losses import paper_loss
        except ImportError:
            raise InputError("--loss", f"the paper loss '{name}' needs losscape_torch/paper_losses.py, which this worker does not have")
        try:
            fn = paper_loss(name, params or {}, episode)
        except ValueError as e:
            line = str(e).strip().splitlines()[0] if str(e).strip() else name
            raise InputError("--episode" if "episode" in line else "--loss-param", line)
        except Exception as e:
            raise InputError("--loss", f"paper loss '{name}': {describe(e)}")
        batch_level = bool(getattr(fn, "batch_level", False))
        super().__init__(torch, fn, "paper_losses.py", name, not batch_level)
        self.name = name
        self.classification = not batch_level
        self.from_logits = not batch_level
        self.params = dict(getattr(fn, "params", params or {}))
        self.description = getattr(fn, "definition", f"paper loss {name}")
        self.batch_level = batch_level

    def per_sample(self, out, y):
        if not self.batch_level:
            return super().per_sample(out, y)
        # One value per batch (or episode): every sample is given it, so Σ = n_b·L_b as in the TF.js engine.
        v = self._call(out, y)
        return v.reshape(()).expand(out.shape[0]).to(out.dtype)

    def correct(self, out, y):
        if not self.classification:
            return None
        out2 = out.reshape(out.shape[0], -1)
        truth = y.reshape(-1).long() if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1) else y.reshape(out2.shape).argmax(-1)
        return (out2.argmax(-1) == truth).to(self.torch.float64)

    def to_json(self):
        return dict(super().to_json(), params=self.params)


def _last_module(model):
    last = None
    for m in model.modules():
        last = m
    return last


def infer_from_logits(torch, model):
    """Like the TF.js engine's last-activation rule: a model ending in Softmax/Sigmoid gives
    probabilities; anything else (including LogSoftmax: log_softmax of log-probabilities is
    the identity) is taken as logits."""
    last = _last_module(model)
    return not isinstance(last, (torch.nn.Softmax, torch.nn.Sigmoid))


def switch_off_final_activation(torch, model, forward, x_probe, activation):
    """The TF.js engine's Keras rule for cross-entropies on a softmax/sigmoid-final model: read
    the pre-activation values as the logits. Done with a forward hook on the final Softmax /
    Sigmoid module that returns its input — only when that module's output is the model's
    output (checked on a probe batch). True when switched off."""
    cls = torch.nn.Softmax if activation == "softmax" else torch.nn.Sigmoid
    last = _last_module(model)
    if not isinstance(last, cls) or isinstance(model, torch.jit.ScriptModule):
        return False
    seen = {}
    probe = last.register_forward_hook(lambda m, i, o: seen.__setitem__("out", o))
    try:
        with torch.no_grad():
            out = forward(x_probe)
    finally:
        probe.remove()
    if seen.get("out") is not out:
        return False
    last.register_forward_hook(lambda m, i, o: i[0])
    return True


def make_loss(torch, spec, model):
    kind = spec.get("kind", "builtin")
    if kind == "builtin":
        name = spec.get("name")
        if name not in BUILTIN:
            raise InputError("--loss", f"unknown loss '{name}'; the worker knows {', '.join(BUILTIN)}")
        fl = spec.get("fromLogits")
        return Builtin(torch, name, infer_from_logits(torch, model) if fl is None else fl)
    if kind == "paper":
        return PaperLoss(torch, spec.get("name"), spec.get("params"), spec.get("episode"))
    if kind != "module":
        raise InputError("--loss", f"unknown loss kind {kind!r}")
    path, name = spec.get("file"), spec.get("name")
    obj = lookup(path, name)
    args = dict(spec.get("args") or {})
    import inspect

    if inspect.isclass(obj):
        if not issubclass(obj, torch.nn.Module):
            raise InputError(path, f"'{name}' is a class but not an nn.Module")
        if "reduction" not in args and accepts_keyword(obj, "reduction"):
            try:
                return UserLoss(torch, obj(reduction="none", **args), path, name, True)
            except Exception:
                pass  # falls through to the plain construction, whose error is reported
        return UserLoss(torch, call_user(path, name, obj, args, "loss"), path, name, False)
    if isinstance(obj, torch.nn.Module):
        return UserLoss(torch, obj, path, name, False)
    if callable(obj):
        if args:
            fn0 = obj
            obj = lambda o, t: fn0(o, t, **args)  # noqa: E731
        if accepts_keyword(obj, "reduction") and not args:
            fn1 = obj
            return UserLoss(torch, lambda o, t: fn1(o, t, reduction="none"), path, name, True)
        return UserLoss(torch, obj, path, name, False)
    raise InputError(path, f"'{name}' is not a function or an nn.Module class")


def check_loss(torch, loss, out, y):
    """Runs the loss once on the first samples so a wrong shape or a raise is an input error at load."""
    v = loss.per_sample(out, y)
    if not torch.is_tensor(v) or v.ndim != 1 or v.shape[0] != out.shape[0]:
        raise InputError(getattr(loss, "path", "--loss"), f"the loss gave shape {list(getattr(v, 'shape', []))}, expected [{out.shape[0]}]")
    value = float(v.detach().double().mean())
    return value if math.isfinite(value) else None
