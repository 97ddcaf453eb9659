import path from 'node:path';
import { CancelledError, InputError } from '../../shared/errors';
import { SCHEMA_ID, type ResultOf } from '../../shared/result';
import type { HessianPayload } from '../../shared/results/hessian';
import { HessianSpecSchema, type HessianSpec, type HessianSpecInput } from '../../shared/specs/hessian';
import type { AnalysisContext } from '../analysisContext';
import { assertFiniteStart, monitored, vectorMegabytes } from '../curvature/guard';
import { layerRanges, restrictOperator, type ParamRange } from '../curvature/paramRanges';
import { withPreparedInputs, type PreparedInputs } from '../inputs';
import { hutchinsonDiagonal, hutchinsonTrace, hutchPlusPlus } from '../linalg/hutchinson';
import { lanczosEigs } from '../linalg/lanczos';
import type { LinearOperator } from '../linalg/operator';
import { powerIteration } from '../linalg/powerIteration';
import { Rng } from '../linalg/rng';
import { smoothDensity, spectralDensity } from '../linalg/slq';
import { makeProvenance, type Stopwatch } from '../provenance';
import { SidecarWriter, freshSidecarPath, writeResult } from '../resultWriter';
import { engineInfo } from '../runtime';

type HessianResult = ResultOf<'hessian'>;

export const HESSIAN_DEFINITIONS: Record<string, string> = {
  hessian: 'H = ∇²L(θ), L the mean loss over the samples used. product "exact" (default): H·v = ∂/∂θ⟨∇L(θ), v⟩ by double back-propagation (Pearlmutter 1994), exact up to float32 rounding; for ReLU and max-pooling the almost-everywhere Hessian, as PyTorch’s double backward and PyHessian compute it. product "finite-difference" (--hv finite-difference): central differences of gradients, Richardson-extrapolated: R = (4D(h/2) − D(h))/3, D(h) = [∇L(θ+hv) − ∇L(θ−hv)]/(2h), h = δ·max(‖θ_S‖, rms(θ)·√|S|)/‖v‖, S the support of v; four gradients per product; ReLU activation patterns frozen at θ (relu(a) → a·1[a(θ) > 0]) so that kinks crossed within ±h do not enter.',
  product: 'how the operator’s products were computed: "exact" (double back-propagation for the Hessian; Gauss–Newton and Fisher products are always exact) or "finite-difference".',
  finiteDifference: 'finite-difference products only. relativeStep is δ; frozenSites counts the ReLU layers whose patterns were frozen, unfrozen lists piecewise-linear layers that were not (max-pooling, leaky/capped ReLU): their kinks remain and inflate the error estimate; the estimated relative error of a product is ‖D(h/2) − D(h)‖/‖R‖ (three times the truncation error of D(h/2), an upper estimate for R’s, and about the size of R’s float32 rounding noise) plus (4r(h/2) + r(h))/3, r(h) = ‖(fl(θ+hv) − fl(θ−hv))/2 − hv‖/(h‖v‖) the error of the direction the float32 points θ ± hv differ along. On ReLU/max-pool models it also contains kinks crossed within ±h.',
  ggn: 'generalised Gauss–Newton G = (1/n) Σₙ Jₙᵀ H_ℓ,ₙ Jₙ, Jₙ the Jacobian of the model output (the logits for cross-entropies) for sample n and H_ℓ the loss Hessian in closed form: softmax cross-entropy diag(p) − ppᵀ, sigmoid BCE diag(p(1−p))/C, MSE 2I/C, Huber diag(1[|r| ≤ 1])/C. Exact up to float32 rounding (J v by differentiating a VJP with respect to its cotangent).',
  fisher: 'empirical Fisher F = (1/n) Σₙ ∇ℓₙ ∇ℓₙᵀ, ℓₙ the loss of sample n (gradients of the observed labels, not sampled ones).',
  eigenvalues: 'largest eigenvalues of the operator, descending; residuals[i] = ‖A·vᵢ − λᵢ·vᵢ‖₂ for the unit eigenvector vᵢ (recomputed with one product each). Lanczos: block Lanczos (2 vectors per block) with full reorthogonalisation and thick restarts, run until every wanted pair has ‖A·v − θ·v‖ ≤ ½·tol·|θ| (so each θ lies within tol·|θ| of an eigenvalue, Krylov–Bogoliubov), then a deflated Lanczos from a second random start on (I − VVᵀ)A(I − VVᵀ) checks that no eigenvalue beyond the k-th was missed (anything found is added and the iteration re-converges); eigen.converged is false, with eigen.warnings saying why, when the budget ran out or the true residuals exceed tol·|θ|. Or PyHessian’s power iteration with deflation (pairs found by decreasing |λ|, then sorted).',
  trace: 'Hutchinson: tr A ≈ (1/N) Σ zᵢᵀA·zᵢ, zᵢ Rademacher; stderr = sample std/√N; samples are the raw zᵢᵀA·zᵢ. Hutch++ (Meyer et al. 2021): exact trace on a sketched subspace plus Hutchinson on the rest; stderr of that part.',
  lambdaMaxOverTrace: 'eigenvalues[0] / trace.estimate.',
  diagonal: 'diag(A) ≈ (1/N) Σ zᵢ ⊙ A·zᵢ (Bekas et al. 2007), per-entry values and standard errors in the sidecar; perLayer summarises them (meanStderr: stderr of the layer mean).',
  density: 'spectral density by stochastic Lanczos quadrature: per start, nodes = Ritz values, weights = squared first components of the Ritz vectors; x/density = their average smoothed by a Gaussian of variance σ² = 1e-5·max(1, λmax − λmin) (PyHessian), integrating to 1.',
  layers: 'per layer (its kernel and bias): the largest eigenvalue of the layer’s diagonal block P·A·Pᵀ (Lanczos, k = 1) and its trace, estimated from the layer’s part Σ_{j∈layer} zⱼ(A·z)ⱼ of the Hutchinson samples.',
  sidecar: 'eigenvectors (unit, float32) and the diagonal with its stderr are arrays in the .losscape.bin sidecar, in the objective’s parameter order (offset and length in elements).',
};

export async function runHessian(input: HessianSpecInput, ctx: AnalysisContext): Promise<HessianResult> {
  const spec: HessianSpec = HessianSpecSchema.parse(input);
  if (spec.bottom > 0 && spec.method !== 'lanczos') throw new InputError('--bottom', 'the smallest eigenvalues need --method lanczos');
  return withPreparedInputs(spec, (prepared, watch) => computeHessian(spec, prepared, watch, ctx));
}

interface Plan {
  which: 'largest' | 'smallest' | 'both' | null;
  k: number;
  lanczosIter: number;
}

/** Checks k and memory against the model before any product is computed. */
function plan(spec: HessianSpec, dim: number): Plan {
  const { top, bottom } = spec;
  if (top > dim) throw new InputError('--top', `k = ${top} exceeds the ${dim} parameters of the model`);
  if (bottom > dim) throw new InputError('--bottom', `k = ${bottom} exceeds the ${dim} parameters of the model`);
  const which = top > 0 && bottom > 0 ? 'both' : top > 0 ? 'largest' : bottom > 0 ? 'smallest' : null;
  const k = which === 'both' ? Math.max(top, bottom) : top || bottom;
  if (which === 'both' && 2 * k > dim) throw new InputError('--top', `${k} eigenvalues at both ends need 2k ≤ the ${dim} parameters`);
  const wanted = which === 'both' ? 2 * k : k;
  // Lanczos keeps at most this many basis vectors (thick restarts beyond); --max-iter caps products.
  const lanczosIter = Math.min(Math.max(2 * wanted + 20, 30), dim);
  const limit = spec.memoryLimitMb;
  const need = (vectors: number) => vectorMegabytes(vectors, dim);
  // The main basis, plus (at a thick restart) its Ritz vectors or (during the check) the check's basis.
  const lanczosVectors = 2 * lanczosIter + wanted;
  if (which && spec.method === 'lanczos' && need(lanczosVectors) > limit) {
    throw new InputError('--top', `k = ${k} needs Lanczos bases of ${lanczosVectors} vectors of ${dim} parameters (${need(lanczosVectors).toFixed(0)} MB), over the ${limit} MB limit; lower --top, use --method power, or raise memoryLimitMb`);
  }
  if (which && spec.method === 'power' && need(k + 2) > limit) {
    throw new InputError('--top', `k = ${k} eigenvectors of ${dim} parameters need ${need(k + 2).toFixed(0)} MB, over the ${limit} MB limit`);
  }
  if (spec.density && need(Math.min(spec.densitySteps, dim)) > limit) {
    throw new InputError('--density-steps', `${spec.densitySteps} Lanczos vectors of ${dim} parameters exceed the ${limit} MB limit`);
  }
  if (spec.trace && spec.traceMethod === 'hutch++' && spec.probes < 6) throw new InputError('--probes', 'Hutch++ needs at least 6 products');
  return { which, k, lanczosIter };
}

function meanStderr(x: readonly number[]): { mean: number; stderr: number } {
  const n = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / n;
  const ss = x.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, stderr: n > 1 ? Math.sqrt(ss / (n - 1) / n) : Number.NaN };
}

/** Records each layer's part zᵀ_layer (A·z)_layer of every product (valid for Rademacher probes). */
function layerTap(op: LinearOperator, layers: { ranges: ParamRange[] }[]): { op: LinearOperator; samples: number[][] } {
  const samples = layers.map(() => [] as number[]);
  const record = (z: Float64Array, y: Float64Array): void => {
    layers.forEach((l, i) => {
      let s = 0;
      for (const r of l.ranges) for (let j = r.offset; j < r.offset + r.size; j++) s += z[j] * y[j];
      samples[i].push(s);
    });
  };
  const tapped: LinearOperator = {
    dim: op.dim,
    async matvec(z: Float64Array): Promise<Float64Array> {
      const y = await op.matvec(z);
      record(z, y);
      return y;
    },
  };
  if (op.matmat) {
    const matmat = op.matmat.bind(op);
    tapped.matmat = async (zs: readonly Float64Array[]): Promise<Float64Array[]> => {
      const ys = await matmat(zs);
      zs.forEach((z, i) => record(z, ys[i]));
      return ys;
    };
  }
  return { samples, op: tapped };
}

async function computeHessian(spec: HessianSpec, prepared: PreparedInputs, watch: Stopwatch, ctx: AnalysisContext): Promise<HessianResult> {
  const obj = prepared.objective;
  const dim = obj.dim;
  const p = plan(spec, dim);
  const start = await obj.evaluate(obj.theta0);
  const { loss, grad } = await obj.grad(obj.theta0);
  assertFiniteStart(spec, prepared, loss, grad);
  const curv = obj.curvature(spec.operator, { relativeStep: spec.fdStep, hv: spec.hv });
  watch.lap('start');

  const layers = layerRanges(obj);
  const out = path.resolve(spec.out);
  const sidecar = new SidecarWriter(freshSidecarPath(out));
  const payload: HessianPayload = {
    operator: spec.operator,
    operatorDescription: curv.description,
    product: curv.fd ? 'finite-difference' : 'exact',
    dim,
    loss: start.loss,
    accuracy: start.accuracy,
    gradientNorm: Math.sqrt(grad.reduce((a, g) => a + g * g, 0)),
    eigenvalues: [],
    residuals: [],
    eigen: null,
    bottom: null,
    trace: null,
    lambdaMaxOverTrace: null,
    diagonal: null,
    density: null,
    layers: null,
    finiteDifference: null,
    phases: [],
  };
  const fdSummary = (): void => {
    const fd = curv.fd;
    if (!fd) return;
    const errs = [...fd.relativeErrors].sort((a, b) => a - b);
    payload.finiteDifference = {
      relativeStep: fd.relativeStep,
      frozenSites: fd.frozenSites,
      unfrozen: fd.unfrozen,
      products: fd.products,
      gradients: fd.gradients,
      minStep: fd.products ? fd.minStep : null,
      maxStep: fd.products ? fd.maxStep : null,
      maxRelativeError: errs.length ? errs[errs.length - 1] : null,
      medianRelativeError: errs.length ? errs[Math.floor(errs.length / 2)] : null,
    };
  };
  const { out: _out, ...options } = spec;
  const snapshot = (complete: boolean, status?: string): HessianResult => {
    fdSummary();
    return {
      schema: SCHEMA_ID,
      kind: 'hessian',
      complete,
      status,
      backend: engineInfo().backend,
      provenance: makeProvenance(spec, prepared, watch, complete),
      options,
      definitions: HESSIAN_DEFINITIONS,
      result: payload,
    };
  };
  const save = (complete: boolean, status?: string): HessianResult => {
    sidecar.write();
    const r = snapshot(complete, status);
    writeResult(out, r);
    return r;
  };
  save(false, 'running');

  // Progress in operator products, planned up front.
  const wantPerLayer = spec.perLayer;
  // Per-layer traces come from the layers' parts of Rademacher probes: those of the Hutchinson
  // trace, else of the diagonal, else of a pass of their own.
  const tapTrace = wantPerLayer && spec.trace && spec.traceMethod === 'hutchinson';
  const tapDiagonal = wantPerLayer && !tapTrace && spec.diagonal;
  const extraTrace = wantPerLayer && !tapTrace && !tapDiagonal;
  // Lanczos stops on convergence; about two bases' worth of products (main run and check) is the usual cost.
  const eigenProducts = p.which === null ? 0 : spec.method === 'lanczos' ? Math.min(2 * p.lanczosIter, spec.maxIter ?? Infinity) + (p.which === 'both' ? 2 * p.k : p.k) : p.k * (spec.maxIter ?? 100);
  const total =
    eigenProducts +
    (spec.trace ? spec.probes : 0) +
    (extraTrace ? spec.probes : 0) +
    (spec.diagonal ? spec.probes : 0) +
    (spec.density ? Math.min(spec.densitySteps, dim) * spec.densityStarts : 0) +
    (wantPerLayer ? layers.reduce((a, l) => a + Math.min(30, l.size) + 1, 0) : 0);
  let done = 0;
  let phase = 'eigen';
  const op = monitored(curv.op, ctx.stop, () => {
    done++;
    ctx.progress(Math.min(0.99, done / Math.max(total, 1)), `${phase}: ${done}/${total} products`);
  });
  const finishPhase = (name: string): void => {
    watch.lap(name);
    payload.phases.push(name);
    const partial = save(false, 'running');
    ctx.progress(Math.min(0.99, done / Math.max(total, 1)), `${name} done`, partial);
  };
  const rng = (salt: number) => new Rng((spec.seed * 7919 + salt) >>> 0);
  const toSidecar = (v: Float64Array) => sidecar.add(Float32Array.from(v));
  let layerSamples: number[][] | null = null;

  try {
    if (p.which !== null) {
      phase = 'eigen';
      if (spec.method === 'lanczos') {
        const r = await lanczosEigs(op, { k: p.k, which: p.which, maxIter: spec.maxIter, maxBasis: p.lanczosIter, tol: spec.tol, rng: rng(1), stop: ctx.stop });
        const nTop = p.which === 'smallest' ? 0 : p.k;
        const topIdx = Array.from({ length: Math.min(spec.top, nTop) }, (_, i) => i);
        const botIdx = p.which === 'largest' ? [] : Array.from({ length: spec.bottom }, (_, i) => nTop + i);
        payload.eigenvalues = topIdx.map((i) => r.eigenvalues[i]);
        payload.residuals = topIdx.map((i) => r.residuals[i]);
        payload.eigen = {
          method: 'lanczos',
          k: spec.top,
          iterations: r.iterations,
          matvecs: r.matvecs,
          converged: r.converged,
          blockSize: r.blockSize,
          restarts: r.restarts,
          checkMatvecs: r.checkMatvecs,
          missedFound: r.missedFound,
          warnings: r.warnings,
          vectors: spec.vectors ? topIdx.map((i) => toSidecar(r.eigenvectors[i])) : [],
        };
        if (botIdx.length) {
          payload.bottom = {
            eigenvalues: botIdx.map((i) => r.eigenvalues[i]),
            residuals: botIdx.map((i) => r.residuals[i]),
            vectors: spec.vectors ? botIdx.map((i) => toSidecar(r.eigenvectors[i])) : [],
          };
        }
      } else {
        const r = await powerIteration(op, { k: p.k, maxIter: spec.maxIter, tol: spec.tol, rng: rng(1), stop: ctx.stop });
        const order = r.eigenvalues.map((_, i) => i).sort((a, b) => r.eigenvalues[b] - r.eigenvalues[a]);
        payload.eigenvalues = order.map((i) => r.eigenvalues[i]);
        payload.residuals = order.map((i) => r.residuals[i]);
        payload.eigen = {
          method: 'power',
          k: p.k,
          iterations: r.iterations.reduce((a, b) => a + b, 0),
          matvecs: r.matvecs,
          converged: r.converged.every(Boolean),
          vectors: spec.vectors ? order.map((i) => toSidecar(r.eigenvectors[i])) : [],
        };
      }
      finishPhase('eigen');
    }

    if (spec.trace) {
      phase = 'trace';
      if (spec.traceMethod === 'hutch++') {
        const r = await hutchPlusPlus(op, { matvecs: spec.probes, rng: rng(2), stop: ctx.stop });
        payload.trace = { method: 'hutch++', estimate: r.estimate, stderr: r.stderr, samples: [], probes: r.matvecs, matvecs: r.matvecs };
      } else {
        const tap = tapTrace ? layerTap(op, layers) : null;
        const r = await hutchinsonTrace(tap ? tap.op : op, { probes: spec.probes, rng: rng(2), stop: ctx.stop });
        payload.trace = { method: 'hutchinson', estimate: r.estimate, stderr: r.stderr, samples: r.samples, probes: r.probes, matvecs: r.probes };
        if (tap) layerSamples = tap.samples;
      }
      if (payload.eigenvalues.length && payload.trace.estimate !== 0) payload.lambdaMaxOverTrace = payload.eigenvalues[0] / payload.trace.estimate;
      finishPhase('trace');
    }

    if (spec.diagonal) {
      phase = 'diagonal';
      const tap = tapDiagonal ? layerTap(op, layers) : null;
      const r = await hutchinsonDiagonal(tap ? tap.op : op, { probes: spec.probes, rng: rng(3), stop: ctx.stop });
      if (tap) layerSamples = tap.samples;
      payload.diagonal = {
        probes: r.probes,
        values: toSidecar(r.diagonal),
        stderr: toSidecar(r.stderr),
        perLayer: layers.map((l) => {
          let sum = 0;
          let min = Infinity;
          let max = -Infinity;
          let var2 = 0;
          for (const rg of l.ranges) {
            for (let j = rg.offset; j < rg.offset + rg.size; j++) {
              sum += r.diagonal[j];
              min = Math.min(min, r.diagonal[j]);
              max = Math.max(max, r.diagonal[j]);
              var2 += r.stderr[j] ** 2;
            }
          }
          // Entries' errors are correlated; √(Σ se²)/size is the independent-errors figure.
          return { layer: l.layer, size: l.size, sum, mean: sum / l.size, min, max, meanStderr: Math.sqrt(var2) / l.size };
        }),
      };
      finishPhase('diagonal');
    }

    if (spec.density) {
      phase = 'density';
      const r = await spectralDensity(op, { steps: spec.densitySteps, starts: spec.densityStarts, rng: rng(4), stop: ctx.stop });
      const sigma = Math.sqrt(1e-5 * Math.max(1, r.lambdaMax - r.lambdaMin));
      const smooth = smoothDensity(r.nodes, r.weights, { sigma });
      payload.density = {
        steps: Math.min(spec.densitySteps, dim),
        starts: spec.densityStarts,
        nodes: r.nodes,
        weights: r.weights,
        x: smooth.x,
        density: smooth.density,
        sigma,
        traceEstimate: r.traceEstimate,
        traceStderr: r.traceStderr,
        lambdaMin: r.lambdaMin,
        lambdaMax: r.lambdaMax,
        matvecs: r.matvecs,
      };
      finishPhase('density');
    }

    if (wantPerLayer) {
      phase = 'layers';
      if (extraTrace) {
        const tap = layerTap(op, layers);
        await hutchinsonTrace(tap.op, { probes: spec.probes, rng: rng(5), stop: ctx.stop });
        layerSamples = tap.samples;
      }
      payload.layers = [];
      for (let i = 0; i < layers.length; i++) {
        const l = layers[i];
        const sub = restrictOperator(op, l.ranges);
        const r = await lanczosEigs(sub, { k: 1, tol: spec.tol, rng: rng(10 + i), stop: ctx.stop });
        const t = layerSamples ? meanStderr(layerSamples[i]) : null;
        payload.layers.push({
          layer: l.layer,
          size: l.size,
          topEigenvalue: r.eigenvalues[0],
          residual: r.residuals[0],
          trace: t ? t.mean : null,
          traceStderr: t ? t.stderr : null,
          probes: layerSamples ? layerSamples[i].length : 0,
        });
      }
      finishPhase('layers');
    }
  } catch (err) {
    const reason = err instanceof CancelledError ? `cancelled during ${phase} after ${done} products` : `failed during ${phase} after ${done} products: ${(err as Error).message}`;
    watch.lap(phase);
    save(false, reason);
    throw err;
  } finally {
    curv.dispose();
    await obj.setParams(obj.theta0);
  }
  const result = save(true);
  ctx.progress(1, 'done', result);
  return result;
}
