import * as tf from '@tensorflow/tfjs';
import type { Loss } from '../losses';

/**
 * The Cauchy–Schwarz divergence between the distribution of the targets y and of the
 * predictions ŷ within a batch (Yu et al., ICLR 2024, "Cauchy-Schwarz Divergence Information
 * Bottleneck for Regression"; Jenssen et al. 2006 for the Parzen estimator):
 *
 *   D_CS(p; q) = −log( (∫pq)² / (∫p² ∫q²) )
 *
 * with p, q Parzen estimates over the batch with a Gaussian kernel. The kernel's normalising
 * constants cancel in the ratio, leaving, with κ(a, b) = exp(−‖a − b‖²/(2σ²)) on the output vectors,
 *
 *   D = log Σ_ij κ(y_i, y_j) + log Σ_ij κ(ŷ_i, ŷ_j) − 2 log Σ_ij κ(y_i, ŷ_j) ≥ 0
 *
 * (each log Σ exp taken stably). σ = 1 and the Gram-matrix form are those of the authors' code
 * (SJYuCNEL/Cauchy-Schwarz-Information-Bottleneck, loss_cs.py GaussianMatrix, sigma=1 in
 * CS_IB_Housing.py); natural logarithms here where that code takes log₂. This is the divergence
 * of the marginals the brief defines; the CS-IB code's prediction term (its CS_Div, the paper's
 * conditional divergence of p(y|x) and q(ŷ|x)) also weighs pairs by a kernel on the inputs and
 * is not this loss. The value couples the batch: `perSample` gives every sample the batch's value.
 */
function logSumKernel(a: tf.Tensor2D, b: tf.Tensor2D, sigma: number): tf.Scalar {
  const sq = a.expandDims(1).sub(b.expandDims(0)).square().sum(-1);
  return tf.logSumExp(sq.div(-2 * sigma * sigma)) as tf.Scalar;
}

export function csDivergenceBatchLoss(predictions: tf.Tensor, targets: tf.Tensor, sigma: number): tf.Scalar {
  const n = predictions.shape[0];
  const q = predictions.reshape([n, -1]) as tf.Tensor2D;
  const p = targets.reshape(q.shape) as tf.Tensor2D;
  return logSumKernel(p, p, sigma).add(logSumKernel(q, q, sigma)).sub(logSumKernel(p, q, sigma).mul(2)) as tf.Scalar;
}

export function csDivergenceLoss(params: Record<string, number>): Loss {
  const { sigma } = params;
  return {
    name: 'cs_divergence',
    fromLogits: false,
    classification: false,
    batchLevel: true,
    params,
    definition: `cs_divergence (Cauchy–Schwarz divergence, Yu et al. 2024), σ = ${sigma} (default 1): D = log Σ_ij κ(y_i, y_j) + log Σ_ij κ(ŷ_i, ŷ_j) − 2 log Σ_ij κ(y_i, ŷ_j), κ(a, b) = exp(−‖a − b‖²/(2σ²)) on the output vectors of a batch (−log((∫pq)²/(∫p²∫q²)) of the Parzen estimates of targets y and predictions ŷ; natural log); the objective is the sample-weighted mean of the batch values over fixed seeded batches. It compares the batch's distributions, not pairs: a permutation of the predictions does not change it.`,
    perSample(yTrue, yPred) {
      return tf.ones([yPred.shape[0]]).mul(csDivergenceBatchLoss(yPred, yTrue, sigma)) as tf.Tensor1D;
    },
  };
}
