import * as tf from '@tensorflow/tfjs';
import type { Batch, TfjsObjective as Objective } from './objective';

/**
 * First-order automatic-differentiation products of the objective's model, the building
 * blocks of curvature products and kernels. docs/numerics.md records that TF.js nested gradients are
 * wrong for Hessian-vector products of nonlinear networks, but that a Jacobian-vector product
 * obtained by differentiating a VJP with respect to its (linear) cotangent is right: J v =
 * ∂/∂u ⟨Jᵀu, v⟩, and ⟨Jᵀu, v⟩ is linear in u, so only first-order links of the model's ops
 * are needed.
 *
 * Conventions: outputs and cotangents are row-major [samples, output units] over the
 * objective's samples in order; parameter vectors are flat in the objective's order.
 */

/** Σ over groups of ⟨gᵢ, vᵢ⟩ as a scalar tensor. */
function innerWithParams(grads: tf.Tensor[], v: tf.Tensor[]): tf.Scalar {
  return tf.addN(grads.map((g, i) => tf.sum(tf.mul(g, v[i])))) as tf.Scalar;
}

/** Gradients of a scalar function of the model's variables, in parameter order (caller disposes). */
export function batchGrads(obj: Objective, f: () => tf.Scalar): tf.Tensor[] {
  const { value, grads } = tf.variableGrads(f, obj.variables);
  value.dispose();
  return obj.variables.map((v) => grads[v.name]);
}

/** The model's outputs on a batch, flattened to [rows, C]. */
export function batchOutputs(obj: Objective, b: Batch): tf.Tensor2D {
  return (obj.model.apply(b.x, { training: false }) as tf.Tensor).reshape([b.n, outputUnits(obj)]);
}

/**
 * Jacobian-vector product of any batch function f(θ) → [rows, cols] (model outputs, per-sample
 * losses, …) along the parameter direction `vt` (one tensor per variable): J v = ∂/∂u ⟨Jᵀu, v⟩,
 * the dual trick. Only first-order links of the model's ops are used. Call inside tf.tidy.
 */
export function batchJvp(obj: Objective, f: () => tf.Tensor, shape: number[], vt: tf.Tensor[]): tf.Tensor {
  const dual = (u: tf.Tensor): tf.Scalar => innerWithParams(batchGrads(obj, () => tf.sum(tf.mul(f(), u)) as tf.Scalar), vt);
  return tf.grad(dual)(tf.zeros(shape));
}

/** Jᵀu of a batch function f(θ) for a cotangent u of f's shape, one tensor per variable. Call inside tf.tidy. */
export function batchVjp(obj: Objective, f: () => tf.Tensor, u: tf.Tensor): tf.Tensor[] {
  return batchGrads(obj, () => tf.sum(tf.mul(f(), u)) as tf.Scalar);
}

/** Number of output units per sample. */
export function outputUnits(obj: Objective): number {
  const shape = obj.model.outputs[0].shape.slice(1) as number[];
  return shape.reduce((a, c) => a * c, 1);
}

/** Jᵀu = Σₙ Jₙᵀ uₙ for a cotangent u on the outputs, summed in float64. */
export async function vjp(obj: Objective, u: Float32Array | Float64Array): Promise<Float64Array> {
  const C = outputUnits(obj);
  if (u.length !== obj.sampleCount * C) throw new RangeError(`cotangent has ${u.length} entries, expected ${obj.sampleCount * C}`);
  const out = new Float64Array(obj.dim);
  let row = 0;
  for (const b of obj.batches) {
    const us = Float32Array.from(u.subarray(row * C, (row + b.n) * C));
    const grads = tf.tidy(() => batchVjp(obj, () => batchOutputs(obj, b), tf.tensor2d(us, [b.n, C])));
    await accumulateGrads(obj, grads, out);
    row += b.n;
  }
  return out;
}

/** J v for a parameter-space vector v: the directional derivative of every output, [n·C]. */
export async function jvp(obj: Objective, v: Float64Array | Float32Array): Promise<Float32Array> {
  const C = outputUnits(obj);
  const out = new Float32Array(obj.sampleCount * C);
  const vt = obj.splitParams(v);
  try {
    let row = 0;
    for (const b of obj.batches) {
      const jv = tf.tidy(() => batchJvp(obj, () => batchOutputs(obj, b), [b.n, C], vt));
      out.set((await jv.data()) as Float32Array, row * C);
      jv.dispose();
      row += b.n;
    }
  } finally {
    tf.dispose(vt);
  }
  return out;
}

/** Per-sample losses ℓₙ at the current parameters, [n]. */
export async function perSampleLosses(obj: Objective): Promise<Float64Array> {
  const out = new Float64Array(obj.sampleCount);
  let row = 0;
  for (const b of obj.batches) {
    const l = tf.tidy(() => obj.lossFn.perSample(b.y, obj.model.apply(b.x, { training: false }) as tf.Tensor));
    out.set(await l.data(), row);
    l.dispose();
    row += b.n;
  }
  return out;
}

/**
 * Gradients of individual samples' losses, one flat float32 vector each (for the empirical
 * Fisher and M-FAC). Computed one sample at a time: exact, and memory stays O(d) per gradient.
 */
export async function perSampleGradients(obj: Objective, indices: ArrayLike<number>): Promise<Float32Array[]> {
  const located = locate(obj, indices);
  const out: Float32Array[] = [];
  for (const { batch, row } of located) {
    const grads = tf.tidy(() => {
      const x = batch.x.slice(row, 1);
      const y = batch.y.slice(row, 1);
      return batchGrads(obj, () => tf.sum(obj.lossFn.perSample(y, obj.model.apply(x, { training: false }) as tf.Tensor)) as tf.Scalar);
    });
    const g = new Float32Array(obj.dim);
    for (let i = 0; i < grads.length; i++) g.set((await grads[i].data()) as Float32Array, obj.groups[i].offset);
    tf.dispose(grads);
    out.push(g);
  }
  return out;
}

/**
 * Gradient of the mean loss over a subset of the samples (a mini-batch gradient, for M-FAC),
 * summed per batch in float64.
 */
export async function subsetGradient(obj: Objective, indices: ArrayLike<number>): Promise<Float64Array> {
  const byBatch = new Map<Batch, number[]>();
  for (const { batch, row } of locate(obj, indices)) {
    const rows = byBatch.get(batch) ?? [];
    rows.push(row);
    byBatch.set(batch, rows);
  }
  const out = new Float64Array(obj.dim);
  for (const [batch, rows] of byBatch) {
    const grads = tf.tidy(() => {
      const idx = tf.tensor1d(rows, 'int32');
      const x = tf.gather(batch.x, idx);
      const y = tf.gather(batch.y, idx);
      return batchGrads(obj, () => tf.sum(obj.lossFn.perSample(y, obj.model.apply(x, { training: false }) as tf.Tensor)) as tf.Scalar);
    });
    await accumulateGrads(obj, grads, out, 1 / indices.length);
  }
  return out;
}

/**
 * Rows of the output Jacobian: for each sample index and output unit c, ∇_θ f_c(xₙ), flat
 * float32. Row order: sample-major ([n0c0, n0c1, …, n1c0, …]).
 */
export async function outputJacobian(obj: Objective, indices: ArrayLike<number>): Promise<Float32Array[]> {
  const C = outputUnits(obj);
  const rows: Float32Array[] = [];
  for (const { batch, row } of locate(obj, indices)) {
    for (let c = 0; c < C; c++) {
      const grads = tf.tidy(() => {
        const x = batch.x.slice(row, 1);
        return batchGrads(obj, () => (obj.model.apply(x, { training: false }) as tf.Tensor).reshape([C]).slice(c, 1).sum() as tf.Scalar);
      });
      const g = new Float32Array(obj.dim);
      for (let i = 0; i < grads.length; i++) g.set((await grads[i].data()) as Float32Array, obj.groups[i].offset);
      tf.dispose(grads);
      rows.push(g);
    }
  }
  return rows;
}

function locate(obj: Objective, indices: ArrayLike<number>): { batch: Batch; row: number }[] {
  const starts: number[] = [];
  let s = 0;
  for (const b of obj.batches) {
    starts.push(s);
    s += b.n;
  }
  return Array.from(indices, (idx) => {
    if (idx < 0 || idx >= obj.sampleCount) throw new RangeError(`sample index ${idx} out of range 0..${obj.sampleCount - 1}`);
    let k = starts.length - 1;
    while (starts[k] > idx) k--;
    return { batch: obj.batches[k], row: idx - starts[k] };
  });
}

/** Adds per-variable gradient tensors into a flat float64 vector, then disposes them. */
export async function accumulateGrads(obj: Objective, grads: tf.Tensor[], out: Float64Array, scale = 1): Promise<void> {
  for (let i = 0; i < grads.length; i++) {
    const gv = await grads[i].data();
    const off = obj.groups[i].offset;
    for (let j = 0; j < gv.length; j++) out[off + j] += scale * gv[j];
  }
  tf.dispose(grads);
}
