import * as tf from '@tensorflow/tfjs';
import type { Loss } from '../losses';
import { classIndices, oneHotLabels } from './classLabels';

/**
 * The log-Taylor-softmax of order 2 (de Brébisson & Vincent 2016, "An exploration of softmax
 * alternatives belonging to the spherical loss family"; Vincent et al. 2015): e^x replaced by
 * its second-order Taylor polynomial t(x) = 1 + x + x²/2, which is positive for every x, so
 *   ℓ = −log( t(h_y) / Σ_k t(h_k) ).
 * The prediction is argmax_k t(h_k) (t is not monotone). Loss Hessian at the logits, for the GGN
 * (t' = 1 + x, t'' = 1, S = Σ t(h_k)):
 *   H = diag(e_y)·(t'(h_y)² − t(h_y))/t(h_y)² + I/S − t' t'ᵀ/S².
 */
function t(h: tf.Tensor): tf.Tensor {
  return h.square().mul(0.5).add(h).add(1);
}

export function taylorSoftmaxLoss(params: Record<string, number>): Loss {
  return {
    name: 'taylor_softmax',
    fromLogits: true,
    classification: true,
    labelKind: 'classes',
    params,
    definition: 'taylor_softmax (log-Taylor-softmax of order 2, spherical family; de Brébisson & Vincent 2016): ℓ = −log(t(h_y)/Σ_k t(h_k)), t(x) = 1 + x + x²/2, h the logits; the predicted class is argmax_k t(h_k).',
    perSample(yTrue, h) {
      const K = h.shape[h.rank - 1] as number;
      const y = oneHotLabels(yTrue, K);
      const th = t(h);
      return th.sum(-1).log().sub(th.mul(y).sum(-1).log()) as tf.Tensor1D;
    },
    correct(yTrue, h) {
      return tf.cast(tf.equal(t(h).argMax(-1), classIndices(yTrue)), 'float32') as tf.Tensor1D;
    },
    outputHessian(h, yTrue, r) {
      const K = h.shape[1];
      const y = oneHotLabels(yTrue, K);
      const th = t(h);
      const dt = h.add(1);
      const S = th.sum(-1, true);
      const ty = th.mul(y).sum(-1, true);
      const dty = dt.mul(y).sum(-1, true);
      const target = y.mul(r).mul(dty.square().sub(ty).div(ty.square()));
      return target.add(r.div(S)).sub(dt.mul(dt.mul(r).sum(-1, true)).div(S.square())) as tf.Tensor2D;
    },
  };
}
