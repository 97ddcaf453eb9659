import path from 'node:path';
import { CancelledError, InputError } from '../../shared/errors';
import { builtinLoss } from '../../shared/lossNames';
import { EPISODE_LOSSES, formatLossChoice } from '../../shared/lossParams';
import { SCHEMA_ID, type ResultOf } from '../../shared/result';
import type { LossComparisonEntry, LossComparisonPayload } from '../../shared/results/lossComparison';
import type { Inputs } from '../../shared/specs/common';
import { LossComparisonSpecSchema, type LossComparisonSpec, type LossComparisonSpecInput } from '../../shared/specs/lossComparison';
import { checkpoint, type AnalysisContext } from '../analysisContext';
import { ballAscent } from '../curvature/sharpness';
import { cosine, linspace, norm2, pointOnPlane, randomDirection } from '../directions';
import { prepareInputs, type PreparedInputs } from '../inputs';
import { hutchinsonTrace } from '../linalg/hutchinson';
import { lanczosEigs } from '../linalg/lanczos';
import { Rng } from '../linalg/rng';
import { makeProvenance, Stopwatch } from '../provenance';
import { SidecarWriter, freshSidecarPath, writeResult } from '../resultWriter';
import { engineInfo } from '../runtime';

type LossComparisonResult = ResultOf<'loss-comparison'>;

export const LOSS_COMPARISON_DEFINITIONS: Record<string, string> = {
  comparison: 'The same model, data, samples and seed under each loss; the same directions δ, η (made once from θ), the same Lanczos start and the same Hutchinson probes for every loss.',
  loss: 'L(θ): the mean loss over the samples used (batch-level losses: the sample-weighted mean over fixed seeded batches; episode losses: the mean over the fixed seeded episodes, provenance.loss.episodes).',
  gradNorm: '‖∇L(θ)‖₂.',
  eigenvalues: 'Top-k eigenvalues of the Hessian ∇²L(θ) by Lanczos with full reorthogonalisation, descending, with residuals ‖Hv − λv‖₂.',
  trace: 'Hutchinson estimate of tr ∇²L(θ) with Rademacher probes, ± its standard error (sample standard deviation / √probes).',
  sam: 'SAM ρ-sharpness max_{‖ε‖₂≤ρ} L(θ+ε) − L(θ): firstOrder at ε̂ = ρ∇L/‖∇L‖, ascent the best of ε̂ and `steps` projected ascent steps (Foret et al. 2021).',
  landscape1d: 'f(t) = L(θ + tδ) on t.',
  landscape2d: 'f(α, β) = L(θ + αδ + βη), α along x, β along y, one row per y (Li et al. 2018, filter-normalised directions unless norm says otherwise).',
  relative: 'Every quantity divided by the loss at θ, L(θ) (losses differ in scale): relative landscapes are f/L(θ) (1 at θ), relative curvature and sharpness are value/L(θ).',
};

export async function runLossComparison(input: LossComparisonSpecInput, ctx: AnalysisContext): Promise<LossComparisonResult> {
  const spec: LossComparisonSpec = LossComparisonSpecSchema.parse(input);
  const watch = new Stopwatch();
  const inputsFor = (i: number): Inputs => {
    const { kind: _k, losses, top: _t, maxIter: _i, probes: _p, rho: _r, ascentSteps: _a, points1d: _1, points2d: _2, range: _g, norm: _n, bias: _b, ...inputs } = spec;
    // --episode shapes the episode losses of the list; the others see the data as given.
    const episodic = EPISODE_LOSSES.has(builtinLoss(losses[i].name)?.name ?? 'mse');
    return { ...inputs, loss: losses[i].name, lossParams: losses[i].params, episode: episodic ? inputs.episode : undefined };
  };
  // Every loss is resolved (names, parameters, batch sizes) before any work starts: a bad one is
  // one line, at once, naming --losses for a bad name or parameter.
  const prepare = async (i: number): Promise<PreparedInputs> => {
    try {
      return await prepareInputs(inputsFor(i));
    } catch (err) {
      if (err instanceof InputError && (err.source === '--loss-param' || err.source === '--loss')) {
        throw new InputError('--losses', `${formatLossChoice(spec.losses[i].name, spec.losses[i].params)}: ${err.message.slice(err.source.length + 2)}`);
      }
      throw err;
    }
  };
  const prepared: (PreparedInputs | null)[] = [await prepare(0)];
  try {
    for (let i = 1; i < spec.losses.length; i++) prepared.push(await prepare(i));
    watch.lap('load');
    return await compare(spec, prepared as PreparedInputs[], watch, ctx);
  } finally {
    for (const p of prepared) p?.dispose();
  }
}

function relativeTo(base: number, v: number): number {
  return base === 0 ? (v === 0 ? 0 : Number.POSITIVE_INFINITY) : v / base;
}

async function compare(spec: LossComparisonSpec, prepared: PreparedInputs[], watch: Stopwatch, ctx: AnalysisContext): Promise<LossComparisonResult> {
  const first = prepared[0].objective;
  const theta = first.theta0;
  const rng = new Rng(spec.seed);
  const dirs = [0, 1].map(() => randomDirection(theta, first.groups, rng, spec.norm, spec.bias));
  const out = path.resolve(spec.out);
  const sidecar = new SidecarWriter(freshSidecarPath(out));
  const directions = {
    kind: 'random' as const,
    norm: spec.norm,
    bias: spec.bias,
    seed: spec.seed,
    cosine: cosine(dirs[0], dirs[1]),
    norms: dirs.map((d) => norm2(d)),
    center: sidecar.add(theta),
    vectors: dirs.map((d) => sidecar.add(d)),
  };
  sidecar.write();
  watch.lap('directions');

  const t = linspace(spec.range[0], spec.range[1], spec.points1d);
  const xy = linspace(spec.range[0], spec.range[1], spec.points2d);
  const given = spec.losses.map((l) => formatLossChoice(l.name, l.params));
  const payload: LossComparisonPayload = { losses: [], lossesRequested: given, t, x: xy, y: xy, directions, dim: first.dim };
  const definitions: Record<string, string> = { ...LOSS_COMPARISON_DEFINITIONS };
  prepared.forEach((p, i) => {
    if (p.lossInfo.definition) definitions[`loss ${given[i]}`] = p.lossInfo.definition;
  });
  const { out: _out, ...options } = spec;
  const snapshot = (complete: boolean, status?: string): LossComparisonResult => ({
    schema: SCHEMA_ID,
    kind: 'loss-comparison',
    complete,
    status,
    backend: engineInfo().backend,
    provenance: {
      ...makeProvenance({ ...spec, loss: given.join(',') }, prepared[0], watch, complete),
      loss: { name: `comparison of ${given.join(', ')}`, origin: 'option' },
    },
    options,
    definitions,
    result: payload,
  });
  writeResult(out, snapshot(false, 'running'));

  // Evaluations per loss: the 1D and 2D grids, plus (roughly) the curvature and ascent work.
  const perLoss = spec.points1d + spec.points2d ** 2;
  const total = perLoss * prepared.length;
  let done = 0;
  try {
    for (let i = 0; i < prepared.length; i++) {
      const s0 = performance.now();
      const p = prepared[i];
      const obj = p.objective;
      const centre = await obj.evaluate(theta);
      const { grad } = await obj.grad(theta);
      const gradNorm = Math.sqrt(grad.reduce((a, g) => a + g * g, 0));
      ctx.progress(done / total, `${given[i]}: Hessian eigenvalues and trace`);
      const curv = obj.curvature('hessian');
      let eig;
      let trace;
      try {
        // The same seeded start vector and probes for every loss.
        eig = await lanczosEigs(curv.op, { k: spec.top, ...(spec.maxIter ? { maxIter: spec.maxIter } : {}), rng: new Rng((spec.seed * 7919 + 1) >>> 0), stop: ctx.stop });
        trace = await hutchinsonTrace(curv.op, { probes: spec.probes, rng: new Rng((spec.seed * 7919 + 2) >>> 0), stop: ctx.stop });
      } finally {
        curv.dispose();
      }
      const sam = await ballAscent({ obj, theta, base: centre.loss, grad, steps: spec.ascentSteps, stop: ctx.stop }, spec.rho, null);
      const line: (number | null)[] = [];
      for (const c of t) {
        await checkpoint(ctx.stop);
        line.push(await obj.loss(pointOnPlane(theta, [dirs[0]], [c])));
        done++;
      }
      ctx.progress(done / total, `${given[i]}: 2D landscape`);
      const grid: (number | null)[][] = [];
      for (const b of xy) {
        const row: (number | null)[] = [];
        for (const a of xy) {
          await checkpoint(ctx.stop);
          row.push(await obj.loss(pointOnPlane(theta, dirs, [a, b])));
          done++;
        }
        grid.push(row);
      }
      obj.reset();
      const base = centre.loss;
      const rel = (v: number): number => relativeTo(base, v);
      const relOrNull = (v: number | null): number | null => (v === null ? null : rel(v));
      const entry: LossComparisonEntry = {
        name: p.lossInfo.name,
        given: given[i],
        params: p.lossInfo.params ?? {},
        lossInfo: p.lossInfo,
        loss: base,
        accuracy: centre.accuracy,
        gradNorm,
        eigenvalues: eig.eigenvalues,
        residuals: eig.residuals,
        converged: eig.converged,
        trace: { estimate: trace.estimate, stderr: trace.stderr, probes: trace.probes },
        sam: { rho: spec.rho, firstOrder: sam.firstOrder, ascent: sam.ascent, steps: sam.steps },
        landscape1d: line,
        landscape2d: grid,
        relative: {
          gradNorm: rel(gradNorm),
          eigenvalues: eig.eigenvalues.map(rel),
          trace: { estimate: rel(trace.estimate), stderr: Math.abs(rel(trace.stderr)) },
          sam: { firstOrder: rel(sam.firstOrder), ascent: rel(sam.ascent) },
          landscape1d: line.map(relOrNull),
          landscape2d: grid.map((r) => r.map(relOrNull)),
        },
        operator: curv.description,
        seconds: (performance.now() - s0) / 1000,
      };
      payload.losses.push(entry);
      watch.lap(`loss ${given[i]}`);
      const partial = snapshot(false, 'running');
      writeResult(out, partial);
      ctx.progress(done / total, `${given[i]} done`, partial);
    }
  } catch (err) {
    const status = err instanceof CancelledError ? 'cancelled' : `failed: ${(err as Error).message}`;
    writeResult(out, snapshot(false, status));
    throw err;
  }
  const result = snapshot(true);
  writeResult(out, result);
  return result;
}
