/**
 * Multi-start fitting and the row bootstrap.
 *
 * The full fit runs L-BFGS from every initialisation of the law's grid (Hoffmann et al. 2022,
 * approach 3; 4,500 starts for chinchilla) and keeps the lowest objective.
 *
 * Bootstrap replicates (rows resampled with replacement) are not refitted from the whole grid:
 * 200 replicates × 4,500 starts would be ~900k L-BFGS runs. Instead each replicate starts from
 * the optima of the full fit's K best *distinct* basins (default K = 6; the best is the full
 * fit's optimum). A replicate's optimum lies near the full fit's, so the start in the right
 * basin converges to it in a few iterations, and the other basins guard against a replicate
 * whose best basin changed. Measured against full-grid refits of replicates of small noisy
 * Chinchilla tables (30 and 48 rows, 8 replicates each): K = 2 missed the full grid's optimum
 * in 3 and 1 of 8, K = 4 in 2 and 0, K = 6 in none; test/unit/scaling/recovery.test.ts keeps
 * checking it.
 */
import { lbfgs, type LbfgsOptions } from './lbfgs';
import { huberObjective, type LogRows, type ScalingLaw } from './laws';
import { Rng } from '../linalg/rng';

export interface StartOutcome {
  start: number[];
  theta: Float64Array;
  f: number;
  reason: string;
}

export interface MultiStartFit {
  best: StartOutcome;
  outcomes: StartOutcome[];
  /** Starts ending within 1e-9 (relative) of the best objective. */
  startsAtBest: number;
}

export interface FitControl {
  lbfgs?: LbfgsOptions;
}

// Tighter than scipy's defaults (gtol 1e-5, ftol 2.2e-9 relative to max(|f|, 1)): with δ = 1e-3
// the Huber sum is ~1e-3 and its gradient ~1e-4, so scipy's rules stop early along the flat
// valley of B and β (test/unit/scaling/scipy.test.ts: scipy ends at a slightly higher objective).
const DEFAULT_LBFGS: LbfgsOptions = { gtol: 1e-8, ftol: 1e-12, maxIter: 1000 };

export function allRows(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

export function fitFromStarts(law: ScalingLaw, rows: LogRows, index: Int32Array, delta: number, starts: number[][], control: FitControl = {}): MultiStartFit {
  const fg = huberObjective(law, rows, index, delta);
  const opts = { ...DEFAULT_LBFGS, ...control.lbfgs };
  const outcomes: StartOutcome[] = [];
  let best: StartOutcome | undefined;
  for (let s = 0; s < starts.length; s++) {
    const r = lbfgs(fg, starts[s], opts);
    const o: StartOutcome = { start: starts[s], theta: r.x, f: Number.isFinite(r.f) ? r.f : Infinity, reason: r.reason };
    outcomes.push(o);
    if (!best || o.f < best.f) best = o;
  }
  if (!best) throw new Error('no initialisations to fit from');
  const tol = 1e-9 * Math.max(Math.abs(best.f), 1e-300);
  const startsAtBest = outcomes.filter((o) => o.f - best!.f <= tol).length;
  return { best, outcomes, startsAtBest };
}

/**
 * Optima of the K best distinct basins, best first. Two optima count as one when every entry of
 * θ agrees within `separation` (absolute: θ holds logs of A, B, E and the exponents, so 0.05 is
 * 5 % in a coefficient). Fits of Chinchilla-like tables stop along a flat valley of B and β;
 * spreading the starts along it is what lets a replicate whose optimum moved along the valley
 * find it (a 1e-3 separation picked near-copies and missed such optima).
 */
export function bestDistinctOptima(fit: MultiStartFit, k: number, separation = 0.05): Float64Array[] {
  const sorted = [...fit.outcomes].filter((o) => Number.isFinite(o.f)).sort((a, b) => a.f - b.f);
  const picked: Float64Array[] = [];
  for (const o of sorted) {
    if (picked.length >= k) break;
    if (picked.some((p) => p.every((v, i) => Math.abs(v - o.theta[i]) <= separation))) continue;
    picked.push(o.theta);
  }
  return picked;
}

/** Row indices of bootstrap replicate b: n draws with replacement from a seeded stream. */
export function resample(n: number, rng: Rng): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = Math.min(n - 1, Math.floor(rng.uniform() * n));
  return idx;
}

/** The better of two multi-start fits over disjoint start sets (the full grid is fitted in chunks so a cancel can arrive). */
export function mergeFits(a: MultiStartFit | undefined, b: MultiStartFit): MultiStartFit {
  if (!a) return b;
  const outcomes = [...a.outcomes, ...b.outcomes];
  const best = b.best.f < a.best.f ? b.best : a.best;
  const tol = 1e-9 * Math.max(Math.abs(best.f), 1e-300);
  return { best, outcomes, startsAtBest: outcomes.filter((o) => o.f - best.f <= tol).length };
}

/** Bootstrap replicate fits: rows resampled with replacement, each refitted from `starts`. */
export function bootstrapFits(law: ScalingLaw, rows: LogRows, n: number, delta: number, starts: Float64Array[], replicates: number, seed: number): { thetas: Float64Array[]; indices: Int32Array[] } {
  const rng = new Rng(seed);
  const thetas: Float64Array[] = [];
  const indices: Int32Array[] = [];
  const startList = starts.map((s) => Array.from(s));
  for (let b = 0; b < replicates; b++) {
    const idx = resample(n, rng);
    thetas.push(fitFromStarts(law, rows, idx, delta, startList).best.theta);
    indices.push(idx);
  }
  return { thetas, indices };
}

/** Quantile q of values (linear interpolation between order statistics, numpy's default). */
export function quantile(values: number[], q: number): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const h = (v.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return v[lo] + (h - lo) * (v[hi] - v[lo]);
}

/** Percentile interval at the given level (e.g. 0.95 → 2.5 % and 97.5 %) with the median. */
export function percentileInterval(values: number[], level: number): { lo: number; hi: number; median: number } {
  const tail = (1 - level) / 2;
  return { lo: quantile(values, tail), hi: quantile(values, 1 - tail), median: quantile(values, 0.5) };
}
