/**
 * Stochastic trace and diagonal estimators that need only products with A: Hutchinson's
 * (1990) estimator, Hutch++ (Meyer, Musco, Musco, Woodruff 2021) and the diagonal estimator
 * of Bekas, Kokiopoulou & Saad (2007). Each reports a standard error from its own samples.
 */
import { InputError } from '../../shared/errors';
import { checkedMatmat } from './errors';
import type { LinearOperator, StopSignal } from './operator';
import type { Rng } from './rng';
import { dot, norm, orthogonaliseAgainst, scale } from './vector';

interface Common {
  rng: Rng;
  stop?: StopSignal;
  onProgress?: (done: number, total: number) => void;
  /**
   * Independent products are taken `block` at a time through the operator's matmat (one pass
   * over the data each); default 10. Probes are drawn in the same order whatever the block.
   */
  block?: number;
}

const DEFAULT_BLOCK = 10;

function blockOf(options: Common): number {
  const b = options.block ?? DEFAULT_BLOCK;
  checkCount(b, 'block', 1);
  return b;
}

export interface HutchinsonOptions extends Common {
  /** Rademacher probes; default 100 (PyHessian's maximum). At least 2. */
  probes?: number;
}

export interface HutchinsonResult {
  estimate: number;
  /** Sample standard deviation of `samples` / √probes. */
  stderr: number;
  /** The raw zᵢᵀA·zᵢ. */
  samples: number[];
  probes: number;
}

export interface HutchPlusPlusOptions extends Common {
  /** Total operator products; default 100 (as pytorch-hessian-eigenthings). At least 6. */
  matvecs?: number;
}

export interface HutchPlusPlusResult {
  estimate: number;
  /** Standard error of the Hutchinson part, conditional on the sketch. */
  stderr: number;
  matvecs: number;
}

export interface DiagonalResult {
  diagonal: Float64Array;
  /** Per-entry sample standard deviation / √probes. */
  stderr: Float64Array;
  probes: number;
}

function checkDim(op: LinearOperator): number {
  const n = op.dim;
  if (!Number.isInteger(n) || n < 1) throw new InputError('operator', `dimension must be a positive integer, got ${n}`);
  return n;
}

function checkCount(value: number, source: string, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new InputError(source, `must be an integer ≥ ${min}, got ${value}`);
}

/** Mean and standard error (sample std with n − 1 / √n) of `x`. */
function meanStderr(x: readonly number[]): { mean: number; stderr: number } {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  let ss = 0;
  for (const v of x) ss += (v - mean) ** 2;
  return { mean, stderr: n > 1 ? Math.sqrt(ss / (n - 1) / n) : Number.NaN };
}

function rademacher(rng: Rng, n: number): Float64Array {
  const z = new Float64Array(n);
  rng.fillRademacher(z);
  return z;
}

/**
 * Hutchinson's estimator tr(A) ≈ (1/N) Σᵢ zᵢᵀA·zᵢ with Rademacher zᵢ (E[zzᵀ] = I), whose
 * variance per probe is 2Σ_{i≠j} A²ᵢⱼ. stderr = sample std / √N. PyHessian's `trace` returns the
 * same raw samples (it also stops early on a 1e-3 change of the running mean; this does not).
 */
export async function hutchinsonTrace(op: LinearOperator, options: HutchinsonOptions): Promise<HutchinsonResult> {
  const n = checkDim(op);
  const probes = options.probes ?? 100;
  checkCount(probes, '--probes', 2);
  const { rng, stop, onProgress } = options;
  const block = blockOf(options);
  const samples: number[] = [];
  const draw = (i: number): Float64Array[] => Array.from({ length: Math.min(block, probes - i) }, () => rademacher(rng, n));
  let zs = draw(0);
  for (let i = 0; i < probes; i += block) {
    const pending = checkedMatmat(op, zs, 'Hutchinson product A·z', i + 1, stop);
    // The next block's probes are drawn while a remote operator (the torch worker) computes this
    // one: the same draws in the same order, off the critical path.
    const next = i + block < probes ? draw(i + block) : [];
    const Azs = await pending;
    zs.forEach((z, j) => samples.push(dot(z, Azs[j])));
    onProgress?.(samples.length, probes);
    zs = next;
  }
  const { mean, stderr } = meanStderr(samples);
  return { estimate: mean, stderr, samples, probes };
}

/**
 * Hutch++ (Meyer et al. 2021, Alg. 1) with m products: S has s = ⌊m/3⌋ Rademacher columns,
 * Q = orth(A·S) (Gram–Schmidt twice, dropping numerically dependent columns), then
 *   tr(A) ≈ tr(QᵀAQ) + (1/g) Σᵢ gᵢᵀ(I − QQᵀ)A(I − QQᵀ)gᵢ
 * with the remaining g = m − s − rank(Q) ≥ m/3 Rademacher probes. The low-rank part is exact
 * for the captured subspace, so on matrices with a decaying spectrum the error falls like 1/m
 * instead of 1/√m. stderr is that of the Hutchinson part's samples (conditional on Q).
 */
export async function hutchPlusPlus(op: LinearOperator, options: HutchPlusPlusOptions): Promise<HutchPlusPlusResult> {
  const n = checkDim(op);
  const budget = options.matvecs ?? 100;
  checkCount(budget, '--matvecs', 6);
  const { rng, stop, onProgress } = options;
  const block = blockOf(options);
  let done = 0;
  /** The products of `vs`, `block` at a time. */
  const products = async (vs: Float64Array[], what: string): Promise<Float64Array[]> => {
    const out: Float64Array[] = [];
    for (let i = 0; i < vs.length; i += block) {
      const ys = await checkedMatmat(op, vs.slice(i, i + block), what, done + 1, stop);
      done += ys.length;
      out.push(...ys);
      onProgress?.(done, budget);
    }
    return out;
  };

  const s = Math.floor(budget / 3);
  const Q: Float64Array[] = [];
  const sketch = await products(Array.from({ length: s }, () => rademacher(rng, n)), 'Hutch++ sketch product A·s');
  for (const y of sketch) {
    const before = norm(y);
    orthogonaliseAgainst(y, Q, 2);
    const after = norm(y);
    if (after > 1e-12 * before && after > 0 && Q.length < n) Q.push(scale(1 / after, y));
  }
  let lowRank = 0;
  const AQ = await products(Q, 'Hutch++ product A·q');
  Q.forEach((q, i) => (lowRank += dot(q, AQ[i])));

  const gs = Array.from({ length: Math.max(0, budget - done) }, () => {
    const g = rademacher(rng, n);
    orthogonaliseAgainst(g, Q, 2);
    return g;
  });
  const Ags = await products(gs, 'Hutch++ residual product A·(I−QQᵀ)g');
  const samples = gs.map((g, i) => dot(g, Ags[i]));
  const { mean, stderr } = meanStderr(samples);
  return { estimate: lowRank + mean, stderr, matvecs: done };
}

/**
 * diag(A) ≈ (1/N) Σᵢ zᵢ ⊙ A·zᵢ with Rademacher zᵢ (Bekas et al. 2007; BackPACK's and
 * curvlinops' Hutchinson diagonal): entry j of one sample is A_jj + Σ_{l≠j} A_jl z_j z_l, so its
 * variance is Σ_{l≠j} A²_jl. stderr per entry = sample std / √N.
 */
export async function hutchinsonDiagonal(op: LinearOperator, options: HutchinsonOptions): Promise<DiagonalResult> {
  const n = checkDim(op);
  const probes = options.probes ?? 100;
  checkCount(probes, '--probes', 2);
  const { rng, stop, onProgress } = options;
  // Welford's running mean and sum of squared deviations, per entry.
  const mean = new Float64Array(n);
  const m2 = new Float64Array(n);
  const block = blockOf(options);
  let count = 0;
  for (let i = 0; i < probes; i += block) {
    const zs = Array.from({ length: Math.min(block, probes - i) }, () => rademacher(rng, n));
    const Azs = await checkedMatmat(op, zs, 'Hutchinson diagonal product A·z', i + 1, stop);
    zs.forEach((z, k) => {
      const Az = Azs[k];
      count++;
      for (let j = 0; j < n; j++) {
        const x = z[j] * Az[j];
        const delta = x - mean[j];
        mean[j] += delta / count;
        m2[j] += delta * (x - mean[j]);
      }
    });
    onProgress?.(count, probes);
  }
  const stderr = new Float64Array(n);
  for (let j = 0; j < n; j++) stderr[j] = Math.sqrt(m2[j] / (probes - 1) / probes);
  return { diagonal: mean, stderr, probes };
}
