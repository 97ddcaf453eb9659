import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '../../../src/engine/linalg/rng';
import { saveLayersModelToDir } from '../../../src/engine/loaders/modelJson';
import { encodeNpz } from '../../../src/engine/loaders/npz';

/**
 * A tiny classifier workspace for tests: a 4-8-3 tanh/softmax MLP with seeded weights saved as
 * model.json, and 96 samples of 3 Gaussian blobs (80 train, 16 test) as data.npz.
 */
export interface TinyWorkspace {
  dir: string;
  model: string;
  model2: string;
  data: string;
  x: Float32Array;
  y: Int32Array;
  n: number;
}

export function buildTinyModel(seed: number, activation: 'tanh' | 'relu' = 'tanh'): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 8, activation, kernelInitializer: tf.initializers.glorotNormal({ seed }), biasInitializer: tf.initializers.randomNormal({ seed: seed + 7, stddev: 0.1 }) }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }),
    ],
  });
  model.compile({ optimizer: 'sgd', loss: 'sparseCategoricalCrossentropy' });
  return model;
}

export function blobs(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    for (let j = 0; j < 4; j++) x[i * 4 + j] = (j === c ? 1.5 : 0) + 0.8 * rng.normal();
  }
  return { x, y };
}

export async function makeTinyWorkspace(): Promise<TinyWorkspace> {
  // Test files that only drive the engine process still build models here, in this process.
  if (!tf.engine().backendName) await tf.setBackend('cpu');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-tiny-'));
  const m1 = buildTinyModel(11);
  const m2 = buildTinyModel(29);
  mkdirSync(path.join(dir, 'a'));
  mkdirSync(path.join(dir, 'b'));
  await saveLayersModelToDir(m1, path.join(dir, 'a'));
  await saveLayersModelToDir(m2, path.join(dir, 'b'));
  m1.dispose();
  m2.dispose();
  const { x, y } = blobs(96, 5);
  const n = 80;
  writeFileSync(
    path.join(dir, 'data.npz'),
    encodeNpz({
      x: { dtype: 'float32', shape: [n, 4], data: x.subarray(0, n * 4) },
      y: { dtype: 'int32', shape: [n], data: y.subarray(0, n) },
      x_test: { dtype: 'float32', shape: [96 - n, 4], data: x.subarray(n * 4) },
      y_test: { dtype: 'int32', shape: [96 - n], data: y.subarray(n) },
    }),
  );
  return { dir, model: path.join(dir, 'a', 'model.json'), model2: path.join(dir, 'b', 'model.json'), data: path.join(dir, 'data.npz'), x: x.subarray(0, n * 4), y: y.subarray(0, n), n };
}
