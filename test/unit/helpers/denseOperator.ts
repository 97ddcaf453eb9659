/**
 * Dense float64 references for the linear-algebra tests: a LinearOperator over a number[][],
 * symmetric matrices of known spectrum Q·diag(λ)·Qᵀ with Q a seeded random orthogonal matrix,
 * and operators that fail or ask to stop after a given number of products.
 */
import { Matrix, QrDecomposition } from 'ml-matrix';
import type { LinearOperator, StopSignal } from '../../../src/engine/linalg/operator';
import { Rng } from '../../../src/engine/linalg/rng';

export interface CountingOperator extends LinearOperator {
  /** Products computed so far. */
  calls: number;
}

/** y = A·v with A dense (rows of equal length). */
export function denseOperator(A: number[][]): CountingOperator {
  const n = A.length;
  const op: CountingOperator = {
    dim: n,
    calls: 0,
    async matvec(v: Float64Array): Promise<Float64Array> {
      op.calls++;
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const row = A[i];
        let s = 0;
        for (let j = 0; j < n; j++) s += row[j] * v[j];
        y[i] = s;
      }
      return y;
    },
  };
  return op;
}

/** A Haar-like random orthogonal n×n matrix: Q of the QR decomposition of a Gaussian matrix. */
export function randomOrthogonal(n: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const G = Matrix.zeros(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) G.set(i, j, rng.normal());
  return new QrDecomposition(G).orthogonalMatrix;
}

/** Q·diag(λ)·Qᵀ (exactly symmetrised) with Q = randomOrthogonal(λ.length, seed); also returns Q. */
export function symmetricWithSpectrum(lambda: readonly number[], seed: number): { A: number[][]; Q: Matrix } {
  const n = lambda.length;
  const Q = randomOrthogonal(n, seed);
  const A: number[][] = [];
  for (let i = 0; i < n; i++) A.push(new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let l = 0; l < n; l++) s += Q.get(i, l) * lambda[l] * Q.get(j, l);
      A[i][j] = s;
      A[j][i] = s;
    }
  }
  return { A, Q };
}

/** Exact trace of a dense matrix. */
export function trace(A: number[][]): number {
  return A.reduce((s, row, i) => s + row[i], 0);
}

/** Wraps `op` so that product number `call` (1-based) returns a vector holding a NaN. */
export function nanOnCall(op: LinearOperator, call: number): LinearOperator {
  let calls = 0;
  return {
    dim: op.dim,
    async matvec(v: Float64Array): Promise<Float64Array> {
      const y = await op.matvec(v);
      if (++calls === call) y[Math.floor(y.length / 2)] = Number.NaN;
      return y;
    },
  };
}

/** A stop signal that turns on once `op` has computed `after` products. */
export function stopAfter(op: CountingOperator, after: number): StopSignal {
  return {
    get isCancellationRequested(): boolean {
      return op.calls >= after;
    },
  };
}

/** |a − b| / |b|. */
export function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}
