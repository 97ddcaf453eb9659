import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { lossFromTrainingConfig, makeLoss, resolveLossName, type LossName } from '../../src/engine/losses';

/** Each loss against a value computed by hand (float64 arithmetic in the test). */
function perSample(name: LossName, fromLogits: boolean, yTrue: number[] | number[][], yPred: number[][]): number[] {
  return tf.tidy(() => Array.from(makeLoss(name, fromLogits).perSample(tf.tensor(yTrue), tf.tensor(yPred)).dataSync()));
}

function close(actual: number[], expected: number[], tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]) <= tol * Math.max(1, Math.abs(expected[i])), `entry ${i}: ${a} vs ${expected[i]}`));
}

describe('losses', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('categorical cross-entropy from logits, sparse and one-hot labels', () => {
    const z = [
      [2, 1, 0],
      [0.5, -1, 3],
    ];
    const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    const expected = [lse(z[0]) - z[0][0], lse(z[1]) - z[1][2]];
    close(perSample('categorical_crossentropy', true, [0, 2], z), expected);
    close(perSample('categorical_crossentropy', true, [[1, 0, 0], [0, 0, 1]], z), expected);
  });

  it('categorical cross-entropy from probabilities (Keras: renormalised, clipped)', () => {
    const p = [
      [0.7, 0.2, 0.1],
      [0.1, 0.1, 0.8],
    ];
    close(perSample('categorical_crossentropy', false, [1, 2], p), [-Math.log(0.2), -Math.log(0.8)]);
    // A zero probability for the true class is clipped at 1e-7, not infinite.
    close(perSample('categorical_crossentropy', false, [2], [[0.5, 0.5, 0]]), [-Math.log(1e-7)], 1e-3);
  });

  it('binary cross-entropy, probabilities and logits, stable for large logits', () => {
    const p = 0.8;
    close(perSample('binary_crossentropy', false, [[1], [0]], [[p], [p]]), [-Math.log(p), -Math.log(1 - p)]);
    const z = 1.3;
    const s = 1 / (1 + Math.exp(-z));
    close(perSample('binary_crossentropy', true, [[1], [0]], [[z], [z]]), [-Math.log(s), -Math.log(1 - s)]);
    close(perSample('binary_crossentropy', true, [[0]], [[60]]), [60], 1e-5);
  });

  it('mse, mae, huber and hinge as means over output units', () => {
    const yt = [[1, 2], [0, -1]];
    const yp = [[1.5, 0], [0, 1]];
    close(perSample('mse', false, yt, yp), [(0.25 + 4) / 2, (0 + 4) / 2]);
    close(perSample('mae', false, yt, yp), [(0.5 + 2) / 2, (0 + 2) / 2]);
    // Huber δ=1: 0.5a² for a ≤ 1, a − 0.5 beyond.
    close(perSample('huber', false, yt, yp), [(0.125 + 1.5) / 2, (0 + 1.5) / 2]);
    // hinge maps 0 labels to −1: max(1 − y·ŷ, 0)
    close(perSample('hinge', false, [[1], [0]], [[0.3], [0.4]]), [0.7, 1.4]);
  });

  it('accuracy for categorical and binary outputs', () => {
    const c = makeLoss('categorical_crossentropy', true);
    const acc = tf.tidy(() => Array.from(c.correct!(tf.tensor([0, 1]), tf.tensor([[3, 1, 0], [3, 1, 0]])).dataSync()));
    assert.deepEqual(acc, [1, 0]);
    const b = makeLoss('binary_crossentropy', false);
    const accB = tf.tidy(() => Array.from(b.correct!(tf.tensor([[1], [0]]), tf.tensor([[0.9], [0.7]])).dataSync()));
    assert.deepEqual(accB, [1, 0]);
  });

  it('resolves Keras, TF.js and PyTorch names, and the training config', () => {
    assert.deepEqual(resolveLossName('sparse_categorical_crossentropy').name, 'categorical_crossentropy');
    assert.equal(resolveLossName('categoricalCrossentropy').name, 'categorical_crossentropy');
    assert.equal(resolveLossName('CrossEntropyLoss').fromLogits, true);
    assert.equal(resolveLossName('BCELoss').fromLogits, false);
    assert.equal(resolveLossName('BCEWithLogitsLoss').fromLogits, true);
    assert.equal(resolveLossName('MSELoss').name, 'mse');
    assert.equal(resolveLossName('L1Loss').name, 'mae');
    assert.equal(resolveLossName('SmoothL1Loss').name, 'huber');
    assert.throws(() => resolveLossName('kullback'), /--loss: unknown loss 'kullback'; supported: categorical_crossentropy/);
    assert.equal(lossFromTrainingConfig('meanSquaredError', 'model.json')!.name, 'mse');
    const keras3 = lossFromTrainingConfig({ class_name: 'SparseCategoricalCrossentropy', config: { from_logits: true } }, 'model.json')!;
    assert.equal(keras3.name, 'categorical_crossentropy');
    assert.equal(keras3.fromLogits, true);
    assert.equal(lossFromTrainingConfig(undefined, 'model.json'), undefined);
    assert.throws(() => lossFromTrainingConfig(['mse', 'mae'], 'model.json'), /model.json: .*per-output loss/);
  });
});
