import * as tf from '@tensorflow/tfjs';
import { InputError } from '../../shared/errors';
import { accumulateGrads, batchGrads, batchJvp, batchOutputs, batchVjp, outputUnits } from './autodiff';
import { exactHessianAvailable } from './gradientPatches';
import { FrozenKinks } from './frozenKinks';
import type { LinearOperator } from '../linalg/operator';
import { asBlockOperator, type BlockOperator, type CurvatureKind, type CurvatureOperator, type CurvatureOptions, type FiniteDifferenceOptions, type FiniteDifferenceStats } from '../objective';
import type { TfjsObjective as Objective } from './objective';
import { lossCurvature, type LossCurvature } from './lossHessian';
import { replayAvailable, vjpsOfOneRecording } from './tapeReplay';

export type { CurvatureKind, CurvatureOperator, FiniteDifferenceOptions, FiniteDifferenceStats } from '../objective';

/**
 * Curvature-vector products of the objective as block operators (the matrix-free pattern of
 * curvlinops), all at the parameters θ given at construction:
 *
 *   ExactHessianOperator       H v = ∂/∂θ ⟨∇L(θ), v⟩ by double backprop (Pearlmutter 1994) on
 *                              the patched tape (gradientPatches.ts); the default
 *   GaussNewtonOperator        G v = (1/n) Σₙ Jₙᵀ H_ℓ,ₙ Jₙ v, J v by the dual trick (a VJP
 *                              differentiated with respect to its linear cotangent)
 *   EmpiricalFisherOperator    F v = (1/n) Σₙ ∇ℓₙ (∇ℓₙᵀ v), without storing per-sample gradients
 *   FiniteDifferenceHessian    H v by central differences of gradients, Richardson-extrapolated
 *                              (`--hv finite-difference`, for cross-checks)
 *
 * The first three sum each batch's contribution on the device and read the sum back once per
 * product; `matmat` takes k vectors in one pass over the data (batch outer, vectors inner) and
 * reads all k back at once. Sums over batches are float32 on the device (a few batches add
 * ~1e-7 relative). Products leave the model's parameters at θ.
 */

type BatchOf = Objective['batches'][number];

/** The model's per-sample losses on a batch, [rows]. */
function batchLosses(obj: Objective, b: BatchOf): tf.Tensor1D {
  return obj.lossFn.perSample(b.y, obj.model.apply(b.x, { training: false }) as tf.Tensor);
}

/** Runs `f` with the parameters set to θ (and leaves them there). */
function atTheta(obj: Objective, theta: Float32Array): void {
  obj.assign(theta);
}

/** Σ over groups of ⟨gᵢ, vᵢ⟩ as a scalar tensor. */
function innerWithParams(grads: tf.Tensor[], v: tf.Tensor[]): tf.Scalar {
  return tf.addN(grads.map((g, i) => tf.sum(tf.mul(g, v[i])))) as tf.Scalar;
}

/** At most this many floats of accumulators (k·d) live on the device at once: 64 MB. */
const MAX_BLOCK_FLOATS = 16 * 2 ** 20;

/**
 * A product summed over batches on the device. Subclasses give one batch's contribution (per
 * variable, already divided by n); matvec/matmat do the pass over the data and the readback.
 */
abstract class DeviceSummedOperator implements BlockOperator {
  readonly dim: number;

  constructor(
    protected readonly obj: Objective,
    protected readonly theta: Float32Array = obj.theta0,
  ) {
    this.dim = obj.dim;
  }

  /** One batch's contribution to the product with `vt` (one tensor per variable). Called inside tf.tidy. */
  protected abstract batchProduct(b: BatchOf, vt: tf.Tensor[]): tf.Tensor[];

  /**
   * One batch's contributions to the products with every `vts[j]`, flat [dim] each. Called
   * inside tf.tidy. By default one batchProduct per vector; an operator whose products share
   * work between vectors (the exact Hessian) does them together.
   */
  protected batchProducts(b: BatchOf, vts: tf.Tensor[][]): tf.Tensor1D[] {
    return vts.map((vt) => tf.concat(this.batchProduct(b, vt).map((g) => g.reshape([-1]))) as tf.Tensor1D);
  }

  /** Wraps each batch's computation (the GGN switches the last activation off there). */
  protected around<T>(f: () => T): T {
    return f();
  }

  async matvec(v: Float64Array): Promise<Float64Array> {
    return (await this.matmat([v]))[0];
  }

  async matmat(vs: readonly Float64Array[]): Promise<Float64Array[]> {
    const { obj } = this;
    atTheta(obj, this.theta);
    const out: Float64Array[] = [];
    const block = Math.max(1, Math.floor(MAX_BLOCK_FLOATS / Math.max(1, this.dim)));
    for (let start = 0; start < vs.length; start += block) {
      const chunk = vs.slice(start, start + block);
      const vts = chunk.map((v) => obj.splitParams(v));
      const acc: (tf.Tensor1D | null)[] = chunk.map(() => null);
      try {
        for (const b of obj.batches) {
          const flats = this.around(() => tf.tidy(() => this.batchProducts(b, vts)));
          for (let j = 0; j < chunk.length; j++) {
            const flat = flats[j];
            const prev = acc[j];
            acc[j] = prev ? (tf.tidy(() => tf.add(prev, flat)) as tf.Tensor1D) : flat;
            if (prev) tf.dispose([prev, flat]);
          }
        }
        const all = tf.tidy(() => tf.concat(acc.map((a) => a ?? tf.zeros([this.dim]))));
        const data = await all.data();
        all.dispose();
        for (let j = 0; j < chunk.length; j++) out.push(Float64Array.from(data.subarray(j * this.dim, (j + 1) * this.dim)));
      } finally {
        tf.dispose(vts.flat());
        tf.dispose(acc.filter((a): a is tf.Tensor1D => a !== null));
      }
    }
    return out;
  }
}

/**
 * H v = ∂/∂θ ⟨∇L(θ), v⟩: the gradient of the directional derivative, by nested gradients on
 * TF.js's tape. Exact (up to float32 rounding) for every op gradientPatches.ts covers, and for
 * piecewise-linear ops (ReLU, max-pooling) the almost-everywhere Hessian, as double backprop
 * in PyTorch computes it: no activation pattern needs freezing. About two gradients' cost.
 */
export class ExactHessianOperator extends DeviceSummedOperator {
  constructor(obj: Objective, theta: Float32Array = obj.theta0) {
    super(obj, theta);
    const patches = exactHessianAvailable();
    if (!patches.available) throw new Error(`exact Hessian products are unavailable: ${patches.reason}`);
  }

  protected batchProduct(b: BatchOf, vt: tf.Tensor[]): tf.Tensor[] {
    const { obj } = this;
    const n = obj.sampleCount;
    return batchGrads(obj, () => innerWithParams(batchGrads(obj, () => tf.sum(batchLosses(obj, b)).div(n) as tf.Scalar), vt));
  }

  /**
   * H vⱼ for a block: the batch's gradient ∇L_b (forward and first backward pass) is recorded
   * once and differentiated along every vⱼ from that one recording (tapeReplay.ts), instead of
   * one full double backprop per vector. The same ops on the same values as batchProduct
   * (∂⟨∇L_b, vⱼ⟩/∂∇L_b = vⱼ enters the second backward pass either way).
   */
  protected override batchProducts(b: BatchOf, vts: tf.Tensor[][]): tf.Tensor1D[] {
    if (vts.length < 2 || !replayAvailable()) return super.batchProducts(b, vts);
    const { obj } = this;
    const n = obj.sampleCount;
    const gradient = () => tf.concat(batchGrads(obj, () => tf.sum(batchLosses(obj, b)).div(n) as tf.Scalar).map((g) => g.reshape([-1])));
    const us = vts.map((vt) => tf.concat(vt.map((t) => t.reshape([-1]))));
    return vjpsOfOneRecording(gradient, obj.variables, us).map((gs) => tf.concat(gs.map((g) => g.reshape([-1]))) as tf.Tensor1D);
  }
}

/** G v = (1/n) Σ Jₙᵀ H_ℓ Jₙ v with H_ℓ in closed form (see lossHessian.ts). */
export class GaussNewtonOperator extends DeviceSummedOperator {
  readonly curvature: LossCurvature;

  constructor(obj: Objective, theta: Float32Array = obj.theta0) {
    super(obj, theta);
    this.curvature = lossCurvature(obj.lossFn, obj.model);
  }

  protected override around<T>(f: () => T): T {
    return this.curvature.withOutputs(f);
  }

  protected batchProduct(b: BatchOf, vt: tf.Tensor[]): tf.Tensor[] {
    const { obj, curvature } = this;
    const C = outputUnits(obj);
    const f = () => batchOutputs(obj, b);
    const z = f();
    const jv = batchJvp(obj, f, [b.n, C], vt) as tf.Tensor2D;
    const r = curvature.apply(z, b.y, jv).div(obj.sampleCount);
    return batchVjp(obj, f, r);
  }
}

/** F v = (1/n) Σₙ ∇ℓₙ (∇ℓₙᵀv): the per-sample directional derivatives by the dual trick, then one VJP. */
export class EmpiricalFisherOperator extends DeviceSummedOperator {
  constructor(obj: Objective, theta: Float32Array = obj.theta0) {
    if (obj.lossFn.batchLevel) {
      throw new InputError('--operator', `the empirical Fisher needs per-sample gradients; ${obj.lossFn.name} is a batch-level loss, which has none. Use --operator hessian`);
    }
    super(obj, theta);
  }

  protected batchProduct(b: BatchOf, vt: tf.Tensor[]): tf.Tensor[] {
    const { obj } = this;
    const f = () => batchLosses(obj, b);
    const gv = batchJvp(obj, f, [b.n], vt);
    return batchVjp(obj, f, gv.div(obj.sampleCount));
  }
}

/**
 * H v ≈ R = (4·D(h/2) − D(h)) / 3 with D(h) = [∇L(θ + hv) − ∇L(θ − hv)] / (2h): central
 * differences (error c₂h² + c₄h⁴ + …) extrapolated once (Richardson), leaving O(h⁴). The step
 * follows the scales of θ and v: h = δ·max(‖θ_S‖, rms(θ)·√|S|)/‖v‖ (see `relativeStep`). The
 * error estimate is ‖D(h/2) − D(h)‖: three times the truncation error of D(h/2), so an upper
 * estimate of R's truncation error, and about the size of R's float32 rounding noise (the
 * gradients' rounding differs between the two steps and is amplified ~(4·2+1)/3 in R, while
 * the difference sees ~√5 of it). To it is added the float32 rounding of the points θ ± hv
 * themselves, which the difference does not see: the model is evaluated at fl(θ ± hv), so each
 * D(h) differentiates along (fl(θ+hv) − fl(θ−hv))/2h instead of v, a direction error of
 * r(h) = ‖(fl(θ+hv) − fl(θ−hv))/2 − hv‖ / (h‖v‖) (about ulp(θ)/h); R inherits (4r(h/2) + r(h))/3
 * of it, relative to ‖Hv‖ when v is not far from the dominant curvature (an estimate, not a
 * bound). Four gradients per product. On piecewise-linear models (ReLU, max-pooling) the
 * differences also see kinks crossed within ±h, which this estimate reveals as a large error.
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

  /**
   * ∇L(p) summed over batches in float64 (the differences divide its rounding by h, so not the
   * device's float32 sum of obj.grad), with the activation patterns of θ when they are frozen.
   */
  private async gradient(p: Float64Array): Promise<Float64Array> {
    const { obj } = this;
    const kinks = this.kinks?.active ? this.kinks : null;
    if (!kinks) {
      obj.assign(p);
      const out = new Float64Array(this.dim);
      for (const b of obj.batches) {
        const grads = tf.tidy(() => batchGrads(obj, () => tf.sum(batchLosses(obj, b)) as tf.Scalar));
        await accumulateGrads(obj, grads, out, 1 / obj.sampleCount);
      }
      return out;
    }
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

  /** r(h): the relative error of the direction the float32 points θ ± hv actually differ along. */
  roundingError(v: Float64Array, h: number): number {
    const { theta } = this;
    let e2 = 0;
    let v2 = 0;
    for (let i = 0; i < v.length; i++) {
      const d = (Math.fround(theta[i] + h * v[i]) - Math.fround(theta[i] - h * v[i])) / 2 - h * v[i];
      e2 += d * d;
      v2 += v[i] * v[i];
    }
    return v2 > 0 ? Math.sqrt(e2 / v2) / h : 0;
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
      const rounding = (4 * this.roundingError(v, h / 2) + this.roundingError(v, h)) / 3;
      s.relativeErrors.push((r2 > 0 ? Math.sqrt(e2 / r2) : 0) + rounding);
      return d1;
    } finally {
      atTheta(this.obj, this.theta);
    }
  }
}

/**
 * The operator of `kind` for the objective at θ; refuses a GGN for a loss without closed form.
 * The Hessian's products are exact (double backprop) unless `hv: 'finite-difference'`, or the
 * gradient patches are not installed on this TF.js (then finite differences, saying why).
 */
export function curvatureOperator(obj: Objective, kind: CurvatureKind, options: CurvatureOptions = {}): CurvatureOperator {
  const theta = options.theta ?? obj.theta0;
  switch (kind) {
    case 'ggn': {
      const g = new GaussNewtonOperator(obj, theta);
      return { kind, op: g, description: `generalised Gauss–Newton, ${g.curvature.description}`, fd: null, dispose: () => undefined };
    }
    case 'fisher':
      return { kind, op: new EmpiricalFisherOperator(obj, theta), description: 'empirical Fisher (1/n) Σ ∇ℓₙ∇ℓₙᵀ', fd: null, dispose: () => undefined };
    case 'hessian': {
      const exact = options.hv === 'finite-difference' ? { available: false, reason: null } : exactHessianAvailable();
      if (exact.available) {
        return { kind, op: new ExactHessianOperator(obj, theta), description: 'Hessian of the mean loss, exact products ∂/∂θ⟨∇L, v⟩ by double backprop', fd: null, dispose: () => undefined };
      }
      const h = new FiniteDifferenceHessian(obj, theta, options);
      const frozen = h.stats.frozenSites > 0 ? `, ReLU patterns frozen at θ (${h.stats.frozenSites} layer${h.stats.frozenSites > 1 ? 's' : ''})` : '';
      const why = exact.reason ? ` (exact products unavailable: ${exact.reason})` : '';
      return { kind, op: asBlockOperator(h), description: `Hessian of the mean loss, by Richardson-extrapolated central differences of gradients${frozen}${why}`, fd: h.stats, dispose: () => h.dispose() };
    }
  }
}
