import * as tf from '@tensorflow/tfjs';
import type { Loss } from '../losses';
import { checkpoint } from '../analysisContext';
import { pointOnPlane } from '../directions';
import type { StopSignal } from '../linalg/operator';
import type { BackendInfo, CurvatureKind, CurvatureOperator, CurvatureOptions, Evaluation, Ntk, Objective, ParamGroup } from '../objective';
import { engineInfo } from '../runtime';
import { jvp, outputJacobian, outputUnits, perSampleGradients, perSampleLosses, subsetGradient, vjp } from './autodiff';
import { curvatureOperator } from './curvatureOperators';
import { empiricalNtk } from './ntk';
import { batchPointSums, planPointBatch, type PointBatchPlan } from './pointBatch';

export type { Evaluation, ParamGroup } from '../objective';

/**
 * The TF.js implementation of the engine-neutral Objective (../objective.ts), in process: a
 * LayersModel with its trainable parameters flattened into one vector θ, a loss and a fixed
 * set of samples pre-batched as tensors.
 *
 * Parameter order (stable, recorded in results through `groups`): the model's
 * `trainableWeights` in Keras order, i.e. layers in topological order and, within a layer,
 * kernel before bias (then e.g. gamma before beta); each tensor flattened in C order. A
 * "filter" of a tensor of rank ≥ 2 is one index of its last (output) axis: an output neuron of
 * a Dense kernel [in, out] or an output channel of a Conv2D kernel [h, w, in, out].
 *
 * Loss sums over batches are accumulated in float64 on the JS side, so the mean loss does not
 * depend on the batch size beyond float32 rounding inside a batch; gradients and curvature
 * products are summed on the device and read back once per call.
 */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
  n: number;
}

export interface ObjectiveData {
  x: Float32Array;
  /** Per-sample shape as the model expects it (without the batch axis). */
  sampleShape: number[];
  y: Float32Array;
  ySampleShape: number[];
  n: number;
}

/**
 * Filters of a weight for filter normalisation (Li et al. 2018): the output axis (the last), so
 * element k belongs to filter k mod F. A depthwise kernel [h, w, in, mult] has in·mult output
 * channels, channel c·mult + m = k mod (in·mult): its last two axes together.
 */
function filterCount(layerClass: string | undefined, name: string, shape: number[]): number {
  if (shape.length < 2) return 0;
  const depthwise = (layerClass === 'DepthwiseConv2D' || layerClass === 'SeparableConv2D') && /depthwise_kernel$/.test(name);
  return depthwise && shape.length === 4 ? shape[2] * shape[3] : shape[shape.length - 1];
}

/** At most this many points pass through the model together (pointBatch.ts)… */
const MAX_POINTS_PER_PASS = 16;
/** …and their activations (with temporaries) and parameters take at most this many floats: 32 MB. */
const POINT_PASS_FLOATS = 8 * 2 ** 20;

export class TfjsObjective implements Objective {
  readonly engine = 'tfjs' as const;
  readonly backend: BackendInfo;
  readonly dim: number;
  readonly groups: ParamGroup[];
  readonly outputUnits: number;
  readonly classification: boolean;
  /** The parameters the model was loaded with. */
  readonly theta0: Float32Array;
  readonly sampleCount: number;
  /** The samples, pre-batched as tensors (owned by the objective, disposed with it). */
  readonly batches: Batch[];
  /** The model's trainable variables, in parameter order. */
  readonly variables: tf.Variable[];

  constructor(
    readonly model: tf.LayersModel,
    readonly lossFn: Loss,
    data: ObjectiveData,
    batchSize: number,
  ) {
    const weights = model.trainableWeights;
    this.variables = weights.map((w) => w.read() as tf.Variable);
    const owner = new Map<unknown, string>();
    for (const l of model.layers) for (const w of l.trainableWeights) owner.set(w, l.getClassName());
    let offset = 0;
    this.groups = weights.map((w) => {
      const shape = w.shape.map((s) => s as number);
      const size = shape.reduce((a, b) => a * b, 1);
      const name = w.originalName ?? w.name;
      const g: ParamGroup = {
        name,
        layer: name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : name,
        shape,
        offset,
        size,
        filters: filterCount(owner.get(w), name, shape),
      };
      offset += size;
      return g;
    });
    this.dim = offset;
    this.backend = tfjsBackend();
    this.theta0 = this.paramsSync();
    this.outputUnits = outputUnits(this);
    this.classification = lossFn.correct !== undefined;
    this.sampleCount = data.n;
    const xs = data.sampleShape.reduce((a, b) => a * b, 1);
    const ys = data.ySampleShape.reduce((a, b) => a * b, 1);
    this.batches = [];
    for (let start = 0; start < data.n; start += batchSize) {
      const n = Math.min(batchSize, data.n - start);
      this.batches.push({
        x: tf.tensor(data.x.subarray(start * xs, (start + n) * xs), [n, ...data.sampleShape], 'float32'),
        y: tf.tensor(data.y.subarray(start * ys, (start + n) * ys), [n, ...data.ySampleShape], 'float32'),
        n,
      });
    }
  }

  async getParams(): Promise<Float32Array> {
    return this.paramsSync();
  }

  /** The model's current parameters as one flat vector, read synchronously (TF.js only). */
  paramsSync(): Float32Array {
    const out = new Float32Array(this.dim);
    this.variables.forEach((v, i) => out.set(v.dataSync() as Float32Array, this.groups[i].offset));
    return out;
  }

  /** Writes θ into the model's variables (float32); done synchronously, the promise only fits the interface. */
  async setParams(theta: Float32Array | Float64Array): Promise<void> {
    this.assign(theta);
  }

  /** Writes θ into the model's variables now (TF.js only). */
  assign(theta: Float32Array | Float64Array): void {
    if (theta.length !== this.dim) throw new Error(`parameter vector has ${theta.length} entries, expected ${this.dim}`);
    const f32 = theta instanceof Float32Array ? theta : Float32Array.from(theta);
    this.variables.forEach((v, i) => {
      const g = this.groups[i];
      tf.tidy(() => v.assign(tf.tensor(f32.subarray(g.offset, g.offset + g.size), g.shape, 'float32')));
    });
  }

  /** Mean loss (and accuracy for classification) at θ, or at the current parameters. */
  async evaluate(theta?: Float32Array | Float64Array, withAccuracy = true): Promise<Evaluation> {
    if (theta) this.assign(theta);
    let lossSum = 0;
    let correctSum = 0;
    const accuracy = withAccuracy && this.lossFn.correct !== undefined;
    for (const b of this.batches) {
      const [l, c] = tf.tidy(() => {
        const pred = this.model.apply(b.x, { training: false }) as tf.Tensor;
        const ls = this.lossFn.perSample(b.y, pred).sum();
        return [ls, accuracy ? this.lossFn.correct!(b.y, pred).sum() : tf.scalar(0)];
      });
      const [lv, cv] = await Promise.all([l.data(), c.data()]);
      tf.dispose([l, c]);
      lossSum += lv[0];
      correctSum += cv[0];
    }
    return { loss: lossSum / this.sampleCount, accuracy: accuracy ? correctSum / this.sampleCount : null };
  }

  async loss(theta?: Float32Array | Float64Array): Promise<number> {
    return (await this.evaluate(theta, false)).loss;
  }

  /**
   * Points of a plane, several per pass over the data when the model allows it (pointBatch.ts:
   * K points in one forward pass), else one by one. Balanced passes (a row of 41 at K = 16 is
   * 14 + 14 + 13), so the same row is split the same way on every thread; a point's value does
   * not depend on the other points of its pass either (tested), which resumed rows rely on. The
   * batched path leaves the model's parameters as they were; the per-point path at the last point.
   */
  async evaluateAlong(
    centre: Float32Array,
    dirs: readonly Float32Array[],
    coords: readonly number[][],
    withAccuracy: boolean,
    stop: StopSignal,
    onPoint: (j: number, e: Evaluation) => void,
  ): Promise<void> {
    const K = this.pointsPerPass();
    if (K === 1) {
      for (let j = 0; j < coords.length; j++) {
        await checkpoint(stop);
        onPoint(j, await this.evaluate(pointOnPlane(centre, dirs, coords[j]), withAccuracy));
      }
      return;
    }
    const size = this.passSizes(coords.length)[0];
    const { bufs: points, release } = this.scratch('points', size, this.dim);
    try {
      for (let j0 = 0; j0 < coords.length; j0 += size) {
        await checkpoint(stop);
        const part = coords.slice(j0, j0 + size);
        const evs = await this.evaluatePoints(part.map((c, j) => pointOnPlane(centre, dirs, c, points[j])), withAccuracy);
        evs.forEach((e, j) => onPoint(j0 + j, e));
      }
    } finally {
      release();
    }
  }

  private scratchBuffers = new Map<string, Float32Array<ArrayBuffer>[]>();
  private scratchInUse = new Set<string>();

  /**
   * `count` float32 buffers of `length` for one pass, kept for the next pass: a row of the
   * demo MLP otherwise allocates ~8 MB of short-lived ArrayBuffers (each point's θ and the K
   * points' parameter tensors), and V8 answers that external memory with a full mark-compact
   * every few rows whose concurrent marking threads took ~0.5 s of CPU per 41×41 grid, on the
   * cores the grid's two threads compute on. A buffer is filled only after the tensors made
   * from its previous contents were disposed (the cpu backend keeps the array it is given).
   */
  private scratch(key: string, count: number, length: number): { bufs: Float32Array<ArrayBuffer>[]; release: () => void } {
    // Held until the caller releases it: an overlapping call gets buffers of its own.
    if (this.scratchInUse.has(key)) return { bufs: Array.from({ length: count }, () => new Float32Array(length)), release: () => undefined };
    this.scratchInUse.add(key);
    let bufs = this.scratchBuffers.get(key);
    if (!bufs || bufs.length < count || bufs[0].length !== length) {
      bufs = Array.from({ length: Math.max(count, bufs?.length ?? 0) }, () => new Float32Array(length));
      this.scratchBuffers.set(key, bufs);
    }
    return { bufs, release: () => this.scratchInUse.delete(key) };
  }

  /** The passes evaluateAlong makes of `count` points: equal sizes of at most pointsPerPass (the last may be smaller). */
  passSizes(count: number): number[] {
    const K = this.pointsPerPass();
    const size = K === 1 ? 1 : Math.ceil(count / Math.ceil(count / K));
    const out: number[] = [];
    for (let j0 = 0; j0 < count; j0 += size) out.push(Math.min(size, count - j0));
    return out;
  }

  private plan: PointBatchPlan | null | undefined;

  /** How many points evaluateAlong puts through the model in one pass (1: the model or loss cannot be batched by point). */
  pointsPerPass(): number {
    if (this.plan === undefined) {
      const groupOf = new Map(this.model.trainableWeights.map((w, i) => [w, i] as const));
      this.plan = planPointBatch(this.model, this.lossFn, groupOf);
    }
    if (!this.plan || this.batches.length === 0) return 1;
    const rows = Math.max(...this.batches.map((b) => b.n));
    const perPoint = 3 * rows * this.plan.floatsPerSample + 2 * this.dim;
    return Math.max(1, Math.min(MAX_POINTS_PER_PASS, Math.floor(POINT_PASS_FLOATS / perPoint)));
  }

  /**
   * Mean loss (and accuracy) at each θ of `thetas` in one pass over the data per batch (the
   * batched forward of pointBatch.ts; callers check pointsPerPass() > 1). Sums over batches in
   * float64, as evaluate() sums them. The model's parameters are not touched.
   */
  async evaluatePoints(thetas: readonly Float32Array[], withAccuracy = true): Promise<Evaluation[]> {
    if (this.pointsPerPass() === 1) throw new Error('this model cannot be evaluated at several points per pass');
    const K = thetas.length;
    for (const t of thetas) if (t.length !== this.dim) throw new Error(`parameter vector has ${t.length} entries, expected ${this.dim}`);
    const accuracy = withAccuracy && this.lossFn.correct !== undefined;
    const held = this.groups.map((g, i) => this.scratch(`group ${i} × ${K}`, 1, K * g.size));
    const params = this.groups.map((g, i) => {
      const buf = held[i].bufs[0];
      thetas.forEach((t, k) => buf.set(t.subarray(g.offset, g.offset + g.size), k * g.size));
      return tf.tensor(buf, [K, ...g.shape], 'float32');
    });
    const lossSum = new Float64Array(K);
    const correctSum = new Float64Array(K);
    try {
      for (const b of this.batches) {
        const sums = tf.tidy(() => {
          const r = batchPointSums(this.plan!, this.lossFn, b, params, K, accuracy);
          return r.correct ? [r.loss, r.correct] : [r.loss];
        });
        const values = await Promise.all(sums.map((t) => t.data()));
        tf.dispose(sums);
        for (let k = 0; k < K; k++) {
          lossSum[k] += values[0][k];
          if (accuracy) correctSum[k] += values[1][k];
        }
      }
    } finally {
      tf.dispose(params);
      for (const h of held) h.release();
    }
    const n = this.sampleCount;
    return Array.from({ length: K }, (_, k) => ({ loss: lossSum[k] / n, accuracy: accuracy ? correctSum[k] / n : null }));
  }

  /**
   * Mean loss and its gradient at θ. The batches' gradients are summed on the device and read
   * back once (a float32 sum of a few batches: ~1e-7 relative); the loss in float64.
   */
  async grad(theta?: Float32Array | Float64Array): Promise<{ loss: number; grad: Float64Array }> {
    if (theta) this.assign(theta);
    let sum: tf.Tensor1D | null = null;
    let lossSum = 0;
    try {
      for (const b of this.batches) {
        const { value, grads } = tf.variableGrads(
          () => this.lossFn.perSample(b.y, this.model.apply(b.x, { training: false }) as tf.Tensor).sum() as tf.Scalar,
          this.variables,
        );
        const prev: tf.Tensor1D | null = sum;
        sum = tf.tidy(() => {
          const flat = tf.concat(this.variables.map((v) => grads[v.name].reshape([-1]))) as tf.Tensor1D;
          return prev ? (tf.add(prev, flat) as tf.Tensor1D) : flat;
        });
        if (prev) prev.dispose();
        lossSum += (await value.data())[0];
        tf.dispose([value, ...Object.values(grads)]);
      }
      const n = this.sampleCount;
      const grad = sum ? Float64Array.from(await sum.data()) : new Float64Array(this.dim);
      for (let j = 0; j < grad.length; j++) grad[j] /= n;
      return { loss: lossSum / n, grad };
    } finally {
      sum?.dispose();
    }
  }

  /** Model outputs at θ for every sample, row-major [n, outputs]. */
  async outputs(theta?: Float32Array | Float64Array): Promise<{ data: Float32Array; shape: number[] }> {
    if (theta) this.assign(theta);
    const parts: Float32Array[] = [];
    let outShape: number[] = [];
    for (const b of this.batches) {
      const pred = tf.tidy(() => this.model.apply(b.x, { training: false }) as tf.Tensor);
      outShape = pred.shape.slice(1);
      parts.push((await pred.data()) as Float32Array);
      pred.dispose();
    }
    const per = outShape.reduce((a, c) => a * c, 1);
    const data = new Float32Array(this.sampleCount * per);
    let o = 0;
    for (const p of parts) {
      data.set(p, o);
      o += p.length;
    }
    return { data, shape: [this.sampleCount, ...outShape] };
  }

  /** Writes a flat float64/float32 vector as one tensor per parameter group (caller disposes). */
  splitParams(v: Float32Array | Float64Array): tf.Tensor[] {
    return this.groups.map((g) => tf.tensor(Float32Array.from(v.subarray(g.offset, g.offset + g.size)), g.shape, 'float32'));
  }

  async reset(): Promise<void> {
    this.assign(this.theta0);
  }

  perSampleLosses(): Promise<Float64Array> {
    return perSampleLosses(this);
  }

  perSampleGradients(indices: ArrayLike<number>): Promise<Float32Array[]> {
    return perSampleGradients(this, indices);
  }

  subsetGradient(indices: ArrayLike<number>): Promise<Float64Array> {
    return subsetGradient(this, indices);
  }

  jvp(v: Float32Array | Float64Array): Promise<Float32Array> {
    return jvp(this, v);
  }

  vjp(u: Float32Array | Float64Array): Promise<Float64Array> {
    return vjp(this, u);
  }

  outputJacobian(indices: ArrayLike<number>): Promise<Float32Array[]> {
    return outputJacobian(this, indices);
  }

  ntk(): Promise<Ntk> {
    return empiricalNtk(this);
  }

  curvature(kind: CurvatureKind, options: CurvatureOptions = {}): CurvatureOperator {
    return curvatureOperator(this, kind, options);
  }

  dispose(): void {
    for (const b of this.batches) tf.dispose([b.x, b.y]);
    this.batches.length = 0;
    this.scratchBuffers.clear();
  }
}

/** The TF.js backend chosen at start-up (or, in direct use without one, TF.js's current backend). */
function tfjsBackend(): BackendInfo {
  try {
    const info = engineInfo();
    return { name: info.backend, version: info.version };
  } catch {
    return { name: tf.getBackend(), version: `tfjs ${tf.version.tfjs}` };
  }
}
