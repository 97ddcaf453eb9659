import * as tf from '@tensorflow/tfjs';
import { InputError } from '../../shared/errors';
import { MAX_JACOBIAN_FLOATS, symmetrise } from '../grokking/ntk';
import type { Ntk } from '../objective';
import { outputJacobian, outputUnits } from './autodiff';
import type { TfjsObjective as Objective } from './objective';

/**
 * The empirical NTK of a TF.js objective (the statistics of it are engine-neutral, in
 * ../grokking/ntk.ts).
 */

/**
 * K = Σ_c J_c J_cᵀ for all samples of `obj` (its samples are the probe set): the Dense-layer
 * structure when every trainable layer is a Dense layer (C batched backward passes), else
 * explicit Jacobian rows (n·C backward passes).
 */
export async function empiricalNtk(obj: Objective): Promise<Ntk> {
  return (await denseNtk(obj)) ?? jacobianNtk(obj);
}

/**
 * K from explicit Jacobian rows (`outputJacobian`: one backward pass per sample and output unit);
 * the Gram matrix is one batched float32 matmul on the backend, returned in float64.
 */
export async function jacobianNtk(obj: Objective): Promise<Ntk> {
  const n = obj.sampleCount;
  const C = outputUnits(obj);
  const d = obj.dim;
  if (n * C * d > MAX_JACOBIAN_FLOATS) {
    throw new InputError('--probe', `${n} probe samples × ${C} outputs × ${d} parameters is too large a Jacobian (${((n * C * d * 4) / 2 ** 30).toFixed(1)} GiB); use a smaller probe`);
  }
  const rows = await outputJacobian(obj, Array.from({ length: n }, (_, i) => i));
  // Rows come sample-major (n0c0, n0c1, …). Lay them out as J [C, n, d] and Jᵀ [C, d, n], both
  // built here, so the batched Gram J Jᵀ is an untransposed matmul (transposed operands are
  // slow on the wasm backend, and transposing 10⁷ floats there costs more than doing it in JS).
  const J = new Float32Array(C * n * d);
  const JT = new Float32Array(C * d * n);
  for (let s = 0; s < n; s++) {
    for (let c = 0; c < C; c++) {
      const row = rows[s * C + c];
      J.set(row, (c * n + s) * d);
      const base = c * d * n + s;
      for (let k = 0; k < d; k++) JT[base + k * n] = row[k];
    }
  }
  rows.length = 0;
  const gram = tf.tidy(() => tf.matMul(tf.tensor3d(J, [C, n, d]), tf.tensor3d(JT, [C, d, n])).sum(0));
  const K = Float64Array.from(await gram.data());
  gram.dispose();
  symmetrise(K, n);
  return { K, n, outputs: C, method: 'jacobian' };
}

interface DenseLike {
  getClassName(): string;
  trainable: boolean;
  trainableWeights: { read(): tf.Tensor }[];
  inboundNodes: unknown[];
  activation: { apply(x: tf.Tensor): tf.Tensor; getClassName(): string };
  bias: unknown;
  setCallHook(hook: (inputs: tf.Tensor | tf.Tensor[]) => void): void;
  clearCallHook(): void;
}

/**
 * The empirical NTK of a model whose trainable layers are all Dense layers applied once, from the
 * per-sample structure of their gradients. For a Dense layer z = aW + b followed by φ, the
 * gradient of output c of sample n is ∂f_c/∂W = aₙ δₙ,cᵀ and ∂f_c/∂b = δₙ,c, δ the derivative of
 * f_c with respect to z; so the layer's share of K is
 *   K_l[n, m] = (aₙ·aₘ + 1[bias]) · Σ_c δₙ,c·δₘ,c,   i.e.   K_l = (AAᵀ + 1[bias]) ⊙ Σ_c Δ_cΔ_cᵀ.
 * δ for every sample and layer comes from one batched backward pass per output unit: a zero
 * tensor E_l is added to each layer's pre-activation (the layer's activation is temporarily
 * wrapped) and ∂(Σₙ f_c(xₙ))/∂E_l = Δ_l,c, exact because samples do not interact (inference mode).
 * Layer inputs A_l are recorded by the layers' call hooks. Returns null when the model does not
 * qualify (another trainable layer kind, a shared layer, inputs of rank ≠ 2).
 */
export async function denseNtk(obj: Objective): Promise<Ntk | null> {
  const model = obj.model;
  const layers = (model.layers as unknown as DenseLike[]).filter((l) => l.trainable && l.trainableWeights.length > 0);
  if (layers.length === 0 || layers.some((l) => l.getClassName() !== 'Dense' || l.inboundNodes.length !== 1)) return null;
  const owned = layers.reduce((a, l) => a + l.trainableWeights.length, 0);
  if (owned !== obj.variables.length) return null;
  const C = outputUnits(obj);
  const n = obj.sampleCount;
  const L = layers.length;
  // Per layer: inputs A [n, in] and Σ_c Δ_cΔ_cᵀ accumulated per batch pair; we keep A and Δ rows.
  const A: tf.Tensor2D[][] = layers.map(() => []);
  const delta: tf.Tensor2D[][][] = layers.map(() => Array.from({ length: C }, () => []));
  const saved = layers.map((l) => l.activation);
  let perturb: tf.Tensor[] = [];
  let record = false;
  let ok = true;
  try {
    layers.forEach((l, i) => {
      const orig = saved[i];
      l.activation = { apply: (z: tf.Tensor) => orig.apply(z.add(perturb[i])), getClassName: () => 'LosscapeNtkProbe' };
      l.setCallHook((inputs) => {
        if (!record) return;
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        if (x.rank !== 2) ok = false;
        else A[i].push(tf.keep(x.clone()) as tf.Tensor2D);
      });
    });
    for (const b of obj.batches) {
      for (let c = 0; c < C; c++) {
        record = c === 0;
        const grads = tf.tidy(() => {
          const zeros = layers.map((l) => tf.zeros([b.n, (l.trainableWeights[0].read().shape as number[])[1]]));
          const f = (...es: tf.Tensor[]): tf.Scalar => {
            perturb = es;
            const out = (model.apply(b.x, { training: false }) as tf.Tensor).reshape([b.n, C]);
            return out.slice([0, c], [b.n, 1]).sum() as tf.Scalar;
          };
          return tf.grads(f)(zeros) as tf.Tensor2D[];
        });
        grads.forEach((g, i) => delta[i][c].push(g));
        if (!ok) return null;
      }
    }
    // Assemble over batches and accumulate K on the backend, then read it once.
    const Kt = tf.tidy(() => {
      let acc: tf.Tensor2D = tf.zeros([n, n]);
      for (let i = 0; i < L; i++) {
        const a = tf.concat(A[i], 0) as tf.Tensor2D;
        let gA = tf.matMul(a, a.transpose());
        if (layers[i].bias) gA = gA.add(1);
        let gD: tf.Tensor2D = tf.zeros([n, n]);
        for (let c = 0; c < C; c++) {
          const d = tf.concat(delta[i][c], 0) as tf.Tensor2D;
          gD = gD.add(tf.matMul(d, d.transpose()));
        }
        acc = acc.add(gA.mul(gD));
      }
      return acc;
    });
    const K = Float64Array.from(await Kt.data());
    Kt.dispose();
    symmetrise(K, n);
    return { K, n, outputs: C, method: 'dense' };
  } finally {
    layers.forEach((l, i) => {
      l.activation = saved[i];
      l.clearCallHook();
    });
    perturb = [];
    for (const list of A) tf.dispose(list);
    for (const per of delta) for (const list of per) tf.dispose(list);
  }
}
