import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runGrokking } from '../../src/engine/analyses/grokking';
import { selectBackend } from '../../src/engine/backend';
import { denseNtk, jacobianNtk } from '../../src/engine/tfjs/ntk';
import {
  buildSeedModel,
  SEED_LAYER,
  seedKernels,
  seedSamples,
  seedStatistics,
  seedTeacher,
  seedTestLoss,
  trainSeedModel,
  type SeedModelConfig,
} from '../../src/engine/grokking/seedModel';
import { loadLayersModelFromFile, saveLayersModelToDir } from '../../src/engine/loaders/modelJson';
import { encodeNpz } from '../../src/engine/loaders/npz';
import { makeLoss } from '../../src/engine/losses';
import { TfjsObjective as Objective } from '../../src/engine/tfjs/objective';
import { setEngineInfo } from '../../src/engine/runtime';

describe('seed-paper model (Kumar et al. 2023)', function () {
  before(async () => setEngineInfo(await selectBackend('cpu')));

  it('one step of the closed-form gradient equals a step along TF.js autodiff’s gradient', async () => {
    for (const centred of [false, true]) {
      const cfg: SeedModelConfig = { inputDim: 6, width: 5, alpha: 1.7, epsilon: 0.3, centred };
      const beta = seedTeacher(6, 1);
      const data = seedSamples(beta, 12, 2);
      const model = buildSeedModel(cfg, beta, 3);
      // Move off the initialisation first, so a centred model's f − f₀ is not zero.
      await trainSeedModel(model, cfg, data, { learningRate: 2, checkpoints: [3], onCheckpoint: () => undefined });
      const kernel = model.getLayer(SEED_LAYER).trainableWeights[0].read() as tf.Variable;
      const W0 = Float64Array.from(kernel.dataSync());
      const { grads } = tf.variableGrads(() => {
        const f = model.apply(tf.tensor2d(data.x, [12, 6]), { training: false }) as tf.Tensor;
        return f.sub(tf.tensor2d(data.y, [12, 1])).square().mean() as tf.Scalar;
      }, [kernel]);
      const g = Float64Array.from(grads[kernel.name].dataSync());
      tf.dispose(Object.values(grads));
      const lr = 0.05;
      await trainSeedModel(model, cfg, data, { learningRate: lr, checkpoints: [1], onCheckpoint: () => undefined });
      const W1 = model.getLayer(SEED_LAYER).getWeights()[0].dataSync();
      let err = 0;
      let size = 0;
      for (let k = 0; k < W1.length; k++) {
        err = Math.max(err, Math.abs(W1[k] - (W0[k] - lr * g[k])));
        size = Math.max(size, Math.abs(lr * g[k]));
      }
      assert.ok(err <= 1e-3 * size + 1e-6, `centred ${centred}: step differs by ${err} (step size ${size})`);
      model.dispose();
    }
  });

  it('the population loss predicted from m and M matches the loss on 10,000 fresh samples within 3 standard errors', async () => {
    const cfg: SeedModelConfig = { inputDim: 20, width: 40, alpha: 1, epsilon: 0.1, centred: true };
    const beta = seedTeacher(20, 5);
    const train = seedSamples(beta, 100, 6);
    const model = buildSeedModel(cfg, beta, 7);
    const rows: string[] = [];
    let checked = 0;
    await trainSeedModel(model, cfg, train, {
      learningRate: (8 * cfg.width) / cfg.alpha ** 2,
      checkpoints: [0, 20, 100, 400],
      onCheckpoint: async (step) => {
        const { W, W0 } = seedKernels(model, true);
        const predicted = seedStatistics(cfg, beta, W, W0).predictedTestLoss;
        const m = await seedTestLoss(model, beta, 10_000, 1000 + step);
        rows.push(`step ${step}: predicted ${predicted.toFixed(5)}, measured ${m.mean.toFixed(5)} ± ${m.se.toFixed(5)}`);
        assert.ok(Math.abs(predicted - m.mean) <= 3 * m.se, rows.join('\n'));
        checked++;
      },
    });
    assert.equal(checked, 4);
    model.dispose();
    // The uncentred model follows the same formula with m and M themselves.
    const raw = buildSeedModel({ ...cfg, centred: false, alpha: 2 }, beta, 8);
    const { W } = seedKernels(raw, false);
    const predicted = seedStatistics({ ...cfg, centred: false, alpha: 2 }, beta, W, null).predictedTestLoss;
    const m = await seedTestLoss(raw, beta, 10_000, 77);
    assert.ok(Math.abs(predicted - m.mean) <= 3 * m.se, `uncentred: predicted ${predicted}, measured ${m.mean} ± ${m.se}`);
    raw.dispose();
  });

  it('the grokking analysis recognises the model from its checkpoints and reports the statistics per checkpoint', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-seed-'));
    const cfg: SeedModelConfig = { inputDim: 8, width: 12, alpha: 1, epsilon: 0.2, centred: true };
    const beta = seedTeacher(8, 1);
    const train = seedSamples(beta, 40, 2);
    const test = seedSamples(beta, 60, 3);
    writeFileSync(
      path.join(dir, 'data.npz'),
      encodeNpz({
        x: { dtype: 'float32', shape: [40, 8], data: train.x },
        y: { dtype: 'float32', shape: [40, 1], data: train.y },
        x_test: { dtype: 'float32', shape: [60, 8], data: test.x },
        y_test: { dtype: 'float32', shape: [60, 1], data: test.y },
      }),
    );
    const model = buildSeedModel(cfg, beta, 4);
    const stats: number[] = [];
    await trainSeedModel(model, cfg, train, {
      learningRate: 4 * cfg.width,
      checkpoints: [0, 5, 50],
      onCheckpoint: async (step) => {
        model.setUserDefinedMetadata({ ...(model.getUserDefinedMetadata() as object), step });
        await saveLayersModelToDir(model, path.join(dir, 'ck', `c${step}`));
        const { W, W0 } = seedKernels(model, true);
        stats.push(seedStatistics(cfg, beta, W, W0).predictedTestLoss);
      },
    });
    model.dispose();
    const before = tf.memory().numTensors;
    const r = await runGrokking({ kind: 'grokking', checkpoints: path.join(dir, 'ck'), data: path.join(dir, 'data.npz'), loss: 'mse', probe: 16, out: path.join(dir, 'g.losscape.json') }, quietContext());
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    assert.deepEqual(r.result.steps, [0, 5, 50]);
    assert.ok(r.result.checkpoints.every((c) => c.stepSource === 'file'));
    const sm = r.result.seedModel;
    assert.ok(sm);
    assert.deepEqual([sm.alpha, sm.epsilon, sm.centred, sm.inputDim, sm.width], [1, 0.2, true, 8, 12]);
    sm.predictedTestLoss.forEach((v, i) => assert.ok(Math.abs(v! - stats[i]) <= 1e-9 * stats[i], `${v} vs ${stats[i]}`));
    assert.equal(sm.mNorm2[0], 0, 'a centred model starts at m − m₀ = 0');
    assert.equal(r.result.trajectoryKL, null, 'no KL for a regression loss');
    assert.equal(r.result.trainAccuracy, null);

    // On this functional model (frozen layers, Multiply, Concatenate) the Dense-structure kernel equals the Jacobian one.
    const loaded = await loadLayersModelFromFile(path.join(dir, 'ck', 'c50', 'model.json'));
    const obj = new Objective(loaded.model, makeLoss('mse', false), { x: train.x, sampleShape: [8], y: train.y, ySampleShape: [1], n: 40 }, 16);
    const a = await denseNtk(obj);
    const b = await jacobianNtk(obj);
    assert.ok(a);
    let num = 0;
    let den = 0;
    for (let i = 0; i < a.K.length; i++) {
      num += (a.K[i] - b.K[i]) ** 2;
      den += b.K[i] ** 2;
    }
    assert.ok(Math.sqrt(num / den) < 1e-5, `relative difference ${Math.sqrt(num / den)}`);
    obj.dispose();
    loaded.model.dispose();
  });
});
