import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/engine/backend';
import {
  centreKernel,
  effectiveRank,
  kernelAlignment,
  kernelDistance,
  kernelMovement,
} from '../../src/engine/grokking/ntk';
import { denseNtk, empiricalNtk, jacobianNtk } from '../../src/engine/tfjs/ntk';
import { makeLoss } from '../../src/engine/losses';
import { TfjsObjective as Objective } from '../../src/engine/tfjs/objective';
import { Rng } from '../../src/engine/linalg/rng';
import { setEngineInfo } from '../../src/engine/runtime';
import { blobs, buildTinyModel } from './helpers/tinyModel';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

function relFrob(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

function objectiveFor(model: tf.LayersModel, x: Float32Array, n: number, features: number, batchSize: number): Objective {
  const y = new Float32Array(n);
  return new Objective(model, makeLoss('categorical_crossentropy', false), { x, sampleShape: [features], y, ySampleShape: [], n }, batchSize);
}

describe('empirical NTK and its statistics', () => {
  before(async () => setEngineInfo(await selectBackend('cpu')));

  it('alignment, movement and distance match a hand-computed 3×3 case', () => {
    const K = [2, 1, 0, 1, 2, 1, 0, 1, 2];
    // H K H = (1/9)[[10,−2,−8],[−2,4,−2],[−8,−2,10]]
    const Kc = centreKernel(K, 3);
    [10, -2, -8, -2, 4, -2, -8, -2, 10].forEach((v, i) => close(Kc[i], v / 9, 1e-12, `Kc[${i}]`));
    // y = (1, 0, −1): yᵀKy = 4, ‖K_c‖_F = √360/9, ‖y‖² = 2 → 3/√10.
    close(kernelAlignment(K, 3, [1, 0, -1], 1)!, 3 / Math.sqrt(10), 1e-12, 'alignment');
    // Centring the labels: y + 5 gives the same alignment.
    close(kernelAlignment(K, 3, [6, 5, 4], 1)!, 3 / Math.sqrt(10), 1e-12, 'alignment with an offset');
    const I = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    // ⟨I, K⟩ = tr K = 6, ‖I‖ = √3, ‖K‖ = 4 → 1 − √3/2; ‖K − I‖_F = √7 → √(7/3).
    close(kernelMovement(I, K)!, 1 - Math.sqrt(3) / 2, 1e-12, 'movement');
    close(kernelDistance(I, K)!, Math.sqrt(7 / 3), 1e-12, 'distance');
    assert.equal(kernelMovement(K, K.map((v) => 3 * v)), 0, 'a rescaled kernel has not moved');
  });

  it('a kernel equal to the label Gram matrix has alignment 1 (several outputs); effective rank spans 1..n', () => {
    const Y = [1, 0, 0, 1, 1, 0, 0, 1, 1, 0]; // 5 samples, 2 classes, one-hot
    const n = 5;
    const K = new Array<number>(n * n).fill(0);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) K[i * n + k] = Y[2 * i] * Y[2 * k] + Y[2 * i + 1] * Y[2 * k + 1];
    close(kernelAlignment(K, n, Y, 2)!, 1, 1e-12, 'alignment');
    const eye = Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 1 : 0));
    close(effectiveRank(eye, 4)!, 4, 1e-9, 'rank of I₄');
    const v = [1, 2, 3, 4];
    close(effectiveRank(v.flatMap((a) => v.map((b) => a * b)), 4)!, 1, 1e-6, 'rank of vvᵀ');
  });

  it('a linear layer’s kernel is C·(xₙ·xₘ + 1), by both methods', async () => {
    const n = 6;
    const x = new Float32Array(n * 4);
    new Rng(3).fillNormal(x);
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) })] });
    const obj = objectiveFor(model, x, n, 4, 4);
    const before = tf.memory().numTensors;
    const dense = await denseNtk(obj);
    const jac = await jacobianNtk(obj);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    assert.ok(dense && dense.method === 'dense');
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        let dot = 0;
        for (let j = 0; j < 4; j++) dot += x[i * 4 + j] * x[k * 4 + j];
        close(dense.K[i * n + k], 3 * (dot + 1), 1e-5, `dense K[${i},${k}]`);
        close(jac.K[i * n + k], 3 * (dot + 1), 1e-5, `jacobian K[${i},${k}]`);
      }
    }
    obj.dispose();
    model.dispose();
  });

  it('the Dense-structure kernel equals the Jacobian kernel on a tanh/softmax MLP, across batches', async () => {
    const { x } = blobs(40, 9);
    const model = buildTinyModel(17);
    const obj = objectiveFor(model, x, 40, 4, 16);
    const a = await denseNtk(obj);
    const b = await jacobianNtk(obj);
    assert.ok(a);
    assert.ok(relFrob(a.K, b.K) < 1e-5, `relative difference ${relFrob(a.K, b.K)}`);
    obj.dispose();
    model.dispose();
  });

  it('falls back to Jacobian rows for other trainable layers, and stays positive semi-definite', async () => {
    const { x } = blobs(12, 4);
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 5, activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }),
        tf.layers.batchNormalization({}),
        tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }) }),
      ],
    });
    const obj = objectiveFor(model, x, 12, 4, 12);
    assert.equal(await denseNtk(obj), null);
    const { K, method } = await empiricalNtk(obj);
    assert.equal(method, 'jacobian');
    for (let i = 0; i < 12; i++) assert.ok(K[i * 12 + i] >= 0);
    obj.dispose();
    model.dispose();
  });
});
