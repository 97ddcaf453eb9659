import * as tf from '@tensorflow/tfjs';
import type { Loss } from '../losses';

/**
 * Several parameter points θ₁…θ_K through the model in one pass over a batch: the landscape's
 * rows are many points of one plane, and for a small model each point's forward pass is
 * mostly per-op overhead (kernel dispatch, tiny tensors) rather than arithmetic. Activations
 * carry a leading point axis [K, n, …]; a layer whose input is still the shared data x uses one
 * wide op for all K (the K kernels of a Dense or Conv2D concatenated along the output axis, so
 * x is read once), later Dense layers a batched matMul, parameter-free layers run on the K·n
 * rows merged. The arithmetic per point is the same as the model's own forward pass up to
 * float32 rounding (summation order inside a wider kernel); test/unit/pointBatch.test.ts checks
 * it against the per-point path and float64 references.
 *
 * Only chains of layers this file knows are batched (Dense, Conv2D channels-last,
 * BatchNormalization on the last axis, and layers without trainable weights); anything else,
 * losses that are not per-row (batch-level, episode, group or user-written), and more than one
 * input or output: `planPointBatch` returns null and the caller evaluates point by point.
 */

/** Activations: the data shared by every point ([n, …]) or one slice per point ([K, n, …]). */
interface Act {
  t: tf.Tensor;
  shared: boolean;
}

/** A layer's per-point trainable weights: group indices into the objective's parameter groups. */
type Step = { layer: tf.layers.Layer; kind: 'dense' | 'conv2d' | 'batchnorm' | 'plain'; params: Record<string, number> };

export interface PointBatchPlan {
  steps: Step[];
  /** Floats of activations one point needs per sample, for choosing K. */
  floatsPerSample: number;
}

interface ActivationFn {
  apply(x: tf.Tensor): tf.Tensor;
}

function isChain(model: tf.LayersModel, layers: tf.layers.Layer[]): boolean {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return false;
  if (model.getClassName() === 'Sequential') return true;
  for (let i = 0; i < layers.length; i++) {
    const nodes = (layers[i] as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes;
    if (nodes.length !== 1) return false;
    const inbound = nodes[0].inboundLayers;
    if (i === 0 ? inbound.length > 1 || (inbound.length === 1 && inbound[0].getClassName() !== 'InputLayer') : inbound.length !== 1 || inbound[0] !== layers[i - 1]) return false;
  }
  const out = (model.outputs[0] as unknown as { sourceLayer: tf.layers.Layer }).sourceLayer;
  return out === layers[layers.length - 1];
}

function prod(s: readonly (number | null)[]): number {
  return s.reduce<number>((a, b) => a * (b ?? 1), 1);
}

/**
 * The plan for `model` and `loss`, or null when the model or loss cannot be batched by point.
 * `groupOf` maps each trainable weight to its parameter group.
 */
export function planPointBatch(model: tf.LayersModel, loss: Loss, groupOf: Map<tf.LayerVariable, number>): PointBatchPlan | null {
  // The K points' rows are merged for the loss, so it must be a function of each row alone:
  // not batch-level, episode or group (embedding) losses, nor a user's loss.
  if (loss.batchLevel || loss.episode || loss.labelKind === 'groups' || loss.name === 'custom') return null;
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  if (layers.length === 0 || !isChain(model, layers)) return null;
  if (model.inputs[0].dtype !== 'float32') return null;
  const steps: Step[] = [];
  let floatsPerSample = 0;
  for (const layer of layers) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, unknown>;
    const trainable = layer.trainableWeights;
    const byName: Record<string, number> = {};
    for (const w of trainable) {
      const g = groupOf.get(w);
      if (g === undefined) return null;
      byName[(w.originalName ?? w.name).split('/').pop()!] = g;
    }
    const out = layer.outputShape;
    if (Array.isArray(out[0])) return null;
    floatsPerSample += prod((out as (number | null)[]).slice(1));
    if (trainable.length === 0) {
      steps.push({ layer, kind: 'plain', params: {} });
    } else if (cls === 'Dense') {
      if (byName.kernel === undefined || (cfg.useBias && byName.bias === undefined) || trainable.length !== (cfg.useBias ? 2 : 1)) return null;
      steps.push({ layer, kind: 'dense', params: byName });
    } else if (cls === 'Conv2D') {
      if (cfg.dataFormat !== 'channelsLast' || (cfg.padding !== 'valid' && cfg.padding !== 'same')) return null;
      if (byName.kernel === undefined || (cfg.useBias && byName.bias === undefined) || trainable.length !== (cfg.useBias ? 2 : 1)) return null;
      steps.push({ layer, kind: 'conv2d', params: byName });
    } else if (cls === 'BatchNormalization') {
      const axis = cfg.axis as number;
      if (axis !== -1 && axis !== (out as unknown[]).length - 1) return null;
      const weights = layer.weights.map((w) => (w.originalName ?? w.name).split('/').pop());
      if (!weights.includes('moving_mean') || !weights.includes('moving_variance')) return null;
      steps.push({ layer, kind: 'batchnorm', params: byName });
    } else {
      return null;
    }
  }
  return { steps, floatsPerSample };
}

function dims(t: tf.Tensor): number[] {
  return t.shape as number[];
}

/** [K, n, …] ⇄ [K·n, …]. */
function merge(t: tf.Tensor): tf.Tensor {
  const s = dims(t);
  return t.reshape([s[0] * s[1], ...s.slice(2)]);
}
function split(t: tf.Tensor, K: number): tf.Tensor {
  return t.reshape([K, t.shape[0] / K, ...t.shape.slice(1)]);
}

/** [n, …, K·c] → [K, n, …, c]: a wide op's output, one slice per point. */
function pointsFirst(t: tf.Tensor, K: number): tf.Tensor {
  const c = t.shape[t.rank - 1] / K;
  const r = t.reshape([...t.shape.slice(0, -1), K, c]);
  const perm = [r.rank - 2, ...Array.from({ length: r.rank - 2 }, (_, i) => i), r.rank - 1];
  return r.transpose(perm);
}

/** Stacked kernels [K, …, c] → one kernel [ …, K·c] (point-major along the output axis). */
function concatOutputs(w: tf.Tensor): tf.Tensor {
  const perm = [...Array.from({ length: w.rank - 2 }, (_, i) => i + 1), 0, w.rank - 1];
  const t = w.transpose(perm);
  return t.reshape([...t.shape.slice(0, -2), t.shape[t.rank - 2] * t.shape[t.rank - 1]]);
}

/** A per-point vector [K, c] broadcast against [K, n, …, c]. */
function perPointVector(v: tf.Tensor, rank: number): tf.Tensor {
  const s = dims(v);
  return v.reshape([s[0], ...Array.from({ length: rank - 2 }, () => 1), s[1]]);
}

function activation(layer: tf.layers.Layer): ActivationFn {
  return (layer as unknown as { activation: ActivationFn }).activation;
}

/**
 * The model's outputs at K points for one batch x, [K, n, …out]; `params[g]` is group g's
 * values at every point, [K, …shape]. Call inside tf.tidy.
 */
export function forwardPoints(plan: PointBatchPlan, x: tf.Tensor, params: tf.Tensor[], K: number): tf.Tensor {
  let a: Act = { t: x, shared: true };
  for (const step of plan.steps) {
    const cfg = step.layer.getConfig() as Record<string, unknown>;
    const p = (name: string): tf.Tensor | null => (step.params[name] === undefined ? null : params[step.params[name]]);
    if (step.kind === 'plain') {
      const y = step.layer.apply(a.shared ? a.t : merge(a.t), { training: false }) as tf.Tensor;
      a = { t: a.shared ? y : split(y, K), shared: a.shared };
    } else if (step.kind === 'dense') {
      const kernel = p('kernel')!;
      const bias = p('bias');
      const inDim = dims(kernel)[1];
      let y: tf.Tensor;
      if (a.shared) {
        const rows = a.t.reshape([-1, inDim]);
        const wide = tf.matMul(rows, concatOutputs(kernel));
        y = pointsFirst(wide.reshape([...a.t.shape.slice(0, -1), dims(wide)[1]]), K);
      } else {
        const rows = a.t.reshape([K, -1, inDim]);
        y = tf.matMul(rows, kernel).reshape([...a.t.shape.slice(0, -1), dims(kernel)[2]]);
      }
      if (bias) y = y.add(perPointVector(bias, y.rank));
      a = { t: activation(step.layer).apply(y), shared: false };
    } else if (step.kind === 'conv2d') {
      const kernel = p('kernel')!;
      const bias = p('bias');
      const strides = cfg.strides as [number, number];
      const dilations = cfg.dilationRate as [number, number];
      const pad = cfg.padding as 'valid' | 'same';
      let y: tf.Tensor;
      if (a.shared) {
        y = pointsFirst(tf.conv2d(a.t as tf.Tensor4D, concatOutputs(kernel) as tf.Tensor4D, strides, pad, 'NHWC', dilations), K);
      } else {
        const xs = tf.unstack(a.t);
        const ws = tf.unstack(kernel);
        y = tf.stack(xs.map((xk, k) => tf.conv2d(xk as tf.Tensor4D, ws[k] as tf.Tensor4D, strides, pad, 'NHWC', dilations)));
      }
      if (bias) y = y.add(perPointVector(bias, y.rank));
      a = { t: activation(step.layer).apply(y), shared: false };
    } else {
      // Inference batch normalisation, γ·(x − μ)/√(σ² + ε) + β with the moving statistics (shared
      // by every point: they are not parameters) and per-point γ, β.
      const weight = (name: string) => step.layer.weights.find((w) => (w.originalName ?? w.name).split('/').pop() === name)!.read();
      const eps = cfg.epsilon as number;
      const xhat = a.t.sub(weight('moving_mean')).mul(tf.rsqrt(weight('moving_variance').add(eps)));
      const rank = a.shared ? xhat.rank + 1 : xhat.rank;
      const fixed = (name: string): tf.Tensor | null =>
        cfg[name === 'gamma' ? 'scale' : 'center'] ? step.layer.weights.find((w) => (w.originalName ?? w.name).endsWith(name))!.read() : null;
      const gamma = p('gamma');
      const beta = p('beta');
      // At least one of γ, β is per-point here (else the layer is 'plain'), so y gains the point axis.
      let y: tf.Tensor = a.shared ? xhat.expandDims(0) : xhat;
      const g = gamma ? perPointVector(gamma, rank) : fixed('gamma');
      const b = beta ? perPointVector(beta, rank) : fixed('beta');
      if (g) y = y.mul(g);
      if (b) y = y.add(b);
      a = { t: y, shared: false };
    }
  }
  return a.shared ? tf.broadcastTo(a.t.expandDims(0), [K, ...a.t.shape]) : a.t;
}

/** The per-point loss sums (and correct counts) of one batch, [K] each. Call inside tf.tidy. */
export function batchPointSums(
  plan: PointBatchPlan,
  loss: Loss,
  b: { x: tf.Tensor; y: tf.Tensor; n: number },
  params: tf.Tensor[],
  K: number,
  withAccuracy: boolean,
): { loss: tf.Tensor1D; correct: tf.Tensor1D | null } {
  const pred = merge(forwardPoints(plan, b.x, params, K));
  const y = tf.tile(b.y, [K, ...Array.from({ length: b.y.rank - 1 }, () => 1)]);
  const l = loss.perSample(y, pred).reshape([K, b.n]).sum(1) as tf.Tensor1D;
  const c = withAccuracy && loss.correct ? (loss.correct(y, pred).reshape([K, b.n]).sum(1) as tf.Tensor1D) : null;
  return { loss: l, correct: c };
}
