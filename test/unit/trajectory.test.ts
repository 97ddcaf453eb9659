import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runTrajectory } from '../../src/engine/analyses/trajectory';
import { selectBackend } from '../../src/engine/backend';
import { pointOnPlane } from '../../src/engine/directions';
import { prepareInputs } from '../../src/engine/inputs';
import { sidecarFile } from '../../src/engine/resultWriter';
import { setEngineInfo } from '../../src/engine/runtime';
import { trajectoryPca } from '../../src/engine/trajectory/pca';
import { parseResult } from '../../src/shared/result';
import { CancelledError } from '../../src/shared/errors';
import { computedPoints } from '../../src/shared/resume';
import { TfjsObjective } from '../../src/engine/tfjs/objective';
import { readSidecarArray } from '../../src/shared/sidecar';
import { makeTinySeries } from './helpers/checkpointSeries';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

async function paramsOf(model: string, ws: TinyWorkspace): Promise<{ theta: Float32Array; loss: number }> {
  const p = await prepareInputs({ model, data: ws.data, out: '/dev/null', batchSize: 512, seed: 0 });
  try {
    return { theta: p.objective.theta0, loss: (await p.objective.evaluate()).loss };
  } finally {
    p.dispose();
  }
}

describe('trajectory landscapes (in process)', function () {
  let ws: TinyWorkspace;
  let files: string[];
  let series: string;
  before(async () => {
    setEngineInfo(await selectBackend('cpu'));
    ws = await makeTinyWorkspace();
    series = path.join(ws.dir, 'series');
    files = await makeTinySeries(ws, series, [0, 3, 8, 15, 30, 60], { lr: 1 });
  });

  it('pca: a landscape result on the PCA plane with the path, explained variance and off-plane distances', async () => {
    const out = path.join(ws.dir, 'pca.losscape.json');
    const before = tf.memory().numTensors;
    const r = await runTrajectory({ kind: 'trajectory', checkpoints: series, data: ws.data, out, points: 7 }, quietContext());
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    const file = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.equal(file.kind, 'landscape');
    assert.equal(file.complete, true);
    const l = r.result;
    assert.ok(l.dims === 2 && l.path && l.trajectory);
    assert.equal(l.directions.kind, 'pca');
    assert.deepEqual(l.trajectory.steps, [0, 3, 8, 15, 30, 60]);
    // Independent PCA of the checkpoints' parameters.
    const thetas = await Promise.all(files.map(async (f) => (await paramsOf(f, ws)).theta));
    const ref = trajectoryPca(thetas, thetas[5]);
    ref.coords.forEach((c, i) => {
      assert.ok(Math.abs(l.path![i].x - c[0]) < 1e-6 && Math.abs(l.path![i].y - c[1]) < 1e-6, `path ${i}`);
      assert.ok(Math.abs(l.trajectory!.offPlane[i] - ref.offPlane[i]) < 1e-6);
    });
    assert.deepEqual(l.trajectory.explainedVariance, ref.explainedVariance);
    assert.equal(l.path[5].label, 'step 60');
    // The grid covers the path.
    for (const p of l.path) assert.ok(p.x >= l.x[0] && p.x <= l.x[6] && p.y >= l.y[0] && p.y <= l.y[6]);
    // Every grid point recomputes from the sidecar: θ_final + x·d₁ + y·d₂.
    const bin = readFileSync(sidecarFile(out, l.directions.center));
    const centre = readSidecarArray(bin, l.directions.center);
    const dirs = l.directions.vectors.map((v) => readSidecarArray(bin, v));
    const fin = await prepareInputs({ model: files[5], data: ws.data, out, batchSize: 512, seed: 0 });
    try {
      assert.deepEqual(Array.from(centre), Array.from(fin.objective.theta0));
      for (const [row, col] of [[0, 0], [3, 4], [6, 6]]) {
        const e = await fin.objective.evaluate(pointOnPlane(centre, dirs, [l.x[col], l.y[row]]));
        assert.ok(Math.abs(e.loss - l.loss[row][col]!) <= 1e-5 * e.loss);
      }
    } finally {
      fin.dispose();
    }
  });

  it('line: the loss at t = 0 and t = 1 is the two checkpoints’ loss', async () => {
    const out = path.join(ws.dir, 'line.losscape.json');
    const r = await runTrajectory({ kind: 'trajectory', checkpoints: series, data: ws.data, out, mode: 'line', from: 3, to: 30, points: 9 }, quietContext());
    const l = r.result;
    assert.ok(l.dims === 1 && l.trajectory && l.endpoints);
    assert.equal(l.directions.kind, 'interpolation');
    assert.deepEqual([l.t[2], l.t[6]], [0, 1]);
    const a = await paramsOf(files[1], ws);
    const b = await paramsOf(files[4], ws);
    assert.ok(Math.abs(l.loss[2]! - a.loss) <= 1e-6 * a.loss);
    assert.ok(Math.abs(l.loss[6]! - b.loss) <= 1e-5 * b.loss);
    assert.equal(l.trajectory.offPlane[1], 0);
    assert.ok(l.trajectory.offPlane[4] < 1e-5);
    assert.deepEqual(l.trajectory.anchors, [3, 30]);
  });

  it('plane: the three anchors lie on it and the plane is drawn with every checkpoint', async () => {
    const out = path.join(ws.dir, 'plane.losscape.json');
    const r = await runTrajectory({ kind: 'trajectory', checkpoints: series, data: ws.data, out, mode: 'plane', through: [0, 15, 60], points: 5 }, quietContext());
    const l = r.result;
    assert.ok(l.dims === 2 && l.trajectory && l.path);
    assert.equal(l.directions.kind, 'plane');
    assert.deepEqual(l.path[0], { label: 'step 0', x: 0, y: 0 });
    for (const i of [0, 3, 5]) assert.ok(l.trajectory.offPlane[i] < 1e-4, `anchor ${i} is ${l.trajectory.offPlane[i]} off the plane`);
    assert.equal(l.path.length, 6);
    await assert.rejects(
      runTrajectory({ kind: 'trajectory', checkpoints: series, data: ws.data, out, mode: 'plane', through: [0, 15, 61] }, quietContext()),
      /--through: no checkpoint has step 61 \(steps: 0, 3, 8, 15, 30, 60\)/,
    );
  });
  it('resume: a PCA plane and a line cancelled part way are completed from their partials, equal to uninterrupted runs, no point evaluated twice', async () => {
    // Evaluations counted at the objective, independently of the result's own counter.
    // (Points several per pass count one each.)
    const real = TfjsObjective.prototype.evaluate;
    const realPoints = TfjsObjective.prototype.evaluatePoints;
    let evaluations = 0;
    TfjsObjective.prototype.evaluate = function (...a) {
      evaluations++;
      return real.apply(this, a);
    };
    TfjsObjective.prototype.evaluatePoints = function (...a) {
      evaluations += a[0].length;
      return realPoints.apply(this, a);
    };
    try {
      for (const mode of ['pca', 'line'] as const) {
        const spec = { kind: 'trajectory' as const, checkpoints: series, data: ws.data, mode, points: mode === 'pca' ? 6 : 13 };
        const ref = await runTrajectory({ ...spec, out: path.join(ws.dir, `r-${mode}-ref.losscape.json`) }, quietContext());
        const out = path.join(ws.dir, `r-${mode}.losscape.json`);
        const stop = { isCancellationRequested: false };
        let rows = 0;
        const ctx = { ...quietContext(stop), progress: () => void (++rows === (mode === 'pca' ? 3 : 2) && (stop.isCancellationRequested = true)) };
        await assert.rejects(runTrajectory({ ...spec, out }, ctx), CancelledError);
        const partial = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
        assert.ok(partial.kind === 'landscape' && !partial.complete);
        const kept = computedPoints(partial.result).filter(Boolean).length;
        const total = mode === 'pca' ? 36 : 13;
        assert.ok(kept > 0 && kept < total, `kept ${kept}`);
        evaluations = 0;
        const done = await runTrajectory({ ...spec, resume: out, out }, quietContext());
        assert.equal(evaluations, total - kept, 'evaluations on resume');
        assert.deepEqual(done.result.resume, { from: out, pointsKept: kept, pointsEvaluated: total - kept });
        assert.deepEqual(done.result.loss, ref.result.loss);
        assert.deepEqual(done.result.trajectory, ref.result.trajectory);
        assert.equal(done.complete, true);
      }
      // Another mode than the partial's is refused, naming it.
      const out = path.join(ws.dir, 'r-pca.losscape.json');
      const partial = JSON.parse(readFileSync(out, 'utf8'));
      partial.complete = false;
      partial.result.loss[5] = partial.result.loss[5].map(() => null);
      writeFileSync(out, JSON.stringify(partial));
      await assert.rejects(
        runTrajectory({ kind: 'trajectory', checkpoints: series, data: ws.data, mode: 'pca', points: 7, resume: out, out: path.join(ws.dir, 'r-x.losscape.json') }, quietContext()),
        /r-pca\.losscape\.json: records points 6, this run has 7; a resumed run keeps the partial's options/,
      );
    } finally {
      TfjsObjective.prototype.evaluate = real;
      TfjsObjective.prototype.evaluatePoints = realPoints;
    }
  });
});
