import * as tf from '@tensorflow/tfjs';

/**
 * The layout of one few-shot episode as the episode losses receive it (src/engine/lossBatches.ts
 * draws them): the N·K support samples class by class (K each), then the N·Q queries class by
 * class (Q each) — the order of the authors' sampler (maumruiz/FSL-Loss train.py: support labels
 * arange(0, way, 1/shot), query labels arange(0, way, 1/query)). A sample's episode class is its
 * position's block, so the losses need no labels.
 */
export interface EpisodeShape {
  way: number;
  shot: number;
  query: number;
}

export function episodeSize(e: EpisodeShape): number {
  return e.way * (e.shot + e.query);
}

/** Episode class of every position: support blocks of K, then query blocks of Q. */
export function episodeClasses(e: EpisodeShape): Int32Array {
  const out = new Int32Array(episodeSize(e));
  for (let i = 0; i < e.way * e.shot; i++) out[i] = Math.floor(i / e.shot);
  for (let i = 0; i < e.way * e.query; i++) out[e.way * e.shot + i] = Math.floor(i / e.query);
  return out;
}

/** The episode's embeddings [n, d] (trailing axes flattened), checking the batch is one episode. */
export function episodeEmbeddings(outputs: tf.Tensor, e: EpisodeShape, loss: string): tf.Tensor2D {
  const n = outputs.shape[0];
  if (n !== episodeSize(e)) throw new Error(`${loss}: a batch of ${n} samples is not one ${e.way}-way ${e.shot}-shot episode with ${e.query} queries per class (${episodeSize(e)} samples)`);
  return outputs.reshape([n, -1]) as tf.Tensor2D;
}

/**
 * Euclidean distances √(‖a_i − b_j‖² + 10⁻⁶) [rows of a, rows of b], from the differences (not
 * the ‖a‖² + ‖b‖² − 2ab expansion); the 10⁻⁶ under the root is the authors' (their
 * nearest_neighbors), which keeps the gradient finite at coincident points.
 */
export function pairDistances(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return a.expandDims(1).sub(b.expandDims(0)).square().sum(-1).add(1e-6).sqrt() as tf.Tensor2D;
}
