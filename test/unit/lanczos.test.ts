import assert from 'node:assert/strict';
import { lanczosEigs } from '../../src/engine/linalg/lanczos';
import { NumericalError } from '../../src/engine/linalg/errors';
import { Rng } from '../../src/engine/linalg/rng';
import { dot } from '../../src/engine/linalg/vector';
import { CancelledError, InputError } from '../../src/shared/errors';
import { denseOperator, nanOnCall, relErr, stopAfter, symmetricWithSpectrum } from './helpers/denseOperator';

// 100 eigenvalues: 6 well-separated at the top, 6 at the bottom, a bulk of 88 in [−1, 5].
const TOP = [100, 90, 80, 70, 60, 50];
const BOTTOM = [-70, -60, -50, -40, -30, -20];
const BULK = Array.from({ length: 88 }, (_, i) => -1 + (6 * i) / 87);
const SPECTRUM = [...TOP, ...BULK, ...BOTTOM];
const { A } = symmetricWithSpectrum(SPECTRUM, 11);

describe('lanczosEigs', () => {
  it('finds the top 5 eigenvalues to rel. tol 1e-8, descending, with small reported residuals', async () => {
    const op = denseOperator(A);
    const r = await lanczosEigs(op, { k: 5, which: 'largest', tol: 1e-7, maxIter: 60, rng: new Rng(1) });
    assert.deepEqual(r.eigenvalues.length, 5);
    r.eigenvalues.forEach((l, i) => assert.ok(relErr(l, TOP[i]) < 1e-8, `λ${i} = ${l} vs ${TOP[i]}`));
    // Residuals are the true ‖Av − θv‖, recomputed: below tol·|θ| (1e-7·|θ|, with 1 % slack).
    r.residuals.forEach((res, i) => assert.ok(res < 1.01e-7 * Math.abs(r.eigenvalues[i]), `residual ${res}`));
    assert.ok(r.converged);
    assert.equal(r.matvecs, r.iterations + 5);
    assert.equal(op.calls, r.matvecs);
    // Ritz vectors are unit and mutually orthogonal (abs tol 1e-10).
    r.eigenvectors.forEach((v, i) => r.eigenvectors.forEach((w, j) => assert.ok(Math.abs(dot(v, w) - (i === j ? 1 : 0)) < 1e-10)));
  });

  it('with default options stops early on the Ritz-residual test (tol 1e-4): about 30 products, at most one thick restart', async () => {
    // Several starts: the count depends on the start (28–31 products here), so no single seed decides.
    for (let seed = 0; seed < 6; seed++) {
      const r = await lanczosEigs(denseOperator(A), { k: 5, rng: new Rng(seed) });
      // The default basis holds 30 vectors; past that one restart, far below the default 300.
      assert.ok(r.iterations <= 45, `seed ${seed}: ${r.iterations} products`);
      assert.ok(r.converged);
      // |θ − λ| ≤ ‖r‖²/gap (Kato–Temple-type bound); the gap to the rest of the spectrum is ≥ 10.
      r.eigenvalues.forEach((l, i) => {
        assert.ok(r.residuals[i] < 1.01e-4 * Math.abs(l), `residual ${r.residuals[i]}`);
        assert.ok(Math.abs(l - TOP[i]) <= r.residuals[i] ** 2 / 10 + 1e-10, `λ${i}`);
      });
    }
  });

  it('finds the bottom k ascending and both ends (rel. tol 1e-8)', async () => {
    const bottom = await lanczosEigs(denseOperator(A), { k: 4, which: 'smallest', tol: 1e-7, maxIter: 60, rng: new Rng(3) });
    bottom.eigenvalues.forEach((l, i) => assert.ok(relErr(l, BOTTOM[i]) < 1e-8, `λ${i} = ${l}`));
    const both = await lanczosEigs(denseOperator(A), { k: 3, which: 'both', tol: 1e-7, maxIter: 60, rng: new Rng(3) });
    const expected = [100, 90, 80, -70, -60, -50];
    assert.equal(both.eigenvalues.length, 6);
    both.eigenvalues.forEach((l, i) => assert.ok(relErr(l, expected[i]) < 1e-8, `λ${i} = ${l}`));
    both.residuals.forEach((res) => assert.ok(res < 1e-4));
  });

  it('is exact when the basis spans the space (dim 8, k = 8; abs tol 1e-10)', async () => {
    const lambda = [-2, -1, 0, 1, 3, 4, 8, 9];
    const r = await lanczosEigs(denseOperator(symmetricWithSpectrum(lambda, 4).A), { k: 8, rng: new Rng(4) });
    assert.equal(r.iterations, 8);
    assert.ok(r.converged);
    [...lambda].reverse().forEach((l, i) => assert.ok(Math.abs(r.eigenvalues[i] - l) < 1e-10));
    r.residuals.forEach((res) => assert.ok(res < 1e-10));
  });

  it('restarts on an invariant subspace and finds a repeated top eigenvalue (abs tol 1e-10)', async () => {
    // Three distinct eigenvalues: every Krylov space breaks down after ≤ 3 steps.
    const lambda = [5, 5, 5, 1, 1, 1, 1, 1, -2, -2];
    const r = await lanczosEigs(denseOperator(symmetricWithSpectrum(lambda, 8).A), { k: 3, rng: new Rng(5) });
    r.eigenvalues.forEach((l) => assert.ok(Math.abs(l - 5) < 1e-10, `${l}`));
    r.residuals.forEach((res) => assert.ok(res < 1e-10));
  });

  it('is deterministic under a fixed seed', async () => {
    const a = await lanczosEigs(denseOperator(A), { k: 3, rng: new Rng(42) });
    const b = await lanczosEigs(denseOperator(A), { k: 3, rng: new Rng(42) });
    assert.deepEqual(a.eigenvalues, b.eigenvalues);
    assert.deepEqual(a.eigenvectors, b.eigenvectors);
    assert.equal(a.matvecs, b.matvecs);
  });

  it('reports progress up to done = total', async () => {
    const calls: [number, number][] = [];
    const r = await lanczosEigs(denseOperator(A), { k: 2, rng: new Rng(6), onProgress: (d, t) => calls.push([d, t]) });
    assert.equal(calls.length, r.matvecs);
    const [done, total] = calls[calls.length - 1];
    assert.equal(done, total);
  });

  it('throws NumericalError naming the quantity and iteration when a product is NaN', async () => {
    const op = nanOnCall(denseOperator(A), 3);
    await assert.rejects(lanczosEigs(op, { k: 2, rng: new Rng(1) }), (e: unknown) => {
      assert.ok(e instanceof NumericalError);
      assert.match(e.message, /Lanczos product A·q became NaN .*at iteration 3/);
      assert.equal(e.iteration, 3);
      return true;
    });
  });

  it('stops with CancelledError between products', async () => {
    const op = denseOperator(A);
    await assert.rejects(lanczosEigs(op, { k: 2, rng: new Rng(1), stop: stopAfter(op, 4) }), CancelledError);
    assert.equal(op.calls, 4);
  });

  it('rejects k > dim and other bad arguments with InputError', async () => {
    const op = denseOperator(symmetricWithSpectrum([1, 2, 3], 1).A);
    await assert.rejects(lanczosEigs(op, { k: 4, rng: new Rng(1) }), (e: unknown) => e instanceof InputError && e.source === '--top');
    await assert.rejects(lanczosEigs(op, { k: 2, which: 'both', rng: new Rng(1) }), InputError);
    await assert.rejects(lanczosEigs(op, { k: 0, rng: new Rng(1) }), InputError);
    await assert.rejects(lanczosEigs(op, { k: 3, maxIter: 2, rng: new Rng(1) }), (e: unknown) => e instanceof InputError && e.source === '--max-iter');
    await assert.rejects(lanczosEigs(op, { k: 1, tol: 0, rng: new Rng(1) }), (e: unknown) => e instanceof InputError && e.source === '--tol');
  });
});
