import { symmetrise } from '../grokking/ntk';
import type { StopSignal } from '../linalg/operator';
import {
  type BackendInfo,
  type BlockOperator,
  type CurvatureKind,
  type CurvatureOperator,
  type CurvatureOptions,
  type Evaluation,
  type Ntk,
  type Objective,
  type ParamGroup,
} from '../objective';
import type { ParallelInfo } from '../../shared/provenance';
import { reviveNumber, type Frame } from './framing';
import type { RequestOptions, TorchWorker } from './worker';

/**
 * The PyTorch implementation of the engine-neutral Objective: every primitive is one request to
 * a Python worker holding the model and the samples (docs/torch-worker-protocol.md). The client
 * keeps θ₀ and knows which θ the worker holds, so it only sends θ when it changes; k vectors of a
 * product cross in one request.
 *
 * Parameter order: `named_parameters()` with requires_grad, each flattened in C order; a filter is
 * one index of dim 0 (PyTorch layout: Linear [out, in], Conv [out, in, kh, kw]).
 */
export interface TorchLoadReply {
  dim: number;
  groups: { name: string; layer: string; shape: number[]; offset: number; size: number; filters: number }[];
  sampleCount: number;
  outputShape: number[];
  outputUnits: number;
  loss: { name: string; fromLogits?: boolean; classification?: boolean; description?: string };
  dtype: 'float32' | 'float64';
  trainMode: boolean;
  backend: { engine: string; torch: string; device: string; deviceName?: string; dtype?: string; threads?: number; python?: string };
  /** Ranks and mode (docs/distributed.md); every worker answers it. */
  parallel?: ParallelInfo;
}

const DESCRIPTIONS: Record<CurvatureKind, string> = {
  hessian: 'Hessian of the mean loss, exact products by double backward (PyTorch autograd)',
  ggn: 'generalised Gauss–Newton Jᵀ H_ℓ J, exact products (J v by the double-VJP trick, H_ℓ the loss Hessian on the outputs by autograd)',
  fisher: 'empirical Fisher (1/n) Σ ∇ℓₙ∇ℓₙᵀ from per-sample gradients',
};

// The typed-array constructors convert in one native pass (.from goes through the iterator).
const toF64 = (f: Frame): Float64Array => (f instanceof Float64Array ? f : new Float64Array(f));
const toF32 = (f: Frame): Float32Array => (f instanceof Float32Array ? f : new Float32Array(f));

export class TorchObjective implements Objective {
  readonly engine = 'torch' as const;
  readonly backend: BackendInfo;
  readonly dim: number;
  readonly groups: ParamGroup[];
  readonly theta0: Float32Array;
  readonly sampleCount: number;
  readonly outputUnits: number;
  readonly classification: boolean;
  readonly dtype: 'float32' | 'float64';
  /** θ₀ in the model's dtype (float64 runs keep it exact). */
  private readonly theta0Exact: Frame;
  /** The vector the worker holds as θ (by identity), so unchanged θ is not sent again. */
  private current: Frame | null;
  /** Vectors stored on the worker for landscape rows (by identity → name). */
  private readonly stored = new Map<Float32Array, string>();
  private disposed = false;

  constructor(
    private readonly worker: TorchWorker,
    readonly info: TorchLoadReply,
    theta0: Frame,
    /** The analysis's stop signal: a raised one cancels the running request. */
    private readonly stop?: StopSignal,
    private readonly onDispose: () => void = () => undefined,
  ) {
    this.dim = info.dim;
    this.groups = info.groups.map((g) => ({ ...g, filterAxis: 'first' as const }));
    this.sampleCount = info.sampleCount;
    this.outputUnits = info.outputUnits;
    this.classification = info.loss.classification === true;
    this.dtype = info.dtype;
    this.theta0Exact = theta0;
    this.theta0 = toF32(theta0);
    this.current = this.theta0;
    const b = info.backend;
    this.backend = {
      name: 'torch',
      version: `torch ${b.torch}${b.python ? `, python ${b.python}` : ''}`,
      device: b.deviceName && b.deviceName !== b.device ? `${b.device} (${b.deviceName})` : b.device,
      dtype: info.dtype,
      threads: b.threads,
      trainMode: info.trainMode,
      ...(info.parallel ? { parallel: info.parallel } : {}),
    };
  }

  /** A raw request to this objective's worker (weights files, checkpoints). */
  request(method: string, params: Record<string, unknown> = {}, frames: readonly Frame[] = []) {
    return this.call(method, params, frames);
  }

  private call(method: string, params: Record<string, unknown> = {}, frames: readonly Frame[] = [], options?: RequestOptions) {
    if (this.disposed) throw new Error(`torch objective used after dispose (${method})`);
    return this.worker.request(method, params, frames, this.stop, options);
  }

  /** Makes the worker hold θ (θ₀ itself travels exactly, in the model's dtype). */
  private async at(theta: Float32Array | Float64Array | undefined): Promise<void> {
    if (!theta || theta === this.current) return;
    if (theta.length !== this.dim) throw new RangeError(`parameter vector has ${theta.length} entries, expected ${this.dim}`);
    await this.call('set_params', {}, [theta === this.theta0 ? this.theta0Exact : theta]);
    this.current = theta;
  }

  async getParams(): Promise<Float32Array> {
    return this.current ? toF32(this.current) : this.theta0;
  }

  async setParams(theta: Float32Array | Float64Array): Promise<void> {
    await this.at(theta);
  }

  async reset(): Promise<void> {
    await this.at(this.theta0);
  }

  async evaluate(theta?: Float32Array | Float64Array, withAccuracy = true): Promise<Evaluation> {
    await this.at(theta);
    const { result, frames } = await this.call('loss', { accuracy: withAccuracy && this.classification });
    return { loss: frames[0][0], accuracy: result.accuracy && frames[1] ? frames[1][0] : null };
  }

  async loss(theta?: Float32Array | Float64Array): Promise<number> {
    return (await this.evaluate(theta, false)).loss;
  }

  /** Stores a vector on the worker once (by identity), for landscape rows. */
  private async storedName(v: Float32Array, prefix: string): Promise<string> {
    if (v === this.theta0) return 'theta0';
    const have = this.stored.get(v);
    if (have) return have;
    const name = `${prefix}${this.stored.size}`;
    await this.call('store', { name }, [v]);
    this.stored.set(v, name);
    return name;
  }

  async evaluateAlong(
    centre: Float32Array,
    dirs: readonly Float32Array[],
    coords: readonly number[][],
    withAccuracy: boolean,
    _stop: StopSignal,
    onPoint: (j: number, e: Evaluation) => void,
  ): Promise<void> {
    const base = await this.storedName(centre, 'c');
    const names: string[] = [];
    for (const d of dirs) names.push(await this.storedName(d, 'd'));
    const acc = withAccuracy && this.classification;
    const { result, frames } = await this.call('loss', { accuracy: acc, combos: { base, dirs: names, coeffs: coords } });
    for (let j = 0; j < coords.length; j++) onPoint(j, { loss: frames[0][j], accuracy: result.accuracy && frames[1] ? frames[1][j] : null });
  }

  async grad(theta?: Float32Array | Float64Array): Promise<{ loss: number; grad: Float64Array }> {
    await this.at(theta);
    const { result, frames } = await this.call('grad');
    return { loss: reviveNumber(result.loss), grad: toF64(frames[0]) };
  }

  async outputs(theta?: Float32Array | Float64Array): Promise<{ data: Float32Array; shape: number[] }> {
    await this.at(theta);
    const { result, frames } = await this.call('outputs');
    return { data: toF32(frames[0]), shape: result.shape as number[] };
  }

  async perSampleLosses(): Promise<Float64Array> {
    return toF64((await this.call('per_sample_losses')).frames[0]);
  }

  private checkIndices(indices: ArrayLike<number>): number[] {
    return Array.from(indices, (i) => {
      if (!(i >= 0 && i < this.sampleCount)) throw new RangeError(`sample index ${i} out of range 0..${this.sampleCount - 1}`);
      return i;
    });
  }

  async perSampleGradients(indices: ArrayLike<number>): Promise<Float32Array[]> {
    const groups = this.checkIndices(indices).map((i) => [i]);
    const rows = (await this.call('subset_grads', { groups })).frames[0];
    return groups.map((_, r) => Float32Array.from(rows.subarray(r * this.dim, (r + 1) * this.dim)));
  }

  async subsetGradient(indices: ArrayLike<number>): Promise<Float64Array> {
    const rows = (await this.call('subset_grads', { groups: [this.checkIndices(indices)] })).frames[0];
    return toF64(rows);
  }

  async jvp(v: Float32Array | Float64Array): Promise<Float32Array> {
    return toF32((await this.call('jvp', {}, [v])).frames[0]);
  }

  async vjp(u: Float32Array | Float64Array): Promise<Float64Array> {
    if (u.length !== this.sampleCount * this.outputUnits) throw new RangeError(`cotangent has ${u.length} entries, expected ${this.sampleCount * this.outputUnits}`);
    return toF64((await this.call('vjp', {}, [u])).frames[0]);
  }

  async outputJacobian(indices: ArrayLike<number>): Promise<Float32Array[]> {
    const idx = this.checkIndices(indices);
    const J = (await this.call('output_jacobian', { indices: idx })).frames[0];
    const rows: Float32Array[] = [];
    for (let r = 0; r < idx.length * this.outputUnits; r++) rows.push(Float32Array.from(J.subarray(r * this.dim, (r + 1) * this.dim)));
    return rows;
  }

  /** K = Σ_c J_c J_cᵀ over all samples, computed by the worker on the device (float64). */
  async ntk(): Promise<Ntk> {
    const n = this.sampleCount;
    const K = toF64((await this.call('ntk')).frames[0]);
    symmetrise(K, n);
    return { K, n, outputs: this.outputUnits, method: 'jacobian' };
  }

  curvature(kind: CurvatureKind, options: CurvatureOptions = {}): CurvatureOperator {
    const theta = options.theta ?? this.theta0;
    const products = async (vs: readonly Float64Array[]): Promise<Float64Array[]> => {
      if (vs.length === 0) return [];
      await this.at(theta);
      // A float32 model rounds each vector to float32 on arrival: rounding here instead (the same
      // round-to-nearest-even) halves the bytes that cross the pipe, with the same products. Its
      // products are float32 computations (summed over batches in float64): they come back as
      // float32, which halves the reply (a change of at most float32 rounding, ~6e-8 relative).
      const f32 = this.dtype === 'float32';
      const sent = f32 ? vs.map((v) => new Float32Array(v)) : vs;
      // float32 replies are copied into float64 at once, so they may come in reused memory
      // (float64 ones are the result as they are).
      const reply = await this.call('matmat', { operator: kind, ...(f32 ? { resultDtype: 'f32' } : {}) }, sent, { scratchReply: f32 });
      try {
        return reply.frames.map((f) => (f32 ? new Float64Array(f) : toF64(f)));
      } finally {
        reply.release?.();
      }
    };
    const op: BlockOperator = {
      dim: this.dim,
      matvec: async (v) => (await products([v]))[0],
      matmat: products,
    };
    return { kind, op, description: DESCRIPTIONS[kind], fd: null, dispose: () => undefined };
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Copies a checkpoint's full state (parameters and buffers) into the model; returns its θ. */
  async loadCheckpoint(file: string): Promise<Float32Array> {
    const { frames } = await this.call('load_checkpoint', { file });
    const theta = toF32(frames[0]);
    this.current = theta;
    return theta;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose();
  }
}
