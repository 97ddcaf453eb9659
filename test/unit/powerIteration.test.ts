import assert from 'node:assert/strict';
import { NumericalError } from '../../src/engine/linalg/errors';
import { powerIteration } from '../../src/engine/linalg/powerIteration';
import { Rng } from '../../src/engine/linalg/rng';
import { axpy, dot, norm } from '../../src/engine/linalg/vector';
import { CancelledError, InputError } from '../../src/shared/errors';
import { denseOperator, nanOnCall, relErr, stopAfter, symmetricWithSpectrum } from './helpers/denseOperator';

// Top eigenvalues 10, 5, 2.5 (ratios ≤ 0.5), the other 47 in [0, 1].
const TOP = [10, 5, 2.5];
const SPECTRUM = [...TOP, ...Array.from({ length: 47 }, (_, i) => i / 46)];
const { A } = symmetricWithSpectrum(SPECTRUM, 21);

describe('powerIteration', () => {
  it('finds the top 3 eigenvalues with deflation to rel. tol 1e-3 (its stopping tol)', async () => {
    const op = denseOperator(A);
    const r = await powerIteration(op, { k: 3, rng: new Rng(1) });
    r.eigenvalues.forEach((l, i) => assert.ok(relErr(l, TOP[i]) < 1e-3, `λ${i} = ${l} vs ${TOP[i]}`));
    assert.deepEqual(r.converged, [true, true, true]);
    r.iterations.forEach((t) => assert.ok(t > 1 && t < 100));
    assert.equal(r.matvecs, r.iterations.reduce((a, b) => a + b, 0));
    assert.equal(op.calls, r.matvecs);
    // Reported residuals are ‖Av − λv‖ (recomputed here, abs tol 1e-12) and small (< 0.1·λ).
    for (let i = 0; i < 3; i++) {
      const v = r.eigenvectors[i];
      const Av = await denseOperator(A).matvec(v);
      axpy(-r.eigenvalues[i], v, Av);
      assert.ok(Math.abs(norm(Av) - r.residuals[i]) < 1e-12);
      assert.ok(r.residuals[i] < 0.1 * r.eigenvalues[i]);
      assert.ok(Math.abs(norm(v) - 1) < 1e-12);
    }
    // Deflated vectors are orthogonal to the earlier ones (abs tol 1e-10).
    assert.ok(Math.abs(dot(r.eigenvectors[0], r.eigenvectors[1])) < 1e-10);
    assert.ok(Math.abs(dot(r.eigenvectors[0], r.eigenvectors[2])) < 1e-10);
  });

  it('reaches rel. 1e-8 with a tight tol (tol 1e-10)', async () => {
    const r = await powerIteration(denseOperator(A), { k: 1, tol: 1e-10, rng: new Rng(2) });
    assert.ok(relErr(r.eigenvalues[0], 10) < 1e-8);
  });

  it('stops at maxIter and says it did not converge', async () => {
    const r = await powerIteration(denseOperator(A), { maxIter: 2, tol: 1e-12, rng: new Rng(3) });
    assert.deepEqual(r.iterations, [2]);
    assert.deepEqual(r.converged, [false]);
  });

  it('is deterministic under a fixed seed', async () => {
    const a = await powerIteration(denseOperator(A), { k: 2, rng: new Rng(7) });
    const b = await powerIteration(denseOperator(A), { k: 2, rng: new Rng(7) });
    assert.deepEqual(a.eigenvalues, b.eigenvalues);
    assert.deepEqual(a.eigenvectors, b.eigenvectors);
  });

  it('throws NumericalError on a NaN product, CancelledError on stop, InputError on k > dim', async () => {
    await assert.rejects(powerIteration(nanOnCall(denseOperator(A), 5), { rng: new Rng(1) }), (e: unknown) =>
      e instanceof NumericalError && /power-iteration product A·v became NaN .*at iteration 5/.test(e.message));
    const op = denseOperator(A);
    await assert.rejects(powerIteration(op, { rng: new Rng(1), stop: stopAfter(op, 3) }), CancelledError);
    assert.equal(op.calls, 3);
    await assert.rejects(powerIteration(denseOperator([[1, 0], [0, 2]]), { k: 3, rng: new Rng(1) }),
      (e: unknown) => e instanceof InputError && e.source === '--top');
    await assert.rejects(powerIteration(op, { maxIter: 0, rng: new Rng(1) }), InputError);
  });
});
