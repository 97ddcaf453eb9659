import { symmetricEig } from '../linalg/tridiagonal';

export type { Ntk } from '../objective';

/**
 * The empirical neural tangent kernel on a probe set and the statistics of it that tell lazy
 * from rich training (Kumar, Bordelon, Gershman & Pehlevan 2023; Jacot et al. 2018).
 *
 *   K[n, m] = Σ_c ∇_θ f_c(xₙ) · ∇_θ f_c(xₘ)      (summed over the C output units)
 *
 * Kernels are dense n×n float64 arrays, row-major. Labels Y are n×C (one-hot for class indices).
 */

/** Most floats the probe Jacobian may hold (n·C·d) before we refuse: 2²⁷ floats = 512 MiB. */
export const MAX_JACOBIAN_FLOATS = 2 ** 27;

/** H K H with H = I − 11ᵀ/n (double centring). */
export function centreKernel(K: ArrayLike<number>, n: number): Float64Array {
  const row = new Float64Array(n);
  const col = new Float64Array(n);
  let all = 0;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const v = K[i * n + k];
      row[i] += v;
      col[k] += v;
      all += v;
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) out[i * n + k] = K[i * n + k] - row[i] / n - col[k] / n + all / (n * n);
  return out;
}

export function frobeniusInner(A: ArrayLike<number>, B: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < A.length; i++) s += A[i] * B[i];
  return s;
}

export function frobeniusNorm(A: ArrayLike<number>): number {
  return Math.sqrt(frobeniusInner(A, A));
}

/**
 * Centred kernel–label alignment ⟨K_c, Y_cY_cᵀ⟩_F / (‖K_c‖_F ‖Y_cY_cᵀ‖_F), K_c = HKH, Y_c = HY (each
 * label column minus its mean). For one output this is y_cᵀK_cy_c / (‖K_c‖_F ‖y_c‖²), the seed
 * paper's alignment (their code centres K on one side only; double centring is the usual CKA and
 * keeps the value in [0, 1] for a positive semi-definite K). Null when K_c or Y_c is zero.
 */
export function kernelAlignment(K: ArrayLike<number>, n: number, Y: ArrayLike<number>, C: number): number | null {
  const Kc = centreKernel(K, n);
  const Yc = new Float64Array(n * C);
  for (let c = 0; c < C; c++) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += Y[i * C + c];
    mean /= n;
    for (let i = 0; i < n; i++) Yc[i * C + c] = Y[i * C + c] - mean;
  }
  // ⟨K_c, Y_cY_cᵀ⟩ = Σ_c y_cᵀ K_c y_c ; ‖Y_cY_cᵀ‖_F = ‖Y_cᵀY_c‖_F (C×C).
  let num = 0;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += Kc[i * n + k] * Yc[k * C + c];
      num += Yc[i * C + c] * s;
    }
  }
  let yy = 0;
  for (let a = 0; a < C; a++) {
    for (let b = 0; b < C; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += Yc[i * C + a] * Yc[i * C + b];
      yy += s * s;
    }
  }
  const den = frobeniusNorm(Kc) * Math.sqrt(yy);
  return den > 0 ? num / den : null;
}

/** 1 − ⟨K₀, K_t⟩_F / (‖K₀‖_F ‖K_t‖_F): 0 for a kernel that only rescales, up to 1 (2 at most). */
export function kernelMovement(K0: ArrayLike<number>, Kt: ArrayLike<number>): number | null {
  const den = frobeniusNorm(K0) * frobeniusNorm(Kt);
  // Clamped at 0: round-off makes 1 − cos slightly negative for identical kernels.
  return den > 0 ? Math.max(0, 1 - frobeniusInner(K0, Kt) / den) : null;
}

/** ‖K_t − K₀‖_F / ‖K₀‖_F. */
export function kernelDistance(K0: ArrayLike<number>, Kt: ArrayLike<number>): number | null {
  let s = 0;
  for (let i = 0; i < K0.length; i++) s += (Kt[i] - K0[i]) ** 2;
  const n0 = frobeniusNorm(K0);
  return n0 > 0 ? Math.sqrt(s) / n0 : null;
}

/**
 * Effective rank exp(−Σ pᵢ log pᵢ), pᵢ = λᵢ / Σλ over the eigenvalues of K clipped at 0 (Roy &
 * Vetterli 2007): between 1 (one dominant direction) and n (a flat spectrum).
 */
export function effectiveRank(K: ArrayLike<number>, n: number): number | null {
  const dense: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, k) => K[i * n + k]));
  const { values } = symmetricEig(dense);
  let sum = 0;
  for (const v of values) if (v > 0) sum += v;
  if (!(sum > 0)) return null;
  let h = 0;
  for (const v of values) {
    if (v <= 0) continue;
    const p = v / sum;
    h -= p * Math.log(p);
  }
  return Math.exp(h);
}

/** tr K / n: the mean squared gradient norm of the outputs. */
export function kernelTrace(K: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += K[i * n + i];
  return s / n;
}

/** Averages K with Kᵀ in place, so eigen-decompositions see an exactly symmetric matrix. */
export function symmetrise(K: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let k = i + 1; k < n; k++) {
      const v = 0.5 * (K[i * n + k] + K[k * n + i]);
      K[i * n + k] = v;
      K[k * n + i] = v;
    }
  }
}
