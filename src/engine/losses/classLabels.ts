import * as tf from '@tensorflow/tfjs';

/** One-hot [n, K] labels from class indices [n] or [n, 1]; one-hot labels pass through. */
export function oneHotLabels(yTrue: tf.Tensor, classes: number): tf.Tensor2D {
  if (yTrue.rank === 1 || (yTrue.rank === 2 && yTrue.shape[1] === 1 && classes > 1)) {
    return tf.oneHot(tf.cast(yTrue.reshape([-1]), 'int32'), classes).toFloat() as tf.Tensor2D;
  }
  return yTrue.reshape([yTrue.shape[0], classes]) as tf.Tensor2D;
}

/** Class indices [n] from indices or one-hot labels. */
export function classIndices(yTrue: tf.Tensor): tf.Tensor1D {
  return (yTrue.rank === 1 || yTrue.shape[1] === 1 ? tf.cast(yTrue.reshape([-1]), 'int32') : yTrue.argMax(-1)) as tf.Tensor1D;
}

/** Per-sample 1 when the largest score is the label's class. */
export function argmaxCorrect(yTrue: tf.Tensor, scores: tf.Tensor): tf.Tensor1D {
  return tf.cast(tf.equal(scores.argMax(-1), classIndices(yTrue)), 'float32') as tf.Tensor1D;
}

/**
 * log softmax by the max-shift identity, built from differentiable primitives. The shift m's
 * own gradient contributions cancel exactly (∂/∂m [m + log Σ e^{z−m}] = 0), so no stop-gradient
 * is needed.
 */
export function logSoftmax(z: tf.Tensor): tf.Tensor {
  const m = z.max(-1, true);
  const s = z.sub(m);
  return s.sub(s.exp().sum(-1, true).log());
}
