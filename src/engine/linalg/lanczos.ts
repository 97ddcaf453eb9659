/**
 * Extreme eigenpairs of a symmetric operator by the Lanczos method with full
 * reorthogonalisation (Lanczos 1950; Golub & Van Loan, Matrix Computations §10.1–10.3;
 * Parlett, The Symmetric Eigenvalue Problem ch. 13; the `lanczos` of
 * pytorch-hessian-eigenthings and curvlinops' eigsh usage).
 */
import { InputError } from '../../shared/errors';
import { checkedMatvec, checkFiniteScalar } from './errors';
import type { LinearOperator, StopSignal } from './operator';
import type { Rng } from './rng';
import { tridiagonalEig, type SymmetricEig } from './tridiagonal';
import { axpy, dot, norm, orthogonaliseAgainst, randomOrthogonalUnit, randomRademacherUnit, scale } from './vector';

export type LanczosWhich = 'largest' | 'smallest' | 'both';

export interface LanczosOptions {
  /** Number of eigenpairs wanted at each requested end of the spectrum. */
  k: number;
  /** Default 'largest'. */
  which?: LanczosWhich;
  /** Lanczos steps; default min(max(2k′ + 20, 30), dim), k′ = k (2k for 'both'); capped at dim. */
  maxIter?: number;
  /** Relative Ritz-residual tolerance; default 1e-4. */
  tol?: number;
  rng: Rng;
  stop?: StopSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface LanczosResult {
  which: LanczosWhich;
  /**
   * 'largest': descending; 'smallest': ascending; 'both': the k largest descending followed by
   * the k smallest ascending.
   */
  eigenvalues: number[];
  /** Unit Ritz vectors, in the order of `eigenvalues`. */
  eigenvectors: Float64Array[];
  /** True residuals ‖A·v − θ·v‖₂, one extra product per pair. */
  residuals: number[];
  /** Lanczos steps taken (size of the Krylov basis). */
  iterations: number;
  /** Operator products, including the residual checks. */
  matvecs: number;
  /** Whether the Ritz-residual test was met (or the whole space was spanned). */
  converged: boolean;
}

/** Relative size of βⱼ (against the running ‖T‖ estimate) taken as an invariant subspace. */
const BREAKDOWN_TOL = 1e-10;

/**
 * One step of the Lanczos three-term recurrence with full reorthogonalisation:
 *   w = A·qⱼ,  αⱼ = qⱼᵀw,  w ← w − αⱼqⱼ − βⱼ₋₁qⱼ₋₁,
 * then w is Gram–Schmidt-orthogonalised twice against the whole basis (the coefficients on qⱼ
 * are folded into αⱼ), and βⱼ = ‖w‖. Returns αⱼ, βⱼ and the unnormalised w; the caller appends
 * qⱼ₊₁ = w/βⱼ. `basis` holds q₀..qⱼ (orthonormal), `betaPrev` is βⱼ₋₁ (0 for j = 0).
 */
export async function lanczosStep(
  op: LinearOperator,
  basis: readonly Float64Array[],
  betaPrev: number,
  iteration: number,
  stop: StopSignal | undefined,
): Promise<{ alpha: number; beta: number; w: Float64Array }> {
  const j = basis.length - 1;
  const q = basis[j];
  const w = await checkedMatvec(op, q, 'Lanczos product A·q', iteration, stop);
  let alpha = dot(q, w);
  axpy(-alpha, q, w);
  if (j > 0 && betaPrev !== 0) axpy(-betaPrev, basis[j - 1], w);
  orthogonaliseAgainst(w, basis, 2, (i, c) => {
    if (i === j) alpha += c;
  });
  const beta = norm(w);
  checkFiniteScalar(alpha, 'Lanczos coefficient α', iteration);
  checkFiniteScalar(beta, 'Lanczos coefficient β', iteration);
  return { alpha, beta, w };
}

function validate(op: LinearOperator, o: LanczosOptions): { which: LanczosWhich; wanted: number; maxIter: number; tol: number } {
  const n = op.dim;
  const which = o.which ?? 'largest';
  if (!Number.isInteger(n) || n < 1) throw new InputError('operator', `dimension must be a positive integer, got ${n}`);
  if (which !== 'largest' && which !== 'smallest' && which !== 'both') {
    throw new InputError('--which', `must be 'largest', 'smallest' or 'both', got '${String(which)}'`);
  }
  if (!Number.isInteger(o.k) || o.k < 1) throw new InputError('--top', `k must be a positive integer, got ${o.k}`);
  const wanted = which === 'both' ? 2 * o.k : o.k;
  if (wanted > n) {
    throw new InputError('--top', which === 'both'
      ? `k = ${o.k} at both ends needs 2k ≤ the operator dimension ${n}`
      : `k = ${o.k} exceeds the operator dimension ${n}`);
  }
  const maxIter = Math.min(o.maxIter ?? Math.max(2 * wanted + 20, 30), n);
  if (!Number.isInteger(maxIter) || maxIter < wanted) {
    throw new InputError('--max-iter', `must be an integer ≥ the ${wanted} eigenpairs wanted, got ${o.maxIter}`);
  }
  const tol = o.tol ?? 1e-4;
  if (!(tol > 0) || !Number.isFinite(tol)) throw new InputError('--tol', `must be a positive number, got ${tol}`);
  return { which, wanted, maxIter, tol };
}

/** Indices into the ascending Ritz values of the wanted pairs, in output order. */
function wantedIndices(m: number, k: number, which: LanczosWhich): number[] {
  const top = Array.from({ length: k }, (_, i) => m - 1 - i);
  const bottom = Array.from({ length: k }, (_, i) => i);
  return which === 'largest' ? top : which === 'smallest' ? bottom : [...top, ...bottom];
}

/**
 * k extreme eigenpairs of the symmetric operator A.
 *
 * After m steps A·Qₘ = Qₘ·Tₘ + βₘ·qₘ₊₁·eₘᵀ with Qₘ orthonormal (kept so by full
 * reorthogonalisation, twice) and Tₘ = tridiag(β, α, β). With Tₘ = S·diag(θ)·Sᵀ the Ritz pairs
 * (θᵢ, Qₘsᵢ) have residual ‖A·Qₘsᵢ − θᵢQₘsᵢ‖ = |βₘ·s_{m,i}| (Paige), so iteration stops once
 * |βₘ·s_{m,i}| < tol·|θᵢ| for every wanted pair (|θᵢ| floored at 1e-8·‖T‖ so
 * zero eigenvalues can converge),
 * or at `maxIter`, or when the basis spans the space. The true residuals are then recomputed
 * with one product per pair and reported.
 *
 * An invariant subspace (βⱼ ≤ 1e-10·‖T‖) is handled by restarting with a random unit vector
 * orthogonal to the basis, with βⱼ = 0 (Tₘ becomes block diagonal, whose eigenvalues remain
 * eigenvalues of A); this also lets repeated eigenvalues be found. Memory: maxIter vectors of
 * length dim.
 */
export async function lanczosEigs(op: LinearOperator, options: LanczosOptions): Promise<LanczosResult> {
  const { which, wanted, maxIter, tol } = validate(op, options);
  const { k, rng, stop, onProgress } = options;
  const n = op.dim;
  const basis: Float64Array[] = [randomRademacherUnit(rng, n)];
  const alpha: number[] = [];
  const beta: number[] = [];
  let matvecs = 0;
  let normT = 0;
  let converged = false;
  let eig: SymmetricEig | null = null;

  for (let j = 0; j < maxIter; j++) {
    const step = await lanczosStep(op, basis, j > 0 ? beta[j - 1] : 0, j + 1, stop);
    matvecs++;
    onProgress?.(matvecs, maxIter + wanted);
    alpha.push(step.alpha);
    normT = Math.max(normT, Math.abs(step.alpha) + step.beta + (j > 0 ? beta[j - 1] : 0));
    const m = j + 1;
    const last = m === maxIter || m === n;
    const breakdown = step.beta <= BREAKDOWN_TOL * normT;
    // Eigen-decompositions of T cost O(m³): after 64 steps check every 8th step only.
    if (m >= wanted && (last || (!breakdown && (m <= 64 || m % 8 === 0)))) {
      eig = tridiagonalEig(alpha, beta);
      const floor = 1e-8 * normT;
      converged = m === n || wantedIndices(m, k, which).every((i) => {
        const estimate = Math.abs(step.beta * eig!.vectors[i][m - 1]);
        return estimate < tol * Math.max(Math.abs(eig!.values[i]), floor);
      });
      if (converged || last) break;
    }
    if (last) break;
    if (breakdown) {
      const restart = randomOrthogonalUnit(rng, n, basis);
      if (restart === null) break;
      beta.push(0);
      basis.push(restart);
    } else {
      beta.push(step.beta);
      basis.push(scale(1 / step.beta, step.w));
    }
  }
  const m = alpha.length;
  if (eig === null || eig.values.length !== m) eig = tridiagonalEig(alpha, beta);
  if (m === n) converged = true;

  const eigenvalues: number[] = [];
  const eigenvectors: Float64Array[] = [];
  const residuals: number[] = [];
  const total = matvecs + wanted;
  for (const i of wantedIndices(m, k, which)) {
    const theta = eig.values[i];
    const s = eig.vectors[i];
    const v = new Float64Array(n);
    for (let j = 0; j < m; j++) axpy(s[j], basis[j], v);
    scale(1 / norm(v), v);
    const Av = await checkedMatvec(op, v, 'Ritz-vector product A·v', m, stop);
    matvecs++;
    onProgress?.(matvecs, total);
    axpy(-theta, v, Av);
    eigenvalues.push(theta);
    eigenvectors.push(v);
    residuals.push(norm(Av));
  }
  return { which, eigenvalues, eigenvectors, residuals, iterations: m, matvecs, converged };
}
