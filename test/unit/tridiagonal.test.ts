import assert from 'node:assert/strict';
import { symmetricEig, tridiagonalEig } from '../../src/engine/linalg/tridiagonal';
import { dot } from '../../src/engine/linalg/vector';
import { symmetricWithSpectrum } from './helpers/denseOperator';

function matvecDense(A: number[][], v: Float64Array): Float64Array {
  return Float64Array.from(A, (row) => row.reduce((s, a, j) => s + a * v[j], 0));
}

describe('tridiagonalEig', () => {
  it('matches the closed-form spectrum of the 1-D Laplacian tridiag(−1, 2, −1) (abs tol 1e-12)', () => {
    const n = 25;
    const { values, vectors } = tridiagonalEig(new Array(n).fill(2), new Array(n - 1).fill(-1));
    for (let k = 1; k <= n; k++) {
      assert.ok(Math.abs(values[k - 1] - (2 - 2 * Math.cos((k * Math.PI) / (n + 1)))) < 1e-12, `eigenvalue ${k}`);
    }
    // Eigenvector k is sin(jkπ/(n+1)) up to sign and scale: check T·v = λv and orthonormality.
    const T = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 2 : Math.abs(i - j) === 1 ? -1 : 0)));
    vectors.forEach((v, k) => {
      const Tv = matvecDense(T, v);
      for (let i = 0; i < n; i++) assert.ok(Math.abs(Tv[i] - values[k] * v[i]) < 1e-12);
      for (let l = 0; l < n; l++) assert.ok(Math.abs(dot(v, vectors[l]) - (k === l ? 1 : 0)) < 1e-12);
    });
  });

  it('returns eigenvalues ascending with negative entries and handles sizes 1 and 0', () => {
    const { values } = tridiagonalEig([3, -4, 0.5, 10], [1, 2, 0.1]);
    for (let i = 1; i < values.length; i++) assert.ok(values[i] >= values[i - 1]);
    assert.deepEqual(Array.from(tridiagonalEig([7], []).values), [7]);
    assert.equal(tridiagonalEig([], []).values.length, 0);
  });
});

describe('symmetricEig', () => {
  it('recovers a known spectrum Q·diag(λ)·Qᵀ (abs tol 1e-10) with unit eigenvectors', () => {
    const lambda = [-3, -1, 0, 0.5, 2, 2.5, 7, 11];
    const { A } = symmetricWithSpectrum(lambda, 5);
    const { values, vectors } = symmetricEig(A);
    lambda.forEach((l, i) => assert.ok(Math.abs(values[i] - l) < 1e-10, `λ${i}: ${values[i]} vs ${l}`));
    vectors.forEach((v, k) => {
      assert.ok(Math.abs(dot(v, v) - 1) < 1e-12);
      const Av = matvecDense(A, v);
      for (let i = 0; i < v.length; i++) assert.ok(Math.abs(Av[i] - values[k] * v[i]) < 1e-10);
    });
  });

  it('rejects a non-square matrix', () => {
    assert.throws(() => symmetricEig([[1, 2], [3]]), /not square/);
  });
});
