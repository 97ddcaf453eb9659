/**
 * Power iteration with deflation, compatible with PyHessian's `hessian.eigenvalues`
 * (Yao, Gholami, Keutzer, Mahoney 2020, "PyHessian: Neural Networks Through the Lens of the
 * Hessian", Alg. 1), so Losscape's λmax can be compared with published PyHessian figures.
 */
import { InputError } from '../../shared/errors';
import { checkedMatvec, checkFiniteScalar } from './errors';
import type { LinearOperator, StopSignal } from './operator';
import type { Rng } from './rng';
import { axpy, dot, norm, normalise, orthogonaliseAgainst, randomOrthogonalUnit } from './vector';

export interface PowerIterationOptions {
  /** Number of eigenpairs (found one after another); default 1. */
  k?: number;
  /** Iterations per eigenpair; default 100 (PyHessian). */
  maxIter?: number;
  /** Relative-change tolerance; default 1e-3 (PyHessian). */
  tol?: number;
  rng: Rng;
  stop?: StopSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface PowerIterationResult {
  /** In the order found: decreasing |λ|. */
  eigenvalues: number[];
  eigenvectors: Float64Array[];
  /** ‖A·v − λ·v‖₂ of each returned pair (from the last product, no extra matvec). */
  residuals: number[];
  /** Iterations (= products) spent on each pair. */
  iterations: number[];
  /** Whether each pair met the stopping rule before maxIter. */
  converged: boolean[];
  matvecs: number;
}

/**
 * The k eigenvalues of largest magnitude of the symmetric operator A, one at a time.
 *
 * For each pair: v₀ ~ N(0, I); at step t, vₜ is Gram–Schmidt-orthogonalised (twice) against the
 * eigenvectors already found and normalised, λₜ = vₜᵀA·vₜ, and vₜ₊₁ = A·vₜ/‖A·vₜ‖. Stop when
 * |λₜ − λₜ₋₁| / (|λₜ₋₁| + 1e-6) < tol or after maxIter steps. The returned pair is (λₜ, vₜ),
 * the Rayleigh quotient and the vector it belongs to, so the reported residual ‖A·vₜ − λₜvₜ‖ is
 * exact for it. (PyHessian returns λₜ₋₁ with A·vₜ normalised; the two agree to within tol.)
 * Convergence is geometric with ratio |λ_{i+1}/λᵢ|, so close eigenvalues converge slowly; use
 * Lanczos for accuracy.
 */
export async function powerIteration(op: LinearOperator, options: PowerIterationOptions): Promise<PowerIterationResult> {
  const n = op.dim;
  const k = options.k ?? 1;
  const maxIter = options.maxIter ?? 100;
  const tol = options.tol ?? 1e-3;
  const { rng, stop, onProgress } = options;
  if (!Number.isInteger(n) || n < 1) throw new InputError('operator', `dimension must be a positive integer, got ${n}`);
  if (!Number.isInteger(k) || k < 1) throw new InputError('--top', `k must be a positive integer, got ${k}`);
  if (k > n) throw new InputError('--top', `k = ${k} exceeds the operator dimension ${n}`);
  if (!Number.isInteger(maxIter) || maxIter < 1) throw new InputError('--max-iter', `must be a positive integer, got ${maxIter}`);
  if (!(tol > 0) || !Number.isFinite(tol)) throw new InputError('--tol', `must be a positive number, got ${tol}`);

  const result: PowerIterationResult = { eigenvalues: [], eigenvectors: [], residuals: [], iterations: [], converged: [], matvecs: 0 };
  const total = k * maxIter;
  for (let pair = 0; pair < k; pair++) {
    let v: Float64Array = new Float64Array(n);
    rng.fillNormal(v);
    let previous: number | null = null;
    let lambda = 0;
    let Av: Float64Array = new Float64Array(n);
    let converged = false;
    let t = 0;
    while (t < maxIter) {
      orthogonaliseAgainst(v, result.eigenvectors, 2);
      if (!(normalise(v) > 0)) {
        // The iterate fell into the span of the vectors found: start afresh outside it.
        const fresh = randomOrthogonalUnit(rng, n, result.eigenvectors);
        if (fresh === null) throw new Error('power iteration: no direction left orthogonal to the eigenvectors found');
        v = fresh;
      }
      t++;
      Av = await checkedMatvec(op, v, 'power-iteration product A·v', t, stop);
      result.matvecs++;
      onProgress?.(result.matvecs, total);
      lambda = dot(v, Av);
      checkFiniteScalar(lambda, 'power-iteration eigenvalue estimate', t);
      const AvNorm = norm(Av);
      if (AvNorm === 0) {
        converged = true; // A·v = 0: v is an exact eigenvector with eigenvalue 0.
        break;
      }
      if (previous !== null && Math.abs(lambda - previous) / (Math.abs(previous) + 1e-6) < tol) {
        converged = true;
        break;
      }
      previous = lambda;
      if (t < maxIter) v = Float64Array.from(Av, (x) => x / AvNorm);
    }
    const r = Float64Array.from(Av);
    axpy(-lambda, v, r);
    result.eigenvalues.push(lambda);
    result.eigenvectors.push(v);
    result.residuals.push(norm(r));
    result.iterations.push(t);
    result.converged.push(converged);
  }
  onProgress?.(total, total);
  return result;
}
