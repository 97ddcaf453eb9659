import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { saveLayersModelToDir } from '../../../src/engine/loaders/modelJson';
import { buildTinyModel, type TinyWorkspace } from './tinyModel';

/**
 * A short real training run of the tiny workspace's 4-8-3 classifier (SGD, full batch), saved as
 * a checkpoint series `<dir>/step-NNN/model.json` at the given steps.
 */
export async function makeTinySeries(ws: TinyWorkspace, dir: string, steps: number[], opts: { lr?: number; seed?: number } = {}): Promise<string[]> {
  const model = buildTinyModel(opts.seed ?? 11);
  model.compile({ optimizer: tf.train.sgd(opts.lr ?? 0.5), loss: 'sparseCategoricalCrossentropy' });
  const x = tf.tensor2d(ws.x, [ws.n, 4]);
  const y = tf.tensor1d(Float32Array.from(ws.y));
  const files: string[] = [];
  let t = 0;
  try {
    for (const s of [...steps].sort((a, b) => a - b)) {
      if (s > t) await model.fit(x, y, { epochs: s - t, batchSize: ws.n, shuffle: false, verbose: 0 });
      t = s;
      const d = path.join(dir, `step-${String(s).padStart(3, '0')}`);
      await saveLayersModelToDir(model, d);
      files.push(path.join(d, 'model.json'));
    }
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
  return files;
}
