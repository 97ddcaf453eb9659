import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runSharpness } from '../../src/engine/analyses/sharpness';
import { selectBackend } from '../../src/engine/backend';
import { NumericalError } from '../../src/engine/linalg/errors';
import { saveLayersModelToDir } from '../../src/engine/loaders/modelJson';
import { encodeNpz } from '../../src/engine/loaders/npz';
import { symmetricEig } from '../../src/engine/linalg/tridiagonal';
import { setEngineInfo } from '../../src/engine/runtime';
import { CancelledError } from '../../src/shared/errors';
import { parseResult } from '../../src/shared/result';
import { linearRegression, weightedGram, type Fixture } from './helpers/curvatureFixtures';
import * as R from './helpers/mlp64';

/**
 * Sharpness on linear regression with MSE, where L(θ + ε) − L(θ) = gᵀε + ½εᵀHε exactly
 * (H = 2X̃ᵀX̃/n): the first-order values have closed forms, the ball maximum is the
 * trust-region solution, and E L(θ + σu) − L(θ) = ½σ²·tr H. Float32 losses: tolerance
 * 1e-6 + 1e-3 relative for the closed forms; average case within 4 standard errors.
 */
describe('sharpness analysis (in process)', () => {
  let f: Fixture;
  let dir: string;
  let model: string;
  let data: string;
  let g: Float64Array;
  let H: number[][];
  let L0: number;
  before(async () => {
    setEngineInfo(await selectBackend('cpu'));
    f = linearRegression(1, 64, 3, 8);
    dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-sharp-'));
    await saveLayersModelToDir(f.obj.model, path.join(dir, 'm'));
    model = path.join(dir, 'm', 'model.json');
    data = path.join(dir, 'data.npz');
    const n = f.data.x.length;
    writeFileSync(
      data,
      encodeNpz({
        x: { dtype: 'float32', shape: [n, 3], data: Float32Array.from(f.data.x.flatMap((r) => Array.from(r))) },
        y: { dtype: 'float32', shape: [n, 1], data: Float32Array.from(f.data.y.map((r) => r[0])) },
      }),
    );
    const lg = R.lossGrad(f.net, 'mse', f.theta, f.data);
    g = lg.grad;
    L0 = lg.l;
    H = weightedGram(f.data.x, () => 2);
  });
  after(() => f.dispose());

  const q = (e: ArrayLike<number>) => g.reduce((s, gi, i) => s + gi * e[i], 0) + 0.5 * R.matvec(H, e).reduce((s, x, i) => s + x * e[i], 0);
  const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
  const close = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) <= 1e-6 + 1e-3 * Math.abs(want), `${what}: ${got} vs ${want}`);

  /** max_{‖ε‖≤ρ} gᵀε + ½εᵀHε for PSD H: ε = (μI − H)⁻¹g on the sphere, μ > λmax by bisection. */
  function ballMax(rho: number): number {
    const eig = symmetricEig(H);
    const c = eig.vectors.map((u) => u.reduce((s, x, i) => s + x * g[i], 0));
    const lmax = eig.values[eig.values.length - 1];
    const len = (mu: number) => Math.sqrt(c.reduce((s, ci, i) => s + (ci / (mu - eig.values[i])) ** 2, 0));
    let lo = lmax + 1e-12;
    let hi = lmax + norm(g) / rho + 1;
    for (let it = 0; it < 200; it++) {
      const mid = (lo + hi) / 2;
      if (len(mid) > rho) lo = mid;
      else hi = mid;
    }
    const e = new Float64Array(g.length);
    eig.vectors.forEach((u, i) => u.forEach((x, j) => (e[j] += (c[i] / (hi - eig.values[i])) * x)));
    return q(e);
  }

  it('SAM, ASAM, Keskar and average case against their closed forms; the contract fields', async () => {
    const before = tf.memory().numTensors;
    const out = path.join(dir, 's.losscape.json');
    const r = await runSharpness({ kind: 'sharpness', model, data, loss: 'mse', averageSamples: 300, sigma: [0.05], out }, quietContext());
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    const parsed = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(parsed.kind === 'sharpness' && parsed.complete);
    const s = parsed.result;
    close(s.loss, L0, 'L(θ)');
    assert.deepEqual(s.sam.map((e) => e.rho), [0.01, 0.05, 0.1]);
    for (const e of s.sam) {
      const first = q(g.map((x) => (e.rho * x) / norm(g)));
      close(e.firstOrder, first, `SAM first order ρ = ${e.rho}`);
      const max = ballMax(e.rho);
      assert.ok(e.ascent >= e.firstOrder && e.ascent <= max + 1e-6 + 1e-3 * max, `ascent ${e.ascent} in [${e.firstOrder}, ${max}]`);
      assert.ok(e.ascent >= 0.99 * max, `ascent ${e.ascent} reaches 99 % of the maximum ${max}`);
      assert.equal(e.steps, 10);
    }
    const T = Array.from(f.theta, (t) => Math.abs(t) + 0.01);
    const Tg = g.map((x, i) => T[i] * x);
    for (const e of s.asam!) {
      close(e.firstOrder, q(g.map((x, i) => (e.rho * T[i] * T[i] * x) / norm(Tg))), `ASAM first order ρ = ${e.rho}`);
      assert.ok(e.ascent >= e.firstOrder);
    }
    const b = Array.from(f.theta, (t) => 1e-3 * (Math.abs(t) + 1));
    const corner = q(b.map((bi, i) => bi * Math.sign(g[i])));
    const k = s.keskar!;
    assert.ok(k.increase >= corner - 1e-6 && k.increase <= b.reduce((a, bi, i) => a + bi * Math.abs(g[i]), 0) + 0.5 * symmetricEig(H).values[3] * norm(b) ** 2 + 1e-6);
    close(k.value, (100 * k.increase) / (1 + s.loss), 'Keskar φ');
    const avg = s.averageCase[0];
    const want = 0.5 * 0.05 ** 2 * H.reduce((a, row, i) => a + row[i], 0);
    assert.equal(avg.samples, 300);
    assert.equal(avg.values.length, 300);
    assert.ok(Math.abs(avg.mean - want) <= 4 * avg.stderr, `average ${avg.mean} ± ${avg.stderr} vs ½σ²tr H = ${want}`);
    assert.ok(r.definitions?.sam && r.definitions.asam && r.definitions.keskar && r.definitions.averageCase);
    assert.deepEqual(s.phases, ['sam', 'asam', 'keskar', 'averageCase']);
  });

  it('defaults σ to ρ/√d; Keskar in a random subspace', async () => {
    const r = await runSharpness({ kind: 'sharpness', model, data, loss: 'mse', asam: false, rho: [0.02], ascentSteps: 2, subspace: 2, averageSamples: 4, out: path.join(dir, 'd.losscape.json') }, quietContext());
    assert.deepEqual(r.options.sigma, [0.02 / 2]);
    assert.equal(r.result.averageCase[0].radius, 0.02);
    assert.equal(r.result.asam, null);
    assert.equal(r.result.keskar!.subspace, 2);
    assert.ok(r.result.keskar!.increase > 0);
  });

  it('cancellation and a non-finite loss leave valid incomplete files', async () => {
    const out = path.join(dir, 'c.losscape.json');
    let checks = 0;
    const stop = {
      get isCancellationRequested() {
        return ++checks > 15;
      },
    };
    await assert.rejects(runSharpness({ kind: 'sharpness', model, data, loss: 'mse', out }, quietContext(stop)), CancelledError);
    const c = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(c.kind === 'sharpness' && !c.complete);
    assert.match(c.status ?? '', /^cancelled during sam after \d+ evaluations$/);
    assert.equal(c.result.sam.length, 1);

    const bad = path.join(dir, 'inf.losscape.json');
    await assert.rejects(runSharpness({ kind: 'sharpness', model, data, loss: 'mse', rho: [0.01, 1e30], out: bad }, quietContext()), NumericalError);
    const b = parseResult(JSON.parse(readFileSync(bad, 'utf8')), bad);
    assert.ok(b.kind === 'sharpness' && !b.complete);
    assert.match(b.status ?? '', /failed during sam after \d+ evaluations: loss at the first-order perturbation became (infinite|NaN)/);
    assert.equal(b.result.sam.length, 1);
  });
});
