import * as tf from '@tensorflow/tfjs';
import type { Loss } from '../losses';

/**
 * The multi-similarity loss (Wang et al., CVPR 2019, "Multi-Similarity Loss with General Pair
 * Weighting for Deep Metric Learning"; MalongTech/research-ms-loss) on a batch of embeddings
 * (the model's outputs as they are) with class labels:
 *
 *   S = E Eᵀ, E the L2-normalised outputs (cosine similarities);
 *   for anchor i, P_i = {j ≠ i : y_j = y_i}, N_i = {k : y_k ≠ y_i};
 *   mined negatives: k ∈ N_i with S_ik > min_{j∈P_i} S_ij − ε;
 *   mined positives: j ∈ P_i with S_ij < max_{k∈N_i} S_ik + ε (min and max over the sets before mining;
 *   an empty P_i mines no negative and an empty N_i no positive);
 *   ℓ_i = (1/α) log(1 + Σ_{mined P} e^{−α(S_ij − λ)}) + (1/β) log(1 + Σ_{mined N} e^{β(S_ik − λ)});
 *   the batch's loss is the mean of ℓ_i over its anchors (0 for an anchor with nothing mined).
 *
 * The mining masks are comparisons, so no gradient flows through them (as in the reference code,
 * which mines under no_grad). The value couples the batch: `perSample` gives every sample the
 * batch's mean, so the objective's sum is n_b·L_b and its mean the sample-weighted mean of the
 * batch losses.
 */

/** log(1 + Σ_j mask_ij e^{x_ij}) per row, shifted by max(0, max masked x) against overflow. */
function log1pSumExp(x: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor1D {
  const masked = tf.where(mask, x, tf.fill(x.shape, -1e4));
  const m = tf.maximum(masked.max(-1, true), 0);
  const inner = m.neg().exp().add(masked.sub(m).exp().mul(mask.toFloat()).sum(-1, true));
  return m.add(inner.log()).reshape([-1]) as tf.Tensor1D;
}

export function multiSimilarityBatchLoss(embeddings: tf.Tensor, labels: tf.Tensor, params: Record<string, number>): tf.Scalar {
  const { alpha, beta, lambda, epsilon } = params;
  const n = embeddings.shape[0];
  const e = embeddings.reshape([n, -1]) as tf.Tensor2D;
  // ‖e‖ floored without a comparison on the tape (as F.normalize's max(‖e‖, 1e-12) for nonzero rows).
  const unit = e.div(e.square().sum(-1, true).add(1e-24).sqrt());
  const S = tf.matMul(unit, unit, false, true) as tf.Tensor2D;
  // Mining reads a detached copy of S: the masks take no gradient (the reference mines under
  // no_grad), and a comparison on TF.js's gradient tape would have none to give.
  const Sd = tf.tensor2d(S.dataSync() as Float32Array, [n, n]);
  const g = labels.reshape([n]);
  const same = tf.equal(g.expandDims(1), g.expandDims(0)) as tf.Tensor2D;
  const eye = tf.cast(tf.eye(n), 'bool') as tf.Tensor2D;
  const pos = tf.logicalAnd(same, tf.logicalNot(eye)) as tf.Tensor2D;
  const neg = tf.logicalNot(same) as tf.Tensor2D;
  const hasPos = pos.any(-1, true);
  const hasNeg = neg.any(-1, true);
  const minPos = tf.where(pos, Sd, tf.fill(Sd.shape, 1e9)).min(-1, true);
  const maxNeg = tf.where(neg, Sd, tf.fill(Sd.shape, -1e9)).max(-1, true);
  const negKeep = tf.logicalAnd(tf.logicalAnd(neg, hasPos), tf.greater(Sd, minPos.sub(epsilon))) as tf.Tensor2D;
  const posKeep = tf.logicalAnd(tf.logicalAnd(pos, hasNeg), tf.less(Sd, maxNeg.add(epsilon))) as tf.Tensor2D;
  const posTerm = log1pSumExp(S.sub(lambda).mul(-alpha) as tf.Tensor2D, posKeep).div(alpha);
  const negTerm = log1pSumExp(S.sub(lambda).mul(beta) as tf.Tensor2D, negKeep).div(beta);
  return posTerm.add(negTerm).mean() as tf.Scalar;
}

export function multiSimilarityLoss(params: Record<string, number>): Loss {
  const { alpha, beta, lambda, epsilon } = params;
  return {
    name: 'multi_similarity',
    fromLogits: false,
    classification: false,
    labelKind: 'groups',
    batchLevel: true,
    params,
    definition: `multi_similarity (Wang et al. 2019), α = ${alpha}, β = ${beta}, λ = ${lambda}, ε = ${epsilon} (defaults 2, 50, 1, 0.1): S = cosine similarities of the L2-normalised outputs within a batch; for anchor i keep negatives with S_ik > min_P S_ij − ε and positives with S_ij < max_N S_ik + ε (the anchor is not its own positive; min and max before mining); ℓ_i = (1/α) log(1 + Σ_P e^{−α(S_ij − λ)}) + (1/β) log(1 + Σ_N e^{β(S_ik − λ)}); the batch loss is the mean over its anchors, the objective the sample-weighted mean of the batch losses over fixed seeded batches.`,
    perSample(yTrue, yPred) {
      const n = yPred.shape[0];
      return tf.ones([n]).mul(multiSimilarityBatchLoss(yPred, yTrue, params)) as tf.Tensor1D;
    },
  };
}
