import path from 'node:path';
import { CancelledError, InputError } from '../../shared/errors';
import { SCHEMA_ID, type ResultOf } from '../../shared/result';
import type { SaliencyPayload } from '../../shared/results/saliency';
import { SaliencySpecSchema, type SaliencySpec, type SaliencySpecInput } from '../../shared/specs/saliency';
import { checkpoint, type AnalysisContext } from '../analysisContext';
import { assertFiniteStart, vectorMegabytes } from '../curvature/guard';
import { layerRanges } from '../curvature/paramRanges';
import { withPreparedInputs, type PreparedInputs } from '../inputs';
import { MFacBlockInverse } from '../linalg/mfacBlocks';
import { spearman } from '../linalg/rankCorrelation';
import { Rng } from '../linalg/rng';
import type { Objective } from '../objective';
import { makeProvenance, type Stopwatch } from '../provenance';
import { SidecarWriter, freshSidecarPath, writeResult } from '../resultWriter';
import { engineInfo } from '../runtime';

type SaliencyResult = ResultOf<'saliency'>;

export const SALIENCY_DEFINITIONS: Record<string, string> = {
  fisher: 'F̂ = λI + (1/m) Σᵢ gᵢgᵢᵀ over m gradients gᵢ of the loss, each of one sample (gradientBatch = 1) or of the mean loss over a disjoint mini-batch, drawn by a seeded permutation of the samples used.',
  saliency: 'Optimal Brain Surgeon saliency of parameter j alone, ρⱼ = θⱼ²/(2[F̂⁻¹]ⱼⱼ): the predicted loss increase of setting θⱼ to 0 and letting the others compensate. diag(F̂⁻¹) by M-FAC (Frantar, Kurtic & Alistarh 2021): recursive Sherman–Morrison, O(d·m²) set-up.',
  blockSize: 'F̂ is block-diagonal as M-FAC’s pruner uses it (HInvFastBlock): the flat parameter vector cut into consecutive blocks of blockSize coordinates (the last holds the remainder), each with its own F̂_b = λI + (1/m) Σᵢ gᵢ,b gᵢ,bᵀ; blockSize = dim is the full form, whose saliency tends to λθ²/2 (magnitude pruning) when dim ≫ m.',
  spearmanVsMagnitude: 'Spearman’s rank correlation between the saliencies and |θ| (ties averaged), over all parameters and per layer: 1 means the OBS ranking is the magnitude ranking. thresholds[s].magnitudeOverlap: the share of the weights pruned at sparsity s that magnitude pruning at s would also prune.',
  layers: 'per layer (kernel and bias): sum, mean, median, min and max of the saliencies; pruned[s].fraction is the share of the layer’s weights at or below the global threshold of sparsity s (what global OBS magnitude pruning at that sparsity removes there).',
  thresholds: 'thresholds[s].saliency: the saliency of the ⌈s·d⌉-th least salient parameter.',
  sidecar: 'saliency and inverseDiagonal are float32 arrays in the .losscape.bin sidecar, in the objective’s parameter order.',
};

export async function runSaliency(input: SaliencySpecInput, ctx: AnalysisContext): Promise<SaliencyResult> {
  const spec: SaliencySpec = SaliencySpecSchema.parse(input);
  return withPreparedInputs(spec, (prepared, watch) => computeSaliency(spec, prepared, watch, ctx));
}

function position(shape: number[], flat: number): number[] {
  const pos = new Array<number>(shape.length).fill(0);
  for (let a = shape.length - 1; a >= 0; a--) {
    pos[a] = flat % shape[a];
    flat = Math.floor(flat / shape[a]);
  }
  return pos;
}

function describe(obj: Objective, index: number, theta: Float32Array, saliency: Float64Array): SaliencyPayload['mostSalient'][number] {
  const g = obj.groups.find((q) => index >= q.offset && index < q.offset + q.size)!;
  return { index, variable: g.name, position: position(g.shape, index - g.offset), weight: theta[index], saliency: saliency[index] };
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

async function computeSaliency(spec: SaliencySpec, prepared: PreparedInputs, watch: Stopwatch, ctx: AnalysisContext): Promise<SaliencyResult> {
  const obj = prepared.objective;
  const d = obj.dim;
  const n = obj.sampleCount;
  const m = spec.gradients;
  const b = spec.gradientBatch;
  if (m * b > n) {
    throw new InputError('--gradients', `${m} gradients of ${b} sample${b > 1 ? 's' : ''} need ${m * b} samples; ${n} are used (lower --gradients or --gradient-batch, or raise --samples)`);
  }
  const mb = vectorMegabytes(m, d) * 1.5;
  if (mb > 4096) throw new InputError('--gradients', `M-FAC with m = ${m} on ${d} parameters needs ${mb.toFixed(0)} MB, over 4096 MB; lower --gradients`);
  const theta = obj.theta0;
  const { loss, grad } = await obj.grad(theta);
  assertFiniteStart(spec, prepared, loss, grad);
  watch.lap('start');

  const out = path.resolve(spec.out);
  const sidecar = new SidecarWriter(freshSidecarPath(out));
  const payload: SaliencyPayload = {
    dim: d,
    loss,
    gradients: m,
    gradientBatch: b,
    lambda: spec.lambda,
    blockSize: spec.blockSize === 'full' ? d : Math.min(spec.blockSize, d),
    blocks: spec.blockSize === 'full' ? 1 : Math.ceil(d / Math.min(spec.blockSize, d)),
    spearmanVsMagnitude: null,
    layers: [],
    mostSalient: [],
    leastSalient: [],
    thresholds: [],
    saliency: null,
    inverseDiagonal: null,
  };
  const { out: _out, ...options } = spec;
  const save = (complete: boolean, status?: string): SaliencyResult => {
    sidecar.write();
    const r: SaliencyResult = {
      schema: SCHEMA_ID,
      kind: 'saliency',
      complete,
      status,
      backend: engineInfo().backend,
      provenance: makeProvenance(spec, prepared, watch, complete),
      options,
      definitions: SALIENCY_DEFINITIONS,
      result: payload,
    };
    writeResult(out, r);
    return r;
  };
  save(false, 'running');

  let phase = 'gradients';
  try {
    const perm = new Rng(spec.seed + 303).permutation(n);
    const grads: Float32Array[] = [];
    for (let i = 0; i < m; i++) {
      await checkpoint(ctx.stop);
      const idx = perm.subarray(i * b, (i + 1) * b);
      const g = b === 1 ? (await obj.perSampleGradients(idx))[0] : Float32Array.from(await obj.subsetGradient(idx));
      grads.push(g);
      ctx.progress((0.8 * (i + 1)) / m, `gradient ${i + 1}/${m}`);
    }
    watch.lap('gradients');
    phase = 'M-FAC set-up';
    const inv = await MFacBlockInverse.build(grads, spec.blockSize === 'full' ? d : spec.blockSize, { lambda: spec.lambda, stop: ctx.stop, onProgress: (done, total) => ctx.progress(0.8 + (0.2 * done) / total, `M-FAC set-up ${done}/${total}`) });
    watch.lap('mfac');
    const diag = inv.diagonal();
    const sal = inv.obsSaliency(theta);
    payload.inverseDiagonal = sidecar.add(Float32Array.from(diag));
    payload.saliency = sidecar.add(Float32Array.from(sal));

    const sorted = Float64Array.from(sal).sort();
    const magnitude = Float64Array.from(theta, Math.abs);
    payload.spearmanVsMagnitude = finiteOrNull(spearman(sal, magnitude));
    const bySaliency = Array.from({ length: d }, (_, i) => i).sort((a, c) => sal[a] - sal[c]);
    const byMagnitude = Array.from({ length: d }, (_, i) => i).sort((a, c) => magnitude[a] - magnitude[c]);
    payload.thresholds = spec.sparsities.map((s) => {
      const count = Math.max(1, Math.ceil(s * d));
      const pruned = new Set(bySaliency.slice(0, count));
      const shared = byMagnitude.slice(0, count).filter((i) => pruned.has(i)).length;
      return { sparsity: s, saliency: sorted[count - 1], magnitudeOverlap: shared / count };
    });
    payload.layers = layerRanges(obj).map((l) => {
      const vals: number[] = [];
      const mags: number[] = [];
      for (const r of l.ranges) for (let j = r.offset; j < r.offset + r.size; j++) {
        vals.push(sal[j]);
        mags.push(magnitude[j]);
      }
      const sortedL = Float64Array.from(vals).sort();
      const sum = vals.reduce((a, v) => a + v, 0);
      const size = vals.length;
      const median = size % 2 ? sortedL[(size - 1) / 2] : (sortedL[size / 2 - 1] + sortedL[size / 2]) / 2;
      return {
        layer: l.layer,
        size,
        sum,
        mean: sum / size,
        median,
        min: sortedL[0],
        max: sortedL[size - 1],
        pruned: payload.thresholds.map((t) => ({ sparsity: t.sparsity, fraction: vals.filter((v) => v <= t.saliency).length / size })),
        spearmanVsMagnitude: finiteOrNull(spearman(vals, mags)),
      };
    });
    const order = bySaliency;
    const top = Math.min(spec.top, d);
    payload.leastSalient = order.slice(0, top).map((i) => describe(obj, i, theta, sal));
    payload.mostSalient = order.slice(d - top).reverse().map((i) => describe(obj, i, theta, sal));
    watch.lap('summary');
  } catch (err) {
    const reason = err instanceof CancelledError ? `cancelled during ${phase}` : `failed during ${phase}: ${(err as Error).message}`;
    save(false, reason);
    throw err;
  } finally {
    await obj.setParams(theta);
  }
  const result = save(true);
  ctx.progress(1, 'done', result);
  return result;
}
