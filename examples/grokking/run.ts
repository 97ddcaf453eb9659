/**
 * The seed paper's model as a reproducible example: "Grokking as the Transition from Lazy to
 * Rich Training Dynamics" (Kumar, Bordelon, Gershman & Pehlevan 2023), in TF.js.
 *
 *   f(x) = (α/N) Σᵢ φ(wᵢ·x),  φ(h) = h + (ε/2)h²,  y = (β·x)²/2,  x ~ N(0, I/D),
 *
 * centred (f − f₀, as the paper's code), trained by full-batch gradient descent on the MSE with
 * η = c·N/α². For each α of a sweep it trains the model, saves checkpoints on a log-spaced step
 * grid, runs Losscape's grokking analysis on them (in process, the same code as
 * `losscape grokking`), and writes
 *
 *   generated/data.npz                            train (P) and test (1,000) samples
 *   generated/alpha-<α>/step-NNNNNN/model.json    the checkpoints (step also in userDefinedMetadata)
 *   generated/grokking-alpha-<α>.losscape.json     one grokking result per α
 *   generated/grokking.losscape.json               the α = 1 result (with λ_max of the Gauss–Newton
 *                                                  matrix against 2/η) and the whole sweep attached
 *   generated/trajectory.losscape.json             the PCA-plane landscape of the α = 1 run
 *
 * and prints, for α = 1, the test loss the sufficient statistics predict against the test loss
 * measured on 10,000 fresh samples (± standard error), and the sweep's grokking delays.
 *
 * Sized for 2 CPU cores (about a minute on the wasm backend) rather than the paper's D = 100,
 * N = 500, P = 550, 10⁵ steps at η = N/α²: here D = 50, N = 100, P = 250, 3,000 steps at
 * η = 8N/α² (8× the step, so 3,000 steps cover 24,000 of the paper's), ε = 0.1 (the paper
 * uses 0.02 in its Figure 1, which needs far more steps, and 0.25 in its α sweep), and
 * α ∈ {0.5, 0.7, 1, 1.4, 2}.
 *
 *   npx tsx examples/grokking/run.ts [--backend wasm|cpu] [--steps 3000]
 * Then: node bin/losscape.js report examples/grokking/generated/grokking.losscape.json \
 *         examples/grokking/generated/trajectory.losscape.json --out examples/grokking/generated/report.html
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runGrokking } from '../../src/engine/analyses/grokking';
import { runTrajectory } from '../../src/engine/analyses/trajectory';
import { selectBackend } from '../../src/engine/backend';
import { buildSeedModel, seedKernels, seedSamples, seedStatistics, seedTeacher, seedTestLoss, trainSeedModel, type SeedModelConfig } from '../../src/engine/grokking/seedModel';
import { makeSweep, sweepRun } from '../../src/engine/grokking/sweep';
import { saveLayersModelToDir } from '../../src/engine/loaders/modelJson';
import { encodeNpz } from '../../src/engine/loaders/npz';
import { writeResult } from '../../src/engine/resultWriter';
import { setEngineInfo } from '../../src/engine/runtime';
import { parseResult } from '../../src/shared/result';
import type { SweepRun } from '../../src/shared/results/grokking';

const OUT = path.join(__dirname, 'generated');
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};

export const SETUP = {
  inputDim: 50,
  width: 100,
  trainSamples: 250,
  testSamples: 1000,
  epsilon: 0.1,
  /** η = lrScale·N/α². */
  lrScale: 8,
  alphas: [0.5, 0.7, 1, 1.4, 2],
  mainAlpha: 1,
  /** Event thresholds for the sweep: absolute MSE (the initial test loss is about 0.9). */
  trainThreshold: 0.1,
  testThreshold: 0.1,
  seeds: { teacher: 2, train: 10, test: 11, init: 1, fresh: 99 },
};

/** 0 and a log-spaced grid up to `steps` (about 6 points per decade). */
export function logSteps(steps: number): number[] {
  const out = new Set<number>([0, steps]);
  for (let e = 0; e <= Math.log10(steps) + 1e-9; e += 1 / 6) out.add(Math.min(steps, Math.round(10 ** e)));
  return [...out].sort((a, b) => a - b);
}

const alphaDir = (a: number): string => path.join(OUT, `alpha-${a}`);

async function main(): Promise<void> {
  const t0 = performance.now();
  const info = await selectBackend(arg('--backend', 'wasm') as 'wasm' | 'cpu');
  setEngineInfo(info);
  const steps = Number(arg('--steps', '3000'));
  const S = {
    ...SETUP,
    alphas: arg('--alphas', SETUP.alphas.join(',')).split(',').map(Number),
    mainAlpha: Number(arg('--main-alpha', String(SETUP.mainAlpha))),
    epsilon: Number(arg('--epsilon', String(SETUP.epsilon))),
  };
  console.log(`seed-paper model on ${info.backend}: D ${S.inputDim}, N ${S.width}, P ${S.trainSamples}, ε ${S.epsilon}, η = ${S.lrScale}N/α², ${steps} steps, α ∈ {${S.alphas.join(', ')}}`);
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });

  const beta = seedTeacher(S.inputDim, S.seeds.teacher);
  const train = seedSamples(beta, S.trainSamples, S.seeds.train);
  const test = seedSamples(beta, S.testSamples, S.seeds.test);
  const data = path.join(OUT, 'data.npz');
  writeFileSync(
    data,
    encodeNpz({
      x: { dtype: 'float32', shape: [train.n, S.inputDim], data: train.x },
      y: { dtype: 'float32', shape: [train.n, 1], data: train.y },
      x_test: { dtype: 'float32', shape: [test.n, S.inputDim], data: test.x },
      y_test: { dtype: 'float32', shape: [test.n, 1], data: test.y },
    }),
  );

  const grid = logSteps(steps);
  const runs: SweepRun[] = [];
  let mainFile = '';
  const checks: { step: number; predicted: number; measured: number; se: number }[] = [];
  for (const alpha of S.alphas) {
    const tRun = performance.now();
    const cfg: SeedModelConfig = { inputDim: S.inputDim, width: S.width, alpha, epsilon: S.epsilon, centred: true };
    const model = buildSeedModel(cfg, beta, S.seeds.init);
    const lr = (S.lrScale * S.width) / (alpha * alpha);
    const checkAt = new Set([0, grid[Math.floor(grid.length / 3)], grid[Math.floor((2 * grid.length) / 3)], steps]);
    await trainSeedModel(model, cfg, train, {
      learningRate: lr,
      checkpoints: grid,
      onCheckpoint: async (step) => {
        model.setUserDefinedMetadata({ ...(model.getUserDefinedMetadata() as object), step });
        await saveLayersModelToDir(model, path.join(alphaDir(alpha), `step-${String(step).padStart(6, '0')}`));
        if (alpha === S.mainAlpha && checkAt.has(step)) {
          const { W, W0 } = seedKernels(model, cfg.centred);
          const predicted = seedStatistics(cfg, beta, W, W0).predictedTestLoss;
          const m = await seedTestLoss(model, beta, 10_000, S.seeds.fresh + step);
          checks.push({ step, predicted, measured: m.mean, se: m.se });
        }
      },
    });
    model.dispose();
    const trained = (performance.now() - tRun) / 1000;
    const file = path.join(OUT, `grokking-alpha-${alpha}.losscape.json`);
    const r = await runGrokking(
      {
        kind: 'grokking',
        checkpoints: alphaDir(alpha),
        data,
        loss: 'mse',
        out: file,
        probe: 128,
        seed: 0,
        trainLossBelow: S.trainThreshold,
        testLossBelow: S.testThreshold,
        batchSize: 1000,
        // λ_max of the Gauss–Newton matrix against 2/η, for the main run.
        ...(alpha === S.mainAlpha ? { sharpness: 'ggn' as const, sharpnessSamples: S.trainSamples, learningRate: lr } : {}),
      },
      quietContext(),
    );
    const run = sweepRun(r.result, alpha, `α = ${alpha}`, S.trainThreshold, S.testThreshold, path.basename(file));
    runs.push(run);
    if (alpha === S.mainAlpha) mainFile = file;
    const g = r.result;
    const last = g.steps.length - 1;
    console.log(
      `α ${String(alpha).padEnd(4)} trained in ${trained.toFixed(1)} s, analysed ${g.steps.length} checkpoints in ${r.provenance.timings.seconds.toFixed(1)} s: ` +
        `train loss ≤ ${S.trainThreshold} at step ${run.trainStep ?? '—'}, test loss ≤ ${S.testThreshold} at step ${run.testStep ?? 'never'}, delay ${run.delay ?? '∞'}; ` +
        `final test ${g.testLoss[last]?.toPrecision(3)}, alignment ${g.ntkAlignment[0]?.toFixed(3)} → ${g.ntkAlignment[last]?.toFixed(3)}, ‖θ−θ₀‖/‖θ₀‖ ${g.paramDistance[last]?.toFixed(3)}`,
    );
  }

  // The α = 1 result, with the sweep attached, is the dashboard's main file.
  const sweep = makeSweep('alpha', 'α (output scale; larger is lazier)', S.trainThreshold, S.testThreshold, runs,
    `D ${S.inputDim}, N ${S.width}, P ${S.trainSamples}, ε ${S.epsilon}, centred, η = ${S.lrScale}N/α², ${steps} steps`);
  const { readFileSync } = await import('node:fs');
  const main = parseResult(JSON.parse(readFileSync(mainFile, 'utf8')), mainFile);
  if (main.kind !== 'grokking') throw new Error('unexpected result kind');
  const combined = { ...main, result: { ...main.result, sweep } };
  writeResult(path.join(OUT, 'grokking.losscape.json'), parseResult(combined, 'grokking.losscape.json'));

  const traj = await runTrajectory(
    { kind: 'trajectory', checkpoints: alphaDir(S.mainAlpha), data, loss: 'mse', out: path.join(OUT, 'trajectory.losscape.json'), points: 21, batchSize: 1000 },
    quietContext(),
  );
  const ti = traj.result.trajectory!;
  console.log(`trajectory (α = ${S.mainAlpha}): PCA explained variance ${(100 * ti.explainedVariance![0]).toFixed(1)} % + ${(100 * ti.explainedVariance![1]).toFixed(1)} %, 21×21 grid in ${traj.provenance.timings.seconds.toFixed(1)} s`);

  console.log(`\nα = ${S.mainAlpha}: test loss predicted by the sufficient statistics vs measured on 10,000 fresh samples`);
  for (const c of checks) {
    const z = (c.measured - c.predicted) / c.se;
    console.log(`  step ${String(c.step).padStart(5)}: predicted ${c.predicted.toPrecision(4)}, measured ${c.measured.toPrecision(4)} ± ${c.se.toPrecision(2)} (${z >= 0 ? '+' : ''}${z.toFixed(2)} SE)`);
  }
  const delays = runs.map((r) => `α ${r.value}: ${r.delay ?? '∞'}`).join(', ');
  console.log(`\ngrokking delay (steps from train loss ≤ ${S.trainThreshold} to test loss ≤ ${S.testThreshold}): ${delays}`);
  console.log(`tensors still allocated: ${tf.memory().numTensors}`);
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s; results in ${path.relative(process.cwd(), OUT)}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
