import type { ParamGroup } from '../objective';

/**
 * Per-checkpoint statistics that need only flat vectors: parameter norms and distances (per
 * layer and whole), the SAF trajectory KL between checkpoints' outputs, and label matrices.
 */

export interface NormStats {
  norm: number;
  /** ‖θ − θ₀‖ / ‖θ₀‖, null when ‖θ₀‖ = 0. */
  distance: number | null;
  layers: { name: string; parameters: number; norm: number; distance: number | null }[];
}

/** The layers of the parameter groups, in order (a layer owns its kernel, bias, …). */
export function layersOf(groups: readonly ParamGroup[]): { name: string; groups: ParamGroup[] }[] {
  const out: { name: string; groups: ParamGroup[] }[] = [];
  for (const g of groups) {
    const last = out[out.length - 1];
    if (last && last.name === g.layer) last.groups.push(g);
    else out.push({ name: g.layer, groups: [g] });
  }
  return out;
}

/** ‖θ‖ and ‖θ − θ₀‖/‖θ₀‖, whole and per layer, accumulated in float64. */
export function normStats(theta: ArrayLike<number>, theta0: ArrayLike<number>, groups: readonly ParamGroup[]): NormStats {
  let tt = 0;
  let dd = 0;
  let t0 = 0;
  const layers = layersOf(groups).map(({ name, groups: gs }) => {
    let lt = 0;
    let ld = 0;
    let l0 = 0;
    let parameters = 0;
    for (const g of gs) {
      parameters += g.size;
      for (let k = g.offset; k < g.offset + g.size; k++) {
        const a = theta[k];
        const b = theta0[k];
        lt += a * a;
        ld += (a - b) * (a - b);
        l0 += b * b;
      }
    }
    tt += lt;
    dd += ld;
    t0 += l0;
    return { name, parameters, norm: Math.sqrt(lt), distance: l0 > 0 ? Math.sqrt(ld / l0) : null };
  });
  return { norm: Math.sqrt(tt), distance: t0 > 0 ? Math.sqrt(dd / t0) : null, layers };
}

/** How a model's outputs are read for the trajectory KL. */
export type OutputKind = 'softmax-logits' | 'softmax-probabilities' | 'sigmoid-logits' | 'sigmoid-probabilities' | 'none';

const EPS = 1e-7;

/** Logits of one output row (probabilities are mapped back: log p for softmax, log(p/(1−p)) for sigmoid). */
function logitsOf(row: ArrayLike<number>, kind: OutputKind): number[] {
  const z = Array.from(row);
  if (kind === 'softmax-probabilities') return z.map((p) => Math.log(Math.min(Math.max(p, EPS), 1)));
  if (kind === 'sigmoid-probabilities') {
    return z.map((p) => {
      const q = Math.min(Math.max(p, EPS), 1 - EPS);
      return Math.log(q / (1 - q));
    });
  }
  return z;
}

function logSoftmax(z: number[]): number[] {
  const m = Math.max(...z);
  let s = 0;
  for (const v of z) s += Math.exp(v - m);
  const lse = m + Math.log(s);
  return z.map((v) => v - lse);
}

/** log σ(z) = −log(1 + e^{−z}), stable. */
function logSigmoid(z: number): number {
  return z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z));
}

/**
 * SAF-style trajectory KL (Du et al. 2022, without their λ): τ² · mean over samples of
 * KL(softmax(z_prev/τ) ‖ softmax(z_cur/τ)); for sigmoid outputs the Bernoulli KL per output unit,
 * averaged over units. Outputs are row-major [n, C]; null for other output kinds.
 */
export function trajectoryKL(prev: ArrayLike<number>, cur: ArrayLike<number>, n: number, C: number, kind: OutputKind, tau: number): number | null {
  if (kind === 'none') return null;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const zp = logitsOf(sliceRow(prev, i, C), kind).map((v) => v / tau);
    const zc = logitsOf(sliceRow(cur, i, C), kind).map((v) => v / tau);
    if (kind === 'softmax-logits' || kind === 'softmax-probabilities') {
      const lp = logSoftmax(zp);
      const lc = logSoftmax(zc);
      let kl = 0;
      for (let c = 0; c < C; c++) kl += Math.exp(lp[c]) * (lp[c] - lc[c]);
      total += kl;
    } else {
      let kl = 0;
      for (let c = 0; c < C; c++) {
        const lp1 = logSigmoid(zp[c]);
        const lp0 = logSigmoid(-zp[c]);
        kl += Math.exp(lp1) * (lp1 - logSigmoid(zc[c])) + Math.exp(lp0) * (lp0 - logSigmoid(-zc[c]));
      }
      total += kl / C;
    }
  }
  return (tau * tau * total) / n;
}

function sliceRow(a: ArrayLike<number>, i: number, C: number): number[] {
  const out = new Array<number>(C);
  for (let c = 0; c < C; c++) out[c] = a[i * C + c];
  return out;
}

/** Mean over samples of ‖f_cur(x) − f_prev(x)‖². */
export function outputChange(prev: ArrayLike<number>, cur: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < prev.length; i++) s += (cur[i] - prev[i]) ** 2;
  return s / n;
}

/** Labels as an n×C float64 matrix: one-hot for class indices, else as given. */
export function labelMatrix(y: ArrayLike<number>, n: number, C: number, indices: boolean): Float64Array {
  const Y = new Float64Array(n * C);
  if (indices) {
    for (let i = 0; i < n; i++) {
      const c = Math.round(y[i]);
      if (c >= 0 && c < C) Y[i * C + c] = 1;
    }
  } else {
    for (let i = 0; i < n * C; i++) Y[i] = y[i];
  }
  return Y;
}
