"""The worker's state between requests (one loaded model) and the protocol's methods
(docs/torch-worker-protocol.md, "Methods"). Frames arrive as numpy arrays; tensors go back
as numpy arrays of float32/float64."""

import sys

import numpy as np

from .environment import backend, hello, require_torch, resolve_device
from .errors import InputError, describe
from .losses import check_loss, make_loss, switch_off_final_activation
from .models import build_model, flat_from_state_dict, load_weights, param_groups, step_from_name
from . import data as data_mod
from .objective import Objective


def _np(t, dtype=None):
    t = t.detach()
    if dtype == "f32":
        t = t.float()
    return t.cpu().numpy()


class Session:
    def __init__(self, cancelled, comm=None):
        self.cancelled = cancelled
        # distributed.Comm when this worker is one rank of several (docs/distributed.md): then
        # every rank holds the samples, loss/grad/matmat are summed over the ranks' contiguous
        # shards, and in "points" mode the points of a loss request are dealt to the ranks.
        self.comm = comm
        self.obj = None
        self.stored = {}
        self.torch = None
        self.units = 0

    def _need(self):
        if self.obj is None:
            raise InputError(None, "no model is loaded (send load first)")
        return self.obj

    def _vec(self, frame):
        obj = self._need()
        if frame.size != obj.dim:
            raise InputError(None, f"a parameter vector has {frame.size} entries, the model has {obj.dim}")
        return self.torch.from_numpy(np.ascontiguousarray(frame)).to(device=obj.device, dtype=obj.dtype)

    # ---- methods ------------------------------------------------------------------------------
    def hello(self, params, frames):
        return hello(), []

    def load(self, params, frames):
        torch = self.torch = require_torch()
        self.dispose({}, [])
        dtype_name = params.get("dtype", "float32")
        if dtype_name not in ("float32", "float64"):
            raise InputError("--dtype", f"'{dtype_name}' is not float32 or float64")
        dtype = torch.float64 if dtype_name == "float64" else torch.float32
        device = resolve_device(params.get("device", "auto"))
        if device.type == "mps" and dtype == torch.float64:
            raise InputError("--dtype", "MPS has no float64; use --dtype float32 or --device cpu")
        model_spec = params.get("model") or {}
        model = build_model(torch, model_spec)
        weights = params.get("weights")
        if weights:
            load_weights(torch, model, weights)
        model = model.to(device=device, dtype=dtype)
        d = params.get("data") or {}
        if d.get("kind", "frames") == "frames":
            x, y = data_mod.from_frames(torch, d, frames)
        else:
            x, y = data_mod.from_module(torch, d)
        x, y = data_mod.subset(x, y, params.get("samples"))
        loss_spec = dict(params.get("loss") or {"kind": "builtin", "name": "categorical_crossentropy"})
        reading, warnings = None, []
        # Cross-entropies and the papers' logit losses read a final softmax's input; regression and
        # embedding losses (multi_similarity, proto_triplet, icnn, cs_divergence) the outputs as they are.
        reads_logits = loss_spec.get("name") in ("comp_sum", "gce", "zloss", "taylor_softmax") if loss_spec.get("kind") == "paper" else loss_spec.get("name") not in ("mse", "mae", "huber", "hinge")
        if loss_spec.get("kind", "builtin") in ("builtin", "paper") and reads_logits:
            activation = "sigmoid" if loss_spec.get("name") == "binary_crossentropy" else "softmax"
            probe_x = x[: min(4, x.shape[0])].to(device=device, dtype=dtype) if x.is_floating_point() else x[:4].to(device)
            if switch_off_final_activation(torch, model, lambda xb: Objective.forward_of(model, xb), probe_x, activation):
                loss_spec["fromLogits"] = True
                reading = "pre-activation"
                warnings.append(f"the model ends in {activation}; its pre-{activation} values are used as the logits (as Keras and the TF.js engine do)")
        loss = make_loss(torch, loss_spec, model)
        obj = Objective(torch, model, loss, x, y, params.get("batchSize", 256), device, dtype,
                        params.get("trainMode", False), self.cancelled)
        where = model_spec.get("file")
        # One forward pass on a few samples: a model that cannot take these inputs, or a loss that
        # raises or returns the wrong shape, is an input error now rather than mid-analysis.
        with torch.no_grad():
            # A batch-level loss is probed on a whole first batch (an episode loss needs one episode).
            xb = obj.x[: min(obj.batch_size if getattr(loss, "batch_level", False) else 4, obj.n)]
            try:
                out = obj.forward(xb)
            except Exception as e:
                raise InputError(where, f"the model raised {describe(e)} on inputs of shape {list(xb.shape)}")
            if not torch.is_tensor(out) or out.ndim == 0:
                raise InputError(where, "the model's forward did not return a tensor with a batch axis")
            obj.y = _labels(torch, obj.y, out, obj.dtype)
            check_loss(torch, loss, out, obj.y[: xb.shape[0]])
        comm = self.comm
        if comm is not None:
            # Batch-level losses (fixed batches, episodes) and train mode need no care here: their
            # shards are runs of whole batches (Comm.samples_of), so every batch is a single worker's.
            mode = (params.get("parallel") or {}).get("mode", "data")
            comm.mode = mode if mode in ("data", "points") else "data"
            comm.agree()
            # A factory without weights initialises at random on each rank: rank 0's θ for all.
            obj.set_flat(comm.broadcast(obj.get_flat()))
        self.obj = obj
        self.units = int(np.prod(out.shape[1:])) if out.ndim > 1 else 1
        groups, dim = param_groups(zip(obj.names, obj.params))
        theta0 = obj.get_flat()
        self.stored = {"theta0": theta0.clone()}
        info = backend(device, dtype_name)
        parallel = comm.parallel() if comm is not None else {"ranks": 1, "mode": "single", "threadsPerRank": info["threads"]}
        return {
            "dim": dim,
            "groups": groups,
            "sampleCount": obj.n,
            "outputShape": list(out.shape[1:]),
            "outputUnits": self.units,
            "loss": dict(loss.to_json(), reading=reading or ("logits" if loss.from_logits else "outputs"), warnings=warnings),
            "dtype": dtype_name,
            "trainMode": obj.train_mode,
            "backend": info,
            "parallel": parallel,
        }, [_np(theta0)]

    def read_weights(self, params, frames):
        obj = self._need()
        path = params.get("file")
        theta, step = flat_from_state_dict(self.torch, obj.model, obj.names, path)
        if step is None:
            step = step_from_name(path)
        return {"step": step}, [_np(theta.to(obj.dtype))]

    def load_checkpoint(self, params, frames):
        """A checkpoint's full state (parameters and buffers such as BatchNorm running statistics)
        into the loaded model: the current θ becomes the checkpoint's."""
        obj = self._need()
        path = params.get("file")
        step = load_weights(self.torch, obj.model, path)
        obj.model.to(device=obj.device, dtype=obj.dtype)
        if step is None:
            step = step_from_name(path)
        return {"step": step}, [_np(obj.get_flat())]

    def ntk(self, params, frames):
        """The empirical NTK K = Σ_c J_c J_cᵀ over every sample pair, [n, n] (f64)."""
        obj = self._need()
        return {"shape": [obj.n, obj.n]}, [_np(obj.ntk(self.units))]

    def set_params(self, params, frames):
        if len(frames) != 1:
            raise InputError(None, "set_params takes one frame")
        self._need().set_flat(self._vec(frames[0]))
        return {}, []

    def store(self, params, frames):
        if len(frames) != 1 or not params.get("name"):
            raise InputError(None, "store takes a name and one frame")
        self.stored[params["name"]] = self._vec(frames[0])
        return {}, []

    def drop(self, params, frames):
        for n in params.get("names") or []:
            if n != "theta0":
                self.stored.pop(n, None)
        return {}, []

    def _stored(self, name):
        if name not in self.stored:
            raise InputError(None, f"no stored vector '{name}'")
        return self.stored[name]

    def loss(self, params, frames):
        obj = self._need()
        torch = self.torch
        want_acc = bool(params.get("accuracy", True))
        combos = params.get("combos")
        if combos:
            base = self._stored(combos.get("base", "theta0"))
            dirs = [self._stored(n) for n in combos.get("dirs") or []]
            coeffs = combos.get("coeffs") or []
            for row in coeffs:
                if len(row) != len(dirs):
                    raise InputError(None, f"a coefficient row has {len(row)} entries for {len(dirs)} directions")
            c = torch.tensor(coeffs, dtype=base.dtype, device=base.device).reshape(len(coeffs), len(dirs))
            D = torch.stack(dirs) if dirs else None
            count = len(coeffs)

            def rows(i, j):
                return base.unsqueeze(0) + (c[i:j] @ D if D is not None else 0)
        elif frames:
            count = len(frames)

            def rows(i, j):
                return torch.stack([self._vec(f) for f in frames[i:j]])
        else:
            count = 1
            current = obj.get_flat().unsqueeze(0)

            def rows(i, j):
                return current
        if self.comm is not None:
            return self._loss_ranks(rows, count, want_acc)
        losses, accs = obj.evaluate_points(rows, count, want_acc)
        out = [np.asarray(losses, dtype=np.float64)]
        if accs is not None:
            out.append(np.asarray(accs, dtype=np.float64))
        # How the points went ("vmap", "loop" or "threads"), for the caller's record.
        return {"count": len(losses), "accuracy": accs is not None, "pointPath": obj.point_path_used, "pointLayout": obj.point_layout_used}, out

    def _loss_ranks(self, rows, count, want_acc):
        """Losses over several ranks: in "points" mode (count ≥ 2) each rank evaluates its block
        of whole points on all samples and its part of the samples at a left-over point
        (Comm.point_deal); otherwise each rank sums every point over its shard."""
        obj, comm, torch = self.obj, self.comm, self.torch
        if comm.mode == "points" and count > 1:
            a, b, j, part, parts = comm.point_deal(count)
            q = b - a
            none = torch.zeros(0, dtype=torch.float64, device=obj.device)
            wl, wc, wacc = obj.point_sums(lambda i, k: rows(a + i, a + k), q, want_acc) if q else (none, none, False)
            sl, sc, sacc = none, none, False
            if j is not None:
                lo, hi = comm.samples_of(obj, part, parts)
                sl, sc, sacc = obj.point_sums(lambda i, k: rows(j, j + 1), 1, want_acc, lo, hi) if hi > lo else (none, none, False)
            zero = torch.zeros(1 if j is not None and not sl.numel() else 0, dtype=torch.float64, device=obj.device)
            flags = torch.tensor([float(wacc), float(sacc)], dtype=torch.float64, device=obj.device)
            g = comm.gather_equal(torch.cat([wl, wc, sl, zero, sc, zero, flags]))
            if g is None:
                return {}, []
            # Whole points in rank order, then each left-over point's part sums added in rank order.
            lsum = [g[:, :q].reshape(-1)]
            csum = [g[:, q:2 * q].reshape(-1)]
            deals = [comm.point_deal(count, k) for k in range(comm.world)]
            for jj in range(comm.world * q, count):
                ranks = [k for k, d in enumerate(deals) if d[2] == jj]
                # (its part's loss and correct sums sit side by side: one sum of both)
                part = sum((g[k, 2 * q:2 * q + 2] for k in ranks[1:]), g[ranks[0], 2 * q:2 * q + 2].clone())
                lsum.append(part[:1])
                csum.append(part[1:])
            lsum, csum = torch.cat(lsum), torch.cat(csum)
            # Accuracy: every rank's whole points had it, and the left-over points' parts had it
            # (ranks with samples all have it, or none does).
            has_acc = want_acc and (q == 0 or bool((g[:, -2] == 1).all())) and (count == comm.world * q or bool((g[:, -1] == 1).any()))
            out = [(lsum / obj.n).numpy()]
            if has_acc:
                out.append((csum / obj.n).numpy())
            return {"count": count, "accuracy": has_acc}, out
        lo, hi = comm.samples_of(obj)
        lsum, csum, has_acc = obj.point_sums(rows, count, want_acc, lo, hi)
        flag = torch.tensor([1.0 if has_acc else 0.0], dtype=torch.float64, device=lsum.device)
        total = comm.sum_ranks(torch.cat([lsum, csum, flag]))
        if total is None:
            return {}, []
        # Every rank with samples computed accuracy, or none did (the flag sums to that count).
        has_acc = want_acc and float(total[-1]) > 0
        out = [(total[:count] / obj.n).numpy()]
        if has_acc:
            out.append((total[count:2 * count] / obj.n).numpy())
        return {"count": count, "accuracy": has_acc}, out

    def grad(self, params, frames):
        obj = self._need()
        if self.comm is not None:
            lo, hi = self.comm.samples_of(obj)
            lsum, gsum = obj.grad_sums(lo, hi)
            total = self.comm.sum_ranks(self.torch.cat([lsum.reshape(1).to(gsum.dtype), gsum]))
            if total is None:
                return {}, []
            return {"loss": float(total[0]) / obj.n}, [_np(total[1:] / obj.n, params.get("resultDtype"))]
        l, g = obj.grad()
        return {"loss": l}, [_np(g, params.get("resultDtype"))]

    def matmat(self, params, frames):
        op = params.get("operator", "hessian")
        if op not in ("hessian", "ggn", "fisher"):
            raise InputError("--operator", f"unknown operator '{op}' (hessian, ggn, fisher)")
        loss = self._need().loss
        if getattr(loss, "batch_level", False) and op != "hessian":
            # As the TF.js engine: no per-sample loss Hessian (GGN) or per-sample gradients (Fisher).
            episode = getattr(getattr(loss, "fn", None), "episode", None)
            if op == "ggn":
                raise InputError("--operator", f"{loss.name} is a batch-level loss: its Hessian with respect to the outputs couples the samples of {'an episode' if episode else 'a batch'}, so there is no per-sample loss Hessian for the Gauss–Newton matrix. Use --operator hessian")
            raise InputError("--operator", f"the empirical Fisher needs per-sample gradients; {loss.name} is a batch-level loss, which has none. Use --operator hessian")
        vs = [self._vec(f) for f in frames]
        out = params.get("resultDtype")
        obj = self._need()
        if self.comm is not None:
            lo, hi = self.comm.samples_of(obj)
            sums = obj.matmat_sums(op, vs, lo, hi)
            total = self.comm.sum_ranks(self.torch.cat(sums) if sums else self.torch.zeros(0, dtype=self.torch.float64))
            if total is None:
                return {}, []
            return {"count": len(vs)}, [_np(total[k * obj.dim:(k + 1) * obj.dim] / obj.n, out) for k in range(len(vs))]
        return {"count": len(vs)}, [_np(r, out) for r in obj.matmat(op, vs)]

    def targets(self, params, frames):
        """The loaded samples' targets (a data module's labels, which the client never saw):
        f64, and whether they are class indices (the losses' int64 labels)."""
        y = self._need().y
        return {"shape": list(y.shape), "indices": not y.is_floating_point()}, [_np(y.to(self.torch.float64))]

    def per_sample_losses(self, params, frames):
        return {}, [_np(self._need().per_sample_losses())]

    def subset_grads(self, params, frames):
        obj = self._need()
        groups = params.get("groups") or []
        for g in groups:
            for i in g:
                if not 0 <= int(i) < obj.n:
                    raise InputError(None, f"sample index {i} is out of range (there are {obj.n} samples)")
        rows = obj.subset_grads(groups)
        return {"rows": len(groups), "dim": obj.dim}, [_np(rows)]

    def outputs(self, params, frames):
        out = self._need().outputs()
        return {"shape": list(out.shape)}, [_np(out)]

    def jvp(self, params, frames):
        obj = self._need()
        jv = obj.jvp(self._vec(frames[0]))
        return {"shape": [obj.n, self.units]}, [_np(jv)]

    def vjp(self, params, frames):
        obj = self._need()
        u = frames[0]
        if u.size != obj.n * self.units:
            raise InputError(None, f"the cotangent has {u.size} entries, expected {obj.n} × {self.units}")
        return {}, [_np(obj.vjp(self.torch.from_numpy(np.ascontiguousarray(u)), self.units))]

    def output_jacobian(self, params, frames):
        obj = self._need()
        idx = [int(i) for i in params.get("indices") or []]
        jac = obj.output_jacobian(idx, self.units)
        return {"shape": [len(idx), self.units, obj.dim]}, [_np(jac)]

    def stats(self, params, frames):
        """Peak memory of this worker process (resident set; CUDA allocator when on CUDA)."""
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        out = {"peakRssBytes": int(rss)}
        torch = self.torch
        if torch is not None and torch.cuda.is_available():
            out["cudaPeakBytes"] = int(torch.cuda.max_memory_allocated())
        return out, []

    def dispose(self, params, frames):
        self.obj = None
        self.stored = {}
        if self.torch is not None and self.torch.cuda.is_available():
            self.torch.cuda.empty_cache()
        return {}, []


def _labels(torch, y, out, dtype):
    """Class indices (one label per sample, integral, for a model with several outputs) become
    int64 as PyTorch's classification losses want; everything else is a float target."""
    units = int(np.prod(out.shape[1:])) if out.ndim > 1 else 1
    if not y.is_floating_point():
        return y if units > 1 and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)) else y.to(dtype)
    if units > 1 and (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)) and bool((y == y.round()).all()):
        return y.reshape(-1).long()
    return y.to(dtype)


# Methods every rank runs (rank 0 forwards them): state changes and the data-parallel products.
# The rest run on rank 0 alone, on all samples (its copy of the model is the same).
ALL_RANKS = ("load", "load_checkpoint", "set_params", "store", "drop", "loss", "grad", "matmat", "dispose")

METHODS = ("hello", "load", "read_weights", "load_checkpoint", "ntk", "set_params", "store", "drop", "loss", "grad", "matmat",
           "per_sample_losses", "targets", "subset_grads", "outputs", "jvp", "vjp", "output_jacobian", "stats", "dispose")
