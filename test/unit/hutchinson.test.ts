import assert from 'node:assert/strict';
import { NumericalError } from '../../src/engine/linalg/errors';
import { hutchinsonDiagonal, hutchinsonTrace, hutchPlusPlus } from '../../src/engine/linalg/hutchinson';
import { Rng } from '../../src/engine/linalg/rng';
import { CancelledError, InputError } from '../../src/shared/errors';
import { denseOperator, nanOnCall, stopAfter, symmetricWithSpectrum, trace } from './helpers/denseOperator';

const spread = (n: number, lo: number, hi: number): number[] => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
const { A } = symmetricWithSpectrum(spread(40, -1, 3), 31);
const TRACE = trace(A);

function meanStd(x: number[]): { mean: number; std: number } {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  return { mean, std: Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / (x.length - 1)) };
}

describe('hutchinsonTrace', () => {
  it('is within 3 reported stderr of the exact trace, and returns its raw samples', async () => {
    const r = await hutchinsonTrace(denseOperator(A), { probes: 100, rng: new Rng(1) });
    assert.ok(Math.abs(r.estimate - TRACE) <= 3 * r.stderr, `${r.estimate} vs ${TRACE} ± ${r.stderr}`);
    assert.equal(r.samples.length, 100);
    assert.equal(r.probes, 100);
    const { mean, std } = meanStd(r.samples);
    assert.ok(Math.abs(mean - r.estimate) < 1e-12);
    assert.ok(Math.abs(std / 10 - r.stderr) < 1e-12);
  });

  it('reports an honest stderr: over 200 seeds the spread of estimates is within ±25 % of the mean stderr', async () => {
    const estimates: number[] = [];
    const stderrs: number[] = [];
    for (let seed = 0; seed < 200; seed++) {
      const r = await hutchinsonTrace(denseOperator(A), { probes: 30, rng: new Rng(1000 + seed) });
      estimates.push(r.estimate);
      stderrs.push(r.stderr);
    }
    const { mean, std } = meanStd(estimates);
    const meanStderr = stderrs.reduce((a, b) => a + b, 0) / stderrs.length;
    assert.ok(Math.abs(std / meanStderr - 1) < 0.25, `empirical std ${std} vs mean stderr ${meanStderr}`);
    // Theory: Var(zᵀAz) = 2 Σ_{i≠j} A²ᵢⱼ for Rademacher z (±25 % as above).
    let off = 0;
    A.forEach((row, i) => row.forEach((a, j) => (off += i === j ? 0 : a * a)));
    assert.ok(Math.abs(std / Math.sqrt((2 * off) / 30) - 1) < 0.25);
    assert.ok(Math.abs(mean - TRACE) < 3 * (std / Math.sqrt(200)), 'unbiased (3 stderr of the mean)');
  });

  it('is deterministic, reports progress, and fails cleanly', async () => {
    const a = await hutchinsonTrace(denseOperator(A), { probes: 10, rng: new Rng(5) });
    const b = await hutchinsonTrace(denseOperator(A), { probes: 10, rng: new Rng(5) });
    assert.deepEqual(a, b);
    const progress: number[] = [];
    await hutchinsonTrace(denseOperator(A), { probes: 4, rng: new Rng(5), block: 1, onProgress: (d) => progress.push(d) });
    assert.deepEqual(progress, [1, 2, 3, 4]);
    // Blocks of products (matmat) draw the same probes and report progress per block.
    const blocked: number[] = [];
    const c = await hutchinsonTrace(denseOperator(A), { probes: 10, rng: new Rng(5), block: 4, onProgress: (d) => blocked.push(d) });
    assert.deepEqual(blocked, [4, 8, 10]);
    assert.deepEqual(c, a);
    await assert.rejects(hutchinsonTrace(nanOnCall(denseOperator(A), 2), { rng: new Rng(1) }), (e: unknown) =>
      e instanceof NumericalError && /Hutchinson product A·z became NaN .*at iteration 2/.test(e.message));
    const op = denseOperator(A);
    await assert.rejects(hutchinsonTrace(op, { rng: new Rng(1), stop: stopAfter(op, 7) }), CancelledError);
    assert.equal(op.calls, 7);
    await assert.rejects(hutchinsonTrace(op, { probes: 1, rng: new Rng(1) }), (e: unknown) => e instanceof InputError && e.source === '--probes');
  });
});

describe('hutchPlusPlus', () => {
  // Low-rank-dominated: 8 eigenvalues 50..100, 112 in [0, 0.01].
  const lowRank = symmetricWithSpectrum([...spread(8, 50, 100), ...spread(112, 0, 0.01)], 41).A;
  const exact = trace(lowRank);

  it('is far more accurate than Hutchinson at the same 60 products on a low-rank-dominated matrix', async () => {
    let errPlus = 0;
    let errHutch = 0;
    for (let seed = 0; seed < 20; seed++) {
      const p = await hutchPlusPlus(denseOperator(lowRank), { matvecs: 60, rng: new Rng(seed) });
      const h = await hutchinsonTrace(denseOperator(lowRank), { probes: 60, rng: new Rng(seed) });
      assert.equal(p.matvecs, 60);
      assert.ok(Math.abs(p.estimate - exact) <= 3 * p.stderr + 1e-9, `seed ${seed}: ${p.estimate} vs ${exact} ± ${p.stderr}`);
      errPlus += Math.abs(p.estimate - exact) / 20;
      errHutch += Math.abs(h.estimate - exact) / 20;
    }
    // Mean absolute error at least 100× smaller.
    assert.ok(errPlus < errHutch / 100, `Hutch++ ${errPlus}, Hutchinson ${errHutch}`);
  });

  it('is exact (abs tol 1e-9) when the sketch spans the space, and uses exactly the product budget', async () => {
    const small = symmetricWithSpectrum(spread(10, -3, 4), 2).A;
    const op = denseOperator(small);
    const r = await hutchPlusPlus(op, { matvecs: 45, rng: new Rng(1) });
    assert.ok(Math.abs(r.estimate - trace(small)) < 1e-9);
    assert.ok(r.stderr < 1e-9);
    assert.equal(op.calls, 45);
    assert.equal(r.matvecs, 45);
  });

  it('defaults to 100 products; rejects budgets below 6; NaN → NumericalError; stop → CancelledError', async () => {
    const op = denseOperator(A);
    assert.equal((await hutchPlusPlus(op, { rng: new Rng(1) })).matvecs, 100);
    await assert.rejects(hutchPlusPlus(op, { matvecs: 5, rng: new Rng(1) }), (e: unknown) => e instanceof InputError && e.source === '--matvecs');
    await assert.rejects(hutchPlusPlus(nanOnCall(op, 20), { rng: new Rng(1) }), NumericalError);
    const op2 = denseOperator(A);
    await assert.rejects(hutchPlusPlus(op2, { rng: new Rng(1), stop: stopAfter(op2, 50) }), CancelledError);
  });
});

describe('hutchinsonDiagonal', () => {
  it('each entry is within 4 reported stderr of the exact diagonal; stderr matches theory ±20 %', async () => {
    const r = await hutchinsonDiagonal(denseOperator(A), { probes: 400, rng: new Rng(3) });
    assert.equal(r.probes, 400);
    A.forEach((row, j) => {
      assert.ok(Math.abs(r.diagonal[j] - row[j]) <= 4 * r.stderr[j], `entry ${j}: ${r.diagonal[j]} vs ${row[j]} ± ${r.stderr[j]}`);
      // Var of one sample (z⊙Az)ⱼ = Σ_{l≠j} A²ⱼₗ.
      const sd = Math.sqrt(row.reduce((s, a, l) => s + (l === j ? 0 : a * a), 0) / 400);
      assert.ok(Math.abs(r.stderr[j] / sd - 1) < 0.2, `stderr ${r.stderr[j]} vs ${sd}`);
    });
  });

  it('is exact with zero stderr for a diagonal matrix; deterministic; errors as the trace', async () => {
    const D = [[2, 0, 0], [0, -1, 0], [0, 0, 5]];
    const r = await hutchinsonDiagonal(denseOperator(D), { probes: 3, rng: new Rng(1) });
    assert.deepEqual(Array.from(r.diagonal), [2, -1, 5]);
    assert.deepEqual(Array.from(r.stderr), [0, 0, 0]);
    const a = await hutchinsonDiagonal(denseOperator(A), { probes: 5, rng: new Rng(9) });
    const b = await hutchinsonDiagonal(denseOperator(A), { probes: 5, rng: new Rng(9) });
    assert.deepEqual(a, b);
    await assert.rejects(hutchinsonDiagonal(nanOnCall(denseOperator(A), 1), { rng: new Rng(1) }), NumericalError);
    const op = denseOperator(A);
    await assert.rejects(hutchinsonDiagonal(op, { rng: new Rng(1), stop: stopAfter(op, 2) }), CancelledError);
    await assert.rejects(hutchinsonDiagonal(op, { probes: 0, rng: new Rng(1) }), InputError);
  });
});
