import * as tf from '@tensorflow/tfjs';
import type { Batch, Objective } from './objective';

/**
 * First-order automatic-differentiation products of the objective's model, the building
 * blocks of curvature products and kernels. DESIGN.md measured that TF.js nested gradients are
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

function batchGrads(obj: Objective, f: () => tf.Scalar): tf.Tensor[] {
  const { value, grads } = tf.variableGrads(f, obj.variables);
  value.dispose();
  return obj.variables.map((v) => grads[v.name]);
}

function outUnitsOf(obj: Objective, b: Batch): number {
  const shape = obj.model.outputs[0].shape.slice(1) as number[];
  void b;
  return shape.reduce((a, c) => a * c, 1);
}

/** Number of output units per sample. */
export function outputUnits(obj: Objective): number {
  return outUnitsOf(obj, obj.batches[0]);
}

/** Jᵀu = Σₙ Jₙᵀ uₙ for a cotangent u on the outputs, summed in float64. */
export async function vjp(obj: Objective, u: Float32Array): Promise<Float64Array> {
  const C = outputUnits(obj);
  const out = new Float64Array(obj.dim);
  let row = 0;
  for (const b of obj.batches) {
    const us = u.subarray(row * C, (row + b.n) * C);
    const grads = tf.tidy(() => {
      const ut = tf.tensor2d(us, [b.n, C]);
      return batchGrads(obj, () => tf.sum(tf.mul((obj.model.apply(b.x, { training: false }) as tf.Tensor).reshape([b.n, C]), ut)) as tf.Scalar);
    });
    await accumulate(obj, grads, out);
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
      const jv = tf.tidy(() => {
        const dual = (u: tf.Tensor): tf.Scalar => {
          const g = batchGrads(obj, () => tf.sum(tf.mul((obj.model.apply(b.x, { training: false }) as tf.Tensor).reshape([b.n, C]), u)) as tf.Scalar);
          return innerWithParams(g, vt);
        };
        return tf.grad(dual)(tf.zeros([b.n, C]));
      });
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

async function accumulate(obj: Objective, grads: tf.Tensor[], out: Float64Array): Promise<void> {
  for (let i = 0; i < grads.length; i++) {
    const gv = await grads[i].data();
    const off = obj.groups[i].offset;
    for (let j = 0; j < gv.length; j++) out[off + j] += gv[j];
  }
  tf.dispose(grads);
}
