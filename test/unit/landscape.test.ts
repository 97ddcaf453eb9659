import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { selectBackend } from '../../src/engine/backend';
import { pointOnPlane } from '../../src/engine/directions';
import { prepareInputs } from '../../src/engine/inputs';
import { loadLayersModelFromFile, saveLayersModelToDir } from '../../src/engine/loaders/modelJson';
import { encodeNpz } from '../../src/engine/loaders/npz';
import { setEngineInfo } from '../../src/engine/runtime';
import { sidecarFile } from '../../src/engine/resultWriter';
import { CancelledError } from '../../src/shared/errors';
import { parseResult } from '../../src/shared/result';
import { readSidecarArray } from '../../src/shared/sidecar';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/** Mean cross-entropy computed independently: model.predict, then float64 arithmetic in JS. */
async function referenceLoss(modelPath: string, ws: TinyWorkspace): Promise<{ loss: number; accuracy: number }> {
  const { model } = await loadLayersModelFromFile(modelPath);
  const p = tf.tidy(() => (model.predict(tf.tensor2d(ws.x, [ws.n, 4])) as tf.Tensor).arraySync() as number[][]);
  model.dispose();
  let loss = 0;
  let correct = 0;
  p.forEach((row, i) => {
    loss -= Math.log(Math.min(Math.max(row[ws.y[i]], 1e-7), 1 - 1e-7));
    if (row.indexOf(Math.max(...row)) === ws.y[i]) correct++;
  });
  return { loss: loss / ws.n, accuracy: correct / ws.n };
}

describe('landscape analysis (in process)', function () {
  let ws: TinyWorkspace;
  before(async () => {
    setEngineInfo(await selectBackend('cpu'));
    ws = await makeTinyWorkspace();
  });

  it('centre loss equals the model loss computed independently, for every batch size', async () => {
    const ref = await referenceLoss(ws.model, ws);
    for (const batchSize of [7, 80, 512]) {
      const out = path.join(ws.dir, `centre-${batchSize}.losscape.json`);
      const r = await runLandscape({ kind: 'landscape', model: ws.model, data: ws.data, out, dims: 1, points: 5, batchSize }, quietContext());
      assert.equal(r.result.dims, 1);
      assert.ok(Math.abs(r.result.centerLoss - ref.loss) <= 1e-6 * ref.loss, `${r.result.centerLoss} vs ${ref.loss}`);
      assert.equal(r.result.centerAccuracy, ref.accuracy);
      // The loss came from the model's training config (sparseCategoricalCrossentropy); the model
      // ends in a softmax, so, as in Keras, the cross-entropy reads its pre-softmax values.
      assert.equal(r.provenance.loss.origin, 'trainingConfig');
      assert.equal(r.provenance.loss.fromLogits, true);
      assert.equal(r.provenance.loss.reading, 'pre-activation');
    }
  });

  it('2D: writes a valid complete result whose every sampled point recomputes from the sidecar', async () => {
    const out = path.join(ws.dir, 'grid.losscape.json');
    const tensorsBefore = tf.memory().numTensors;
    const r = await runLandscape({ kind: 'landscape', model: ws.model, data: ws.data, loss: 'sparse_categorical_crossentropy', out, points: 9, seed: 42 }, quietContext());
    assert.equal(tf.memory().numTensors, tensorsBefore, 'tensors leaked');
    const file = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.equal(file.complete, true);
    assert.equal(file.schema, 'losscape/1');
    assert.equal(file.kind, 'landscape');
    assert.equal(file.provenance.seed, 42);
    assert.equal(file.provenance.model.parameterCount, 4 * 8 + 8 + 8 * 3 + 3);
    const l = r.result;
    assert.ok(l.dims === 2);
    assert.equal(l.loss.length, 9);
    assert.equal(l.x[4], 0);
    assert.ok(l.directions.cosine !== null && Math.abs(l.directions.cosine) < 0.6);
    // The centre grid point is θ itself.
    assert.ok(Math.abs(l.loss[4][4]! - l.centerLoss) <= 1e-7 * l.centerLoss);
    // Recompute points from the sidecar with an independently loaded model.
    const bin = readFileSync(sidecarFile(out, l.directions.center));
    const centre = readSidecarArray(bin, l.directions.center);
    const [d1, d2] = l.directions.vectors.map((v) => readSidecarArray(bin, v));
    const prepared = await prepareInputs({ model: ws.model, data: ws.data, loss: 'sparse_categorical_crossentropy', out, batchSize: 64, seed: 42 });
    try {
      for (const [r0, c0] of [[0, 0], [2, 7], [8, 3], [8, 8]]) {
        const e = await prepared.objective.evaluate(pointOnPlane(centre, [d1, d2], [l.x[c0], l.y[r0]]));
        assert.ok(Math.abs(e.loss - l.loss[r0][c0]!) <= 1e-5 * e.loss, `point (${r0},${c0}): ${e.loss} vs ${l.loss[r0][c0]}`);
        assert.equal(e.accuracy, l.accuracy![r0][c0]);
      }
    } finally {
      prepared.dispose();
    }
  });

  it('same seed, same landscape; another seed, another one', async () => {
    const run = (seed: number, name: string) =>
      runLandscape({ kind: 'landscape', model: ws.model, data: ws.data, out: path.join(ws.dir, name), dims: 1, points: 7, seed }, quietContext());
    const a = await run(3, 's3a.losscape.json');
    const b = await run(3, 's3b.losscape.json');
    const c = await run(4, 's4.losscape.json');
    assert.deepEqual(a.result.dims === 1 && a.result.loss, b.result.dims === 1 && b.result.loss);
    assert.notDeepEqual(a.result.dims === 1 && a.result.loss, c.result.dims === 1 && c.result.loss);
  });

  it('the line between two models passes through both models’ losses', async () => {
    const out = path.join(ws.dir, 'line.losscape.json');
    const r = await runLandscape({ kind: 'landscape', model: ws.model, to: ws.model2, data: ws.data, out, points: 9 }, quietContext());
    const l = r.result;
    assert.ok(l.dims === 1);
    assert.deepEqual([l.t[0], l.t[8]], [-0.5, 1.5]);
    const ref1 = await referenceLoss(ws.model, ws);
    const ref2 = await referenceLoss(ws.model2, ws);
    assert.ok(Math.abs(l.loss[2]! - ref1.loss) <= 1e-6 * ref1.loss); // t = 0
    assert.ok(Math.abs(l.loss[6]! - ref2.loss) <= 1e-5 * ref2.loss); // t = 1
    assert.equal(l.directions.kind, 'interpolation');
  });

  it('cancellation leaves a valid incomplete file with the rows done so far', async () => {
    const out = path.join(ws.dir, 'cancel.losscape.json');
    // Stop once two rows of 9 are in (a row's points pass through the model together, and the
    // stop is seen before the next pass).
    const stop = { isCancellationRequested: false };
    const ctx = { ...quietContext(stop), progress: (fraction: number) => (stop.isCancellationRequested ||= fraction >= 18 / 81) };
    await assert.rejects(runLandscape({ kind: 'landscape', model: ws.model, data: ws.data, out, points: 9, threads: 1 }, ctx), CancelledError);
    const file = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.equal(file.complete, false);
    assert.match(file.status ?? '', /cancelled after 18 of 81 points/);
    assert.ok(file.kind === 'landscape' && file.result.dims === 2);
    assert.equal(file.result.rowsDone, 2);
    assert.ok(file.result.loss[1].every((v) => v !== null));
    assert.ok(file.result.loss[3].every((v) => v === null));
  });

  it('rejects a second model of another architecture, naming it', async () => {
    const other = path.join(ws.dir, 'other');
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'softmax' })] });
    await saveLayersModelToDir(m, other);
    m.dispose();
    await assert.rejects(
      runLandscape({ kind: 'landscape', model: ws.model, to: path.join(other, 'model.json'), data: ws.data, out: path.join(ws.dir, 'x.losscape.json') }, quietContext()),
      /other[/\\]model.json: is not the same architecture as the first model/,
    );
  });

  it('rejects data that does not fit the model, naming the file', async () => {
    const bad = path.join(ws.dir, 'bad.npz');
    writeFileSync(bad, encodeNpz({ x: { dtype: 'float32', shape: [2, 5], data: new Float32Array(10) }, y: { dtype: 'int32', shape: [2], data: new Int32Array(2) } }));
    await assert.rejects(
      runLandscape({ kind: 'landscape', model: ws.model, data: bad, out: path.join(ws.dir, 'y.losscape.json') }, quietContext()),
      /bad.npz: x has samples of shape \[5\] but the model expects \[4\]/,
    );
    const badLabels = path.join(ws.dir, 'badlabels.npz');
    writeFileSync(badLabels, encodeNpz({ x: { dtype: 'float32', shape: [2, 4], data: new Float32Array(8) }, y: { dtype: 'int32', shape: [2], data: Int32Array.from([0, 7]) } }));
    await assert.rejects(
      runLandscape({ kind: 'landscape', model: ws.model, data: badLabels, out: path.join(ws.dir, 'z.losscape.json') }, quietContext()),
      /badlabels.npz: labels range over 0..7 but the model has 3 outputs/,
    );
  });
});
