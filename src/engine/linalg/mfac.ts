/**
 * M-FAC: matrix-free inverse of a damped empirical Fisher (Frantar, Kurtic & Alistarh 2021,
 * "M-FAC: Efficient Matrix-Free Approximations of Second-Order Information", NeurIPS;
 * `IST-DASLab/M-FAC`, static algorithm of `prun.py`).
 *
 * The matrix inverted is exactly
 *     F̂ = λ·I + (1/m)·Σᵢ gᵢgᵢᵀ        (λ = `lambda`, M-FAC's `damp`, default 1e-5),
 * i.e. the dampening is added to the *averaged* outer products, not to their sum and not
 * relative to their scale. (The reference code stores 1/λ in a field it also calls `damp`,
 * starts from F̂₀⁻¹ = I/λ and adds each gᵢgᵢᵀ/m by Sherman–Morrison, which is why dᵢ = m + ….)
 */
import { InputError } from '../../shared/errors';
import { checkFiniteScalar, checkFiniteVector, throwIfCancelled } from './errors';
import type { LinearOperator, StopSignal } from './operator';

export type Gradient = Float64Array | Float32Array;

export interface MFacOptions {
  /** Dampening λ > 0; default 1e-5 (M-FAC). */
  lambda?: number;
  stop?: StopSignal;
  onProgress?: (done: number, total: number) => void;
}

/** xᵀy for float64 vectors (kept local so the hot loops stay monomorphic). */
function dot64(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

function as64(x: ArrayLike<number>): Float64Array {
  return x instanceof Float64Array ? x : Float64Array.from(x);
}

/** Gradients per block of the set-up, and coordinates per cache-sized chunk. */
const BLOCK = 16;
const CHUNK = 2048;

function validate(gradients: readonly Gradient[], lambda: number): number {
  if (gradients.length === 0) throw new InputError('--gradients', 'at least one gradient is needed');
  const d = gradients[0].length;
  if (d === 0) throw new InputError('--gradients', 'gradients are empty');
  gradients.forEach((g, i) => {
    if (g.length !== d) throw new InputError('--gradients', `gradient ${i} has ${g.length} entries, gradient 0 has ${d}`);
  });
  if (!(lambda > 0) || !Number.isFinite(lambda)) throw new InputError('--lambda', `dampening must be a positive number, got ${lambda}`);
  return d;
}

/**
 * F̂⁻¹ by the recursive Sherman–Morrison formula. With F̂ᵢ = λI + (1/m)Σ_{j≤i} gⱼgⱼᵀ,
 *     vᵢ = F̂ᵢ₋₁⁻¹gᵢ = gᵢ/λ − Σ_{j<i} (vⱼᵀgᵢ / dⱼ)·vⱼ,     dᵢ = m + gᵢᵀvᵢ,
 *     F̂⁻¹x = x/λ − Σᵢ (vᵢᵀx / dᵢ)·vᵢ,                     [F̂⁻¹]ⱼⱼ = 1/λ − Σᵢ vᵢⱼ²/dᵢ.
 * Set-up costs O(d·m²) and stores the m vectors vᵢ (float64, m·d·8 bytes); each product and
 * the diagonal cost O(d·m). The set-up is left-looking and blocked: for each block of 16
 * gradients, the contributions of all finished vⱼ are applied chunk by chunk over coordinates
 * (so d can exceed the cache), then the recursion runs inside the block.
 */
export class MFacInverse {
  readonly dim: number;
  readonly m: number;
  readonly lambda: number;
  /** vᵢ = F̂ᵢ₋₁⁻¹gᵢ. */
  private readonly v: Float64Array[] = [];
  /** dᵢ = m + gᵢᵀvᵢ. */
  private readonly denom: Float64Array;

  private static deferSetup = false;

  /** Synchronous set-up; `stop` is checked between blocks. Prefer `build` on large inputs. */
  constructor(gradients: readonly Gradient[], options: MFacOptions = {}) {
    const lambda = options.lambda ?? 1e-5;
    this.dim = validate(gradients, lambda);
    this.m = gradients.length;
    this.lambda = lambda;
    this.denom = new Float64Array(this.m);
    if (!MFacInverse.deferSetup) for (const _ of this.setup(gradients, options));
  }

  /** As the constructor, but yields to the event loop between blocks so cancellation can arrive. */
  static async build(gradients: readonly Gradient[], options: MFacOptions = {}): Promise<MFacInverse> {
    MFacInverse.deferSetup = true;
    let self: MFacInverse;
    try {
      self = new MFacInverse(gradients, options);
    } finally {
      MFacInverse.deferSetup = false;
    }
    for (const _ of self.setup(gradients, options)) await new Promise<void>((resolve) => setImmediate(resolve));
    return self;
  }

  private *setup(gradients: readonly Gradient[], options: MFacOptions): Generator<void> {
    const { dim: d, m, lambda, v, denom } = this;
    const inv = 1 / lambda;
    for (let i0 = 0; i0 < m; i0 += BLOCK) {
      throwIfCancelled(options.stop);
      const i1 = Math.min(m, i0 + BLOCK);
      // The block's gradients as float64 (monomorphic loops), and vᵢ ← gᵢ/λ.
      const g: Float64Array[] = [];
      for (let i = i0; i < i1; i++) {
        checkFiniteVector(gradients[i], `gradient ${i}`, i + 1);
        const gi = as64(gradients[i]);
        g.push(gi);
        const vi = new Float64Array(d);
        for (let t = 0; t < d; t++) vi[t] = gi[t] * inv;
        v.push(vi);
      }
      if (i0 > 0) {
        // coef[i − i0][j] = vⱼᵀgᵢ / dⱼ for the finished j < i0, accumulated over coordinate chunks.
        const coef = Array.from({ length: i1 - i0 }, () => new Float64Array(i0));
        for (let a = 0; a < d; a += CHUNK) {
          const b = Math.min(d, a + CHUNK);
          for (let j = 0; j < i0; j++) {
            const vj = v[j];
            for (let i = 0; i < i1 - i0; i++) {
              const gi = g[i];
              let s = 0;
              for (let t = a; t < b; t++) s += vj[t] * gi[t];
              coef[i][j] += s;
            }
          }
        }
        for (const row of coef) for (let j = 0; j < i0; j++) row[j] /= denom[j];
        for (let a = 0; a < d; a += CHUNK) {
          const b = Math.min(d, a + CHUNK);
          for (let i = i0; i < i1; i++) {
            const vi = v[i];
            const row = coef[i - i0];
            for (let j = 0; j < i0; j++) {
              const c = row[j];
              const vj = v[j];
              for (let t = a; t < b; t++) vi[t] -= c * vj[t];
            }
          }
        }
      }
      // The recursion inside the block.
      for (let i = i0; i < i1; i++) {
        const gi = g[i - i0];
        const vi = v[i];
        for (let j = i0; j < i; j++) {
          const vj = v[j];
          const c = dot64(vj, gi) / denom[j];
          for (let t = 0; t < d; t++) vi[t] -= c * vj[t];
        }
        denom[i] = m + dot64(gi, vi);
        checkFiniteScalar(denom[i], `M-FAC denominator d_${i}`, i + 1);
      }
      options.onProgress?.(i1, m);
      yield;
    }
  }

  /** F̂⁻¹x in O(d·m). */
  apply(x: ArrayLike<number>): Float64Array {
    if (x.length !== this.dim) throw new InputError('M-FAC', `vector has ${x.length} entries, expected ${this.dim}`);
    const x64 = as64(x);
    const out = new Float64Array(this.dim);
    const inv = 1 / this.lambda;
    for (let t = 0; t < this.dim; t++) out[t] = x64[t] * inv;
    for (let i = 0; i < this.m; i++) {
      const vi = this.v[i];
      const c = dot64(vi, x64) / this.denom[i];
      for (let t = 0; t < this.dim; t++) out[t] -= c * vi[t];
    }
    return out;
  }
  /** diag(F̂⁻¹) = 1/λ − Σᵢ vᵢ⊙vᵢ/dᵢ. */
  diagonal(): Float64Array {
    const out = new Float64Array(this.dim).fill(1 / this.lambda);
    for (let i = 0; i < this.m; i++) {
      const vi = this.v[i];
      const r = 1 / this.denom[i];
      for (let t = 0; t < this.dim; t++) out[t] -= vi[t] * vi[t] * r;
    }
    return out;
  }

  /**
   * Optimal Brain Surgeon saliency of removing each weight alone (Hassibi & Stork 1993):
   * ρⱼ = θⱼ² / (2·[F̂⁻¹]ⱼⱼ), the predicted loss increase of setting θⱼ to 0.
   */
  obsSaliency(theta: ArrayLike<number>): Float64Array {
    if (theta.length !== this.dim) throw new InputError('M-FAC', `weights have ${theta.length} entries, expected ${this.dim}`);
    const diag = this.diagonal();
    const out = new Float64Array(this.dim);
    for (let t = 0; t < this.dim; t++) out[t] = (theta[t] * theta[t]) / (2 * diag[t]);
    return out;
  }
}

/** F̂ = λI + (1/m)Σᵢ gᵢgᵢᵀ itself as a LinearOperator (O(d·m) per product), for tests and Lanczos. */
export function mfacOperator(gradients: readonly Gradient[], lambda = 1e-5): LinearOperator {
  const d = validate(gradients, lambda);
  const m = gradients.length;
  return {
    dim: d,
    async matvec(x: Float64Array): Promise<Float64Array> {
      const out = new Float64Array(d);
      for (let t = 0; t < d; t++) out[t] = lambda * x[t];
      for (const g of gradients) {
        const g64 = as64(g);
        const c = dot64(g64, x) / m;
        for (let t = 0; t < d; t++) out[t] += c * g64[t];
      }
      return out;
    },
  };
}
