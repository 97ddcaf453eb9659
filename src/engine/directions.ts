import type { BiasPolicy, DirectionNorm } from '../shared/results/landscape';
import { Rng } from './linalg/rng';
import type { ParamGroup } from './objective';

/**
 * Random directions for landscapes, after Li et al. 2018 ("Visualizing the Loss Landscape of
 * Neural Nets", §4): δ ~ N(0, I), then per filter δᵢⱼ ← δᵢⱼ · ‖θᵢⱼ‖ / (‖δᵢⱼ‖ + 1e-10), so that
 * the landscape's scale is comparable across layers and networks whose weights have different
 * scales. `layer` rescales each tensor as a whole; `none` leaves δ Gaussian. Vectors (rank ≤ 1:
 * biases, normalisation parameters) follow the paper's `biasbn` option: zeroed (`zero`, the
 * default), or set to a copy of θ's values (`keep`, the reference code's behaviour without
 * `ignore=biasbn`).
 */
export function randomDirection(
  theta: Float32Array,
  groups: readonly ParamGroup[],
  rng: Rng,
  norm: DirectionNorm,
  bias: BiasPolicy,
): Float32Array {
  const d = new Float32Array(theta.length);
  rng.fillNormal(d);
  normaliseDirection(d, theta, groups, norm, bias);
  return d;
}

/** Applies the normalisation and bias policy in place. */
export function normaliseDirection(
  d: Float32Array,
  theta: Float32Array,
  groups: readonly ParamGroup[],
  norm: DirectionNorm,
  bias: BiasPolicy,
): void {
  for (const g of groups) {
    const end = g.offset + g.size;
    if (g.filters === 0) {
      for (let k = g.offset; k < end; k++) d[k] = bias === 'zero' ? 0 : theta[k];
      continue;
    }
    if (norm === 'none') continue;
    if (norm === 'layer') {
      let tn = 0;
      let dn = 0;
      for (let k = g.offset; k < end; k++) {
        tn += theta[k] * theta[k];
        dn += d[k] * d[k];
      }
      const s = Math.sqrt(tn) / (Math.sqrt(dn) + 1e-10);
      for (let k = g.offset; k < end; k++) d[k] *= s;
      continue;
    }
    // filter: with the last axis the output axis (Keras) element k belongs to filter k mod F; with
    // the first (PyTorch [out, in, …]) to filter ⌊k / (size/F)⌋.
    const F = g.filters;
    const per = g.size / F;
    const filterOf = g.filterAxis === 'first' ? (k: number) => Math.floor(k / per) : (k: number) => k % F;
    const tn = new Float64Array(F);
    const dn = new Float64Array(F);
    for (let k = 0; k < g.size; k++) {
      const f = filterOf(k);
      const t = theta[g.offset + k];
      const v = d[g.offset + k];
      tn[f] += t * t;
      dn[f] += v * v;
    }
    const s = new Float64Array(F);
    for (let f = 0; f < F; f++) s[f] = Math.sqrt(tn[f]) / (Math.sqrt(dn[f]) + 1e-10);
    for (let k = 0; k < g.size; k++) d[g.offset + k] *= s[filterOf(k)];
  }
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm2(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return dot(a, b) / (norm2(a) * norm2(b) || 1);
}

/** θ + Σ cᵢ dᵢ, computed in float64 and rounded once to float32 (what the model receives). */
export function pointOnPlane(center: Float32Array, dirs: readonly Float32Array[], coords: readonly number[], out = new Float32Array(center.length)): Float32Array {
  // The common cases unrolled (a landscape evaluates this per point); the same float64
  // arithmetic in the same order as the general loop, so the same float32 result.
  if (dirs.length === 2) {
    const [d0, d1] = dirs;
    const [c0, c1] = coords;
    for (let k = 0; k < center.length; k++) out[k] = center[k] + c0 * d0[k] + c1 * d1[k];
    return out;
  }
  if (dirs.length === 1) {
    const d0 = dirs[0];
    const c0 = coords[0];
    for (let k = 0; k < center.length; k++) out[k] = center[k] + c0 * d0[k];
    return out;
  }
  for (let k = 0; k < center.length; k++) {
    let v = center[k];
    for (let i = 0; i < dirs.length; i++) v += coords[i] * dirs[i][k];
    out[k] = v;
  }
  return out;
}

/** n evenly spaced points on [a, b], inclusive; the midpoint is exact for odd n. */
export function linspace(a: number, b: number, n: number): number[] {
  if (n === 1) return [a];
  return Array.from({ length: n }, (_, i) => {
    const v = a + ((b - a) * i) / (n - 1);
    return Math.abs(v) < 1e-12 * Math.max(Math.abs(a), Math.abs(b)) ? 0 : v;
  });
}
