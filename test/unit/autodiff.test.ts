import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { jvp, outputJacobian, outputUnits, perSampleGradients, perSampleLosses, subsetGradient, vjp } from '../../src/engine/tfjs/autodiff';
import { selectBackend } from '../../src/engine/backend';
import { Rng } from '../../src/engine/linalg/rng';
import { setEngineInfo } from '../../src/engine/runtime';
import { tanhMlp, type Fixture } from './helpers/curvatureFixtures';
import * as R from './helpers/mlp64';

/**
 * The autodiff products against the float64 reference of helpers/mlp64.ts (forward-mode J v,
 * reverse-mode Jᵀu, analytic per-sample gradients), which shares nothing with TF.js. Float32
 * products agree to ~1e-7 relative; the tolerance is 1e-5 (relative 2-norm).
 */
const TOL = 1e-5;

for (const act of ['tanh', 'relu'] as const) {
  describe(`autodiff products, 4-8-3 ${act}/softmax MLP (cpu backend, batches of 32 over 80 samples)`, () => {
    let f: Fixture;
    let baseline: number;
    before(async () => {
      setEngineInfo(await selectBackend('cpu'));
      f = tanhMlp(32, act);
      baseline = tf.memory().numTensors;
    });
    after(() => f.dispose());

    it(`jvp: J v matches forward-mode float64 (rel. ${TOL})`, async () => {
      const v = new Float64Array(f.obj.dim);
      new Rng(1).fillNormal(v);
      const got = await jvp(f.obj, v);
      const C = outputUnits(f.obj);
      const ref = new Float64Array(80 * C);
      f.data.x.forEach((x, n) => ref.set(R.jvp(f.net, f.theta, x, v), n * C));
      assert.ok(R.relErr(got, ref) < TOL, `${R.relErr(got, ref)}`);
      assert.equal(tf.memory().numTensors, baseline, 'tensors leaked');
    });

    it(`vjp: Jᵀu matches reverse-mode float64 (rel. ${TOL}); float64 cotangents accepted`, async () => {
      const u = new Float64Array(80 * 3);
      new Rng(2).fillNormal(u);
      const got = await vjp(f.obj, u);
      const ref = new Float64Array(f.obj.dim);
      f.data.x.forEach((x, n) => R.vjpInto(f.net, f.theta, x, u.subarray(n * 3, n * 3 + 3), ref));
      assert.ok(R.relErr(got, ref) < TOL, `${R.relErr(got, ref)}`);
      await assert.rejects(vjp(f.obj, new Float32Array(5)), /cotangent has 5 entries, expected 240/);
      assert.equal(tf.memory().numTensors, baseline, 'tensors leaked');
    });

    it('⟨u, J v⟩ = ⟨Jᵀu, v⟩ (rel. 1e-5)', async () => {
      const rng = new Rng(3);
      const v = new Float64Array(f.obj.dim);
      const u = new Float32Array(240);
      rng.fillNormal(v);
      rng.fillNormal(u);
      const jv = await jvp(f.obj, v);
      const jtu = await vjp(f.obj, u);
      const a = jv.reduce((s, x, i) => s + x * u[i], 0);
      const b = jtu.reduce((s, x, i) => s + x * v[i], 0);
      assert.ok(Math.abs(a - b) <= 1e-5 * Math.abs(b), `${a} vs ${b}`);
    });

    it(`per-sample gradients, losses, a mini-batch gradient and Jacobian rows match float64 (rel. ${TOL})`, async () => {
      const idx = [0, 31, 32, 79];
      const gs = await perSampleGradients(f.obj, idx);
      idx.forEach((n, i) => {
        const ref = R.sampleLoss(f.net, f.loss, f.theta, f.data.x[n], f.data.y[n]).grad;
        assert.ok(R.relErr(gs[i], ref) < TOL, `sample ${n}: ${R.relErr(gs[i], ref)}`);
      });
      const losses = await perSampleLosses(f.obj);
      idx.forEach((n) => {
        const ref = R.sampleLoss(f.net, f.loss, f.theta, f.data.x[n], f.data.y[n]).l;
        assert.ok(Math.abs(losses[n] - ref) <= 1e-5 * ref, `loss ${n}`);
      });
      // Samples from three batches: the mean of their gradients.
      const mean = new Float64Array(f.obj.dim);
      for (const n of idx) R.sampleLoss(f.net, f.loss, f.theta, f.data.x[n], f.data.y[n]).grad.forEach((g, j) => (mean[j] += g / idx.length));
      const sub = await subsetGradient(f.obj, idx);
      assert.ok(R.relErr(sub, mean) < TOL, `subset: ${R.relErr(sub, mean)}`);
      const rows = await outputJacobian(f.obj, [33]);
      rows.forEach((row, c) => {
        const u = new Float64Array(3);
        u[c] = 1;
        const ref = new Float64Array(f.obj.dim);
        R.vjpInto(f.net, f.theta, f.data.x[33], u, ref);
        assert.ok(R.relErr(row, ref) < TOL, `row ${c}`);
      });
      await assert.rejects(perSampleGradients(f.obj, [80]), /sample index 80 out of range 0..79/);
      assert.equal(tf.memory().numTensors, baseline, 'tensors leaked');
    });
  });
}
