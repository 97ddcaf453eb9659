// Files saved by Keras 3.15 itself (tensorflow-cpu 2.21), made by `bash scripts/setup-keras.sh`
// (scripts/keras/generate_fixtures.py): Losscape loads each .keras and .h5 file, and its
// outputs and its loss (taken from the file's compile/training config) match Keras's own
// model.predict and model.evaluate, saved beside them. These tests fail, not skip, when the
// fixtures are missing: `npm test` runs the set-up first.
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { selectBackend } from '../../src/engine/backend';
import { loadDataset } from '../../src/engine/loaders/dataset';
import { loadModel } from '../../src/engine/loaders/model';
import { setEngineInfo } from '../../src/engine/runtime';

const DIR = path.resolve(__dirname, '../fixtures/keras-generated');

interface Expected {
  loss: number;
  lossName: string;
  predictions: number[][];
  outputShape: number[];
  parameters: number;
  layers: string[];
}

const MODELS = ['dense', 'conv', 'embedding', 'functional'];
/** Keras's compile string → the family Losscape must pick up from the file (sparse CE on class indices is reported as categorical). */
const LOSS_FAMILY: Record<string, RegExp> = {
  sparse_categorical_crossentropy: /categorical_crossentropy$/,
  binary_crossentropy: /^binary_crossentropy$/,
  mse: /^(mse|mean_squared_error)$/,
};

describe('real Keras 3.15 files (.keras and .h5 saved by Keras)', function () {
  this.timeout(120000);
  let out: string;
  before(async () => {
    if (!existsSync(path.join(DIR, 'index.json'))) {
      throw new Error(`${DIR} is missing: run \`bash scripts/setup-keras.sh\` (npm test runs it) to generate the Keras fixtures`);
    }
    setEngineInfo(await selectBackend('cpu'));
    out = mkdtempSync(path.join(os.tmpdir(), 'losscape-keras-real-'));
  });

  it('the fixtures were written by Keras 3.15 and cover Dense, Conv2D, BatchNorm, MaxPool, Embedding and a Functional model', () => {
    const index = JSON.parse(readFileSync(path.join(DIR, 'index.json'), 'utf8')) as { keras: string; models: Record<string, { layers: string[] }> };
    assert.match(index.keras, /^3\.15\./);
    const layers = new Set(Object.values(index.models).flatMap((m) => m.layers));
    for (const l of ['Dense', 'Conv2D', 'BatchNormalization', 'MaxPooling2D', 'Embedding', 'Add', 'Concatenate']) assert.ok(layers.has(l), l);
    assert.deepEqual(Object.keys(index.models).sort(), [...MODELS].sort());
  });

  for (const name of MODELS) {
    for (const ext of ['keras', 'h5']) {
      it(`${name}.${ext}: outputs match Keras's predict (abs 1e-5) and the loss its evaluate (rel. 1e-5)`, async () => {
        const expected = JSON.parse(readFileSync(path.join(DIR, `${name}.expected.json`), 'utf8')) as Expected;
        const file = path.join(DIR, `${name}.${ext}`);
        const data = await loadDataset(path.join(DIR, `${name}.npz`));
        const loaded = await loadModel(file);
        try {
          assert.equal(loaded.model.countParams(), expected.parameters);
          const x = tf.tensor(data.train.x, data.train.xShape);
          const pred = tf.tidy(() => (loaded.model.predict(x) as tf.Tensor).reshape([data.train.xShape[0], -1]).arraySync() as number[][]);
          x.dispose();
          let worst = 0;
          pred.forEach((row, i) => row.forEach((p, j) => (worst = Math.max(worst, Math.abs(p - expected.predictions[i][j])))));
          assert.ok(worst <= 1e-5, `max |Losscape − Keras| over the outputs = ${worst}`);
        } finally {
          loaded.model.dispose();
        }
        // End to end: the landscape's centre loss, with the loss read from the file.
        const r = await runLandscape({ kind: 'landscape', model: file, data: path.join(DIR, `${name}.npz`), out: path.join(out, `${name}-${ext}.losscape.json`), dims: 1, points: 3 }, quietContext());
        assert.equal(r.provenance.loss.origin, 'trainingConfig');
        assert.match(r.provenance.loss.name, LOSS_FAMILY[expected.lossName]);
        const rel = Math.abs(r.result.centerLoss - expected.loss) / expected.loss;
        assert.ok(rel <= 1e-5, `loss ${r.result.centerLoss} vs Keras ${expected.loss} (rel. ${rel})`);
      });
    }
  }
});
