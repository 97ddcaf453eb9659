import assert from 'node:assert/strict';
import { selectBackend } from '../../src/engine/backend';
import { EmpiricalFisherOperator, FiniteDifferenceHessian, GaussNewtonOperator } from '../../src/engine/tfjs/curvatureOperators';
import { hutchinsonDiagonal, hutchinsonTrace, hutchPlusPlus } from '../../src/engine/linalg/hutchinson';
import { lanczosEigs } from '../../src/engine/linalg/lanczos';
import { powerIteration } from '../../src/engine/linalg/powerIteration';
import { Rng } from '../../src/engine/linalg/rng';
import { smoothDensity, spectralDensity } from '../../src/engine/linalg/slq';
import { symmetricEig } from '../../src/engine/linalg/tridiagonal';
import { setEngineInfo } from '../../src/engine/runtime';
import { tanhMlp, type Fixture } from './helpers/curvatureFixtures';
import * as R from './helpers/mlp64';

/**
 * The curvature algorithms run on the model's operators, against the eigen-decomposition of
 * the exact float64 matrices of the 4-8-3 tanh MLP (67 parameters):
 *   top-5 eigenvalues: |λᵢ − λᵢ*| ≤ 1e-3·λ₁* (finite-difference Hessian), ≤ 1e-5·λ₁* (GGN, Fisher);
 *   trace, SLQ trace and diagonal: within 4 of their own reported standard errors;
 *   exact trace and diagonal (from d products): ≤ 1e-3 relative.
 */
describe('curvature algorithms on the model’s operators (tanh MLP, exact float64 references)', function () {
  let f: Fixture;
  let H: number[][];
  let eigH: Float64Array;
  let trH: number;
  before(async () => {
    setEngineInfo(await selectBackend('cpu'));
    f = tanhMlp();
    H = R.hessian(f.net, f.loss, f.theta, f.data);
    eigH = symmetricEig(H).values; // ascending
    trH = H.reduce((s, row, i) => s + row[i], 0);
  });
  after(() => f.dispose());

  const top = (vals: Float64Array, k: number) => Array.from(vals).reverse().slice(0, k);

  it('Lanczos top-5 of the Hessian, with residuals; bottom-2 (negative curvature) too', async () => {
    const op = new FiniteDifferenceHessian(f.obj);
    const r = await lanczosEigs(op, { k: 5, which: 'both', rng: new Rng(1) });
    const want = top(eigH, 5);
    const scale = want[0];
    r.eigenvalues.slice(0, 5).forEach((l, i) => assert.ok(Math.abs(l - want[i]) <= 1e-3 * scale, `λ${i + 1}: ${l} vs ${want[i]}`));
    assert.deepEqual([...r.eigenvalues.slice(0, 5)].sort((a, b) => b - a), r.eigenvalues.slice(0, 5), 'descending');
    r.residuals.slice(0, 5).forEach((res) => assert.ok(res < 1e-3 * scale, `residual ${res}`));
    // The smallest: the tanh MLP's Hessian is indefinite.
    assert.ok(eigH[0] < 0);
    r.eigenvalues.slice(5, 7).forEach((l, i) => assert.ok(Math.abs(l - eigH[i]) <= 1e-3 * scale, `λmin${i}: ${l} vs ${eigH[i]}`));
  });

  it('GGN and Fisher top-5 eigenvalues (1e-5·λ₁)', async () => {
    for (const [name, op, ref] of [
      ['GGN', new GaussNewtonOperator(f.obj), R.gaussNewton(f.net, f.loss, f.theta, f.data)],
      ['Fisher', new EmpiricalFisherOperator(f.obj), R.empiricalFisher(f.net, f.loss, f.theta, f.data)],
    ] as const) {
      const r = await lanczosEigs(op, { k: 5, rng: new Rng(2) });
      const want = top(symmetricEig(ref as number[][]).values, 5);
      r.eigenvalues.forEach((l, i) => assert.ok(Math.abs(l - want[i]) <= 1e-5 * want[0], `${name} λ${i + 1}: ${l} vs ${want[i]}`));
      // The Gauss–Newton matrix is positive semi-definite and differs from H.
      assert.ok(Math.abs(r.eigenvalues[0] - top(eigH, 1)[0]) > 1e-3 * want[0]);
    }
  });

  it('power iteration (PyHessian defaults) finds λ₁ within its tolerance', async () => {
    const r = await powerIteration(new FiniteDifferenceHessian(f.obj), { k: 1, rng: new Rng(3) });
    const l1 = top(eigH, 1)[0];
    assert.ok(Math.abs(r.eigenvalues[0] - l1) <= 1e-2 * l1, `${r.eigenvalues[0]} vs ${l1}`);
  });

  it('trace: exact from d products (1e-3); Hutchinson, Hutch++ and SLQ within 4 standard errors', async () => {
    const op = new FiniteDifferenceHessian(f.obj);
    let exact = 0;
    for (let j = 0; j < op.dim; j++) {
      const e = new Float64Array(op.dim);
      e[j] = 1;
      exact += (await op.matvec(e))[j];
    }
    assert.ok(Math.abs(exact - trH) <= 1e-3 * Math.abs(trH), `${exact} vs ${trH}`);
    const h = await hutchinsonTrace(op, { probes: 100, rng: new Rng(4) });
    assert.equal(h.samples.length, 100);
    assert.ok(Math.abs(h.estimate - trH) <= 4 * h.stderr, `Hutchinson ${h.estimate} ± ${h.stderr} vs ${trH}`);
    const hpp = await hutchPlusPlus(op, { matvecs: 60, rng: new Rng(5) });
    assert.ok(Math.abs(hpp.estimate - trH) <= 4 * hpp.stderr + 1e-3 * Math.abs(trH), `Hutch++ ${hpp.estimate} ± ${hpp.stderr} vs ${trH}`);
    const slq = await spectralDensity(op, { steps: 67, starts: 10, rng: new Rng(6) });
    assert.ok(slq.traceStderr !== null && Math.abs(slq.traceEstimate - trH) <= 4 * slq.traceStderr, `SLQ ${slq.traceEstimate} ± ${slq.traceStderr} vs ${trH}`);
    // A full Krylov space: the extreme nodes are the extreme eigenvalues; the density integrates to 1.
    assert.ok(Math.abs(slq.lambdaMax - eigH[66]) <= 1e-3 * eigH[66] && Math.abs(slq.lambdaMin - eigH[0]) <= 1e-3 * eigH[66]);
    const d = smoothDensity(slq.nodes, slq.weights);
    const h0 = d.x[1] - d.x[0];
    assert.ok(Math.abs(d.density.reduce((a, b) => a + b, 0) * h0 - 1) < 1e-6);
  });

  it('diagonal: Hutchinson entries within 4 standard errors (≥ 95 %), the exact one within 1e-3', async () => {
    const op = new FiniteDifferenceHessian(f.obj);
    const r = await hutchinsonDiagonal(op, { probes: 100, rng: new Rng(7) });
    let inside = 0;
    for (let j = 0; j < op.dim; j++) if (Math.abs(r.diagonal[j] - H[j][j]) <= 4 * r.stderr[j] + 1e-6) inside++;
    assert.ok(inside >= 0.95 * op.dim, `${inside}/${op.dim} entries within 4 stderr`);
    const maxDiag = Math.max(...H.map((row, i) => Math.abs(row[i])));
    for (const j of [0, 13, 39, 40, 66]) {
      const e = new Float64Array(op.dim);
      e[j] = 1;
      const got = (await op.matvec(e))[j];
      assert.ok(Math.abs(got - H[j][j]) <= 1e-3 * maxDiag, `H[${j}][${j}] ${got} vs ${H[j][j]}`);
    }
  });
});
