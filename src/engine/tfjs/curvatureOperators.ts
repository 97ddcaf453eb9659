import * as tf from '@tensorflow/tfjs';
import { accumulateGrads, batchGrads, batchJvp, batchOutputs, batchVjp, outputUnits } from './autodiff';
import { FrozenKinks } from './frozenKinks';
import type { LinearOperator } from '../linalg/operator';
import { asBlockOperator, type CurvatureKind, type CurvatureOperator, type FiniteDifferenceOptions, type FiniteDifferenceStats } from '../objective';
import type { TfjsObjective as Objective } from './objective';
import { lossCurvature, type LossCurvature } from './lossHessian';

export type { CurvatureKind, CurvatureOperator, FiniteDifferenceOptions, FiniteDifferenceStats } from '../objective';

/**
 * Curvature-vector products of the objective as LinearOperators (the matrix-free pattern of
 * curvlinops), all at the parameters θ given at construction, each product summed over the
 * objective's batches in float64:
 *
 *   GaussNewtonOperator        G v = (1/n) Σₙ Jₙᵀ H_ℓ,ₙ Jₙ v, exact up to float32 rounding
 *   FiniteDifferenceHessian    H v by central differences of gradients, Richardson-extrapolated
 *   EmpiricalFisherOperator    F v = (1/n) Σₙ ∇ℓₙ (∇ℓₙᵀ v), without storing per-sample gradients
 *
 * DESIGN.md: TF.js nested gradients give wrong Hessian-vector products for nonlinear models, so
 * no product here differentiates a gradient with respect to θ; J v is the dual trick (a VJP
 * differentiated with respect to its linear cotangent), which needs first-order links only.
 * Products leave the model's parameters at θ.
 */

/** The model's per-sample losses on a batch, [rows]. */
function batchLosses(obj: Objective, b: Objective['batches'][number]): tf.Tensor1D {
  return obj.lossFn.perSample(b.y, obj.model.apply(b.x, { training: false }) as tf.Tensor);
}

/** Runs `f` with the parameters set to θ (and leaves them there). */
function atTheta(obj: Objective, theta: Float32Array): void {
  obj.assign(theta);
}

/** G v = (1/n) Σ Jₙᵀ H_ℓ Jₙ v with H_ℓ in closed form (see lossHessian.ts). */
export class GaussNewtonOperator implements LinearOperator {
  readonly dim: number;
  readonly curvature: LossCurvature;

  constructor(
    private readonly obj: Objective,
    private readonly theta: Float32Array = obj.theta0,
  ) {
    this.dim = obj.dim;
    this.curvature = lossCurvature(obj.lossFn, obj.model);
  }

  async matvec(v: Float64Array): Promise<Float64Array> {
    const { obj, curvature } = this;
    atTheta(obj, this.theta);
    const C = outputUnits(obj);
    const n = obj.sampleCount;
    const out = new Float64Array(this.dim);
    const vt = obj.splitParams(v);
    try {
      for (const b of obj.batches) {
        const grads = curvature.withOutputs(() =>
          tf.tidy(() => {
            const f = () => batchOutputs(obj, b);
            const z = f();
            const jv = batchJvp(obj, f, [b.n, C], vt) as tf.Tensor2D;
            const r = curvature.apply(z, b.y, jv).div(n);
            return batchVjp(obj, f, r);
          }),
        );
        await accumulateGrads(obj, grads, out);
      }
    } finally {
      tf.dispose(vt);
    }
    return out;
  }
}

/** F v = (1/n) Σₙ ∇ℓₙ (∇ℓₙᵀv): the per-sample directional derivatives by the dual trick, then one VJP. */
export class EmpiricalFisherOperator implements LinearOperator {
  readonly dim: number;

  constructor(
    private readonly obj: Objective,
    private readonly theta: Float32Array = obj.theta0,
  ) {
    this.dim = obj.dim;
  }

  async matvec(v: Float64Array): Promise<Float64Array> {
    const { obj } = this;
    atTheta(obj, this.theta);
    const n = obj.sampleCount;
    const out = new Float64Array(this.dim);
    const vt = obj.splitParams(v);
    try {
      for (const b of obj.batches) {
        const grads = tf.tidy(() => {
          const f = () => batchLosses(obj, b);
          const gv = batchJvp(obj, f, [b.n], vt);
          return batchVjp(obj, f, gv.div(n));
        });
        await accumulateGrads(obj, grads, out);
      }
    } finally {
      tf.dispose(vt);
    }
    return out;
  }
}

/**
 * H v ≈ R = (4·D(h/2) − D(h)) / 3 with D(h) = [∇L(θ + hv) − ∇L(θ − hv)] / (2h): central
 * differences (error c₂h² + c₄h⁴ + …) extrapolated once (Richardson), leaving O(h⁴). The step
 * follows the scales of θ and v: h = δ·max(‖θ_S‖, rms(θ)·√|S|)/‖v‖ (see `relativeStep`). The
 * error estimate is ‖D(h/2) − D(h)‖: three times the truncation error of D(h/2), so an upper
 * estimate of R's truncation error, and about the size of R's float32 rounding noise (the
 * gradients' rounding differs between the two steps and is amplified ~(4·2+1)/3 in R, while
 * the difference sees ~√5 of it). Four gradients per product. On piecewise-linear models
 * (ReLU, max-pooling) the differences also see kinks crossed within ±h, which this estimate
 * reveals as a large error.
 */
export class FiniteDifferenceHessian implements LinearOperator {
  readonly dim: number;
  readonly stats: FiniteDifferenceStats;

  constructor(
    private readonly obj: Objective,
    private readonly theta: Float32Array = obj.theta0,
    options: FiniteDifferenceOptions = {},
  ) {
    this.dim = obj.dim;
    const relativeStep = options.relativeStep ?? 1e-3;
    if (!(relativeStep > 0 && relativeStep < 1)) throw new RangeError(`relative step must be in (0, 1), got ${relativeStep}`);
    this.kinks = options.freezeKinks === false ? null : new FrozenKinks(obj.model);
    const frozen = this.kinks?.active ? this.kinks : null;
    const all = new FrozenKinks(obj.model);
    this.stats = {
      relativeStep,
      products: 0,
      gradients: 0,
      minStep: Infinity,
      maxStep: 0,
      relativeErrors: [],
      frozenSites: frozen ? frozen.sites.length : 0,
      unfrozen: frozen ? all.unhandled : [...all.sites.map((x) => String((x.layer as { name?: string }).name)), ...all.unhandled],
    };
    let t2 = 0;
    for (let i = 0; i < theta.length; i++) t2 += theta[i] * theta[i];
    // rms(θ), itself floored at 1e-2 for an all-zero model.
    this.rms = Math.max(Math.sqrt(t2 / Math.max(1, theta.length)), 1e-2);
  }

  private readonly rms: number;
  private readonly kinks: FrozenKinks | null;
  private recorded = false;

  /** ∇L(p) in float64, with the activation patterns of θ when they are frozen. */
  private async gradient(p: Float64Array): Promise<Float64Array> {
    const { obj } = this;
    const kinks = this.kinks?.active ? this.kinks : null;
    if (!kinks) return (await obj.grad(p)).grad;
    if (!this.recorded) {
      obj.assign(this.theta);
      kinks.record(obj);
      this.recorded = true;
    }
    obj.assign(p);
    const out = new Float64Array(this.dim);
    for (let i = 0; i < obj.batches.length; i++) {
      const b = obj.batches[i];
      const grads = kinks.run(i, () => tf.tidy(() => batchGrads(obj, () => tf.sum(batchLosses(obj, b)) as tf.Scalar)));
      await accumulateGrads(obj, grads, out, 1 / obj.sampleCount);
    }
    return out;
  }

  /** Releases the recorded activation patterns. */
  dispose(): void {
    this.kinks?.dispose();
    this.recorded = false;
  }

  /** The absolute step for v. */
  step(v: Float64Array): number {
    let t2 = 0;
    let v2 = 0;
    let support = 0;
    for (let i = 0; i < v.length; i++) {
      if (v[i] === 0) continue;
      support++;
      t2 += this.theta[i] * this.theta[i];
      v2 += v[i] * v[i];
    }
    if (support === 0) return 0;
    const scale = Math.max(Math.sqrt(t2), this.rms * Math.sqrt(support));
    return (this.stats.relativeStep * scale) / Math.sqrt(v2);
  }

  private async central(v: Float64Array, h: number): Promise<Float64Array> {
    const { theta } = this;
    const p = new Float64Array(this.dim);
    for (let i = 0; i < p.length; i++) p[i] = theta[i] + h * v[i];
    const gp = await this.gradient(p);
    for (let i = 0; i < p.length; i++) p[i] = theta[i] - h * v[i];
    const gm = await this.gradient(p);
    this.stats.gradients += 2;
    for (let i = 0; i < p.length; i++) p[i] = (gp[i] - gm[i]) / (2 * h);
    return p;
  }

  async matvec(v: Float64Array): Promise<Float64Array> {
    const h = this.step(v);
    if (h === 0) return new Float64Array(this.dim);
    try {
      const d1 = await this.central(v, h);
      const d2 = await this.central(v, h / 2);
      let e2 = 0;
      let r2 = 0;
      for (let i = 0; i < d1.length; i++) {
        const diff = d2[i] - d1[i];
        e2 += diff * diff;
        d1[i] = d2[i] + diff / 3;
        r2 += d1[i] * d1[i];
      }
      const s = this.stats;
      s.products++;
      s.minStep = Math.min(s.minStep, h);
      s.maxStep = Math.max(s.maxStep, h);
      s.relativeErrors.push(r2 > 0 ? Math.sqrt(e2 / r2) : 0);
      return d1;
    } finally {
      atTheta(this.obj, this.theta);
    }
  }
}

/** The operator of `kind` for the objective at θ; refuses a GGN for a loss without closed form. */
export function curvatureOperator(obj: Objective, kind: CurvatureKind, options: FiniteDifferenceOptions & { theta?: Float32Array } = {}): CurvatureOperator {
  const theta = options.theta ?? obj.theta0;
  switch (kind) {
    case 'ggn': {
      const g = new GaussNewtonOperator(obj, theta);
      return { kind, op: asBlockOperator(g), description: `generalised Gauss–Newton, ${g.curvature.description}`, fd: null, dispose: () => undefined };
    }
    case 'fisher':
      return { kind, op: asBlockOperator(new EmpiricalFisherOperator(obj, theta)), description: 'empirical Fisher (1/n) Σ ∇ℓₙ∇ℓₙᵀ', fd: null, dispose: () => undefined };
    case 'hessian': {
      const h = new FiniteDifferenceHessian(obj, theta, options);
      const frozen = h.stats.frozenSites > 0 ? `, ReLU patterns frozen at θ (${h.stats.frozenSites} layer${h.stats.frozenSites > 1 ? 's' : ''})` : '';
      return { kind, op: asBlockOperator(h), description: `Hessian of the mean loss, by Richardson-extrapolated central differences of gradients${frozen}`, fd: h.stats, dispose: () => h.dispose() };
    }
  }
}
