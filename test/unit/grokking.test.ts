import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runGrokking } from '../../src/engine/analyses/grokking';
import { selectBackend } from '../../src/engine/backend';
import { prepareInputs } from '../../src/engine/inputs';
import { Rng } from '../../src/engine/linalg/rng';
import { saveLayersModelToDir } from '../../src/engine/loaders/modelJson';
import { encodeNpz } from '../../src/engine/loaders/npz';
import { setEngineInfo } from '../../src/engine/runtime';
import { CancelledError } from '../../src/shared/errors';
import { parseResult } from '../../src/shared/result';
import { makeTinySeries } from './helpers/checkpointSeries';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

describe('grokking analysis (in process)', function () {
  let ws: TinyWorkspace;
  let files: string[];
  const steps = [0, 2, 5, 10, 20];
  before(async () => {
    setEngineInfo(await selectBackend('cpu'));
    ws = await makeTinyWorkspace();
    files = await makeTinySeries(ws, path.join(ws.dir, 'series'), steps);
  });

  it('writes the contract fields aligned with the steps, and frees every tensor', async () => {
    const out = path.join(ws.dir, 'grok.losscape.json');
    const before = tf.memory().numTensors;
    const progress: number[] = [];
    const r = await runGrokking(
      { kind: 'grokking', checkpoints: path.join(ws.dir, 'series', 'step-*', 'model.json'), data: ws.data, loss: 'sparse_categorical_crossentropy', probe: 24, out, seed: 3 },
      { ...quietContext(), progress: (f) => progress.push(f) },
    );
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    const file = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.equal(file.kind, 'grokking');
    assert.equal(file.complete, true);
    assert.ok(file.kind === 'grokking');
    const g = file.result;
    assert.deepEqual(g.steps, steps);
    for (const key of ['trainLoss', 'testLoss', 'paramNorm', 'ntkAlignment', 'ntkMovement'] as const) {
      assert.equal(g[key].length, steps.length, key);
      assert.ok(g[key].every((v) => typeof v === 'number' && Number.isFinite(v)), `${key}: ${g[key]}`);
    }
    assert.deepEqual(progress, [0.2, 0.4, 0.6, 0.8, 1]);
    assert.equal(g.checkpointsDone, 5);
    assert.equal(g.probe.size, 24);
    assert.equal(g.paramDistance[0], 0);
    assert.equal(g.ntkMovement[0], 0);
    assert.equal(g.ntkDistance[0], 0);
    assert.equal(g.trajectoryKL![0], null);
    assert.ok(g.trajectoryKL!.slice(1).every((v) => v !== null && v >= 0));
    assert.ok(g.outputChange.slice(1).every((v) => v !== null && v > 0));
    assert.ok(g.trainLoss[4]! < g.trainLoss[0]!, 'training lowers the train loss');
    assert.ok(g.ntkMovement[4]! > 0);
    assert.equal(g.layers.length, 2);
    assert.equal(g.layers[0].parameters + g.layers[1].parameters, r.provenance.model.parameterCount);
    // Per-layer norms compose the whole: ‖θ‖² = Σ ‖θ_l‖².
    const sq = g.layers.reduce((s, l) => s + l.norm[3]! ** 2, 0);
    assert.ok(Math.abs(Math.sqrt(sq) - g.paramNorm[3]!) < 1e-9 * g.paramNorm[3]!);
    assert.equal(g.seedModel, null);
    assert.equal(g.events.length, 2);
    assert.equal(g.events[0].threshold, 0.1 * g.trainLoss[0]!);
    assert.ok(g.checkpoints.every((c) => /^[0-9a-f]{64}$/.test(c.sha256)));
    assert.equal(r.provenance.data.samplesUsed, ws.n);
  });

  it('each checkpoint’s train and test loss equal the model’s own, computed independently', async () => {
    const out = path.join(ws.dir, 'grok2.losscape.json');
    const r = await runGrokking({ kind: 'grokking', checkpoints: path.join(ws.dir, 'series'), data: ws.data, probe: 0, out }, quietContext());
    assert.equal(r.provenance.loss.origin, 'trainingConfig');
    for (const i of [0, 4]) {
      const p = await prepareInputs({ model: files[i], data: ws.data, out, batchSize: 512, seed: 0 });
      try {
        const e = await p.objective.evaluate();
        assert.ok(Math.abs(r.result.trainLoss[i]! - e.loss) <= 1e-6 * e.loss, `${r.result.trainLoss[i]} vs ${e.loss}`);
        assert.equal(r.result.trainAccuracy![i], e.accuracy);
      } finally {
        p.dispose();
      }
    }
    // probe 0 turns the kernel off.
    assert.ok(r.result.ntkAlignment.every((v) => v === null));
    assert.equal(r.result.probe.size, 0);
    assert.ok(r.result.testLoss.every((v) => v !== null), 'the workspace has a test split');
  });

  it('streams partial results: a cancelled run leaves a valid file with the checkpoints done', async () => {
    const out = path.join(ws.dir, 'grok-cancel.losscape.json');
    let calls = 0;
    let cancelled = false;
    const ctx = {
      ...quietContext({
        get isCancellationRequested() {
          return cancelled;
        },
      }),
      progress: () => {
        if (++calls === 2) cancelled = true;
      },
    };
    await assert.rejects(runGrokking({ kind: 'grokking', checkpoints: path.join(ws.dir, 'series'), data: ws.data, probe: 8, out }, ctx), CancelledError);
    const file = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.equal(file.complete, false);
    assert.match(file.status ?? '', /cancelled after 2 of 5 checkpoints/);
    assert.ok(file.kind === 'grokking');
    assert.equal(file.result.checkpointsDone, 2);
    assert.ok(file.result.trainLoss[1] !== null && file.result.trainLoss[2] === null);
  });
});

describe('grokking analysis: λ_max along the trajectory', function () {
  before(async () => setEngineInfo(await selectBackend('cpu')));

  it('equals the largest eigenvalue of (2/n) X̃ᵀX̃ for linear least squares, by the GGN and the Hessian', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-sharp-'));
    const n = 30;
    const x = new Float32Array(n * 3);
    const rng = new Rng(4);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal() * (1 + (i % 3));
    const y = Float32Array.from({ length: n }, (_, i) => x[3 * i] - x[3 * i + 2]);
    writeFileSync(path.join(dir, 'data.npz'), encodeNpz({ x: { dtype: 'float32', shape: [n, 3], data: x }, y: { dtype: 'float32', shape: [n, 1], data: y } }));
    for (const s of [0, 1]) {
      const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1, kernelInitializer: tf.initializers.glorotNormal({ seed: 5 + s }) })] });
      await saveLayersModelToDir(m, path.join(dir, 'ck', `s${s}`));
      m.dispose();
    }
    // Independent: H = (2/n) Σ x̃x̃ᵀ, x̃ = (x, 1), the same at every θ.
    const X = new Matrix(Array.from({ length: n }, (_, i) => [x[3 * i], x[3 * i + 1], x[3 * i + 2], 1]));
    const H = X.transpose().mmul(X).mul(2 / n);
    const ref = Math.max(...new EigenvalueDecomposition(H, { assumeSymmetric: true }).realEigenvalues);
    for (const op of ['ggn', 'hessian'] as const) {
      const r = await runGrokking(
        { kind: 'grokking', checkpoints: path.join(dir, 'ck'), data: path.join(dir, 'data.npz'), loss: 'mse', probe: 0, sharpness: op, learningRate: 0.1, out: path.join(dir, `${op}.losscape.json`) },
        quietContext(),
      );
      const sh = r.result.sharpness;
      assert.ok(sh);
      assert.equal(sh.operator, op);
      assert.equal(sh.twoOverEta, 20);
      assert.equal(sh.samples, n);
      for (const v of sh.lambdaMax) assert.ok(Math.abs(v! - ref) <= 1e-3 * ref, `${op}: ${v} vs ${ref}`);
    }
  });
});
