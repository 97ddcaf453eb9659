import * as tf from '@tensorflow/tfjs';
import type { Loss } from '../losses';
import { episodeClasses, episodeEmbeddings, pairDistances, type EpisodeShape } from './episodes';

/**
 * The proto-triplet loss of Mendez-Ruiz et al. 2023 ("SuSana Distancia is all you need", arXiv
 * 2305.09062), as the authors' code computes it (maumruiz/FewShot-KidneyStones,
 * pro-fewshot/algorithms/icnn_loss.py `proto_triplet_loss`, run from maumruiz/FSL-Loss train.py
 * with `--losses prototriplet`; the paper's text beyond its abstract was not available to us):
 * on one episode, the prototypes c_j are the means of the support embeddings of class j, and for
 * every query q of class y
 *
 *   ℓ_q = max(0, d(q, c_y) − min_{j≠y} d(q, c_j) + m),  d(a, b) = √(‖a − b‖² + 10⁻⁶),
 *
 * the triplet loss with the query as anchor, its own prototype as the positive and the nearest
 * other prototype as the negative; the episode's loss is the mean over its N·Q queries. The
 * nearest other prototype is chosen on the values (no gradient through the choice, as a min).
 */
export function protoTripletEpisodeLoss(outputs: tf.Tensor, e: EpisodeShape, margin: number): tf.Scalar {
  const x = episodeEmbeddings(outputs, e, 'proto_triplet');
  const { way: N, shot: K, query: Q } = e;
  const d = x.shape[1];
  const protos = x.slice([0, 0], [N * K, d]).reshape([N, K, d]).mean(1) as tf.Tensor2D;
  const queries = x.slice([N * K, 0], [N * Q, d]) as tf.Tensor2D;
  const D = pairDistances(queries, protos);
  const cls = episodeClasses(e).subarray(N * K);
  const values = D.dataSync();
  const nearest = new Int32Array(N * Q);
  for (let i = 0; i < N * Q; i++) {
    let best = -1;
    for (let j = 0; j < N; j++) if (j !== cls[i] && (best < 0 || values[i * N + j] < values[i * N + best])) best = j;
    nearest[i] = best;
  }
  const pos = D.mul(tf.oneHot(tf.tensor1d(cls, 'int32'), N)).sum(-1);
  const neg = D.mul(tf.oneHot(tf.tensor1d(nearest, 'int32'), N)).sum(-1);
  return tf.relu(pos.sub(neg).add(margin)).mean() as tf.Scalar;
}

export function protoTripletLoss(params: Record<string, number>, episode: EpisodeShape): Loss {
  const { margin } = params;
  return {
    name: 'proto_triplet',
    fromLogits: false,
    classification: false,
    labelKind: 'groups',
    batchLevel: true,
    episode,
    params,
    definition: `proto_triplet (Mendez-Ruiz et al. 2023, as in the authors' code), margin m = ${margin} (default 0.5): on each ${episode.way}-way ${episode.shot}-shot episode with ${episode.query} queries per class, prototypes c_j = mean of class j's support embeddings (the model's outputs); ℓ_q = max(0, d(q, c_y) − min_{j≠y} d(q, c_j) + m) with d(a, b) = √(‖a − b‖² + 10⁻⁶); the episode loss is the mean over its queries, the objective the mean over the fixed seeded episodes.`,
    perSample(_yTrue, yPred) {
      return tf.ones([yPred.shape[0]]).mul(protoTripletEpisodeLoss(yPred, episode, margin)) as tf.Tensor1D;
    },
  };
}
