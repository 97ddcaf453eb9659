/**
 * A float64 reference for Dense-only models, written independently of TF.js: forward pass,
 * forward-mode tangents (J v), reverse mode (Jᵀu), per-sample loss gradients, and dense
 * Hessian / Gauss–Newton / empirical-Fisher matrices. Parameters are flat in the objective's
 * order: per layer the kernel [in, out] in C order, then the bias [out].
 */
export type Act = 'linear' | 'tanh' | 'relu' | 'sigmoid' | 'softmax';
export type RefLoss = 'ce' | 'bce' | 'mse';

export interface Mlp64 {
  sizes: number[];
  acts: Act[];
}

export function paramCount(net: Mlp64): number {
  let d = 0;
  for (let l = 0; l + 1 < net.sizes.length; l++) d += net.sizes[l] * net.sizes[l + 1] + net.sizes[l + 1];
  return d;
}

interface Trace {
  /** Layer inputs h₀ = x, h₁, …, and the pre-activations a₁, …. */
  h: Float64Array[];
  a: Float64Array[];
}

function offsets(net: Mlp64): { w: number; b: number }[] {
  const out: { w: number; b: number }[] = [];
  let o = 0;
  for (let l = 0; l + 1 < net.sizes.length; l++) {
    const [i, j] = [net.sizes[l], net.sizes[l + 1]];
    out.push({ w: o, b: o + i * j });
    o += i * j + j;
  }
  return out;
}

function activate(act: Act, a: Float64Array): Float64Array {
  if (act === 'linear') return Float64Array.from(a);
  if (act === 'tanh') return a.map(Math.tanh);
  if (act === 'relu') return a.map((z) => Math.max(z, 0));
  if (act === 'sigmoid') return a.map((z) => 1 / (1 + Math.exp(-z)));
  const m = Math.max(...a);
  const e = a.map((z) => Math.exp(z - m));
  const s = e.reduce((p, c) => p + c, 0);
  return e.map((z) => z / s);
}

/** Tangent of the activation: ḣ from ȧ (h the activation's output). */
function activateDot(act: Act, h: Float64Array, ad: Float64Array): Float64Array {
  if (act === 'linear') return Float64Array.from(ad);
  if (act === 'tanh') return ad.map((v, i) => v * (1 - h[i] * h[i]));
  if (act === 'relu') return ad.map((v, i) => (h[i] > 0 ? v : 0));
  if (act === 'sigmoid') return ad.map((v, i) => v * h[i] * (1 - h[i]));
  let s = 0;
  for (let i = 0; i < h.length; i++) s += h[i] * ad[i];
  return ad.map((v, i) => h[i] * (v - s));
}

/** The activation's transpose-Jacobian applied to a cotangent (all are symmetric). */
const activateBack = activateDot;

function forward(net: Mlp64, theta: ArrayLike<number>, x: ArrayLike<number>): Trace {
  const offs = offsets(net);
  const h: Float64Array[] = [Float64Array.from(x)];
  const a: Float64Array[] = [];
  for (let l = 0; l < offs.length; l++) {
    const [ni, no] = [net.sizes[l], net.sizes[l + 1]];
    const z = new Float64Array(no);
    for (let j = 0; j < no; j++) {
      let s = theta[offs[l].b + j];
      for (let i = 0; i < ni; i++) s += h[l][i] * theta[offs[l].w + i * no + j];
      z[j] = s;
    }
    a.push(z);
    h.push(activate(net.acts[l], z));
  }
  return { h, a };
}

/** Model output for one sample. */
export function output(net: Mlp64, theta: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  const t = forward(net, theta, x);
  return t.h[t.h.length - 1];
}

/** J v for one sample (forward mode). `logits` stops before the last activation. */
export function jvp(net: Mlp64, theta: ArrayLike<number>, x: ArrayLike<number>, v: ArrayLike<number>, logits = false): Float64Array {
  const offs = offsets(net);
  const t = forward(net, theta, x);
  let hd: Float64Array = new Float64Array(net.sizes[0]);
  for (let l = 0; l < offs.length; l++) {
    const [ni, no] = [net.sizes[l], net.sizes[l + 1]];
    const ad = new Float64Array(no);
    for (let j = 0; j < no; j++) {
      let s = v[offs[l].b + j];
      for (let i = 0; i < ni; i++) s += hd[i] * theta[offs[l].w + i * no + j] + t.h[l][i] * v[offs[l].w + i * no + j];
      ad[j] = s;
    }
    if (logits && l === offs.length - 1) return ad;
    hd = activateDot(net.acts[l], t.h[l + 1], ad);
  }
  return hd;
}

/** Jᵀu for one sample (reverse mode), added into `out`. `logits`: u is on the pre-activation. */
export function vjpInto(net: Mlp64, theta: ArrayLike<number>, x: ArrayLike<number>, u: ArrayLike<number>, out: Float64Array, logits = false): void {
  const offs = offsets(net);
  const t = forward(net, theta, x);
  const L = offs.length;
  let ad: Float64Array = logits ? Float64Array.from(u) : activateBack(net.acts[L - 1], t.h[L], Float64Array.from(u));
  for (let l = L - 1; l >= 0; l--) {
    const [ni, no] = [net.sizes[l], net.sizes[l + 1]];
    const hd = new Float64Array(ni);
    for (let j = 0; j < no; j++) {
      out[offs[l].b + j] += ad[j];
      for (let i = 0; i < ni; i++) {
        out[offs[l].w + i * no + j] += t.h[l][i] * ad[j];
        hd[i] += theta[offs[l].w + i * no + j] * ad[j];
      }
    }
    if (l > 0) ad = activateBack(net.acts[l - 1], t.h[l], hd);
  }
}

/**
 * Per-sample loss and its gradient with respect to the model output (for 'ce', the output is
 * the softmax probabilities and the gradient is taken at the logits: p − y).
 */
function lossAndOutGrad(loss: RefLoss, out: Float64Array, logits: Float64Array, y: ArrayLike<number>): { l: number; g: Float64Array; atLogits: boolean } {
  const C = out.length;
  if (loss === 'ce') {
    const m = Math.max(...logits);
    const lse = m + Math.log(logits.reduce((s, z) => s + Math.exp(z - m), 0));
    const cls = y[0];
    return { l: lse - logits[cls], g: out.map((p, c) => p - (c === cls ? 1 : 0)), atLogits: true };
  }
  if (loss === 'mse') {
    let l = 0;
    const g = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      l += (out[c] - y[c]) ** 2 / C;
      g[c] = (2 * (out[c] - y[c])) / C;
    }
    return { l, g, atLogits: false };
  }
  // bce with sigmoid outputs, gradient at the logits: (p − y)/C.
  let l = 0;
  const g = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    const z = logits[c];
    const sp = (t: number) => Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
    l += (y[c] * sp(-z) + (1 - y[c]) * sp(z)) / C;
    g[c] = (out[c] - y[c]) / C;
  }
  return { l, g, atLogits: true };
}

export interface Data64 {
  x: Float64Array[];
  /** Class index (ce) or target row. */
  y: Float64Array[];
}

export function sampleLoss(net: Mlp64, loss: RefLoss, theta: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>): { l: number; grad: Float64Array } {
  const t = forward(net, theta, x);
  const L = t.a.length;
  const r = lossAndOutGrad(loss, t.h[L], t.a[L - 1], y);
  const grad = new Float64Array(paramCount(net));
  vjpInto(net, theta, x, r.g, grad, r.atLogits);
  return { l: r.l, grad };
}

/** Mean loss and gradient over the data. */
export function lossGrad(net: Mlp64, loss: RefLoss, theta: ArrayLike<number>, data: Data64): { l: number; grad: Float64Array } {
  const d = paramCount(net);
  const grad = new Float64Array(d);
  let l = 0;
  for (let n = 0; n < data.x.length; n++) {
    const s = sampleLoss(net, loss, theta, data.x[n], data.y[n]);
    l += s.l;
    for (let k = 0; k < d; k++) grad[k] += s.grad[k];
  }
  const n = data.x.length;
  return { l: l / n, grad: grad.map((g) => g / n) };
}

/** Dense Hessian by central differences of the analytic float64 gradient (step 1e-5), symmetrised. */
export function hessian(net: Mlp64, loss: RefLoss, theta: ArrayLike<number>, data: Data64, step = 1e-5): number[][] {
  const d = paramCount(net);
  const H: number[][] = [];
  for (let j = 0; j < d; j++) {
    const tp = Float64Array.from(theta);
    const tm = Float64Array.from(theta);
    tp[j] += step;
    tm[j] -= step;
    const gp = lossGrad(net, loss, tp, data).grad;
    const gm = lossGrad(net, loss, tm, data).grad;
    H.push(Array.from(gp, (v, i) => (v - gm[i]) / (2 * step)));
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) H[i][j] = H[j][i] = (H[i][j] + H[j][i]) / 2;
  return H;
}

/** Dense Gauss–Newton matrix (1/n)Σ Jₙᵀ H_ℓ Jₙ, at the logits for ce/bce. */
export function gaussNewton(net: Mlp64, loss: RefLoss, theta: ArrayLike<number>, data: Data64): number[][] {
  const d = paramCount(net);
  const G = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const atLogits = loss !== 'mse';
  const C = net.sizes[net.sizes.length - 1];
  for (let n = 0; n < data.x.length; n++) {
    // Jacobian rows ∂f_c/∂θ at the logits (or outputs).
    const rows: Float64Array[] = [];
    for (let c = 0; c < C; c++) {
      const u = new Float64Array(C);
      u[c] = 1;
      const r = new Float64Array(d);
      vjpInto(net, theta, data.x[n], u, r, atLogits);
      rows.push(r);
    }
    const p = output(net, theta, data.x[n]);
    const Hl = Array.from({ length: C }, (_, a) =>
      Array.from({ length: C }, (_, b) => {
        if (loss === 'mse') return a === b ? 2 / C : 0;
        if (loss === 'bce') return a === b ? (p[a] * (1 - p[a])) / C : 0;
        return (a === b ? p[a] : 0) - p[a] * p[b];
      }),
    );
    for (let a = 0; a < C; a++) {
      for (let b = 0; b < C; b++) {
        const h = Hl[a][b] / data.x.length;
        if (h === 0) continue;
        for (let i = 0; i < d; i++) {
          const ri = rows[a][i] * h;
          if (ri === 0) continue;
          for (let j = 0; j < d; j++) G[i][j] += ri * rows[b][j];
        }
      }
    }
  }
  return G;
}

/** Dense empirical Fisher (1/n)Σ gₙgₙᵀ. */
export function empiricalFisher(net: Mlp64, loss: RefLoss, theta: ArrayLike<number>, data: Data64): number[][] {
  const d = paramCount(net);
  const F = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let n = 0; n < data.x.length; n++) {
    const g = sampleLoss(net, loss, theta, data.x[n], data.y[n]).grad;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) F[i][j] += (g[i] * g[j]) / data.x.length;
  }
  return F;
}

export function matvec(A: number[][], v: ArrayLike<number>): Float64Array {
  return Float64Array.from(A, (row) => row.reduce((s, a, j) => s + a * v[j], 0));
}

export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/**
 * Dense Gauss–Newton matrix (1/n)Σ Jₙᵀ Hₙ Jₙ at the model's outputs (a linear last layer), for any
 * per-sample loss Hessian Hₙ = `lossHessian(outputs, label)` given by the caller.
 */
export function gaussNewtonWith(net: Mlp64, theta: ArrayLike<number>, data: Data64, lossHessian: (out: number[], y: ArrayLike<number>) => number[][]): number[][] {
  const d = paramCount(net);
  const G = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const C = net.sizes[net.sizes.length - 1];
  for (let n = 0; n < data.x.length; n++) {
    const rows: Float64Array[] = [];
    for (let c = 0; c < C; c++) {
      const u = new Float64Array(C);
      u[c] = 1;
      const r = new Float64Array(d);
      vjpInto(net, theta, data.x[n], u, r, true);
      rows.push(r);
    }
    const Hl = lossHessian(Array.from(output(net, theta, data.x[n])), data.y[n]);
    for (let a = 0; a < C; a++) {
      for (let b = 0; b < C; b++) {
        const h = Hl[a][b] / data.x.length;
        for (let i = 0; i < d; i++) {
          const ri = rows[a][i] * h;
          for (let j = 0; j < d; j++) G[i][j] += ri * rows[b][j];
        }
      }
    }
  }
  return G;
}
