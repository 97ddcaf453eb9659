import path from 'node:path';
import { InputError } from '../../shared/errors';
import { SCHEMA_ID, type ResultOf } from '../../shared/result';
import type { DirectionsInfo, Landscape1D, Landscape2D } from '../../shared/results/landscape';
import { LandscapeSpecSchema, type LandscapeSpec, type LandscapeSpecInput } from '../../shared/specs/landscape';
import type { AnalysisContext } from '../analysisContext';
import { cosine, linspace, norm2, randomDirection } from '../directions';
import { startPlaneHelper, withPreparedInputs, type PreparedInputs } from '../inputs';
import { hessianDirections } from '../curvature/hessianDirections';
import { Rng } from '../linalg/rng';
import { makeProvenance, type Stopwatch } from '../provenance';
import { evaluateGrid } from '../landscapeGrid';
import { SidecarWriter, freshSidecarPath, writeResult } from '../resultWriter';
import type { PlaneHelper } from '../planeHelper';
import { checkResumeInputs, continuePayload, readPartialLandscape, type PartialLandscape } from '../resumeGrid';

function sameVector(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

type LandscapeResult = ResultOf<'landscape'>;

export const LANDSCAPE_DEFINITIONS: Record<string, string> = {
  landscape2d: 'f(α, β) = L(θ + αδ + βη): mean loss over the samples used, θ the model parameters, δ and η the directions (Li et al. 2018).',
  landscape1d: 'f(t) = L(θ + tδ).',
  line: 'f(t) = L(θ₁ + t(θ₂ − θ₁)): θ₁ at t = 0, θ₂ at t = 1.',
  filter: 'filter normalisation: each output filter/neuron of δ is rescaled to the norm of the same filter of θ.',
  layer: 'layer normalisation: each parameter tensor of δ is rescaled to the norm of the same tensor of θ.',
  bias: "biases and normalisation parameters (rank ≤ 1): 'zero' sets them to 0 in δ; 'keep' sets them to θ's values (loss-landscape's behaviour without ignore=biasbn).",
  sidecar: 'center and vectors index float32 arrays in the .losscape.bin sidecar (offset and length in elements, little-endian): any point is θ + Σ cᵢ dᵢ computed in float64 and rounded to float32.',
};

/** Builds the directions, then evaluates the grid row by row, writing the result after each row. */
export async function runLandscape(input: LandscapeSpecInput, ctx: AnalysisContext): Promise<LandscapeResult> {
  const spec: LandscapeSpec = LandscapeSpecSchema.parse(input);
  // A partial to resume is read (and refused) before the model is loaded.
  const partial = spec.resume !== undefined ? readPartialLandscape(spec.resume, 'landscape') : null;
  const dims = spec.to !== undefined ? 1 : spec.dims;
  // The worker thread loads its own copy of the inputs while this thread loads them and makes the directions.
  const helper = dims === 2 && (spec.points ?? 41) > 1 ? startPlaneHelper(spec, spec.threads) : null;
  try {
    return await withPreparedInputs(spec, (prepared, watch) => computeLandscape(spec, prepared, watch, ctx, partial, helper), ctx.stop);
  } finally {
    await helper?.close();
  }
}

/** θ₂ − θ₁ for the line to a second model of the same architecture. */
async function secondModelDirection(spec: LandscapeSpec, prepared: PreparedInputs): Promise<Float32Array> {
  const theta2 = await prepared.paramsOf(spec.to!);
  const theta1 = prepared.objective.theta0;
  const d = new Float32Array(theta1.length);
  for (let k = 0; k < d.length; k++) d[k] = theta2[k] - theta1[k];
  return d;
}

async function computeLandscape(
  spec: LandscapeSpec,
  prepared: PreparedInputs,
  watch: Stopwatch,
  ctx: AnalysisContext,
  partial: PartialLandscape | null,
  helper: PlaneHelper | null,
): Promise<LandscapeResult> {
  const line = spec.to !== undefined;
  const dims = line ? 1 : spec.dims;
  const points = spec.points ?? (dims === 2 ? 41 : 51);
  const range: [number, number] = spec.range ?? (line ? [-0.5, 1.5] : [-1, 1]);
  if (!(range[0] < range[1])) throw new InputError('--range', `must be increasing, got ${range[0]},${range[1]}`);

  helper?.attach?.(prepared);
  return landscapeOnPlane(spec, prepared, watch, ctx, { dims, points, range, line, helper }, partial);
}

async function landscapeOnPlane(
  spec: LandscapeSpec,
  prepared: PreparedInputs,
  watch: Stopwatch,
  ctx: AnalysisContext,
  plane: { dims: 1 | 2; points: number; range: [number, number]; line: boolean; helper: PlaneHelper | null },
  partial: PartialLandscape | null,
): Promise<LandscapeResult> {
  const { dims, points, range, line, helper } = plane;
  const obj = prepared.objective;
  const theta = obj.theta0;
  const out = path.resolve(spec.out);
  const { out: _out, resume: _resume, ...options } = spec;
  const snapshotOf =
    (payload: Landscape1D | Landscape2D) =>
    (complete: boolean, status?: string): LandscapeResult => ({
      schema: SCHEMA_ID,
      kind: 'landscape',
      complete,
      status,
      backend: obj.backend.name,
      provenance: makeProvenance(spec, prepared, watch, complete),
      options: { ...options, dims, points, range },
      definitions: LANDSCAPE_DEFINITIONS,
      result: payload,
    });
  if (partial) {
    // The grid, centre and directions are the partial's; only its missing points are evaluated.
    checkResumeInputs(partial, makeProvenance(spec, prepared, watch, false), { ...options, dims, points, range });
    if (!sameVector(partial.centre, theta)) throw new InputError(spec.model, `its parameters are not the centre recorded in ${path.basename(partial.file)}'s sidecar; refusing to resume`);
    const payload = continuePayload(partial, out);
    const withAcc = payload.accuracy !== null;
    const snapshot = snapshotOf(payload);
    writeResult(out, snapshot(false, 'running'));
    helper?.setPlane(theta, partial.dirs, withAcc);
    return evaluateGrid({ objective: obj, centre: theta, dirs: partial.dirs, payload, withAccuracy: withAcc, out, snapshot, watch, ctx, helper });
  }
  const rng = new Rng(spec.seed);
  const eigen = !line && spec.directions === 'hessian' ? await hessianDirections(obj, dims, spec.seed, ctx.stop, 1e-3, spec.hv) : null;
  const dirs: Float32Array[] = line
    ? [await secondModelDirection(spec, prepared)]
    : eigen
      ? eigen.vectors
      : Array.from({ length: dims }, () => randomDirection(theta, obj.groups, rng, spec.norm, spec.bias));
  watch.lap('directions');

  const sidecar = new SidecarWriter(freshSidecarPath(out));
  const directions: DirectionsInfo = {
    kind: line ? 'interpolation' : eigen ? 'hessian' : 'random',
    norm: line || eigen ? 'none' : spec.norm,
    bias: spec.bias,
    seed: spec.seed,
    cosine: dirs.length === 2 ? cosine(dirs[0], dirs[1]) : null,
    norms: dirs.map((d) => norm2(d)),
    center: sidecar.add(theta),
    vectors: dirs.map((d) => sidecar.add(d)),
    ...(eigen ? { note: eigen.note } : {}),
  };
  sidecar.write();

  const center = await obj.evaluate(theta, spec.accuracy);
  const coords = linspace(range[0], range[1], points);
  const withAcc = spec.accuracy && center.accuracy !== null;

  const payload: Landscape1D | Landscape2D =
    dims === 1
      ? {
          dims: 1,
          t: coords,
          loss: coords.map(() => null),
          accuracy: withAcc ? coords.map(() => null) : null,
          pointsDone: 0,
          centerLoss: center.loss,
          centerAccuracy: center.accuracy,
          directions,
          endpoints: line ? { from: path.resolve(spec.model), to: path.resolve(spec.to!) } : undefined,
        }
      : {
          dims: 2,
          x: coords,
          y: coords,
          loss: coords.map(() => coords.map(() => null)),
          accuracy: withAcc ? coords.map(() => coords.map(() => null)) : null,
          rowsDone: 0,
          centerLoss: center.loss,
          centerAccuracy: center.accuracy,
          directions,
        };

  const snapshot = snapshotOf(payload);
  writeResult(out, snapshot(false, 'running'));
  helper?.setPlane(theta, dirs, withAcc);
  return evaluateGrid({ objective: obj, centre: theta, dirs, payload, withAccuracy: withAcc, out, snapshot, watch, ctx, helper });
}
