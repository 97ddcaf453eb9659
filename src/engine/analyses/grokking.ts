import path from 'node:path';
import { CancelledError } from '../../shared/errors';
import { SCHEMA_ID, type ResultOf } from '../../shared/result';
import type { GrokkingPayload, SeedModelStats } from '../../shared/results/grokking';
import { GrokkingSpecSchema, type GrokkingSpec, type GrokkingSpecInput } from '../../shared/specs/grokking';
import { checkpoint, type AnalysisContext } from '../analysisContext';
import { defaultLossThreshold, detectGrokkingEvents } from '../grokking/events';
import { effectiveRank, kernelAlignment, kernelDistance, kernelMovement, kernelTrace } from '../grokking/ntk';
import { runGrokkingSweep } from './grokkingSweep';
import { seedMetadataOf, seedStatistics, type SeedModelMetadata } from '../grokking/seedModel';
import { labelMatrix, normStats, outputChange, trajectoryKL } from '../grokking/stats';
import { lanczosEigs } from '../linalg/lanczos';
import { Rng } from '../linalg/rng';
import type { Objective } from '../objective';
import { Stopwatch } from '../provenance';
import { writeResult } from '../resultWriter';
import { engineInfo } from '../runtime';
import { prepareSeries, seriesProvenance, type PreparedSeries } from '../trajectory/series';

type GrokkingResult = ResultOf<'grokking'>;

export const GROKKING_DEFINITIONS: Record<string, string> = {
  steps: 'Training step of each checkpoint: a `step` field in model.json (top level or userDefinedMetadata), else the last integer in its folder name (for model.json) or file name.',
  trainLoss: 'Mean loss over the train samples used (all, or the seeded --samples subset); testLoss the same on the test split (x_test, y_test).',
  paramNorm: '‖θ_t‖₂ over all trainable parameters; layers[].norm the same per layer.',
  paramDistance: '‖θ_t − θ₀‖₂ / ‖θ₀‖₂, θ₀ the first checkpoint of the series; layers[].distance the same per layer.',
  ntk: 'Empirical NTK on the probe set (a seeded subset of the train samples): K_t[n, m] = Σ_c ∇_θ f_c(xₙ)·∇_θ f_c(xₘ), summed over output units c, at checkpoint t.',
  ntkAlignment: 'Centred kernel–label alignment ⟨K_c, Y_cY_cᵀ⟩_F / (‖K_c‖_F ‖Y_cY_cᵀ‖_F), K_c = HKH, Y_c = HY, H = I − 11ᵀ/n, Y the probe labels (one-hot for classes); for one output y_cᵀK_cy_c / (‖K_c‖_F ‖y_c‖²) (Kumar et al. 2023).',
  ntkMovement: '1 − ⟨K₀, K_t⟩_F / (‖K₀‖_F ‖K_t‖_F), K₀ the kernel at the first checkpoint: 0 while the kernel only rescales (lazy), growing as it rotates (rich).',
  ntkDistance: '‖K_t − K₀‖_F / ‖K₀‖_F.',
  ntkEffectiveRank: 'exp(−Σ pᵢ log pᵢ), pᵢ = λᵢ/Σλ over the eigenvalues of K_t (Roy & Vetterli 2007).',
  ntkTrace: 'tr K_t / n: the mean over probe samples of Σ_c ‖∇_θ f_c(x)‖².',
  trajectoryKL: 'SAF-style trajectory KL (Du et al. 2022, without λ): τ²·mean over the train samples of KL(softmax(z_{t−k}/τ) ‖ softmax(z_t/τ)), z the logits (log-probabilities for a softmax output), k = lag checkpoints; Bernoulli KL per unit for sigmoid outputs; null for regression losses and the first k checkpoints.',
  outputChange: 'Mean over the train samples of ‖f_t(x) − f_{t−k}(x)‖² (model outputs), k = lag checkpoints.',
  events: 'An event is the first checkpoint whose value crosses the threshold (≤ for losses, ≥ for accuracies); thresholds default to 0.1 × the first checkpoint’s train loss. grokkingDelay = step(test-loss event) − step(train-loss event).',
  seedModel: 'For the seed paper’s model f(x) = (α/N)Σφ(wᵢ·x), φ(h) = h + (ε/2)h², y = (β·x)²/2, x ~ N(0, I/D): m = (1/N)Σwᵢ, M = (1/N)Σwᵢwᵢᵀ (centred models: minus those of the frozen initial weights), A = (αε/2)M − ββᵀ/2; predictedTestLoss = α²‖m‖²/D + [(tr A)² + 2 tr A²]/D² = E[(f − y)²] over fresh x (exact for Gaussian x).',
  sharpness: 'λ_max of the curvature of the mean loss over a seeded subset of the train samples (sharpness.samples), at each checkpoint, by Lanczos (k = 1, 30 steps, full reorthogonalisation): the generalised Gauss–Newton matrix (exact products) or the Hessian (exact products by double back-propagation; finite differences of gradients with --hv finite-difference; `product` says which). twoOverEta = 2/η, the largest λ_max at which gradient descent with step η is stable on a quadratic (Cohen et al. 2021, edge of stability).',
  sweep: 'Sibling runs of the same model with one option changed (e.g. α); each run’s trainStep/testStep are its first checkpoints with train/test loss ≤ the sweep’s thresholds, delay = testStep − trainStep.',
};

/** The seed-model metadata shared by every checkpoint, or null. */
function seedModelOf(series: PreparedSeries): SeedModelMetadata | null {
  const metas = series.headers.map((h) => seedMetadataOf(h.metadata));
  const first = metas[0];
  if (!first) return null;
  const same = metas.every((m) => m && m.alpha === first.alpha && m.epsilon === first.epsilon && m.centred === first.centred && m.beta.join() === first.beta.join());
  return same ? first : null;
}

export async function runGrokking(input: GrokkingSpecInput, ctx: AnalysisContext): Promise<GrokkingResult> {
  const spec: GrokkingSpec = GrokkingSpecSchema.parse(input);
  if (spec.sweepAlpha) return runGrokkingSweep(spec, ctx, (one, c) => runGrokking(one, c));
  const watch = new Stopwatch();
  const series = await prepareSeries(spec, { testSamples: spec.testSamples });
  try {
    watch.lap('load');
    return await computeGrokking(spec, series, watch, ctx);
  } finally {
    series.dispose();
  }
}

const nulls = (n: number): (number | null)[] => Array.from({ length: n }, () => null);
const finite = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : v);

async function computeGrokking(spec: GrokkingSpec, series: PreparedSeries, watch: Stopwatch, ctx: AnalysisContext): Promise<GrokkingResult> {
  const { headers, train, test } = series;
  const T = headers.length;
  const steps = headers.map((h) => h.step);
  const C = train.outputUnits;
  const classification = train.classification;
  const kind = series.outputKind;
  const seed = seedModelOf(series);
  if (!test) ctx.log('warn', `${path.basename(spec.data)} has no test split (x_test, y_test): test loss and the grokking delay are not available`);

  let probe: { objective: Objective; Y: Float64Array } | null = null;
  if (spec.probe > 0) {
    const { objective, split } = series.subset(spec.probe, spec.seed);
    const indices = series.classIndexLabels;
    probe = { objective, Y: labelMatrix(split.y, objective.sampleCount, C, indices) };
  }
  const sharpObj = spec.sharpness ? series.subset(spec.sharpnessSamples, spec.seed + 17).objective : null;

  const payload: GrokkingPayload = {
    steps,
    checkpoints: headers.map((h) => ({ path: h.path, sha256: '', step: h.step, stepSource: h.stepSource })),
    checkpointsDone: 0,
    trainLoss: nulls(T),
    testLoss: nulls(T),
    trainAccuracy: classification ? nulls(T) : null,
    testAccuracy: classification ? nulls(T) : null,
    paramNorm: nulls(T),
    paramDistance: nulls(T),
    layers: [],
    ntkAlignment: nulls(T),
    ntkMovement: nulls(T),
    ntkDistance: nulls(T),
    ntkEffectiveRank: nulls(T),
    ntkTrace: nulls(T),
    trajectoryKL: kind === 'none' ? null : nulls(T),
    outputChange: nulls(T),
    sharpness:
      spec.sharpness && sharpObj
        ? { operator: spec.sharpness, product: spec.sharpness === 'hessian' ? spec.hv : undefined, samples: sharpObj.sampleCount, lambdaMax: nulls(T), twoOverEta: spec.learningRate ? 2 / spec.learningRate : null }
        : null,
    events: [],
    grokkingDelay: null,
    probe: { size: probe?.objective.sampleCount ?? 0, seed: spec.seed, outputs: C, method: null },
    seedModel: seed
      ? { alpha: seed.alpha, epsilon: seed.epsilon, centred: seed.centred, inputDim: seed.inputDim, width: seed.width, mNorm2: nulls(T), trM: nulls(T), trM2: nulls(T), betaMBeta: nulls(T), predictedTestLoss: nulls(T) }
      : null,
    sweep: null,
  };

  const out = path.resolve(spec.out);
  const { out: _out, ...options } = spec;
  const updateEvents = (): void => {
    const fallback = defaultLossThreshold(payload.trainLoss);
    if (fallback === null && spec.trainLossBelow === undefined) return;
    const { events, delay } = detectGrokkingEvents(payload, {
      trainLossBelow: spec.trainLossBelow ?? fallback!,
      testLossBelow: spec.testLossBelow ?? spec.trainLossBelow ?? fallback!,
      trainAccuracyAbove: spec.trainAccuracyAbove,
      testAccuracyAbove: spec.testAccuracyAbove,
    });
    payload.events = events;
    payload.grokkingDelay = delay;
  };
  const snapshot = (complete: boolean, status?: string): GrokkingResult => ({
    schema: SCHEMA_ID,
    kind: 'grokking',
    complete,
    status,
    backend: engineInfo().backend,
    provenance: seriesProvenance(spec, series, watch, complete),
    options,
    definitions: GROKKING_DEFINITIONS,
    result: payload,
  });
  let theta0: Float32Array | null = null;
  let K0: Float64Array | null = null;
  const recentOutputs: Float32Array[] = [];
  const t0 = performance.now();
  try {
    writeResult(out, snapshot(false, 'running'));
    for (let i = 0; i < T; i++) {
      await checkpoint(ctx.stop);
      const theta = await series.load(i);
      payload.checkpoints[i].sha256 = series.hashes[i] ?? '';
      theta0 ??= theta;
      watch.lap('load');

      const e = await train.evaluate(undefined, classification);
      payload.trainLoss[i] = finite(e.loss);
      if (payload.trainAccuracy) payload.trainAccuracy[i] = e.accuracy;
      if (test) {
        const et = await test.evaluate(undefined, classification);
        payload.testLoss[i] = finite(et.loss);
        if (payload.testAccuracy) payload.testAccuracy[i] = et.accuracy;
      }
      const norms = normStats(theta, theta0, train.groups);
      payload.paramNorm[i] = norms.norm;
      payload.paramDistance[i] = norms.distance;
      if (payload.layers.length === 0) payload.layers = norms.layers.map((l) => ({ name: l.name, parameters: l.parameters, norm: nulls(T), distance: nulls(T) }));
      norms.layers.forEach((l, k) => {
        payload.layers[k].norm[i] = l.norm;
        payload.layers[k].distance[i] = l.distance;
      });
      watch.lap('losses');

      await checkpoint(ctx.stop);
      const outputs = (await train.outputs()).data;
      recentOutputs.push(outputs);
      if (recentOutputs.length > spec.lag + 1) recentOutputs.shift();
      if (recentOutputs.length === spec.lag + 1) {
        const prev = recentOutputs[0];
        payload.outputChange[i] = finite(outputChange(prev, outputs, train.sampleCount));
        if (payload.trajectoryKL) payload.trajectoryKL[i] = finite(trajectoryKL(prev, outputs, train.sampleCount, C, kind, spec.temperature));
      }
      watch.lap('outputs');

      if (probe) {
        await checkpoint(ctx.stop);
        const { K, n, method } = await probe.objective.ntk();
        payload.probe.method = method;
        K0 ??= K;
        payload.ntkAlignment[i] = finite(kernelAlignment(K, n, probe.Y, C));
        payload.ntkMovement[i] = finite(kernelMovement(K0, K));
        payload.ntkDistance[i] = finite(kernelDistance(K0, K));
        payload.ntkEffectiveRank[i] = finite(effectiveRank(K, n));
        payload.ntkTrace[i] = finite(kernelTrace(K, n));
        watch.lap('ntk');
      }

      const kernels = seed && payload.seedModel ? series.seedKernels(seed.centred) : null;
      if (seed && payload.seedModel && kernels) {
        const { W, W0 } = kernels;
        const s = seedStatistics(seed, seed.beta, W, W0);
        const sm: SeedModelStats = payload.seedModel;
        sm.mNorm2[i] = s.mNorm2;
        sm.trM[i] = s.trM;
        sm.trM2[i] = s.trM2;
        sm.betaMBeta[i] = s.betaMBeta;
        sm.predictedTestLoss[i] = finite(s.predictedTestLoss);
        watch.lap('seedModel');
      }

      if (sharpObj && payload.sharpness) {
        await checkpoint(ctx.stop);
        const curv = sharpObj.curvature(payload.sharpness.operator === 'hessian' ? 'hessian' : 'ggn', { theta, hv: spec.hv });
        if (payload.sharpness.operator === 'hessian') payload.sharpness.product = curv.fd ? 'finite-difference' : 'exact';
        try {
          const r = await lanczosEigs(curv.op, { k: 1, which: 'largest', rng: new Rng(spec.seed + 31), stop: ctx.stop });
          payload.sharpness.lambdaMax[i] = finite(r.eigenvalues[0]);
        } finally {
          curv.dispose();
        }
        watch.lap('sharpness');
      }

      payload.checkpointsDone = i + 1;
      updateEvents();
      const partial = snapshot(false, 'running');
      writeResult(out, partial);
      const perCheckpoint = (performance.now() - t0) / 1000 / (i + 1);
      ctx.progress((i + 1) / T, `checkpoint ${i + 1}/${T} (step ${steps[i]}) · ${perCheckpoint.toFixed(2)} s per checkpoint`, partial);
    }
  } catch (err) {
    const done = payload.checkpointsDone;
    const reason = err instanceof CancelledError ? `cancelled after ${done} of ${T} checkpoints` : `failed after ${done} of ${T} checkpoints: ${(err as Error).message}`;
    writeResult(out, snapshot(false, reason));
    throw err;
  } finally {
    probe?.objective.dispose();
    sharpObj?.dispose();
  }
  const result = snapshot(true);
  writeResult(out, result);
  return result;
}
