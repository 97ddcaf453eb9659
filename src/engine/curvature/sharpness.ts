import type { Objective } from '../objective';
import type { Rng } from '../linalg/rng';
import { checkpoint } from '../analysisContext';
import type { StopSignal } from '../linalg/operator';
import { checkFiniteScalar } from '../linalg/errors';

/**
 * Sharpness measures of a trained model (docs/numerics.md, "Sharpness"), each as the loss
 * increase over L(θ) of a perturbation found by first-order and projected gradient-ascent
 * steps. The ascent keeps the best point seen, so `ascent ≥ firstOrder` and both are lower
 * bounds on the true maximum over the set. Perturbations are computed in float64 and rounded
 * once to float32 (the model's parameters).
 */
export interface AscentResult {
  /** Loss increase at the first-order point. */
  firstOrder: number;
  /** Best loss increase over the first-order point and the ascent iterates. */
  ascent: number;
  steps: number;
}

interface Ctx {
  obj: Objective;
  theta: Float32Array;
  /** L(θ). */
  base: number;
  /** ∇L(θ). */
  grad: Float64Array;
  steps: number;
  stop: StopSignal;
  /** Called after each loss or gradient evaluation. */
  onEvaluation?: () => void;
}

function norm(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

function plus(theta: Float32Array, e: Float64Array): Float64Array {
  const p = new Float64Array(theta.length);
  for (let i = 0; i < p.length; i++) p[i] = theta[i] + e[i];
  return p;
}

/**
 * Maximises L(θ + ε) over ε = T·δ, ‖δ‖₂ ≤ ρ, for a diagonal scaling T (null: the identity):
 *   first order   δ̂ = ρ·Tg/‖Tg‖  (SAM: ε̂ = ρg/‖g‖; ASAM: ε̂ = ρT²g/‖Tg‖)
 *   ascent        δ ← Π(δ + (ρ/(2√t))·T∇L(θ+ε)/‖T∇L(θ+ε)‖),  Π the projection onto the ball
 * with `steps` gradient evaluations after the first-order point.
 */
export async function ballAscent(c: Ctx, rho: number, T: Float64Array | null): Promise<AscentResult> {
  const d = c.theta.length;
  const scaled = (g: Float64Array): Float64Array => (T ? g.map((x, i) => x * T[i]) : Float64Array.from(g));
  const toEps = (delta: Float64Array): Float64Array => (T ? delta.map((x, i) => x * T[i]) : delta);
  const tg = scaled(c.grad);
  const n0 = norm(tg);
  if (n0 === 0) {
    // At a stationary point the first-order step is undefined; the ascent starts from δ = 0.
    return { firstOrder: 0, ...(await ascend(c, new Float64Array(d), rho, scaled, toEps, 0)) };
  }
  const delta = tg.map((x) => (rho * x) / n0);
  await checkpoint(c.stop);
  const first = (await c.obj.loss(plus(c.theta, toEps(delta)))) - c.base;
  c.onEvaluation?.();
  checkFiniteScalar(first, 'loss at the first-order perturbation', 0);
  return { firstOrder: first, ...(await ascend(c, delta, rho, scaled, toEps, first)) };
}

async function ascend(
  c: Ctx,
  delta: Float64Array,
  rho: number,
  scaled: (g: Float64Array) => Float64Array,
  toEps: (d: Float64Array) => Float64Array,
  best0: number,
): Promise<{ ascent: number; steps: number }> {
  let best = best0;
  for (let t = 1; t <= c.steps; t++) {
    await checkpoint(c.stop);
    const { loss, grad } = await c.obj.grad(plus(c.theta, toEps(delta)));
    c.onEvaluation?.();
    if (Number.isFinite(loss)) best = Math.max(best, loss - c.base);
    const g = scaled(grad);
    const gn = norm(g);
    if (!(gn > 0) || !Number.isFinite(gn)) break;
    const step = rho / (2 * Math.sqrt(t));
    for (let i = 0; i < delta.length; i++) delta[i] += (step * g[i]) / gn;
    const dn = norm(delta);
    if (dn > rho) for (let i = 0; i < delta.length; i++) delta[i] *= rho / dn;
  }
  if (c.steps > 0) {
    await checkpoint(c.stop);
    const last = (await c.obj.loss(plus(c.theta, toEps(delta)))) - c.base;
    c.onEvaluation?.();
    if (Number.isFinite(last)) best = Math.max(best, last);
  }
  return { ascent: best, steps: c.steps };
}

/** ASAM's T = diag(|θ|) + η. */
export function asamScaling(theta: Float32Array, eta: number): Float64Array {
  return Float64Array.from(theta, (x) => Math.abs(x) + eta);
}

/**
 * Keskar et al.'s box: max L(θ + A·y) over |yᵢ| ≤ ε(|(A⁺θ)ᵢ| + 1), A = I or a d×p matrix with
 * orthonormal columns (A⁺ = Aᵀ). First-order point y = b ⊙ sign(Aᵀg) (a corner), then
 * projected signed-gradient steps y ← clip(y + b ⊙ sign(Aᵀ∇L)/(2√t)); returns the best increase.
 * (The paper uses L-BFGS-B with 10 iterations; this is the same maximisation by projected ascent.)
 */
export async function boxAscent(c: Ctx, epsilon: number, A: Float64Array[] | null): Promise<AscentResult> {
  const d = c.theta.length;
  const p = A ? A.length : d;
  const project = (v: ArrayLike<number>): Float64Array => (A ? Float64Array.from(A, (col) => dot(col, v)) : Float64Array.from(v));
  const lift = (y: Float64Array): Float64Array => {
    if (!A) return y;
    const z = new Float64Array(d);
    A.forEach((col, j) => {
      for (let i = 0; i < d; i++) z[i] += y[j] * col[i];
    });
    return z;
  };
  const thetaP = project(c.theta);
  const bound = Float64Array.from(thetaP, (x) => epsilon * (Math.abs(x) + 1));
  const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);
  const gp = project(c.grad);
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) y[i] = bound[i] * sign(gp[i]);
  await checkpoint(c.stop);
  const first = (await c.obj.loss(plus(c.theta, lift(y)))) - c.base;
  c.onEvaluation?.();
  checkFiniteScalar(first, 'loss at the first-order box corner', 0);
  let best = first;
  for (let t = 1; t <= c.steps; t++) {
    await checkpoint(c.stop);
    const { loss, grad } = await c.obj.grad(plus(c.theta, lift(y)));
    c.onEvaluation?.();
    if (Number.isFinite(loss)) best = Math.max(best, loss - c.base);
    const g = project(grad);
    for (let i = 0; i < p; i++) y[i] = Math.min(bound[i], Math.max(-bound[i], y[i] + (bound[i] * sign(g[i])) / (2 * Math.sqrt(t))));
  }
  if (c.steps > 0) {
    await checkpoint(c.stop);
    const last = (await c.obj.loss(plus(c.theta, lift(y)))) - c.base;
    c.onEvaluation?.();
    if (Number.isFinite(last)) best = Math.max(best, last);
  }
  return { firstOrder: first, ascent: best, steps: c.steps };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** p orthonormal columns in ℝᵈ: Gaussian draws, Gram–Schmidt twice. */
export function randomSubspace(d: number, p: number, rng: Rng): Float64Array[] {
  const cols: Float64Array[] = [];
  while (cols.length < p) {
    const v = new Float64Array(d);
    rng.fillNormal(v);
    for (let pass = 0; pass < 2; pass++) {
      for (const q of cols) {
        const c = dot(q, v);
        for (let i = 0; i < d; i++) v[i] -= c * q[i];
      }
    }
    const n = norm(v);
    if (n > 1e-8) cols.push(v.map((x) => x / n));
  }
  return cols;
}

/** E L(θ + σu) − L(θ), u ~ N(0, I), by `samples` Monte Carlo draws: mean, stderr and the draws. */
export async function averageCase(c: Ctx, sigma: number, samples: number, rng: Rng): Promise<{ mean: number; stderr: number; values: number[] }> {
  const d = c.theta.length;
  const values: number[] = [];
  const u = new Float64Array(d);
  for (let s = 0; s < samples; s++) {
    await checkpoint(c.stop);
    rng.fillNormal(u);
    for (let i = 0; i < d; i++) u[i] *= sigma;
    const l = (await c.obj.loss(plus(c.theta, u))) - c.base;
    c.onEvaluation?.();
    checkFiniteScalar(l, `loss at Gaussian perturbation σ = ${sigma}`, s + 1);
    values.push(l);
  }
  const mean = values.reduce((a, b) => a + b, 0) / samples;
  const ss = values.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, stderr: samples > 1 ? Math.sqrt(ss / (samples - 1) / samples) : Number.NaN, values };
}

export type SharpnessContext = Ctx;
