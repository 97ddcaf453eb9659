/**
 * What a fitted law says: the loss at given inputs, the compute-optimal allocation, and the
 * curves the panel draws — each from the point fit, with bootstrap percentile intervals from
 * the replicates' parameters when there are any.
 */
import type { Interval, OptimalPoint, ScalingRow, ScalingVariable } from '../../shared/results/scaling';
import { percentileInterval } from './fit';
import type { ScalingLaw } from './laws';

export type Point = Partial<Record<ScalingVariable, number>>;

/** L̂ at a point: the two-variable laws read N and D; the power law its variable. */
export function predictLoss(law: ScalingLaw, theta: ArrayLike<number>, at: Point): number {
  const [v1, v2] = law.variables;
  const x1 = at[v1];
  const x2 = v2 ? at[v2] : 1;
  if (x1 === undefined || x2 === undefined) return NaN;
  return Math.exp(law.logPredict(theta, Math.log(x1), Math.log(x2)));
}

export function pointOfRow(r: ScalingRow): Point {
  return { N: r.N, D: r.D, C: r.C };
}

export function withInterval(values: number[], level: number): Interval | undefined {
  return values.length > 0 ? percentileInterval(values, level) : undefined;
}

export interface Allocation {
  a: number;
  b: number;
  G: number;
}

/**
 * Hoffmann et al. 2022, eq. 4: minimising E + A/N^α + B/D^β subject to C = 6ND gives
 * N_opt = G (C/6)^a, D_opt = G⁻¹ (C/6)^b, a = β/(α+β), b = α/(α+β), G = (αA/(βB))^{1/(α+β)}.
 */
export function allocation(p: Record<string, number>): Allocation {
  const s = p.alpha + p.beta;
  return { a: p.beta / s, b: p.alpha / s, G: Math.pow((p.alpha * p.A) / (p.beta * p.B), 1 / s) };
}

export function optimumAt(law: ScalingLaw, theta: ArrayLike<number>, C: number): { N: number; D: number; loss: number } {
  const al = allocation(law.params(theta));
  const N = al.G * Math.pow(C / 6, al.a);
  const D = Math.pow(C / 6, al.b) / al.G;
  return { N, D, loss: predictLoss(law, theta, { N, D }) };
}

export function optimalPoint(law: ScalingLaw, theta: ArrayLike<number>, reps: ArrayLike<number>[], C: number, level: number): OptimalPoint {
  const o = optimumAt(law, theta, C);
  const point: OptimalPoint = { C, N: o.N, D: o.D, tokensPerParameter: o.D / o.N, loss: o.loss };
  if (reps.length > 0) {
    const r = reps.map((t) => optimumAt(law, t, C));
    point.intervals = {
      N: percentileInterval(r.map((x) => x.N), level),
      D: percentileInterval(r.map((x) => x.D), level),
      tokensPerParameter: percentileInterval(r.map((x) => x.D / x.N), level),
      loss: percentileInterval(r.map((x) => x.loss), level),
    };
  }
  return point;
}

export function logSpace(lo: number, hi: number, n: number): number[] {
  const a = Math.log(lo);
  const b = Math.log(hi);
  return Array.from({ length: n }, (_, i) => Math.exp(a + ((b - a) * i) / (n - 1)));
}

export interface Curve {
  x: number[];
  loss: number[];
  lo?: number[];
  hi?: number[];
}

/** A curve of L̂ over points, with the replicates' percentile band. */
export function curve(law: ScalingLaw, theta: ArrayLike<number>, reps: ArrayLike<number>[], xs: number[], pointAt: (x: number) => Point, level: number): Curve {
  const loss = xs.map((x) => predictLoss(law, theta, pointAt(x)));
  if (reps.length === 0) return { x: xs, loss };
  const lo: number[] = [];
  const hi: number[] = [];
  for (const x of xs) {
    const iv = percentileInterval(reps.map((t) => predictLoss(law, t, pointAt(x))), level);
    lo.push(iv.lo);
    hi.push(iv.hi);
  }
  return { x: xs, loss, lo, hi };
}

/** At most `k` values spread over the sorted distinct values (always the smallest and largest). */
export function spread(values: number[], k: number): number[] {
  const v = [...new Set(values)].sort((a, b) => a - b);
  if (v.length <= k) return v;
  return [...new Set(Array.from({ length: k }, (_, i) => v[Math.round((i * (v.length - 1)) / (k - 1))]))];
}
