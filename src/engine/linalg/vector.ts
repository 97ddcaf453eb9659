/** Small dense float64 vector kernels used by the curvature algorithms (BLAS level 1). */
import type { Rng } from './rng';

/** xᵀy. */
export function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  // The curvature algorithms' vectors are Float64Array: a loop that sees only those stays
  // monomorphic (about twice as fast as one that also sees Float32Array and plain arrays).
  if (x instanceof Float64Array && y instanceof Float64Array) return dot64(x, y);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

function dot64(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/** ‖x‖₂. */
export function norm(x: ArrayLike<number>): number {
  return Math.sqrt(dot(x, x));
}

/** y ← y + α·x (in place). */
export function axpy(alpha: number, x: ArrayLike<number>, y: Float64Array): void {
  if (x instanceof Float64Array) return axpy64(alpha, x, y);
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}

function axpy64(alpha: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}

/** x ← α·x (in place); returns x. */
export function scale(alpha: number, x: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] *= alpha;
  return x;
}

/** x ← x/‖x‖ (in place); returns the norm before scaling (0 leaves x unchanged). */
export function normalise(x: Float64Array): number {
  const n = norm(x);
  if (n > 0) scale(1 / n, x);
  return n;
}

/**
 * Removes from v its components along an orthonormal `basis` by classical Gram–Schmidt,
 * repeated `passes` times ("twice is enough", Giraud, Langou & Rozložník 2005). In place.
 * `onCoefficient(i, c)` receives each projection coefficient qᵢᵀv (Lanczos folds the ones on
 * its current vector back into αⱼ).
 */
export function orthogonaliseAgainst(
  v: Float64Array,
  basis: readonly Float64Array[],
  passes = 2,
  onCoefficient?: (index: number, coefficient: number) => void,
): void {
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < basis.length; i++) {
      const c = dot(basis[i], v);
      axpy(-c, basis[i], v);
      onCoefficient?.(i, c);
    }
  }
}

/** A Rademacher vector scaled to unit norm (entries ±1/√n). */
export function randomRademacherUnit(rng: Rng, n: number): Float64Array {
  const v = new Float64Array(n);
  rng.fillRademacher(v);
  return scale(1 / Math.sqrt(n), v);
}

/**
 * A random unit vector orthogonal to the orthonormal `basis` (Gaussian draw, projected twice).
 * Returns null if the basis already spans the space (no direction is left).
 */
export function randomOrthogonalUnit(rng: Rng, n: number, basis: readonly Float64Array[]): Float64Array | null {
  if (basis.length >= n) return null;
  for (let attempt = 0; attempt < 5; attempt++) {
    const v = new Float64Array(n);
    rng.fillNormal(v);
    const before = norm(v);
    orthogonaliseAgainst(v, basis, 2);
    if (normalise(v) > 1e-8 * before) return v;
  }
  return null;
}
