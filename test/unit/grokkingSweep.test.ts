// The α sweep from the CLI/engine (`--sweep-alpha`): seed-model series trained here at three α,
// analysed by one runGrokking call; the sweep block must equal what each run's own result says.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runGrokking } from '../../src/engine/analyses/grokking';
import { sweepRunPath } from '../../src/engine/analyses/grokkingSweep';
import { selectBackend } from '../../src/engine/backend';
import { buildSeedModel, seedSamples, seedTeacher, trainSeedModel, type SeedModelConfig } from '../../src/engine/grokking/seedModel';
import { saveLayersModelToDir } from '../../src/engine/loaders/modelJson';
import { encodeNpz } from '../../src/engine/loaders/npz';
import { setEngineInfo } from '../../src/engine/runtime';
import { InputError } from '../../src/shared/errors';
import { parseResult } from '../../src/shared/result';

const ALPHAS = [0.5, 1, 2];
const root = path.resolve(__dirname, '../..');

describe('grokking α sweep (--sweep-alpha)', function () {
  this.timeout(180000);
  let dir: string;
  let data: string;
  before(async () => {
    setEngineInfo(await selectBackend('cpu'));
    dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-sweep-'));
    const D = 8;
    const beta = seedTeacher(D, 2);
    const train = seedSamples(beta, 40, 3);
    const test = seedSamples(beta, 60, 4);
    data = path.join(dir, 'data.npz');
    writeFileSync(data, encodeNpz({
      x: { dtype: 'float32', shape: [train.n, D], data: train.x },
      y: { dtype: 'float32', shape: [train.n, 1], data: train.y },
      x_test: { dtype: 'float32', shape: [test.n, D], data: test.x },
      y_test: { dtype: 'float32', shape: [test.n, 1], data: test.y },
    }));
    for (const alpha of ALPHAS) {
      const cfg: SeedModelConfig = { inputDim: D, width: 12, alpha, epsilon: 0.1, centred: true };
      const model = buildSeedModel(cfg, beta, 1);
      await trainSeedModel(model, cfg, train, {
        learningRate: (2 * 12) / (alpha * alpha),
        checkpoints: [0, 5, 20, 60],
        onCheckpoint: async (step) => {
          model.setUserDefinedMetadata({ ...(model.getUserDefinedMetadata() as object), step });
          await saveLayersModelToDir(model, path.join(dir, `alpha-${alpha}`, `step-${String(step).padStart(4, '0')}`));
        },
      });
      model.dispose();
    }
  });

  it('fills result.sweep with one run per α, each equal to that run’s own result, and writes every run', async () => {
    const out = path.join(dir, 'sweep.losscape.json');
    const r = await runGrokking({ kind: 'grokking', checkpoints: path.join(dir, 'alpha-{alpha}'), data, loss: 'mse', out, probe: 16, sweepAlpha: ALPHAS, trainLossBelow: 0.5, testLossBelow: 0.5 }, quietContext());
    const parsed = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(parsed.kind === 'grokking' && parsed.complete);
    const sweep = parsed.result.sweep!;
    assert.equal(sweep.parameter, 'alpha');
    assert.deepEqual(sweep.runs.map((x) => x.value), ALPHAS);
    assert.equal(sweep.trainThreshold, 0.5);
    for (const run of sweep.runs) {
      const own = run.value === 1 ? out : sweepRunPath(out, run.value);
      assert.ok(existsSync(own), own);
      const o = parseResult(JSON.parse(readFileSync(own, 'utf8')), own);
      assert.ok(o.kind === 'grokking');
      assert.deepEqual(run.steps, o.result.steps);
      assert.deepEqual(run.trainLoss, o.result.trainLoss);
      assert.deepEqual(run.testLoss, o.result.testLoss);
      const trainStep = o.result.steps.find((s, i) => (o.result.trainLoss[i] ?? Infinity) <= 0.5) ?? null;
      assert.equal(run.trainStep, trainStep);
    }
    // The main (α = 1) result is that series' own analysis, plus the sweep.
    assert.equal(r.result.steps.length, 4);
    assert.deepEqual(r.result.trainLoss, sweep.runs[1].trainLoss);
    assert.notEqual(sweep.runs[0].trainLoss[3], sweep.runs[1].trainLoss[3], 'α = 0.5 and α = 1 trained the same');
    assert.deepEqual(r.options.sweepAlpha, ALPHAS);
  });

  it('refuses checkpoints without the {alpha} placeholder and a main α outside the sweep', async () => {
    const out = path.join(dir, 'bad.losscape.json');
    await assert.rejects(runGrokking({ kind: 'grokking', checkpoints: path.join(dir, 'alpha-1'), data, loss: 'mse', out, sweepAlpha: ALPHAS }, quietContext()), (e: unknown) => e instanceof InputError && /\{alpha\}/.test(e.message));
    await assert.rejects(runGrokking({ kind: 'grokking', checkpoints: path.join(dir, 'alpha-{alpha}'), data, loss: 'mse', out, sweepAlpha: ALPHAS, mainAlpha: 3 }, quietContext()), (e: unknown) => e instanceof InputError && e.source === '--main-alpha');
  });

  it('the CLI: losscape grokking --sweep-alpha 0.5,2 --main-alpha 2 prints the delays and writes the sweep', function () {
    const cli = path.join(root, 'dist', 'cli.js');
    assert.ok(existsSync(cli), 'dist/cli.js is missing: run npm run build');
    const out = path.join(dir, 'cli.losscape.json');
    const p = spawnSync(process.execPath, [cli, 'grokking', '--checkpoints', path.join(dir, 'alpha-{alpha}'), '--data', data, '--loss', 'mse', '--probe', '16', '--sweep-alpha', '0.5,2', '--main-alpha', '2', '--train-loss-below', '0.5', '--backend', 'cpu', '--out', out], { encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    assert.match(p.stdout, /alpha sweep \(train loss ≤ 0\.5.*α = 0\.5: delay .*α = 2: delay/);
    const parsed = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(parsed.kind === 'grokking');
    assert.deepEqual(parsed.result.sweep!.runs.map((x) => x.value), [0.5, 2]);
    assert.ok(existsSync(sweepRunPath(out, 0.5)));
    const bad = spawnSync(process.execPath, [cli, 'grokking', '--checkpoints', path.join(dir, 'alpha-1'), '--data', data, '--loss', 'mse', '--sweep-alpha', '0.5', '--out', out], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--sweep-alpha needs two or more positive values/);
  });
});
