import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { resolveLoss } from '../../src/engine/tfjs/inputs';
import { TfjsObjective as Objective } from '../../src/engine/tfjs/objective';
import type { LoadedModel } from '../../src/engine/loaders/model';
import { lossCurvature } from '../../src/engine/tfjs/lossHessian';

/**
 * Cross-entropy from logits whenever the model's last layer is a softmax (a sigmoid for binary
 * cross-entropy), as Keras computes it; probabilities clipped at 1e-7 only when no logits exist
 * (issue 9, item 7). References: float64 forward passes of the same one-layer model.
 */
const W = [
  [9, -6, 0.5],
  [-7, 8, 1],
];
const B = [0.2, -0.1, 0];
const X = [
  [1.5, -1],
  [-2, 1.2],
  [0.3, 0.4],
  [2, 2],
];
const Y = [1, 0, 2, 1]; // samples 0 and 1 are confidently wrong: p_y < 1e-7

function logits64(x: number[]): number[] {
  return B.map((b, k) => b + x[0] * W[0][k] + x[1] * W[1][k]);
}

function model(activation: 'softmax' | 'linear' | 'sigmoid', units = 3): LoadedModel {
  const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units, activation })] });
  m.layers[0].setWeights([tf.tensor2d(W.map((r) => r.slice(0, units))), tf.tensor1d(B.slice(0, units))]);
  return { model: m, path: '/virtual/model.json', sha256: '', format: 'tfjs-layers' };
}

async function meanLoss(loaded: LoadedModel, spec: Parameters<typeof resolveLoss>[0], y: number[], ySampleShape: number[] = []): Promise<{ loss: number; info: ReturnType<typeof resolveLoss>['info']; obj: Objective }> {
  const { loss, info } = resolveLoss(spec, loaded);
  const obj = new Objective(loaded.model, loss, { x: Float32Array.from(X.flat()), sampleShape: [2], y: Float32Array.from(y), ySampleShape, n: X.length }, 3);
  return { loss: await obj.loss(), info, obj };
}

function ce64(): number {
  return (
    X.reduce((s, x, i) => {
      const z = logits64(x);
      const m = Math.max(...z);
      return s + m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0)) - z[Y[i]];
    }, 0) / X.length
  );
}

describe('cross-entropy from logits on softmax/sigmoid-final models (Keras semantics)', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('a softmax-final model: the cross-entropy reads the pre-softmax values, unclipped', async () => {
    const { loss, info, obj } = await meanLoss(model('softmax'), { loss: 'sparse_categorical_crossentropy' }, Y);
    assert.equal(info.reading, 'pre-activation');
    assert.equal(info.fromLogits, true);
    assert.equal(info.warnings, undefined);
    // Two samples have −log p_y ≈ 20 and 27, beyond the clip's −log 1e-7 = 16.1.
    assert.ok(Math.abs(loss - ce64()) <= 1e-5 * ce64(), `${loss} vs ${ce64()}`);
    const clipped = X.reduce((s, x, i) => {
      const z = logits64(x);
      const p = Math.exp(z[Y[i]]) / z.reduce((a, v) => a + Math.exp(v), 0);
      return s - Math.log(Math.min(Math.max(p, 1e-7), 1 - 1e-7));
    }, 0) / X.length;
    assert.ok(Math.abs(loss - clipped) > 1, 'differs from the clipped-probability value');
    // Every consumer sees the logits: outputs, and the GGN needs no activation swap.
    const out = await obj.outputs();
    assert.ok(Math.abs(out.data[0] - logits64(X[0])[0]) < 1e-5);
    assert.equal(lossCurvature(obj.lossFn, obj.model).atLogits, true);
    obj.dispose();
  });

  it('PyTorch CrossEntropyLoss (logits) on a softmax-final model: the pre-softmax values, with a warning recorded', async () => {
    const { loss, info, obj } = await meanLoss(model('softmax'), { loss: 'CrossEntropyLoss' }, Y);
    assert.ok(Math.abs(loss - ce64()) <= 1e-5 * ce64());
    assert.equal(info.reading, 'pre-activation');
    assert.match(info.warnings?.[0] ?? '', /CrossEntropyLoss takes logits but the model ends in a softmax: its pre-softmax values are used/);
    obj.dispose();
    const explicit = await meanLoss(model('softmax'), { loss: 'categorical_crossentropy', fromLogits: true }, Y);
    assert.match(explicit.info.warnings?.[0] ?? '', /takes logits but the model ends in a softmax/);
    explicit.obj.dispose();
  });

  it('a linear-final model: the outputs are the logits; read as probabilities only when told, and then clipped', async () => {
    const logits = await meanLoss(model('linear'), { loss: 'categorical_crossentropy' }, Y);
    assert.equal(logits.info.reading, 'logits');
    assert.ok(Math.abs(logits.loss - ce64()) <= 1e-5 * ce64());
    logits.obj.dispose();
    // Outputs read as probabilities (renormalised, clipped at 1e-7): no logits exist.
    const probs = await meanLoss(model('linear'), { loss: 'categorical_crossentropy', fromLogits: false }, [0, 1, 2, 0]);
    assert.equal(probs.info.reading, 'probabilities');
    assert.ok(Number.isFinite(probs.loss));
    probs.obj.dispose();
  });

  it('a sigmoid-final model with binary cross-entropy: the pre-sigmoid values', async () => {
    const y = [1, 0, 0, 1];
    const { loss, info, obj } = await meanLoss(model('sigmoid', 1), { loss: 'binary_crossentropy' }, y, [1]);
    assert.equal(info.reading, 'pre-activation');
    const ref =
      X.reduce((s, x, i) => {
        const z = logits64(x)[0];
        // −[y log σ(z) + (1 − y) log(1 − σ(z))] = softplus(z) − y z, stably.
        return s + Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - y[i] * z;
      }, 0) / X.length;
    assert.ok(Math.abs(loss - ref) <= 1e-5 * ref, `${loss} vs ${ref}`);
    obj.dispose();
  });

  it('the papers’ losses read the pre-softmax values; --from-probabilities is refused for them', async () => {
    const { info, obj } = await meanLoss(model('softmax'), { loss: 'comp_sum', lossParams: { tau: 1 } }, Y);
    assert.equal(info.reading, 'pre-activation');
    assert.deepEqual(info.params, { tau: 1 });
    assert.match(info.definition ?? '', /Φ_τ/);
    assert.ok(Math.abs((await obj.loss()) - ce64()) <= 1e-5 * ce64(), 'comp_sum τ = 1 is the cross-entropy of the logits');
    obj.dispose();
    assert.throws(() => resolveLoss({ loss: 'gce', fromLogits: false }, model('linear')), /^InputError: --from-probabilities: gce is defined on logits/);
  });
});
