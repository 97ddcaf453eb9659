/**
 * Scaling laws as log-space models, each with the gradient of log L̂ with respect to its
 * optimisation vector θ, and the grid of initialisations it is fitted from.
 *
 * - `chinchilla` (Hoffmann et al. 2022, approach 3): L = E + A/N^α + B/D^β, written as
 *   log L̂ = LSE(a − α log N, b − β log D, e) with A = eᵃ, B = eᵇ, E = eᵉ; θ = (a, b, e, α, β).
 * - `power`: L = E + A·x^−α in one variable x ∈ {N, D, C}: log L̂ = LSE(a − α log x, e); θ = (a, e, α).
 * - `kaplan` (Kaplan et al. 2020, eq. 1.5): L = [(N_c/N)^{α_N/α_D} + D_c/D]^{α_D}, written as
 *   log L̂ = α_D·LSE((α_N/α_D)(n − log N), d − log D) with N_c = eⁿ, D_c = eᵈ; θ = (n, d, α_N, α_D).
 *   Undefined for α_D ≤ 0 (returns NaN, which the line search backs away from).
 *
 * This file is pure TypeScript (no TF.js): the CLI runs it in process.
 */
import type { ScalingLawName, ScalingVariable } from '../../shared/results/scaling';

/** One row in the form the laws read: logs of the two inputs (x2 unused by one-variable laws) and of the loss. */
export interface LogRows {
  x1: Float64Array;
  x2: Float64Array;
  logLoss: Float64Array;
}

export interface ScalingLaw {
  name: ScalingLawName;
  /** Names of θ's entries, in order. */
  rawNames: readonly string[];
  /** Names of the reported parameters (`params(θ)` keys), in order. */
  paramNames: readonly string[];
  /** The inputs: [N, D] for the two-variable laws, [x] for `power`. */
  variables: readonly ScalingVariable[];
  /** log L̂ at (x1, x2) = (log of the first input, log of the second); adds w·∂/∂θ into grad when given. */
  logPredict(theta: ArrayLike<number>, x1: number, x2: number, grad?: Float64Array, w?: number): number;
  /** Reported parameters from θ. */
  params(theta: ArrayLike<number>): Record<string, number>;
  /** The initialisations to start L-BFGS from: the papers' grid, or a coarse sub-grid for quick looks and tests. */
  grid(coarse?: boolean): number[][];
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to + 1e-9; v += step) out.push(Math.round(v * 1e9) / 1e9);
  return out;
}

function product(axes: number[][]): number[][] {
  let acc: number[][] = [[]];
  for (const axis of axes) acc = acc.flatMap((p) => axis.map((v) => [...p, v]));
  return acc;
}

const chinchilla: ScalingLaw = {
  name: 'chinchilla',
  rawNames: ['a', 'b', 'e', 'alpha', 'beta'],
  paramNames: ['E', 'A', 'B', 'alpha', 'beta'],
  variables: ['N', 'D'],
  logPredict(t, lnN, lnD, grad, w = 1) {
    const t1 = t[0] - t[3] * lnN;
    const t2 = t[1] - t[4] * lnD;
    const t3 = t[2];
    const m = Math.max(t1, t2, t3);
    const e1 = Math.exp(t1 - m);
    const e2 = Math.exp(t2 - m);
    const e3 = Math.exp(t3 - m);
    const s = e1 + e2 + e3;
    if (grad) {
      const k = w / s;
      grad[0] += k * e1;
      grad[1] += k * e2;
      grad[2] += k * e3;
      grad[3] -= k * e1 * lnN;
      grad[4] -= k * e2 * lnD;
    }
    return m + Math.log(s);
  },
  params: (t) => ({ E: Math.exp(t[2]), A: Math.exp(t[0]), B: Math.exp(t[1]), alpha: t[3], beta: t[4] }),
  // Hoffmann et al. / Besiroglu et al.: α, β ∈ {0, 0.5, …, 2}, e ∈ {−1, −0.5, …, 1}, a, b ∈ {0, 5, …, 25}: 4,500 starts.
  grid: (coarse) =>
    coarse
      ? product([[0, 10, 20], [0, 10, 20], [-1, 0, 1], [0.5, 1.5], [0.5, 1.5]])
      : product([range(0, 25, 5), range(0, 25, 5), range(-1, 1, 0.5), range(0, 2, 0.5), range(0, 2, 0.5)]),
};

function powerLaw(variable: ScalingVariable): ScalingLaw {
  return {
    name: 'power',
    rawNames: ['a', 'e', 'alpha'],
    paramNames: ['E', 'A', 'alpha'],
    variables: [variable],
    logPredict(t, lnX, _unused, grad, w = 1) {
      const t1 = t[0] - t[2] * lnX;
      const t2 = t[1];
      const m = Math.max(t1, t2);
      const e1 = Math.exp(t1 - m);
      const e2 = Math.exp(t2 - m);
      const s = e1 + e2;
      if (grad) {
        const k = w / s;
        grad[0] += k * e1;
        grad[1] += k * e2;
        grad[2] -= k * e1 * lnX;
      }
      return m + Math.log(s);
    },
    params: (t) => ({ E: Math.exp(t[1]), A: Math.exp(t[0]), alpha: t[2] }),
    // The Chinchilla grid restricted to one term: a ∈ {0, 5, …, 25}, e ∈ {−1, …, 1}, α ∈ {0, …, 2}.
    grid: (coarse) => (coarse ? product([[0, 10, 20], [-1, 0, 1], [0.5, 1.5]]) : product([range(0, 25, 5), range(-1, 1, 0.5), range(0, 2, 0.5)])),
  };
}

const kaplan: ScalingLaw = {
  name: 'kaplan',
  rawNames: ['n', 'd', 'alphaN', 'alphaD'],
  paramNames: ['Nc', 'Dc', 'alphaN', 'alphaD'],
  variables: ['N', 'D'],
  logPredict(t, lnN, lnD, grad, w = 1) {
    const [n, d, aN, aD] = [t[0], t[1], t[2], t[3]];
    if (!(aD > 0)) return NaN;
    const u1 = (aN / aD) * (n - lnN);
    const u2 = d - lnD;
    const m = Math.max(u1, u2);
    const e1 = Math.exp(u1 - m);
    const e2 = Math.exp(u2 - m);
    const s = e1 + e2;
    const lse = m + Math.log(s);
    if (grad) {
      const w1 = e1 / s;
      const w2 = e2 / s;
      grad[0] += w * aN * w1;
      grad[1] += w * aD * w2;
      grad[2] += w * w1 * (n - lnN);
      grad[3] += w * (lse - w1 * u1);
    }
    return aD * lse;
  },
  params: (t) => ({ Nc: Math.exp(t[0]), Dc: Math.exp(t[1]), alphaN: t[2], alphaD: t[3] }),
  // Kaplan et al. report α_N ≈ 0.076, α_D ≈ 0.095, N_c ≈ 8.8e13, D_c ≈ 5.4e13: a grid around those scales.
  grid: (coarse) =>
    coarse ? product([[10, 30], [10, 30], [0.1, 0.3], [0.1, 0.3]]) : product([range(5, 35, 10), range(5, 35, 10), [0.05, 0.1, 0.2, 0.4], [0.05, 0.1, 0.2, 0.4]]),
};

export function scalingLaw(name: ScalingLawName, variable: ScalingVariable = 'N'): ScalingLaw {
  if (name === 'chinchilla') return chinchilla;
  if (name === 'kaplan') return kaplan;
  return powerLaw(variable);
}

/** θ from reported parameters (the inverse of `params`), for starting fits and generating data. */
export function rawFromParams(law: ScalingLaw, p: Record<string, number>): number[] {
  if (law.name === 'chinchilla') return [Math.log(p.A), Math.log(p.B), Math.log(p.E), p.alpha, p.beta];
  if (law.name === 'kaplan') return [Math.log(p.Nc), Math.log(p.Dc), p.alphaN, p.alphaD];
  return [Math.log(p.A), Math.log(p.E), p.alpha];
}

/** Huber loss of Hoffmann et al. (scipy.special.huber): r²/2 for |r| ≤ δ, δ(|r| − δ/2) beyond; and its derivative. */
export function huber(r: number, delta: number): number {
  const a = Math.abs(r);
  return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
}

export function huberDerivative(r: number, delta: number): number {
  return r > delta ? delta : r < -delta ? -delta : r;
}

/**
 * The approach-3 objective Σᵢ Huber_δ(log L̂ᵢ − log Lᵢ) over rows (an index list, so a bootstrap
 * replicate is a list with repeats), with its gradient. The chinchilla law has a fused loop
 * (the fit evaluates it ~10⁶ times; the generic path through `logPredict` is ~5× slower).
 */
export function huberObjective(law: ScalingLaw, rows: LogRows, index: Int32Array, delta: number) {
  if (law.name === 'chinchilla') return chinchillaObjective(rows, index, delta);
  const p = law.rawNames.length;
  const tmp = new Float64Array(p);
  return (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let f = 0;
    for (let k = 0; k < index.length; k++) {
      const i = index[k];
      tmp.fill(0);
      const lp = law.logPredict(theta, rows.x1[i], rows.x2[i], tmp, 1);
      if (!Number.isFinite(lp)) return NaN;
      const r = lp - rows.logLoss[i];
      f += huber(r, delta);
      const dr = huberDerivative(r, delta);
      for (let j = 0; j < p; j++) grad[j] += dr * tmp[j];
    }
    return f;
  };
}

function chinchillaObjective(rows: LogRows, index: Int32Array, delta: number) {
  const { x1, x2, logLoss } = rows;
  const n = index.length;
  return (t: Float64Array, grad: Float64Array): number => {
    const a = t[0], b = t[1], e = t[2], al = t[3], be = t[4];
    let f = 0, g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0;
    for (let k = 0; k < n; k++) {
      const i = index[k];
      const lnN = x1[i];
      const lnD = x2[i];
      const t1 = a - al * lnN;
      const t2 = b - be * lnD;
      const m = t1 > t2 ? (t1 > e ? t1 : e) : t2 > e ? t2 : e;
      const e1 = Math.exp(t1 - m);
      const e2 = Math.exp(t2 - m);
      const e3 = Math.exp(e - m);
      const s = e1 + e2 + e3;
      const r = m + Math.log(s) - logLoss[i];
      let dr: number;
      if (r > delta) { f += delta * (r - 0.5 * delta); dr = delta; }
      else if (r < -delta) { f += delta * (-r - 0.5 * delta); dr = -delta; }
      else { f += 0.5 * r * r; dr = r; }
      const k1 = (dr * e1) / s;
      const k2 = (dr * e2) / s;
      g0 += k1;
      g1 += k2;
      g2 += (dr * e3) / s;
      g3 -= k1 * lnN;
      g4 -= k2 * lnD;
    }
    grad[0] = g0; grad[1] = g1; grad[2] = g2; grad[3] = g3; grad[4] = g4;
    return Number.isFinite(f) ? f : NaN;
  };
}
