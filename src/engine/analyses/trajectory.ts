import path from 'node:path';
import { InputError } from '../../shared/errors';
import { SCHEMA_ID, type ResultOf } from '../../shared/result';
import type { DirectionsInfo, Landscape1D, Landscape2D } from '../../shared/results/landscape';
import type { TrajectoryInfo } from '../../shared/results/trajectory';
import { TrajectorySpecSchema, type TrajectorySpec, type TrajectorySpecInput } from '../../shared/specs/trajectory';
import { checkpoint, type AnalysisContext } from '../analysisContext';
import { linspace } from '../directions';
import { Stopwatch } from '../provenance';
import { evaluateGrid } from '../landscapeGrid';
import { checkResumeInputs, continuePayload, readPartialLandscape, type PartialLandscape } from '../resumeGrid';
import { SidecarWriter, freshSidecarPath, writeResult } from '../resultWriter';
import { lineThrough, planeThrough, projectOnto, trajectoryPca, type PlaneProjection } from '../trajectory/pca';
import { prepareSeries, seriesProvenance, type PreparedSeries } from '../trajectory/series';

type LandscapeResult = ResultOf<'landscape'>;

export const TRAJECTORY_DEFINITIONS: Record<string, string> = {
  pca: 'PCA plane (Li et al. 2018, §6): the first two principal components d₁, d₂ (unit vectors) of the rows θ_t − θ_final, rows centred by their mean as scikit-learn does; f(x, y) = L(θ_final + x·d₁ + y·d₂); a checkpoint’s point is (⟨θ_t − θ_final, d₁⟩, ⟨θ_t − θ_final, d₂⟩); explainedVariance = λₖ/Σλ of the centred rows.',
  line: 'f(t) = L(θ_from + t(θ_to − θ_from)): θ_from at t = 0, θ_to at t = 1.',
  plane: 'Plane through three checkpoints a, b, c with origin θ_a: d₁ = (θ_b − θ_a)/‖θ_b − θ_a‖, d₂ the unit part of θ_c − θ_a orthogonal to d₁; f(x, y) = L(θ_a + x·d₁ + y·d₂); every checkpoint is drawn at its projection.',
  offPlane: 'trajectory.offPlane: ‖θ_t − centre − Σₖ cₖdₖ‖, the part of the checkpoint the plane (line) does not show, in parameter units; trajectory.distance: ‖θ_t − centre‖.',
  state: 'Non-trainable weights (e.g. batch-norm statistics) are those of the centre checkpoint (θ_final, θ_a or θ_from) at every grid point.',
  sidecar: 'center and vectors index float32 arrays in the .losscape.bin sidecar (offset and length in elements, little-endian): any point is centre + Σ cᵢ dᵢ computed in float64 and rounded to float32.',
};

export async function runTrajectory(input: TrajectorySpecInput, ctx: AnalysisContext): Promise<LandscapeResult> {
  const spec: TrajectorySpec = TrajectorySpecSchema.parse(input);
  const watch = new Stopwatch();
  const partial = spec.resume !== undefined ? readPartialLandscape(spec.resume, 'trajectory') : null;
  const series = await prepareSeries(spec, { stop: ctx.stop });
  try {
    watch.lap('load');
    return await computeTrajectory(spec, series, watch, ctx, partial);
  } finally {
    series.dispose();
  }
}

function indexOfStep(series: PreparedSeries, step: number, option: string): number {
  const i = series.headers.findIndex((h) => h.step === step);
  if (i < 0) throw new InputError(option, `no checkpoint has step ${step} (steps: ${series.headers.map((h) => h.step).join(', ')})`);
  return i;
}

/** A range covering the values and 0 (the centre), widened by `margin` of its span on each side. */
function coverRange(values: number[], margin: number): [number, number] {
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  const span = hi - lo || Math.max(Math.abs(hi), 1);
  return [lo - margin * span, hi + margin * span];
}

async function computeTrajectory(spec: TrajectorySpec, series: PreparedSeries, watch: Stopwatch, ctx: AnalysisContext, partial: PartialLandscape | null): Promise<LandscapeResult> {
  const { headers, train } = series;
  const T = headers.length;
  const need = spec.mode === 'line' ? 2 : 3;
  if (T < need) throw new InputError(String(spec.checkpoints), `names ${T} checkpoint${T === 1 ? '' : 's'}; the ${spec.mode} mode needs at least ${need}`);
  const thetas: Float32Array[] = [];
  for (let i = 0; i < T; i++) {
    await checkpoint(ctx.stop);
    thetas.push(await series.load(i));
  }
  watch.lap('load');

  let centreIndex: number;
  let proj: PlaneProjection;
  let explained: [number, number] | null = null;
  let anchors: number[];
  let endpoints: { from: string; to: string } | undefined;
  // Checkpoints that coincide (or lie on a line, for a plane) span no direction: that is the
  // series' fault, said in one line naming it, not an internal error.
  const degenerate = <R>(f: () => R): R => {
    try {
      return f();
    } catch (e) {
      const m = /^(?:trajectoryPca|lineThrough|planeThrough): (.*)$/.exec((e as Error)?.message ?? '');
      if (m) throw new InputError(Array.isArray(spec.checkpoints) ? spec.checkpoints.join(', ') : spec.checkpoints, `${m[1]}: the ${spec.mode} mode needs checkpoints that differ`);
      throw e;
    }
  };
  if (spec.mode === 'pca') {
    centreIndex = T - 1;
    const pca = degenerate(() => trajectoryPca(thetas, thetas[centreIndex]));
    proj = pca;
    explained = pca.explainedVariance;
    anchors = [headers[centreIndex].step];
  } else if (spec.mode === 'line') {
    const a = spec.from !== undefined ? indexOfStep(series, spec.from, '--from') : 0;
    const b = spec.to !== undefined ? indexOfStep(series, spec.to, '--to') : T - 1;
    if (a === b) throw new InputError('--to', 'must name another checkpoint than --from');
    centreIndex = a;
    // The line's direction is θ_to − θ_from itself (not a unit vector), so t = 1 is θ_to.
    const u = degenerate(() => lineThrough(thetas[a], thetas[b]));
    proj = projectOnto(thetas, thetas[a], [u]);
    anchors = [headers[a].step, headers[b].step];
    endpoints = { from: headers[a].path, to: headers[b].path };
  } else {
    const through = spec.through ?? [headers[0].step, headers[Math.floor((T - 1) / 2)].step, headers[T - 1].step];
    const [a, b, c] = through.map((s) => indexOfStep(series, s, '--through'));
    if (new Set([a, b, c]).size < 3) throw new InputError('--through', 'must name three different checkpoints');
    centreIndex = a;
    proj = projectOnto(thetas, thetas[a], degenerate(() => planeThrough(thetas[a], thetas[b], thetas[c])));
    anchors = [headers[a].step, headers[b].step, headers[c].step];
  }
  watch.lap('directions');

  // The grid is evaluated with the centre checkpoint's non-trainable state.
  await series.load(centreIndex);
  const centre = thetas[centreIndex];
  const out = path.resolve(spec.out);
  const { out: _out, resume: _resume, ...options } = spec;
  const snapshotOf =
    (payload: Landscape1D | Landscape2D) =>
    (complete: boolean, status?: string): LandscapeResult => ({
      schema: SCHEMA_ID,
      kind: 'landscape',
      complete,
      status,
      backend: train.backend.name,
      provenance: seriesProvenance(spec, series, watch, complete),
      options,
      definitions: TRAJECTORY_DEFINITIONS,
      result: payload,
    });
  if (partial) {
    // The series is loaded (its hash is the model's identity) and the centre checkpoint's state
    // is in the model; grid, centre and directions are the partial's.
    checkResumeInputs(partial, seriesProvenance(spec, series, watch, false), options);
    const payload = continuePayload(partial, out);
    const snapshot = snapshotOf(payload);
    writeResult(out, snapshot(false, 'running'));
    return evaluateGrid({ objective: train, centre: partial.centre, dirs: partial.dirs, payload, withAccuracy: payload.accuracy !== null, out, snapshot, watch, ctx });
  }
  const sidecar = new SidecarWriter(freshSidecarPath(out));
  let dirs: Float32Array[];
  if (spec.mode === 'line') {
    const to = thetas[headers.findIndex((h) => h.step === anchors[1])];
    const d = new Float32Array(centre.length);
    for (let k = 0; k < d.length; k++) d[k] = to[k] - centre[k];
    dirs = [d];
  } else {
    dirs = proj.directions.map((v) => Float32Array.from(v));
  }
  const norms = dirs.map((d) => Math.sqrt(d.reduce((s, v) => s + v * v, 0)));
  const stepsList = headers.map((h) => h.step);
  const note =
    spec.mode === 'pca'
      ? `PCA of θ_t − θ_final over ${T} checkpoints: explained variance ${(100 * explained![0]).toFixed(1)} % and ${(100 * explained![1]).toFixed(1)} %; unit directions over all parameters`
      : spec.mode === 'plane'
        ? `plane through steps ${anchors.join(', ')} (origin at step ${anchors[0]}); unit directions over all parameters`
        : `line from step ${anchors[0]} to step ${anchors[1]}`;
  const directions: DirectionsInfo = {
    kind: spec.mode === 'pca' ? 'pca' : spec.mode === 'plane' ? 'plane' : 'interpolation',
    norm: 'none',
    bias: 'keep',
    seed: spec.seed,
    cosine: dirs.length === 2 ? 0 : null,
    norms,
    center: sidecar.add(centre),
    vectors: dirs.map((d) => sidecar.add(d)),
    note,
  };
  sidecar.write();
  const trajectory: TrajectoryInfo = {
    mode: spec.mode,
    steps: stepsList,
    checkpoints: headers.map((h) => h.path),
    explainedVariance: explained,
    offPlane: proj.offPlane,
    distance: proj.distance,
    anchors,
  };

  const withAccRequested = spec.accuracy;
  const centreEval = await train.evaluate(centre, withAccRequested);
  const withAcc = withAccRequested && centreEval.accuracy !== null;
  let payload: Landscape1D | Landscape2D;
  let xs: number[];
  let ys: number[] = [0];
  if (spec.mode === 'line') {
    const range = spec.range ?? [-0.5, 1.5];
    if (!(range[0] < range[1])) throw new InputError('--range', `must be increasing, got ${range[0]},${range[1]}`);
    xs = linspace(range[0], range[1], spec.points ?? 51);
    payload = {
      dims: 1,
      t: xs,
      loss: xs.map(() => null),
      accuracy: withAcc ? xs.map(() => null) : null,
      pointsDone: 0,
      centerLoss: centreEval.loss,
      centerAccuracy: centreEval.accuracy,
      directions,
      endpoints,
      trajectory,
    };
  } else {
    const points = spec.points ?? 21;
    const [x0, x1] = coverRange(proj.coords.map((c) => c[0]), spec.margin);
    const [y0, y1] = coverRange(proj.coords.map((c) => c[1]), spec.margin);
    xs = linspace(x0, x1, points);
    ys = linspace(y0, y1, points);
    payload = {
      dims: 2,
      x: xs,
      y: ys,
      loss: ys.map(() => xs.map(() => null)),
      accuracy: withAcc ? ys.map(() => xs.map(() => null)) : null,
      rowsDone: 0,
      centerLoss: centreEval.loss,
      centerAccuracy: centreEval.accuracy,
      directions,
      path: proj.coords.map((c, i) => ({ label: `step ${headers[i].step}`, x: c[0], y: c[1] })),
      trajectory,
    };
  }

  const snapshot = snapshotOf(payload);
  writeResult(out, snapshot(false, 'running'));
  return evaluateGrid({ objective: train, centre, dirs, payload, withAccuracy: withAcc, out, snapshot, watch, ctx });
}
