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
 * The GGN's loss Hessian at the logits, in closed form. With u = e_y − 1/K, σ the population
 * std and s = sigmoid(a(b − z_y)) (so ℓ' = −s, ℓ'' = a·s(1 − s) in z_y):
 *
 *   ∇_h z_y  = g = (u − z_y z/K)/σ,
 *   ∇²_h z_y = (1/(Kσ²)) [−(u zᵀ + z uᵀ) − z_y P + 3 z_y z zᵀ/K],  P = I − 11ᵀ/K,
 *   H_ℓ      = a·s(1 − s)·g gᵀ − s·∇²_h z_y
 *
 * (differentiating z_y = (P h)_y/σ with ∂σ/∂h = d/(Kσ), d = P h). It is indefinite in general
 * (the loss is not convex in h), so the GGN built from it need not be positive semi-definite.
 * At σ = 0 the loss is not differentiable; the floored σ below makes H_ℓ large but finite there.
 */
export function zLoss(params: Record<string, number>): Loss {
  const { a, b } = params;
  return {
    name: 'zloss',
    fromLogits: true,
    classification: true,
    labelKind: 'classes',
    params,
    definition: `zloss (de Brébisson & Vincent 2016), a = ${a} (default 1, a > 0), b = ${b} (default 2): z = (h − mean(h))/std(h), the population std over the K logits (z = 0 when it is 0), ℓ = softplus(a(b − z_y))/a; invariant to shifting and scaling the logits. The paper tunes a and b per task; the defaults are this tool's. GGN: H_ℓ at the logits in closed form, a·s(1 − s)·g gᵀ − s·∇²z_y with s = sigmoid(a(b − z_y)), g = ∇z_y (indefinite in general).`,
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
    outputHessian(h, yTrue, r) {
      const K = h.shape[1];
      const y = oneHotLabels(yTrue, K);
      const u = y.sub(1 / K);
      const d = h.sub(h.mean(-1, true));
      const sigma = d.square().mean(-1, true).add(1e-30).sqrt();
      const z = d.div(sigma);
      const zy = z.mul(y).sum(-1, true);
      const s = tf.sigmoid(tf.scalar(b).sub(zy).mul(a));
      const g = u.sub(z.mul(zy).div(K)).div(sigma);
      const zr = z.mul(r).sum(-1, true);
      const ur = u.mul(r).sum(-1, true);
      const pr = r.sub(r.mean(-1, true));
      const d2r = u.mul(zr).neg().sub(z.mul(ur)).sub(pr.mul(zy)).add(z.mul(zy).mul(zr).mul(3 / K)).div(sigma.square().mul(K));
      const gn = g.mul(g.mul(r).sum(-1, true)).mul(s.mul(tf.scalar(1).sub(s)).mul(a));
      return gn.sub(d2r.mul(s)) as tf.Tensor2D;
    },
    correct: argmaxCorrect,
  };
}
