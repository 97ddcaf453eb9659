import * as tf from '@tensorflow/tfjs';
import type { Loss } from '../losses';
import { argmaxCorrect, logSoftmax, oneHotLabels } from './classLabels';

/**
 * The comp-sum family (Mao, Mohri & Zhong, ICML 2023) and generalised cross-entropy (Zhang &
 * Sabuncu 2018), on the logits h:
 *
 *   comp_sum:  ℓ_τ = Φ_τ(Σ_{k≠y} e^{h_k − h_y}),  Φ_τ(u) = ((1+u)^{1−τ} − 1)/(1 − τ),  Φ_1(u) = log(1+u)
 *   gce:       ℓ_q = (1 − p_y^q)/q
 *
 * Since 1 + u = Σ_k e^{h_k − h_y} = 1/p_y, both are one function of s = log p_y:
 *
 *   ℓ = g_c(s) = −(e^{cs} − 1)/c,  c = τ − 1 (comp_sum) or c = q (gce),  g_0(s) = −s,
 *
 * so gce(q) = comp_sum(τ = 1 + q), comp_sum(τ = 1) is cross-entropy and τ = 2 gives 1 − p_y.
 * Computing through log p_y (a stable log-softmax) avoids overflowing e^{h_k − h_y}.
 *
 * The loss Hessian at the logits, for the GGN: with w = e^{cs} = p_y^c and ∇s = e_y − p,
 *   H = −c·w·(e_y − p)(e_y − p)ᵀ + w·(diag(p) − ppᵀ);
 * for c > 0 (τ > 1) the first term is negative: the "GGN" then need not be positive semi-definite.
 */
function expm1(x: tf.Tensor): tf.Tensor {
  // e^x − 1 = tanh(x/2)·(e^x + 1): no cancellation near 0 and no branch (a comparison on the
  // gradient tape has no gradient in TF.js).
  return tf.tanh(x.div(2)).mul(tf.exp(x).add(1));
}

/** −(e^{cs} − 1)/c for c ≠ 0, −s for c = 0. */
function gOfLogPy(s: tf.Tensor, c: number): tf.Tensor {
  return c === 0 ? s.neg() : expm1(s.mul(c)).div(-c);
}

function logPy(yTrue: tf.Tensor, z: tf.Tensor): { y: tf.Tensor2D; s: tf.Tensor1D; logp: tf.Tensor } {
  const K = z.shape[z.rank - 1] as number;
  const y = oneHotLabels(yTrue, K);
  const logp = logSoftmax(z);
  return { y, s: y.mul(logp).sum(-1) as tf.Tensor1D, logp };
}

function logPyLoss(name: 'comp_sum' | 'gce', params: Record<string, number>, c: number, definition: string): Loss {
  return {
    name,
    fromLogits: true,
    classification: true,
    labelKind: 'classes',
    params,
    definition,
    perSample: (yTrue, z) => gOfLogPy(logPy(yTrue, z).s, c) as tf.Tensor1D,
    correct: argmaxCorrect,
    outputHessian(z, yTrue, r) {
      const { y, s, logp } = logPy(yTrue, z);
      const p = logp.exp();
      const w = s.mul(c).exp().expandDims(1);
      const fisher = p.mul(r.sub(p.mul(r).sum(-1, true)));
      if (c === 0) return fisher.mul(w) as tf.Tensor2D;
      const d = y.sub(p);
      return fisher.mul(w).sub(d.mul(d.mul(r).sum(-1, true)).mul(w).mul(c)) as tf.Tensor2D;
    },
  };
}

export function compSumLoss(params: Record<string, number>): Loss {
  const tau = params.tau;
  return logPyLoss(
    'comp_sum',
    params,
    tau - 1,
    `comp_sum (Mao, Mohri & Zhong 2023), τ = ${tau} (default 1, τ ∈ [0, 2]): ℓ = Φ_τ(Σ_{k≠y} exp(h_k − h_y)), Φ_τ(u) = ((1+u)^{1−τ} − 1)/(1 − τ), Φ_1(u) = log(1+u); h the logits (pre-softmax values when the model ends in a softmax); τ = 0 sum-exponential, 1 cross-entropy, 2 the MAE loss 1 − p_y.`,
  );
}

export function gceLoss(params: Record<string, number>): Loss {
  const q = params.q;
  return logPyLoss(
    'gce',
    params,
    q,
    `gce (generalised cross-entropy, Zhang & Sabuncu 2018), q = ${q} (default 0.7, q ∈ (0, 1]): ℓ = (1 − p_y^q)/q, p = softmax(h), h the logits; q → 0 tends to cross-entropy, q = 1 is 1 − p_y.`,
  );
}
