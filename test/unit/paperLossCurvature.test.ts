import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/engine/backend';
import { makeCustomLoss, makeLoss } from '../../src/engine/losses';
import { InputError } from '../../src/shared/errors';
import { Rng } from '../../src/engine/linalg/rng';
import { setEngineInfo } from '../../src/engine/runtime';
import { GaussNewtonOperator } from '../../src/engine/tfjs/curvatureOperators';
import { TfjsObjective as Objective } from '../../src/engine/tfjs/objective';
import { denseOf, frobeniusRel } from './helpers/curvatureFixtures';
import * as R from './helpers/mlp64';
import { ce64, numericHessian, zloss64 } from './helpers/paperLosses64';
import { blobs } from './helpers/tinyModel';

/**
 * The Gauss–Newton matrix under the papers' losses against a float64 G = (1/n)Σ Jₙᵀ H_ℓ,ₙ Jₙ
 * built without the code under test: Jₙ from the float64 MLP of helpers/mlp64.ts, H_ℓ,ₙ by
 * float64 central differences of the loss written from its definition (helpers/paperLosses64).
 * Whole matrices, column by column from products with unit vectors; float32 rounding and the
 * finite-difference Hessians leave ~1e-6, the tolerance is 1e-4.
 */
describe('GGN under the papers\' per-sample losses and loss modules (float64 Jᵀ H_ℓ J)', () => {
  before(async () => setEngineInfo(await selectBackend('cpu')));

  function tanhLogitMlp(seed: number): tf.LayersModel {
    return tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 6, activation: 'tanh', kernelInitializer: tf.initializers.glorotNormal({ seed }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 1, stddev: 0.2 }) }),
        tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 2 }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 3, stddev: 0.2 }) }),
      ],
    });
  }

  function tanhData(n: number) {
    const { x } = blobs(n, 7);
    const rng = new Rng(5);
    const y = Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * 4));
    const data: R.Data64 = {
      x: Array.from({ length: n }, (_, i) => Float64Array.from(x.subarray(i * 4, i * 4 + 4))),
      y: Array.from({ length: n }, (_, i) => Float64Array.of(y[i])),
    };
    return { x, y, data };
  }

  it('a loss module (cross-entropy written from primitives): G by autodiff H_ℓ equals float64 Jᵀ H_ℓ J (1e-4)', async () => {
    const n = 20;
    const { x, y, data } = tanhData(n);
    const model = tanhLogitMlp(33);
    const fn = (labels: tf.Tensor, z: tf.Tensor) => {
      const s = z.sub(z.max(-1, true));
      return s.exp().sum(-1).log().sub(s.mul(tf.oneHot(tf.cast(labels, 'int32'), 4)).sum(-1));
    };
    const obj = new Objective(model, makeCustomLoss(fn, 'ce.ts'), { x, sampleShape: [4], y, ySampleShape: [], n }, 8);
    try {
      const ref = R.gaussNewtonWith({ sizes: [4, 6, 4], acts: ['tanh', 'linear'] }, Float64Array.from(obj.theta0), data, (out, label) => numericHessian((h) => ce64(h, label[0]), out, 1e-4));
      const before = tf.memory().numTensors;
      const G = await denseOf(new GaussNewtonOperator(obj));
      assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
      const err = frobeniusRel(G, ref);
      assert.ok(err < 1e-4, `relative Frobenius error ${err}`);
    } finally {
      obj.dispose();
      model.dispose();
    }
  });

  it('a loss module whose ops have no exact second derivative in TF.js (tf.logSoftmax) is refused in one line', async () => {
    const n = 12;
    const { x, y } = tanhData(n);
    const model = tanhLogitMlp(34);
    const fn = (labels: tf.Tensor, z: tf.Tensor) => tf.logSoftmax(z).mul(tf.oneHot(tf.cast(labels, 'int32'), 4)).sum(-1).neg();
    const obj = new Objective(model, makeCustomLoss(fn, 'ce.ts'), { x, sampleShape: [4], y, ySampleShape: [], n }, 8);
    try {
      const v = new Float64Array(obj.dim);
      new Rng(2).fillNormal(v);
      await assert.rejects(new GaussNewtonOperator(obj).matvec(v), (e: unknown) => e instanceof InputError && /--operator: the Gauss–Newton operator needs .*second derivatives? by automatic differentiation/.test(e.message) && !e.message.includes('\n'));
    } finally {
      obj.dispose();
      model.dispose();
    }
  });

  for (const params of [{ a: 1, b: 2 }, { a: 3, b: 0.5 }]) {
    it(`zloss (a = ${params.a}, b = ${params.b}): G equals float64 Jᵀ H_ℓ J (1e-4), in two batches`, async () => {
      const n = 24;
      const { x } = blobs(n, 7);
      const rng = new Rng(5);
      const y = Float32Array.from({ length: n }, () => Math.floor(rng.uniform() * 4));
      const model = tanhLogitMlp(21);
      const obj = new Objective(model, makeLoss('zloss', true, params), { x, sampleShape: [4], y, ySampleShape: [], n }, 16);
      try {
        const net: R.Mlp64 = { sizes: [4, 6, 4], acts: ['tanh', 'linear'] };
        const data: R.Data64 = {
          x: Array.from({ length: n }, (_, i) => Float64Array.from(x.subarray(i * 4, i * 4 + 4))),
          y: Array.from({ length: n }, (_, i) => Float64Array.of(y[i])),
        };
        const ref = R.gaussNewtonWith(net, Float64Array.from(obj.theta0), data, (out, label) => numericHessian((h) => zloss64(h, label[0], params.a, params.b), out, 1e-4));
        const before = tf.memory().numTensors;
        const G = await denseOf(new GaussNewtonOperator(obj));
        assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
        const err = frobeniusRel(G, ref);
        assert.ok(err < 1e-4, `relative Frobenius error ${err}`);
      } finally {
        obj.dispose();
        model.dispose();
      }
    });
  }
});
