import * as tf from '@tensorflow/tfjs';
import type { Loss } from '../losses';
import { argmaxCorrect, oneHotLabels } from './classLabels';

/** softplus(x) = max(x, 0) + log(1 + e^{−|x|}), stable for large |x|. */
function softplus(x: tf.Tensor): tf.Tensor {
  return tf.relu(x).add(tf.log1p(tf.exp(tf.abs(x).neg())));
}

/**
 * The Z-loss (de Brébisson & Vincent 2016, "The Z-loss: a shift and scale invariant
 * classification loss belonging to the Spherical Family"): z = (h − μ)/σ over the K logits,
 * μ their mean and σ their population standard deviation (z = 0 when σ = 0), and
 * ℓ = softplus(a(b − z_y))/a. The paper treats a and b as hyperparameters tuned on validation
 * data and publishes no universal values; the defaults here (a = 1, b = 2) are a moderate
 * choice: with K = 10, z_y ranges over [−1/3, 3], so b = 2 asks the target to stand two
 * standard deviations above the mean.
 *
 * The GGN needs ∂²ℓ/∂h², which this loss does not provide in closed form here (the standard
 * deviation couples every output): lossHessian.ts refuses it with that reason.
 */
export function zLoss(params: Record<string, number>): Loss {
  const { a, b } = params;
  return {
    name: 'zloss',
    fromLogits: true,
    classification: true,
    labelKind: 'classes',
    params,
    definition: `zloss (de Brébisson & Vincent 2016), a = ${a} (default 1, a > 0), b = ${b} (default 2): z = (h − mean(h))/std(h), the population std over the K logits (z = 0 when it is 0), ℓ = softplus(a(b − z_y))/a; invariant to shifting and scaling the logits. The paper tunes a and b per task; the defaults are this tool's.`,
    perSample(yTrue, h) {
      const K = h.shape[h.rank - 1] as number;
      const y = oneHotLabels(yTrue, K);
      const mu = h.mean(-1, true);
      const d = h.sub(mu);
      // A tiny floor keeps z = 0 and the gradient finite when every output is equal (σ = 0)
      // without a branch (comparisons on the gradient tape have no gradient in TF.js); it moves
      // σ by less than float32 resolution whenever σ² > 1e-23.
      const sigma = d.square().mean(-1, true).add(1e-30).sqrt();
      const zy = d.div(sigma).mul(y).sum(-1);
      return softplus(tf.scalar(b).sub(zy).mul(a)).div(a) as tf.Tensor1D;
    },
    correct: argmaxCorrect,
  };
}
