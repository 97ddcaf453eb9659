"""The objective L(θ) = (1/n) Σₙ ℓₙ(θ) of a torch model over fixed samples, and its exact
products. θ is named_parameters() with requires_grad, in order, flattened in C order.

Curvature (all exact, no finite differences):
- Hessian: Pearlmutter's R-operator by double backward, Hv = ∇(∇L·v).
- GGN: G v = (1/n) Σ Jᵀ H_f (J v) (Schraudolph 2002); J v by the double-VJP trick
  (J v = ∂/∂u ⟨Jᵀu, v⟩, linear in u), H_f the loss's Hessian on the outputs by autograd.
- Empirical Fisher: F v = (1/n) Σₙ gₙ (gₙᵀ v) = (1/n) J_ℓᵀ (J_ℓ v), J_ℓ the Jacobian of the
  per-sample loss vector: two Jacobian products per batch, no per-sample gradients stored.
Products are summed over batches on the device (float64 accumulators except on MPS) and read
back once per product.
"""

import os
import threading

from .errors import Cancelled


class Objective:
    def __init__(self, torch, model, loss, x, y, batch_size, device, dtype, train_mode, cancelled):
        self.torch = torch
        self.model = model
        self.loss = loss
        self.device = device
        self.dtype = dtype
        self.acc_dtype = torch.float32 if device.type == "mps" else torch.float64
        self.cancelled = cancelled
        self.train_mode = bool(train_mode)
        model.train(self.train_mode)
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.names = [n for n, _ in named]
        self.params = [p for _, p in named]
        self.sizes = [int(p.numel()) for p in self.params]
        self.dim = sum(self.sizes)
        self.n = int(x.shape[0])
        self.batch_size = max(1, int(batch_size))
        self.x = x.to(device=device, dtype=dtype) if x.is_floating_point() else x.to(device)
        self.y = y.to(device)
        self.progress = None
        # Grid points evaluated several at a time by torch.func.vmap (torch ≥ 2): fewer, larger
        # kernels than one pass per point. Off for TorchScript and train mode (batch statistics
        # and dropout are per call), and turned off for good at the first failure.
        self.vmap_points = (hasattr(torch, "func") and not isinstance(model, torch.jit.ScriptModule)
                            and not self.train_mode)
        self.point_chunk = max(1, min(16, int(2 ** 26 // max(1, self.dim))))
        # Which way grid points go (point_sums): "vmap", "loop" (one pass per point, θ written in
        # place) or "threads" (the loop over CPU threads). A rule of the model, not a timing, so
        # that a run and its --resume evaluate every point the same way, bit for bit. Measured on
        # the demo models (2-core CPU, 256 samples): MLP vmap 1,900–2,770 points/s, loop
        # 1,250–1,740, threads 1,300–1,450; CNN threads 118–123, loop 92–115, vmap 37–41 (a
        # vmapped conv is a grouped conv, several times slower on CPU than one conv per point).
        # LOSSCAPE_TORCH_POINTS=vmap|loop|threads overrides it.
        self.threads_ok = True
        self.has_conv = any(isinstance(mod, torch.nn.modules.conv._ConvNd) for mod in model.modules())
        forced = os.environ.get("LOSSCAPE_TORCH_POINTS", "")
        self.point_path = forced if forced in ("vmap", "loop", "threads") else None
        self.point_path_used = None
        # Grid points of a 2-d conv net on the CPU go through copies of the model in channels-last
        # memory format: oneDNN's NHWC convolutions and max-pooling are vectorised over channels,
        # its NCHW pooling is not. Demo CNN, 256 samples, one thread: a forward 11.2 ms → 4.7 ms
        # (torch 2.13; 1.13 alike); a Hessian-vector product gains only ~5 %, so the curvature
        # products keep the model's own layout. Also a rule of the model (see above); a model whose
        # forward needs NCHW strides (x.view(n, −1) after a conv) fails at its first point and
        # goes back to its own layout for good. LOSSCAPE_TORCH_POINT_LAYOUT=model|channels_last.
        layout = os.environ.get("LOSSCAPE_TORCH_POINT_LAYOUT", "")
        self.channels_last_points = (
            layout == "channels_last" if layout in ("model", "channels_last")
            else (device.type == "cpu" and not self.train_mode and self.dim <= (1 << 25)
                  and any(isinstance(mod, torch.nn.Conv2d) for mod in model.modules())))
        self.point_layout_used = None

    # ---- parameters -------------------------------------------------------------------------
    def get_flat(self):
        torch = self.torch
        with torch.no_grad():
            if not self.params:
                return torch.zeros(0, dtype=self.dtype, device=self.device)
            return torch.cat([p.detach().reshape(-1) for p in self.params])

    def set_flat(self, theta):
        torch = self.torch
        if theta.numel() != self.dim:
            raise ValueError(f"parameter vector has {theta.numel()} entries, expected {self.dim}")
        theta = theta.to(device=self.device)
        with torch.no_grad():
            off = 0
            for p, s in zip(self.params, self.sizes):
                p.copy_(theta[off:off + s].view_as(p).to(p.dtype))
                off += s

    def split(self, v):
        """A flat vector as one tensor per parameter, in the model's dtype, on the device."""
        v = v.to(device=self.device, dtype=self.dtype)
        out, off = [], 0
        for p, s in zip(self.params, self.sizes):
            out.append(v[off:off + s].view_as(p))
            off += s
        return out

    def _flat(self, tensors, like=None):
        torch = self.torch
        parts = [
            (t if t is not None else torch.zeros_like(p)).reshape(-1).to(self.acc_dtype)
            for t, p in zip(tensors, self.params)
        ]
        return torch.cat(parts) if parts else torch.zeros(0, dtype=self.acc_dtype, device=self.device)

    def zeros(self):
        return self.torch.zeros(self.dim, dtype=self.acc_dtype, device=self.device)

    # ---- batches ----------------------------------------------------------------------------
    def batches(self, indices=None, lo=0, hi=None):
        """(x, y, count) per batch over samples lo..hi−1 (all by default; a rank's shard), or over
        `indices`, checking for cancellation between batches."""
        torch = self.torch
        hi = self.n if hi is None else hi
        total = hi - lo if indices is None else len(indices)
        for start in range(0, total, self.batch_size):
            if self.cancelled():
                raise Cancelled()
            if indices is None:
                sl = slice(lo + start, min(lo + start + self.batch_size, hi))
                yield self.x[sl], self.y[sl], sl.stop - sl.start
            else:
                idx = torch.as_tensor(indices[start:start + self.batch_size], dtype=torch.long, device=self.device)
                yield self.x[idx], self.y[idx], int(idx.numel())

    def forward(self, x):
        return Objective.forward_of(self.model, x)

    @staticmethod
    def forward_of(model, x):
        """The model's output tensor (the first of a tuple, `logits` of a dict output)."""
        out = model(x)
        if isinstance(out, (tuple, list)):
            out = out[0]
        if isinstance(out, dict):
            out = out.get("logits", next(iter(out.values())))
        return out

    def _grad(self, outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False):
        return self.torch.autograd.grad(
            outputs, inputs, grad_outputs=grad_outputs, retain_graph=retain_graph,
            create_graph=create_graph, allow_unused=True,
        )

    # ---- values -----------------------------------------------------------------------------
    def evaluate(self, accuracy=True):
        """(mean loss, accuracy or None) at the current θ."""
        loss_sum, correct_sum, has_acc = self.loss_sums(accuracy)
        return float(loss_sum) / self.n, (float(correct_sum) / self.n if has_acc else None)

    def loss_sums(self, accuracy=True, lo=0, hi=None):
        """(Σ loss, Σ correct, has accuracy) over samples lo..hi−1 at the current θ, in float64."""
        torch = self.torch
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        correct_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        has_acc = False
        with torch.no_grad():
            for xb, yb, _ in self.batches(lo=lo, hi=hi):
                out = self.forward(xb)
                loss_sum += self.loss.batch_sum(out, yb).to(loss_sum.dtype)
                if accuracy:
                    c = self.loss.correct(out, yb)
                    if c is not None:
                        has_acc = True
                        correct_sum += c.sum().to(correct_sum.dtype)
        return loss_sum, correct_sum, has_acc

    def evaluate_points(self, rows, count, accuracy=True):
        """(losses, accuracies or None) at `count` parameter vectors, rows(i, j) giving vectors
        i..j−1 as a [j − i, P] tensor (built a chunk at a time: 1,681 grid points × 11M
        parameters would not fit at once). The current θ is kept."""
        lsum, csum, has_acc = self.point_sums(rows, count, accuracy)
        losses = (lsum / self.n).tolist()
        return losses, ((csum / self.n).tolist() if accuracy and has_acc else None)

    def point_sums(self, rows, count, accuracy=True, lo=0, hi=None):
        """([count] Σ loss, [count] Σ correct, has accuracy) over samples lo..hi−1 at each of
        `count` parameter vectors (float64). The current θ is kept. `self.point_path` says how
        they were evaluated: "vmap", "loop" (one pass per point) or "threads" (the loop, the
        points split over CPU threads, each with its own copy of the model)."""
        path = self.point_path or self._default_path()
        self.point_path_used = path
        if self.channels_last_points and path != "vmap":
            self.point_layout_used = "channels_last"
            try:
                return self._point_sums_by(path, rows, count, accuracy, lo, hi)
            except Cancelled:
                raise
            except Exception:
                self.channels_last_points = False
        self.point_layout_used = "model"
        if path != "loop":
            try:
                return self._point_sums_by(path, rows, count, accuracy, lo, hi)
            except Cancelled:
                raise
            except Exception:
                self._drop_path(path)
        self.point_path_used = "loop"
        return self._point_sums_loop(rows, count, accuracy, lo, hi)

    def _default_path(self):
        """vmap for models without convolutions, else the threads (or the loop on one thread or
        off the CPU): see __init__ for the measurements behind it."""
        candidates = self._point_candidates()
        if "vmap" in candidates and not self.has_conv:
            return "vmap"
        return "threads" if "threads" in candidates else "loop"

    def _point_candidates(self):
        out = ["loop"]
        if self.point_threads() > 1:
            out.append("threads")
        if self.vmap_points:
            out.append("vmap")
        return out

    def point_threads(self):
        """Threads for the "threads" path: torch's intra-op threads on a CPU device (in eval
        mode, where a point's value does not depend on the model's state), else 1."""
        if self.device.type != "cpu" or self.train_mode or not self.threads_ok:
            return 1
        # The copies of the parameters stay within 2^25 entries (128 MiB of float32).
        return max(1, min(int(self.torch.get_num_threads()), 1 + (1 << 25) // max(1, self.dim)))

    def _drop_path(self, path):
        if path == "vmap":
            self.vmap_points = False
        elif path == "threads":
            self.threads_ok = False
        if self.point_path == path:
            self.point_path = None if len(self._point_candidates()) > 1 else "loop"

    def _point_sums_by(self, path, rows, count, accuracy, lo, hi):
        if path == "vmap":
            return self._point_sums_vmap(rows, count, accuracy, lo, hi)
        if path == "threads":
            return self._point_sums_threads(rows, count, accuracy, lo, hi)
        return self._point_sums_loop(rows, count, accuracy, lo, hi)

    def _point_sums_loop(self, rows, count, accuracy, lo, hi):
        """One pass per point: θ written into the parameters in place, sums kept on the device
        (no read-back per batch or point)."""
        torch = self.torch
        lsum = torch.zeros(count, dtype=torch.float64, device=self.device)
        csum = torch.zeros_like(lsum)
        model, params = self._point_models(1)[0]
        has_acc = self._loop_points(model, params, rows, 0, count, accuracy, lo, hi, lsum, csum)
        return lsum, csum, bool(accuracy and has_acc and count > 0)

    def _loop_points(self, model, params, rows, a, b, accuracy, lo, hi, lsum, csum):
        """Points a..b−1 through `model` (whose parameters `params` are restored afterwards),
        sums into lsum[i], csum[i]; whether every point had an accuracy."""
        torch = self.torch
        saved = [p.detach().clone() for p in params]
        has_acc = True
        try:
            with torch.no_grad():
                for start in range(a, b, self.point_chunk):
                    th = rows(start, min(b, start + self.point_chunk)).to(device=self.device, dtype=self.dtype)
                    for r in range(th.shape[0]):
                        i = start + r
                        off = 0
                        for p, s in zip(params, self.sizes):
                            p.copy_(th[r, off:off + s].view_as(p))
                            off += s
                        seen = False
                        for xb, yb, _ in self.batches(lo=lo, hi=hi):
                            out = Objective.forward_of(model, xb)
                            lsum[i] += self.loss.batch_sum(out, yb).to(torch.float64)
                            if accuracy:
                                c = self.loss.correct(out, yb)
                                if c is not None:
                                    seen = True
                                    csum[i] += c.sum().to(torch.float64)
                        has_acc = has_acc and seen
        finally:
            with torch.no_grad():
                for p, v in zip(params, saved):
                    p.copy_(v)
        return has_acc

    def _model_copies(self, k, with_params, channels_last=False):
        """k copies of the model as (module, parameters in self.names order), kept between
        requests (in channels-last memory format, a set of their own, with `channels_last`), with
        the model's buffers now (a checkpoint may have changed BatchNorm statistics) and,
        `with_params`, its θ."""
        import copy

        torch = self.torch
        key = "_channels_last_copies" if channels_last else "_copies"
        copies = getattr(self, key, None) or []
        while len(copies) < k:
            m = copy.deepcopy(self.model)
            if channels_last:
                m = m.to(memory_format=torch.channels_last)
            named = dict(m.named_parameters())
            copies.append((m, [named[n] for n in self.names]))
        setattr(self, key, copies)
        with torch.no_grad():
            for m, ps in copies[:k]:
                for (_, b), (_, b0) in zip(m.named_buffers(), self.model.named_buffers()):
                    b.copy_(b0)
                if with_params:
                    for p, p0 in zip(ps, self.params):
                        p.copy_(p0)
        return copies[:k]

    def _point_models(self, k):
        """k (module, parameters) to evaluate grid points with, their θ written by the caller:
        the model and k − 1 copies, or k channels-last copies."""
        if self.channels_last_points:
            return self._model_copies(k, with_params=False, channels_last=True)
        return [(self.model, self.params)] + self._model_copies(k - 1, with_params=False)

    def _point_sums_threads(self, rows, count, accuracy, lo, hi):
        """The loop with the points split into contiguous blocks over T threads, each thread with
        its own copy of the model and one intra-op thread (torch releases the GIL inside its
        ops): on small models T independent passes beat one pass spread over T threads, whose
        pool synchronises at every op (and spins when other processes hold the cores)."""
        torch = self.torch
        T = min(self.point_threads(), max(1, count))
        workers = self._point_models(T)
        lsum = torch.zeros(count, dtype=torch.float64, device=self.device)
        csum = torch.zeros_like(lsum)
        bounds = [count * t // T for t in range(T + 1)]
        flags, errors = [True] * T, []

        def work(t):
            try:
                m, ps = workers[t]
                flags[t] = self._loop_points(m, ps, rows, bounds[t], bounds[t + 1], accuracy, lo, hi, lsum, csum)
            except BaseException as e:  # re-raised on the calling thread
                errors.append(e)

        self._on_threads(T, work, errors)
        return lsum, csum, bool(accuracy and all(flags) and count > 0)

    def _on_threads(self, T, work, errors):
        """work(0..T−1), work(0) on this thread, each with one intra-op thread (torch's setting
        is per process: restored after), then the first error of a worker raised here
        (a cancellation first)."""
        torch = self.torch
        prev = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            threads = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(1, T)]
            for th in threads:
                th.start()
            work(0)
            for th in threads:
                th.join()
        finally:
            torch.set_num_threads(prev)
        if errors:
            raise next((e for e in errors if isinstance(e, Cancelled)), errors[0])

    def _point_sums_vmap(self, rows, count, accuracy, lo, hi):
        torch = self.torch
        from torch.func import functional_call, vmap

        names, shapes, sizes = self.names, [p.shape for p in self.params], self.sizes
        model, loss = self.model, self.loss
        has_acc = [False]

        def point(theta, xb, yb):
            params, off = {}, 0
            for n, shp, sz in zip(names, shapes, sizes):
                params[n] = theta[off:off + sz].view(shp)
                off += sz
            out = functional_call(model, params, (xb,))
            if isinstance(out, (tuple, list)):
                out = out[0]
            if isinstance(out, dict):
                out = out.get("logits", next(iter(out.values())))
            l = loss.batch_sum(out, yb).to(torch.float64)
            c = loss.correct(out, yb) if accuracy else None
            if c is None:
                return l, torch.zeros((), dtype=torch.float64, device=l.device)
            has_acc[0] = True
            return l, c.sum().to(torch.float64)

        lsums, csums = [], []
        with torch.no_grad():
            for start in range(0, count, self.point_chunk):
                th = rows(start, min(count, start + self.point_chunk)).to(device=self.device, dtype=self.dtype)
                lsum = torch.zeros(th.shape[0], dtype=torch.float64, device=self.device)
                csum = torch.zeros_like(lsum)
                for xb, yb, _ in self.batches(lo=lo, hi=hi):
                    l, c = vmap(point, in_dims=(0, None, None))(th, xb, yb)
                    lsum += l
                    csum += c
                lsums.append(lsum)
                csums.append(csum)
        empty = torch.zeros(0, dtype=torch.float64, device=self.device)
        return (torch.cat(lsums) if lsums else empty, torch.cat(csums) if csums else empty, bool(accuracy and has_acc[0]))

    def grad(self):
        loss_sum, g_sum = self.grad_sums()
        return float(loss_sum) / self.n, g_sum / self.n

    def grad_sums(self, lo=0, hi=None):
        """(Σ loss, Σ ∇loss) over samples lo..hi−1, float64 accumulators."""
        torch = self.torch
        g_acc = self.zeros()
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        for xb, yb, _ in self.batches(lo=lo, hi=hi):
            l = self.loss.batch_sum(self.forward(xb), yb)
            g = self._grad(l, self.params) if l.requires_grad else [None] * len(self.params)
            g_acc += self._flat(g)
            loss_sum += l.detach().to(torch.float64)
        return loss_sum, g_acc

    def per_sample_losses(self):
        torch = self.torch
        with torch.no_grad():
            parts = [self.loss.per_sample(self.forward(xb), yb).to(torch.float64) for xb, yb, _ in self.batches()]
        return torch.cat(parts)

    def outputs(self):
        torch = self.torch
        with torch.no_grad():
            parts = [self.forward(xb).detach() for xb, _, _ in self.batches()]
        return torch.cat(parts)

    # ---- Jacobian products ------------------------------------------------------------------
    def _jvp_setup(self, f):
        """Jᵀu of f with a dummy cotangent u, built with a graph so that J v = ∂⟨Jᵀu, v⟩/∂u."""
        u = self.torch.zeros_like(f, requires_grad=True)
        jtu = self._grad(f, self.params, grad_outputs=u, create_graph=True)
        return u, jtu

    def _jvp_apply(self, f, u, jtu, vt):
        pairs = [(g, v) for g, v in zip(jtu, vt) if g is not None and g.requires_grad]
        if not pairs:
            return self.torch.zeros_like(f)
        (jv,) = self._grad([g for g, _ in pairs], [u], grad_outputs=[v for _, v in pairs], retain_graph=True)
        return jv if jv is not None else self.torch.zeros_like(f)

    def _vjp(self, f, w, retain=True):
        if not f.requires_grad:
            return [None] * len(self.params)
        return self._grad(f, self.params, grad_outputs=w, retain_graph=retain)

    # ---- curvature products -----------------------------------------------------------------
    def matmat(self, operator, vs):
        """[M v for v in vs] for M the Hessian, GGN or empirical Fisher of L at the current θ."""
        return [a / self.n for a in self.matmat_sums(operator, vs)]

    def matmat_sums(self, operator, vs, lo=0, hi=None):
        """[Σₙ Mₙ v for v in vs] over samples lo..hi−1 (n·M v over all samples)."""
        vts = [self.split(v) for v in vs]
        acc = [self.zeros() for _ in vs]
        step = {"hessian": self._hessian_batch, "ggn": self._ggn_batch, "fisher": self._fisher_batch}[operator]
        # Extra accumulators of the threads beyond the first stay within 2^27 entries (1 GiB).
        T = min(self.point_threads(), 1 + (1 << 27) // max(1, len(vs) * self.dim))
        if T > 1 and vs:
            blist = list(self.batches(lo=lo, hi=hi))
            if len(blist) >= 2:
                return self._matmat_threads(step, blist, vts, acc, min(T, len(blist)))
        for xb, yb, _ in self.batches(lo=lo, hi=hi):
            step(xb, yb, vts, acc)
        return acc

    def _matmat_threads(self, step, blist, vts, acc, T):
        """The batches in T contiguous groups, one thread each with one intra-op thread (torch
        releases the GIL inside its ops; autograd runs a CPU backward on the calling thread, and
        the graphs are independent), each group summed in order, then the groups in order. As
        for grid points, T independent passes beat one pass spread over T pool threads on small
        models; the sums differ from one thread's only by rounding."""

        import copy

        torch = self.torch
        bounds = [len(blist) * t // T for t in range(T + 1)]
        sums = [acc] + [[self.zeros() for _ in vts] for _ in range(T - 1)]
        # Thread t > 0 differentiates its own copy of the model (a forward that keeps state on
        # its modules is not shared between threads): this Objective with that model swapped in.
        views = [self]
        for m, ps in self._model_copies(T - 1, with_params=True):
            v = copy.copy(self)
            v.model, v.params = m, ps
            views.append(v)
        errors = []

        def work(t):
            try:
                o = views[t]
                bound = getattr(o, step.__name__)
                for xb, yb, _ in blist[bounds[t]:bounds[t + 1]]:
                    if self.cancelled():
                        raise Cancelled()
                    bound(xb, yb, vts, sums[t])
            except BaseException as e:  # re-raised on the calling thread
                errors.append(e)

        self._on_threads(T, work, errors)
        for part in sums[1:]:
            for a, b in zip(acc, part):
                a += b
        return acc

    def _hessian_batch(self, xb, yb, vts, acc):
        l = self.loss.batch_sum(self.forward(xb), yb)
        if not l.requires_grad:
            return
        g = self._grad(l, self.params, create_graph=True)
        live = [(gi, i) for i, gi in enumerate(g) if gi is not None and gi.requires_grad]
        for k, vt in enumerate(vts):
            if self.cancelled():
                raise Cancelled()
            if not live:
                continue
            dot = sum((gi * vt[i]).sum() for gi, i in live)
            acc[k] += self._flat(self._grad(dot, self.params, retain_graph=True))

    def _output_hessian(self, f, yb):
        """∇_f ℓ with a graph, on a detached copy of the outputs: H_f w = ∂⟨∇_f ℓ, w⟩/∂f."""
        fd = f.detach().requires_grad_(True)
        l = self.loss.batch_sum(fd, yb)
        (gf,) = self._grad(l, [fd], create_graph=True)
        return fd, gf

    def _ggn_batch(self, xb, yb, vts, acc):
        f = self.forward(xb)
        fd, gf = self._output_hessian(f, yb)
        u, jtu = self._jvp_setup(f)
        for k, vt in enumerate(vts):
            if self.cancelled():
                raise Cancelled()
            jv = self._jvp_apply(f, u, jtu, vt)
            if gf is None or not gf.requires_grad:
                continue  # a loss piecewise linear in the outputs (MAE, hinge): H_f = 0
            (hjv,) = self._grad(gf, [fd], grad_outputs=jv, retain_graph=True)
            if hjv is None:
                continue
            acc[k] += self._flat(self._vjp(f, hjv))

    def _fisher_batch(self, xb, yb, vts, acc):
        ell = self.loss.per_sample(self.forward(xb), yb)
        if not ell.requires_grad:
            return
        u, jtu = self._jvp_setup(ell)
        for k, vt in enumerate(vts):
            if self.cancelled():
                raise Cancelled()
            jv = self._jvp_apply(ell, u, jtu, vt)  # [b]: gₙᵀ v per sample
            acc[k] += self._flat(self._vjp(ell, jv))

    def subset_grads(self, groups):
        """Row r: the gradient of the mean loss over group r's samples."""
        torch = self.torch
        rows = []
        for grp in groups:
            g_acc = self.zeros()
            for xb, yb, _ in self.batches(list(grp)):
                l = self.loss.batch_sum(self.forward(xb), yb)
                if l.requires_grad:
                    g_acc += self._flat(self._grad(l, self.params))
            rows.append(g_acc / max(1, len(grp)))
        return torch.stack(rows) if rows else torch.zeros((0, self.dim), dtype=self.acc_dtype)

    def jvp(self, v):
        vt = self.split(v)
        parts = []
        for xb, _, b in self.batches():
            f = self.forward(xb)
            u, jtu = self._jvp_setup(f)
            parts.append(self._jvp_apply(f, u, jtu, vt).reshape(b, -1).to(self.acc_dtype))
        return self.torch.cat(parts)

    def vjp(self, u_flat, units):
        torch = self.torch
        u = u_flat.to(device=self.device, dtype=self.dtype).reshape(self.n, units)
        acc = self.zeros()
        start = 0
        for xb, _, b in self.batches():
            f = self.forward(xb)
            acc += self._flat(self._vjp(f, u[start:start + b].reshape(f.shape), retain=False))
            start += b
        return acc

    def output_jacobian(self, indices, units):
        """[m, C, dim]: the rows of the output Jacobian for the given samples."""
        torch = self.torch
        out = torch.zeros((len(indices), units, self.dim), dtype=self.acc_dtype, device=self.device)
        for r, i in enumerate(indices):
            if self.cancelled():
                raise Cancelled()
            f = self.forward(self.x[int(i):int(i) + 1]).reshape(-1)
            for c in range(units):
                out[r, c] = self._flat(self._vjp(f[c], None, retain=c + 1 < units))
        return out

    def ntk(self, units):
        """K[i, j] = Σ_c ⟨∂f_ic/∂θ, ∂f_jc/∂θ⟩, from the output Jacobian built in blocks of samples
        (memory: one block's rows at a time plus K)."""
        torch = self.torch
        n = self.n
        block = max(1, min(n, int(2 ** 26 // max(1, units * self.dim))))
        rows = []
        for start in range(0, n, block):
            rows.append(self.output_jacobian(range(start, min(n, start + block)), units))
        if len(rows) == 1:
            J = rows[0]
            return torch.einsum("icp,jcp->ij", J, J)
        K = torch.zeros((n, n), dtype=self.acc_dtype, device=self.device)
        offs = [0]
        for r in rows:
            offs.append(offs[-1] + r.shape[0])
        for a, Ja in enumerate(rows):
            for b in range(a, len(rows)):
                blk = torch.einsum("icp,jcp->ij", Ja, rows[b])
                K[offs[a]:offs[a + 1], offs[b]:offs[b + 1]] = blk
                K[offs[b]:offs[b + 1], offs[a]:offs[a + 1]] = blk.T
        return K
