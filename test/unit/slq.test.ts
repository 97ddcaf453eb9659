import assert from 'node:assert/strict';
import { NumericalError } from '../../src/engine/linalg/errors';
import { Rng } from '../../src/engine/linalg/rng';
import { smoothDensity, spectralDensity } from '../../src/engine/linalg/slq';
import { CancelledError, InputError } from '../../src/shared/errors';
import { denseOperator, nanOnCall, stopAfter, symmetricWithSpectrum, trace } from './helpers/denseOperator';

// 90 eigenvalues spread over [0, 1] and an isolated cluster of 10 at 20 ± 0.005.
const BULK = Array.from({ length: 90 }, (_, i) => i / 89);
const CLUSTER = Array.from({ length: 10 }, (_, i) => 19.995 + i * 0.001);
const { A } = symmetricWithSpectrum([...BULK, ...CLUSTER], 51);
const TRACE = trace(A);

/** ∫ density over the grid (midpoint rule: the points are centres of equal cells). */
function integral(x: number[], density: number[], from = -Infinity, to = Infinity): number {
  const h = x[1] - x[0];
  return density.reduce((s, d, j) => (x[j] >= from && x[j] <= to ? s + d * h : s), 0);
}

describe('spectralDensity (SLQ)', () => {
  it('gives per-start quadrature rules whose weights sum to 1 (abs 1e-12), nodes inside the spectrum', async () => {
    const r = await spectralDensity(denseOperator(A), { steps: 40, starts: 10, rng: new Rng(1) });
    assert.equal(r.nodes.length, 10);
    assert.equal(r.weights.length, 10);
    r.weights.forEach((w, s) => {
      assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-12, `start ${s}`);
      w.forEach((x) => assert.ok(x >= 0));
    });
    r.nodes.forEach((row) => row.forEach((t) => assert.ok(t > -1e-10 && t < 20.005 + 1e-10)));
    assert.ok(Math.abs(r.lambdaMax - 20.004) < 1e-3, `λmax ${r.lambdaMax}`);
    assert.ok(r.lambdaMin > -1e-10 && r.lambdaMin < 0.05, `λmin ${r.lambdaMin}`);
    assert.equal(r.matvecs, 400);
  });

  it('estimates the trace within 3 of its reported stderr', async () => {
    const r = await spectralDensity(denseOperator(A), { steps: 30, starts: 10, rng: new Rng(2) });
    assert.ok(r.traceStderr !== null && r.traceStderr > 0);
    assert.ok(Math.abs(r.traceEstimate - TRACE) <= 3 * r.traceStderr, `${r.traceEstimate} vs ${TRACE} ± ${r.traceStderr}`);
    const single = await spectralDensity(denseOperator(A), { steps: 30, starts: 1, rng: new Rng(2) });
    assert.equal(single.traceStderr, null);
  });

  it('density integrates to 1 (±1e-3) and puts ≈10 % of the mass on the isolated cluster', async () => {
    const r = await spectralDensity(denseOperator(A), { steps: 40, starts: 10, rng: new Rng(3) });
    for (const opts of [{}, { points: 1000 }, { sigma: (r.lambdaMax - r.lambdaMin) / 80 }, { sigma2: 1e-2 }]) {
      const { x, density } = smoothDensity(r.nodes, r.weights, opts);
      assert.equal(x.length, (opts as { points?: number }).points ?? 200);
      assert.ok(Math.abs(integral(x, density) - 1) < 1e-3, `∫ = ${integral(x, density)} with ${JSON.stringify(opts)}`);
    }
    const { x, density } = smoothDensity(r.nodes, r.weights);
    const cluster = integral(x, density, 19.5, 20.5);
    // Expected 10/100; one start's share has std ≈ √(2·10)/100, so over 10 starts ±0.05 is > 3σ.
    assert.ok(Math.abs(cluster - 0.1) < 0.05, `cluster mass ${cluster}`);
    assert.ok(integral(x, density, 2, 19) < 1e-3, 'no mass in the gap');
    assert.ok(Math.abs(integral(x, density, -1, 1.5) - (1 - cluster)) < 1e-3, 'the rest in the bulk');
  });

  it('on diag(1..12) with steps = dim recovers every eigenvalue with weight 1/12 (Rademacher start; abs 1e-8)', async () => {
    // The weights (first components²) are (eⱼᵀv)² = 1/n for a Rademacher start: the PyHessian #18 bug class.
    const D = Array.from({ length: 12 }, (_, i) => Array.from({ length: 12 }, (_, j) => (i === j ? i + 1 : 0)));
    const r = await spectralDensity(denseOperator(D), { steps: 80, starts: 3, rng: new Rng(4) });
    r.nodes.forEach((row, s) => {
      assert.equal(row.length, 12, 'steps capped at dim');
      row.forEach((t, i) => assert.ok(Math.abs(t - (i + 1)) < 1e-8));
      r.weights[s].forEach((w) => assert.ok(Math.abs(w - 1 / 12) < 1e-8));
    });
    assert.ok(Math.abs(r.traceEstimate - 78) < 1e-8, 'd·vᵀAv is exact for a diagonal matrix');
  });

  it('stops a start early on an invariant Krylov space (3 distinct eigenvalues; abs 1e-8)', async () => {
    const { A: B } = symmetricWithSpectrum([...new Array(10).fill(-1), ...new Array(15).fill(2), ...new Array(5).fill(7)], 6);
    const op = denseOperator(B);
    const r = await spectralDensity(op, { steps: 20, starts: 4, rng: new Rng(5) });
    assert.equal(op.calls, 12);
    r.nodes.forEach((row) => assert.deepEqual(row.map((t) => Math.round(t * 1e8) / 1e8), [-1, 2, 7]));
  });

  it('smoothDensity does not renormalise: weights summing to 2 integrate to 2', () => {
    const { x, density } = smoothDensity([[0, 1]], [[1, 1]]);
    assert.ok(Math.abs(integral(x, density) - 2) < 1e-3);
  });

  it('is deterministic; NaN → NumericalError; stop → CancelledError; bad options → InputError', async () => {
    const a = await spectralDensity(denseOperator(A), { steps: 10, starts: 2, rng: new Rng(8) });
    const b = await spectralDensity(denseOperator(A), { steps: 10, starts: 2, rng: new Rng(8) });
    assert.deepEqual(a, b);
    await assert.rejects(spectralDensity(nanOnCall(denseOperator(A), 13), { steps: 10, starts: 2, rng: new Rng(1) }), (e: unknown) =>
      e instanceof NumericalError && /at iteration 13/.test(e.message));
    const op = denseOperator(A);
    await assert.rejects(spectralDensity(op, { rng: new Rng(1), stop: stopAfter(op, 15) }), CancelledError);
    assert.equal(op.calls, 15);
    await assert.rejects(spectralDensity(op, { steps: 0, rng: new Rng(1) }), (e: unknown) => e instanceof InputError && e.source === '--steps');
    await assert.rejects(spectralDensity(op, { starts: 0, rng: new Rng(1) }), InputError);
    assert.throws(() => smoothDensity([[1]], [[1]], { sigma: 1, sigma2: 1 }), InputError);
    assert.throws(() => smoothDensity([[1]], [[1]], { points: 1 }), InputError);
    assert.throws(() => smoothDensity([[1, 2]], [[1]]), InputError);
  });
});
