import path from 'node:path';
import { CancelledError, InputError } from '../../shared/errors';
import { SCHEMA_ID, type ResultOf } from '../../shared/result';
import type { SharpnessPayload } from '../../shared/results/sharpness';
import { SharpnessSpecSchema, type SharpnessSpec, type SharpnessSpecInput } from '../../shared/specs/sharpness';
import type { AnalysisContext } from '../analysisContext';
import { assertFiniteStart, vectorMegabytes } from '../curvature/guard';
import { asamScaling, averageCase, ballAscent, boxAscent, randomSubspace, type SharpnessContext } from '../curvature/sharpness';
import { withPreparedInputs, type PreparedInputs } from '../inputs';
import { Rng } from '../linalg/rng';
import { makeProvenance, type Stopwatch } from '../provenance';
import { writeResult } from '../resultWriter';
import { engineInfo } from '../runtime';

type SharpnessResult = ResultOf<'sharpness'>;

export const SHARPNESS_DEFINITIONS: Record<string, string> = {
  loss: 'L(θ): the mean loss over the samples used, at the model’s parameters θ. Every sharpness value is a loss increase over it (not a ratio), except Keskar’s φ.',
  sam: 'SAM ρ-sharpness max_{‖ε‖₂≤ρ} L(θ+ε) − L(θ) (Foret et al. 2021). firstOrder: at SAM’s ε̂ = ρ·g/‖g‖, g = ∇L(θ). ascent: the largest increase seen over ε̂ and `steps` projected normalised-gradient-ascent steps ε ← Π(ε + (ρ/(2√t))·∇L(θ+ε)/‖∇L(θ+ε)‖) — a lower bound on the maximum, ≥ firstOrder.',
  asam: 'adaptive sharpness (ASAM, Kwon et al. 2021): the same maximum over ‖T⁻¹ε‖₂ ≤ ρ with T = diag(|θ|) + η (applied to every parameter, biases included); firstOrder at ε̂ = ρ·T²g/‖Tg‖, ascent as for SAM in the variable δ = T⁻¹ε.',
  keskar: 'Keskar et al. 2017 ε-sharpness φ = 100·(max_{z∈C} L(θ+Az) − L(θ))/(1 + L(θ)), C = {|zᵢ| ≤ ε(|(A⁺θ)ᵢ| + 1)}, A = I or a random d×p matrix with orthonormal columns (subspace = p). Maximised by projected signed-gradient ascent from the first-order corner (the paper: L-BFGS-B, 10 iterations); increase is the numerator.',
  averageCase: 'average-case sharpness E_u L(θ+σu) − L(θ), u ~ N(0, I_d): mean of `samples` Monte Carlo draws with its standard error; radius = σ·√d ≈ E‖σu‖.',
};

export async function runSharpness(input: SharpnessSpecInput, ctx: AnalysisContext): Promise<SharpnessResult> {
  const spec: SharpnessSpec = SharpnessSpecSchema.parse(input);
  return withPreparedInputs(spec, (prepared, watch) => computeSharpness(spec, prepared, watch, ctx));
}

async function computeSharpness(spec: SharpnessSpec, prepared: PreparedInputs, watch: Stopwatch, ctx: AnalysisContext): Promise<SharpnessResult> {
  const obj = prepared.objective;
  const d = obj.dim;
  if (spec.subspace !== undefined) {
    if (spec.subspace > d) throw new InputError('--subspace', `p = ${spec.subspace} exceeds the ${d} parameters of the model`);
    if (vectorMegabytes(spec.subspace, d) > 4096) throw new InputError('--subspace', `p = ${spec.subspace} columns of ${d} parameters exceed 4096 MB`);
  }
  const theta = obj.theta0;
  const start = await obj.evaluate(theta);
  const { loss, grad } = await obj.grad(theta);
  assertFiniteStart(spec, prepared, loss, grad);
  watch.lap('start');
  const base = start.loss;
  const sigmas = spec.sigma ?? spec.rho.map((r) => r / Math.sqrt(d));

  const payload: SharpnessPayload = {
    dim: d,
    loss: base,
    accuracy: start.accuracy,
    gradientNorm: Math.sqrt(grad.reduce((a, g) => a + g * g, 0)),
    sam: [],
    asam: spec.asam ? [] : null,
    keskar: null,
    averageCase: [],
    phases: [],
  };
  const out = path.resolve(spec.out);
  const { out: _out, ...options } = spec;
  const snapshot = (complete: boolean, status?: string): SharpnessResult => ({
    schema: SCHEMA_ID,
    kind: 'sharpness',
    complete,
    status,
    backend: engineInfo().backend,
    provenance: makeProvenance(spec, prepared, watch, complete),
    options: { ...options, sigma: sigmas },
    definitions: SHARPNESS_DEFINITIONS,
    result: payload,
  });
  const save = (complete: boolean, status?: string): SharpnessResult => {
    const r = snapshot(complete, status);
    writeResult(out, r);
    return r;
  };
  save(false, 'running');

  // Progress in loss/gradient evaluations.
  const perAscent = 1 + spec.ascentSteps + (spec.ascentSteps > 0 ? 1 : 0);
  const total = spec.rho.length * perAscent + (spec.asam ? spec.asamRho.length * perAscent : 0) + (spec.keskar ? perAscent : 0) + sigmas.length * spec.averageSamples;
  let done = 0;
  let phase = 'sam';
  const c: SharpnessContext = {
    obj,
    theta,
    base,
    grad,
    steps: spec.ascentSteps,
    stop: ctx.stop,
    onEvaluation: () => {
      done++;
      ctx.progress(Math.min(0.99, done / Math.max(1, total)), `${phase}: ${done}/${total} evaluations`);
    },
  };
  const step = (name: string): void => {
    watch.lap(name);
    const partial = save(false, 'running');
    ctx.progress(Math.min(0.99, done / Math.max(1, total)), name, partial);
  };

  try {
    for (const rho of spec.rho) {
      const r = await ballAscent(c, rho, null);
      payload.sam.push({ rho, ...r });
      step('sam');
    }
    payload.phases.push('sam');
    if (spec.asam) {
      phase = 'asam';
      const T = asamScaling(theta, spec.eta);
      for (const rho of spec.asamRho) {
        const r = await ballAscent(c, rho, T);
        payload.asam!.push({ rho, eta: spec.eta, ...r });
        step('asam');
      }
      payload.phases.push('asam');
    }
    if (spec.keskar) {
      phase = 'keskar';
      const A = spec.subspace !== undefined ? randomSubspace(d, spec.subspace, new Rng(spec.seed + 101)) : null;
      const r = await boxAscent(c, spec.epsilon, A);
      payload.keskar = {
        epsilon: spec.epsilon,
        subspace: spec.subspace ?? null,
        steps: r.steps,
        increase: r.ascent,
        value: (100 * r.ascent) / (1 + base),
      };
      payload.phases.push('keskar');
      step('keskar');
    }
    if (spec.averageSamples > 0) {
      phase = 'averageCase';
      const rng = new Rng(spec.seed + 202);
      for (const sigma of sigmas) {
        const r = await averageCase(c, sigma, spec.averageSamples, rng);
        payload.averageCase.push({ sigma, radius: sigma * Math.sqrt(d), mean: r.mean, stderr: r.stderr, samples: spec.averageSamples, values: r.values });
        step('averageCase');
      }
      payload.phases.push('averageCase');
    }
  } catch (err) {
    const reason = err instanceof CancelledError ? `cancelled during ${phase} after ${done} evaluations` : `failed during ${phase} after ${done} evaluations: ${(err as Error).message}`;
    watch.lap(phase);
    save(false, reason);
    throw err;
  } finally {
    await obj.setParams(theta);
  }
  const result = save(true);
  ctx.progress(1, 'done', result);
  return result;
}
