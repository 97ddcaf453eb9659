/**
 * Extreme eigenpairs of a symmetric operator: block Lanczos with full reorthogonalisation and
 * thick restarts, plus a deflated second random start that checks no wanted eigenvalue was
 * missed (Lanczos 1950; block form Golub & Underwood 1977; thick restart Wu & Simon 2000, the
 * Krylov–Schur form of Stewart 2001; Golub & Van Loan, Matrix Computations §10.1–10.3;
 * Parlett, The Symmetric Eigenvalue Problem ch. 11–13).
 */
import { InputError } from '../../shared/errors';
import { checkedMatvec, checkFiniteScalar, checkFiniteVector, throwIfCancelled } from './errors';
import type { LinearOperator, StopSignal } from './operator';
import type { Rng } from './rng';
import { symmetricEig, tridiagonalEig, type SymmetricEig } from './tridiagonal';
import { axpy, dot, norm, orthogonaliseAgainst, randomOrthogonalUnit, randomRademacherUnit, scale } from './vector';

export type LanczosWhich = 'largest' | 'smallest' | 'both';

export interface LanczosOptions {
  /** Number of eigenpairs wanted at each requested end of the spectrum. */
  k: number;
  /** Default 'largest'. */
  which?: LanczosWhich;
  /**
   * Most operator products spent building Krylov bases (main iteration and check together);
   * default max(40·k′, 300), k′ = k (2k for 'both'). The iteration stops earlier as soon as
   * every wanted pair has converged and the check has passed.
   */
  maxIter?: number;
  /** Relative residual tolerance: converged when ‖A·v − θ·v‖ ≤ tol·|θ|; default 1e-4. */
  tol?: number;
  /** Vectors per block; default 2 (1 gives single-vector Lanczos). */
  blockSize?: number;
  /** Basis vectors held before a thick restart (memory: this many vectors of length dim); default max(2k′ + 20, 30). */
  maxBasis?: number;
  /** Run the deflated second random start (default true). */
  check?: boolean;
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
  /** Operator products spent on Krylov bases (main iteration and check). */
  iterations: number;
  /** Operator products, including the residual checks. */
  matvecs: number;
  /** Every wanted pair has true residual ≤ tol·|θ| and the second start found nothing beyond them. */
  converged: boolean;
  blockSize: number;
  /** Thick restarts of the main iteration. */
  restarts: number;
  /** Products spent on the deflated second start(s). */
  checkMatvecs: number;
  /** Eigenvalues the second start found beyond the first converged set (then added to the main basis). */
  missedFound: number;
  /** Why `converged` is false, or what the check corrected; empty when nothing to say. */
  warnings: string[];
}

/** Relative size of a new block vector (against ‖A‖'s running estimate) taken as an invariant subspace. */
const BREAKDOWN_TOL = 1e-10;
/** Rounds of "check, add what it found, re-converge" before giving up. */
const MAX_CHECK_ROUNDS = 3;

/**
 * One step of the Lanczos three-term recurrence with full reorthogonalisation:
 *   w = A·qⱼ,  αⱼ = qⱼᵀw,  w ← w − αⱼqⱼ − βⱼ₋₁qⱼ₋₁,
 * then w is Gram–Schmidt-orthogonalised twice against the whole basis (the coefficients on qⱼ
 * are folded into αⱼ), and βⱼ = ‖w‖. Returns αⱼ, βⱼ and the unnormalised w; the caller appends
 * qⱼ₊₁ = w/βⱼ. `basis` holds q₀..qⱼ (orthonormal), `betaPrev` is βⱼ₋₁ (0 for j = 0).
 * `deflate` vectors (orthonormal, orthogonal to the basis) are projected out of w as well, so
 * the recurrence runs on (I − VVᵀ)A(I − VVᵀ).
 */
export async function lanczosStep(
  op: LinearOperator,
  basis: readonly Float64Array[],
  betaPrev: number,
  iteration: number,
  stop: StopSignal | undefined,
  deflate: readonly Float64Array[] = [],
): Promise<{ alpha: number; beta: number; w: Float64Array }> {
  const j = basis.length - 1;
  const q = basis[j];
  const w = await checkedMatvec(op, q, 'Lanczos product A·q', iteration, stop);
  let alpha = dot(q, w);
  axpy(-alpha, q, w);
  if (j > 0 && betaPrev !== 0) axpy(-betaPrev, basis[j - 1], w);
  for (let pass = 0; pass < 2; pass++) {
    if (deflate.length) orthogonaliseAgainst(w, deflate, 1);
    orthogonaliseAgainst(w, basis, 1, (i, c) => {
      if (i === j) alpha += c;
    });
  }
  const beta = norm(w);
  checkFiniteScalar(alpha, 'Lanczos coefficient α', iteration);
  checkFiniteScalar(beta, 'Lanczos coefficient β', iteration);
  return { alpha, beta, w };
}

interface Settings {
  which: LanczosWhich;
  k: number;
  wanted: number;
  maxIter: number;
  tol: number;
  blockSize: number;
  maxBasis: number;
  check: boolean;
}

function validate(op: LinearOperator, o: LanczosOptions): Settings {
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
  const maxIter = o.maxIter ?? Math.max(40 * wanted, 300);
  if (!Number.isInteger(maxIter) || maxIter < Math.min(wanted, n)) {
    throw new InputError('--max-iter', `must be an integer ≥ the ${wanted} eigenpairs wanted, got ${o.maxIter}`);
  }
  const tol = o.tol ?? 1e-4;
  if (!(tol > 0) || !Number.isFinite(tol)) throw new InputError('--tol', `must be a positive number, got ${tol}`);
  const blockSize = Math.min(o.blockSize ?? 2, n);
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new InputError('--block-size', `must be a positive integer, got ${o.blockSize}`);
  // A restart keeps the wanted pairs and needs room for at least two more blocks.
  const maxBasis = Math.min(n, Math.max(o.maxBasis ?? Math.max(2 * wanted + 20, 30), wanted + 3 * blockSize));
  return { which, k: o.k, wanted, maxIter, tol, blockSize, maxBasis, check: o.check ?? true };
}

/** Indices into ascending Ritz values (m of them) of the wanted pairs, in output order. */
function wantedIndices(m: number, k: number, which: LanczosWhich): number[] {
  const top = Array.from({ length: k }, (_, i) => m - 1 - i);
  const bottom = Array.from({ length: k }, (_, i) => i);
  return which === 'largest' ? top : which === 'smallest' ? bottom : [...top, ...bottom];
}

/**
 * A·Q for a block Q: one `matmat` pass over the data when the operator has one (a block
 * operator), else column by column; each column checked as `checkedMatvec` checks it.
 */
async function blockProducts(
  op: LinearOperator,
  Q: Float64Array[],
  iteration: number,
  stop: StopSignal | undefined,
  quantity = 'Lanczos product A·q',
): Promise<Float64Array[]> {
  const mm = (op as Partial<{ matmat(vs: readonly Float64Array[]): Promise<Float64Array[]> }>).matmat;
  if (typeof mm !== 'function' || Q.length < 2) {
    const out: Float64Array[] = [];
    for (const q of Q) out.push(await checkedMatvec(op, q, quantity, iteration, stop));
    return out;
  }
  throwIfCancelled(stop);
  const ys = await mm.call(op, Q);
  if (ys.length !== Q.length) throw new Error(`operator returned ${ys.length} products for a block of ${Q.length}`);
  return ys.map((y) => {
    if (y.length !== op.dim) throw new Error(`operator returned a vector of length ${y.length} for ${quantity}, expected ${op.dim}`);
    const copy = new Float64Array(y);
    checkFiniteVector(copy, quantity, iteration);
    return copy;
  });
}

/** Σⱼ sⱼ·qⱼ. */
function combine(basis: readonly Float64Array[], s: ArrayLike<number>, n: number): Float64Array {
  const v = new Float64Array(n);
  for (let j = 0; j < s.length; j++) if (s[j] !== 0) axpy(s[j], basis[j], v);
  return v;
}

/**
 * The main iteration's state: an orthonormal basis Q = [Q_e, Q_f] whose first `expanded`
 * vectors have had their products taken, and H[r][c] = q_rᵀ·A·q_c for every expanded c (from
 * the Gram–Schmidt coefficients), so that A·Q_e = Q_e·H_e + Q_f·C with C = H[f][e] — the
 * block-Krylov (and, after a thick restart, Krylov–Schur) relation. Rayleigh–Ritz on H_e gives
 * Ritz pairs (θᵢ, Q_e·sᵢ) whose residual norms are ‖C·sᵢ‖ exactly (in exact arithmetic).
 */
class BlockKrylov {
  readonly basis: Float64Array[] = [];
  /** H[r][c], filled for expanded columns c; rows grow with the basis. */
  private H: number[][] = [];
  expanded = 0;
  normEstimate = 0;

  constructor(readonly n: number) {}

  get size(): number {
    return this.basis.length;
  }

  /** Appends v (orthogonalised against the basis; dropped if nothing is left) as a frontier vector. */
  addFrontier(v: Float64Array): boolean {
    const before = norm(v);
    orthogonaliseAgainst(v, this.basis, 2);
    const after = norm(v);
    if (!(after > 1e-8 * before) || this.basis.length >= this.n) return false;
    scale(1 / after, v);
    this.basis.push(v);
    this.H.push([]);
    return true;
  }

  /** Takes the products of every frontier vector; each residual becomes a new frontier vector. */
  async expandBlock(op: LinearOperator, stop: StopSignal | undefined, iteration: () => number, counted: () => void): Promise<void> {
    const front = this.basis.length;
    const block = await blockProducts(op, this.basis.slice(this.expanded, front), iteration(), stop);
    for (let c = this.expanded; c < front; c++) {
      const w = block[c - this.expanded];
      counted();
      const coef = new Float64Array(this.basis.length);
      for (let pass = 0; pass < 2; pass++) orthogonaliseAgainst(w, this.basis, 1, (i, x) => (coef[i] += x));
      for (let r = 0; r < coef.length; r++) {
        checkFiniteScalar(coef[r], 'Lanczos coefficient', iteration());
        this.H[r][c] = coef[r];
      }
      const beta = norm(w);
      checkFiniteScalar(beta, 'Lanczos coefficient β', iteration());
      this.normEstimate = Math.max(this.normEstimate, Math.abs(coef[c]) + beta);
      if (beta > BREAKDOWN_TOL * Math.max(this.normEstimate, Number.MIN_VALUE) && this.basis.length < this.n) {
        scale(1 / beta, w);
        this.basis.push(w);
        this.H.push([]);
        this.H[this.basis.length - 1][c] = beta;
      }
    }
    this.expanded = front;
  }

  /** Rayleigh–Ritz on the expanded part: Ritz values ascending, their vectors in the Q_e basis and residual norms ‖C·sᵢ‖. */
  ritz(): { eig: SymmetricEig; residuals: number[] } {
    const e = this.expanded;
    const Hs: number[][] = [];
    for (let i = 0; i < e; i++) {
      const row = new Array<number>(e);
      for (let j = 0; j < e; j++) row[j] = 0.5 * ((this.H[i][j] ?? 0) + (this.H[j][i] ?? 0));
      Hs.push(row);
    }
    const eig = symmetricEig(Hs);
    const residuals = eig.vectors.map((s) => {
      let ss = 0;
      for (let f = e; f < this.basis.length; f++) {
        let x = 0;
        for (let j = 0; j < e; j++) x += (this.H[f][j] ?? 0) * s[j];
        ss += x * x;
      }
      return Math.sqrt(ss);
    });
    for (const v of eig.values) this.normEstimate = Math.max(this.normEstimate, Math.abs(v));
    return { eig, residuals };
  }

  /**
   * Thick restart: the basis becomes the Ritz vectors `keep` (indices into `eig`) followed by
   * the frontier, H_e becomes diag(θ) and the coupling C becomes C·S_keep, so the
   * Krylov–Schur relation still holds and the iteration continues from the frontier.
   */
  restart(eig: SymmetricEig, keep: readonly number[]): void {
    const e = this.expanded;
    const ritzVectors = keep.map((i) => combine(this.basis.slice(0, e), eig.vectors[i], this.n));
    const frontier = this.basis.slice(e);
    const coupling = frontier.map((_, f) => keep.map((i) => {
      let x = 0;
      for (let j = 0; j < e; j++) x += (this.H[e + f][j] ?? 0) * eig.vectors[i][j];
      return x;
    }));
    this.basis.length = 0;
    this.basis.push(...ritzVectors, ...frontier);
    const l = keep.length;
    this.H = this.basis.map(() => [] as number[]);
    keep.forEach((i, a) => (this.H[a][a] = eig.values[i]));
    coupling.forEach((row, f) => row.forEach((x, a) => (this.H[l + f][a] = x)));
    this.expanded = l;
  }

  ritzVector(eig: SymmetricEig, i: number): Float64Array {
    const v = combine(this.basis.slice(0, this.expanded), eig.vectors[i], this.n);
    return scale(1 / norm(v), v);
  }
}

/** Whether the wanted Ritz pairs meet the residual rule ‖C·sᵢ‖ ≤ ½·tol·max(|θᵢ|, floor). */
function allConverged(values: Float64Array, residuals: number[], idx: number[], tol: number, floor: number): boolean {
  return idx.every((i) => residuals[i] <= 0.5 * tol * Math.max(Math.abs(values[i]), floor));
}

/**
 * k extreme eigenpairs of the symmetric operator A.
 *
 * Main iteration: block Lanczos from `blockSize` random vectors, every new block
 * Gram–Schmidt-orthogonalised twice against the whole basis, Rayleigh–Ritz after each block.
 * A block of b ≥ 2 vectors finds eigenvalues of multiplicity up to b, which a single Krylov
 * sequence cannot (its space meets each eigenspace in one direction). When the basis holds
 * `maxBasis` vectors it is thick-restarted onto the Ritz vectors nearest the wanted end(s).
 *
 * Stopping rule: every wanted Ritz pair has ‖A·v − θ·v‖ ≤ ½·tol·|θ| as given by the block
 * residual ‖C·s‖ (|θ| floored at 1e-8·‖A‖ so that zero eigenvalues can converge). By the
 * Krylov–Bogoliubov bound (Parlett Thm 4.5.1) each such θ lies within tol·|θ| of an eigenvalue
 * of A, and within ‖r‖²/gap of it (Kato–Temple). A residual does not say *which* eigenvalue
 * that is: a wanted eigenvalue whose eigenvector is poorly represented in the start block can
 * still be missing while every Ritz pair has converged. So the check: a single-vector Lanczos
 * from an independent random start on (I − VVᵀ)A(I − VVᵀ), V the converged wanted Ritz
 * vectors. Its Ritz values are bounded by the deflated operator's extreme eigenvalues
 * (Cauchy interlacing), so a Ritz value beyond the k-th wanted θ (by more than its residual and
 * tol·|θ|) proves an eigenvalue was missed: its Ritz vector joins the main basis and the main
 * iteration re-converges. The check stops once its own extreme pair converges (to tol) or after
 * as many products as the main iteration used. After MAX_CHECK_ROUNDS corrections, or at
 * `maxIter` products, `converged` is false with a warning. The true residuals are then
 * recomputed with one product per pair and reported; `converged` also needs them ≤ tol·|θ|
 * (a noisy operator, e.g. finite-difference products, can fail this though the iteration converged).
 */
export async function lanczosEigs(op: LinearOperator, options: LanczosOptions): Promise<LanczosResult> {
  const s = validate(op, options);
  const { which, k, wanted, maxIter, tol, blockSize, maxBasis } = s;
  const { rng, stop, onProgress } = options;
  const n = op.dim;
  const warnings: string[] = [];
  let matvecs = 0;
  let krylov = 0;
  let checkMatvecs = 0;
  let restarts = 0;
  let missedFound = 0;
  const counted = (): void => {
    matvecs++;
    krylov++;
    onProgress?.(matvecs, Math.max(matvecs + wanted, Math.min(maxIter, 3 * (maxBasis + wanted)) + wanted));
  };

  const K = new BlockKrylov(n);
  K.addFrontier(randomRademacherUnit(rng, n));
  for (let b = 1; b < blockSize; b++) {
    const v = randomOrthogonalUnit(rng, n, K.basis);
    if (v) K.addFrontier(v);
  }

  let ritz: { eig: SymmetricEig; residuals: number[] } | null = null;
  let mainConverged = false;
  let budgetLeft = true;
  let checkRounds = 0;
  let checkPassed = !s.check;
  let gaveUp = false;

  const converge = async (): Promise<void> => {
    for (;;) {
      if (K.expanded < K.size) await K.expandBlock(op, stop, () => krylov + 1, counted);
      ritz = K.ritz();
      const e = K.expanded;
      const spanned = e === n;
      if (e >= wanted) {
        const floor = 1e-8 * K.normEstimate;
        const idx = wantedIndices(e, k, which);
        if (spanned || allConverged(ritz.eig.values, ritz.residuals, idx, tol, floor)) {
          mainConverged = true;
          return;
        }
      }
      if (krylov >= maxIter) {
        budgetLeft = false;
        return;
      }
      if (K.expanded === K.size) {
        // Invariant subspace: continue from random vectors orthogonal to it (H gains a zero coupling).
        let added = 0;
        for (let b = 0; b < blockSize; b++) {
          const v = randomOrthogonalUnit(rng, n, K.basis);
          if (v && K.addFrontier(v)) added++;
        }
        if (added === 0) {
          mainConverged = true;
          return;
        }
      }
      if (K.size + blockSize > maxBasis && K.expanded > wanted) {
        restarts++;
        K.restart(ritz.eig, keepIndices(e, wanted, which, maxBasis - (K.size - K.expanded) - blockSize));
      }
    }
  };

  while (budgetLeft) {
    await converge();
    if (!mainConverged || checkPassed) break;
    if (K.expanded === n) break; // the whole space: nothing can be missing
    const r = ritz!;
    const idx = wantedIndices(K.expanded, k, which);
    const V = idx.map((i) => K.ritzVector(r.eig, i));
    const found = await deflatedCheck(op, V, r, idx, s, rng, stop, Math.max(krylov, 10), () => {
      counted();
      checkMatvecs++;
    });
    checkRounds++;
    if (found.length === 0) {
      checkPassed = true;
      break;
    }
    missedFound += found.length;
    for (const v of found) K.addFrontier(v);
    mainConverged = false;
    if (checkRounds >= MAX_CHECK_ROUNDS) {
      gaveUp = true;
      warnings.push(`the second random start kept finding eigenvalues beyond the converged set (${checkRounds} rounds); the result may still miss some`);
      await converge();
      break;
    }
    if (krylov >= maxIter) budgetLeft = false;
  }
  if (missedFound > 0) warnings.push(`the second random start found ${missedFound} eigenvalue(s) the first had missed; they were added and the iteration re-converged`);

  const e = K.expanded;
  if (ritz === null || (ritz as { eig: SymmetricEig }).eig.values.length !== e) ritz = K.ritz();
  const final = ritz as { eig: SymmetricEig; residuals: number[] };
  const idx = wantedIndices(e, k, which);
  const eigenvalues: number[] = [];
  const eigenvectors: Float64Array[] = [];
  const residuals: number[] = [];
  const floor = 1e-8 * K.normEstimate;
  let residualsOk = true;
  // The wanted pairs' true residuals: all k products in one block (one pass over the data).
  const ritzVectors = idx.map((i) => K.ritzVector(final.eig, i));
  const products = await blockProducts(op, ritzVectors, krylov, stop, 'Ritz-vector product A·v');
  for (let j = 0; j < idx.length; j++) {
    const theta = final.eig.values[idx[j]];
    const v = ritzVectors[j];
    const Av = products[j];
    matvecs++;
    onProgress?.(matvecs, matvecs + (idx.length - eigenvalues.length - 1));
    axpy(-theta, v, Av);
    const res = norm(Av);
    if (!(res <= tol * Math.max(Math.abs(theta), floor))) residualsOk = false;
    eigenvalues.push(theta);
    eigenvectors.push(v);
    residuals.push(res);
  }
  const spanned = e === n;
  if (!spanned && !mainConverged) {
    warnings.push(`not converged: ${krylov} products (--max-iter ${maxIter}) left some wanted residuals above ${tol}·|θ|`);
  } else if (!spanned && !checkPassed && !gaveUp) {
    warnings.push(`not checked: the product budget (--max-iter ${maxIter}) ran out before the second random start finished`);
  }
  if (!residualsOk) {
    warnings.push(`true residuals ‖Av − θv‖ above ${tol}·|θ|: the operator's products are noisier than the tolerance (or the iteration stopped early)`);
  }
  const converged = residualsOk && (spanned || (mainConverged && checkPassed && !gaveUp));
  return { which, eigenvalues, eigenvectors, residuals, iterations: krylov, matvecs, converged, blockSize, restarts, checkMatvecs, missedFound, warnings };
}

/**
 * Indices (ascending Ritz values, e of them) kept at a thick restart: the wanted ones and as
 * many neighbours beyond them as fit in `room` (half of the basis left over, at least the
 * wanted pairs), split between the ends for 'both'.
 */
function keepIndices(e: number, wanted: number, which: LanczosWhich, room: number): number[] {
  const keep = Math.max(wanted, Math.min(e - 1, Math.floor((wanted + Math.max(room, wanted)) / 2)));
  if (which === 'largest') return Array.from({ length: keep }, (_, i) => e - keep + i);
  if (which === 'smallest') return Array.from({ length: keep }, (_, i) => i);
  const lo = Math.ceil(keep / 2);
  const hi = keep - lo;
  return [...Array.from({ length: lo }, (_, i) => i), ...Array.from({ length: hi }, (_, i) => e - hi + i)];
}

/**
 * The second random start: single-vector Lanczos on (I − VVᵀ)A(I − VVᵀ) from a random unit
 * vector orthogonal to V. Returns the Ritz vectors (in the full space) whose values lie beyond
 * the k-th wanted θ at their end by more than that pair's residual plus tol·|θ| — eigenvalues
 * the main iteration missed — or nothing once its extreme pairs converge or `budget` products
 * are spent.
 */
async function deflatedCheck(
  op: LinearOperator,
  V: Float64Array[],
  main: { eig: SymmetricEig; residuals: number[] },
  idx: number[],
  s: Settings,
  rng: Rng,
  stop: StopSignal | undefined,
  budget: number,
  counted: () => void,
): Promise<Float64Array[]> {
  const n = op.dim;
  const { which, k, tol } = s;
  if (V.length >= n) return [];
  const start = randomOrthogonalUnit(rng, n, V);
  if (start === null) return [];
  const vals = idx.map((i) => main.eig.values[i]);
  const res = idx.map((i) => main.residuals[i]);
  // Thresholds: the k-th wanted value at each end, widened by its residual and tol.
  const topAt = which === 'smallest' ? -1 : k - 1;
  const botAt = which === 'largest' ? -1 : which === 'both' ? 2 * k - 1 : k - 1;
  const margin = (j: number) => res[j] + tol * Math.abs(vals[j]);
  const topLimit = topAt >= 0 ? vals[topAt] + margin(topAt) : Infinity;
  const botLimit = botAt >= 0 ? vals[botAt] - margin(botAt) : -Infinity;

  const basis: Float64Array[] = [start];
  const alpha: number[] = [];
  const beta: number[] = [];
  const cap = Math.min(budget, n - V.length, Math.max(s.maxBasis, 10));
  for (let j = 0; j < cap; j++) {
    const step = await lanczosStep(op, basis, j > 0 ? beta[j - 1] : 0, j + 1, stop, V);
    counted();
    alpha.push(step.alpha);
    const eig = tridiagonalEig(alpha, beta);
    const m = alpha.length;
    const resEst = (i: number) => Math.abs(step.beta * eig.vectors[i][m - 1]);
    const beyond: number[] = [];
    for (let i = 0; i < m; i++) {
      if (eig.values[i] > topLimit || eig.values[i] < botLimit) beyond.push(i);
    }
    if (beyond.length) {
      return beyond.map((i) => {
        const v = combine(basis, eig.vectors[i], n);
        return scale(1 / norm(v), v);
      });
    }
    let normT = 0;
    for (const x of eig.values) normT = Math.max(normT, Math.abs(x));
    const ok = (i: number) => resEst(i) <= tol * Math.max(Math.abs(eig.values[i]), 1e-8 * normT);
    const done = (topAt < 0 || ok(m - 1)) && (botAt < 0 || ok(0));
    const breakdown = step.beta <= BREAKDOWN_TOL * Math.max(normT, Number.MIN_VALUE);
    if (done || breakdown || m >= cap) return [];
    beta.push(step.beta);
    basis.push(scale(1 / step.beta, step.w));
  }
  return [];
}
