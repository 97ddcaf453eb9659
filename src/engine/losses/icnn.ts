import * as tf from '@tensorflow/tfjs';
import type { Loss } from '../losses';
import { episodeClasses, episodeEmbeddings, pairDistances, type EpisodeShape } from './episodes';

const EPS = 1e-7;

/**
 * The ICNN score (inter- and intra-class nearest neighbours) of Mendez-Ruiz et al. 2023 ("SuSana
 * Distancia is all you need", arXiv 2305.09062), as the authors' code computes it on a whole
 * episode (maumruiz/FewShot-KidneyStones, pro-fewshot/algorithms/icnn_loss.py `modified_score`,
 * called as in their `fullicnn` option: support and queries together, ipc = K + Q; run from
 * maumruiz/FSL-Loss train.py with `--losses fullicnn`); the paper's text beyond its abstract was
 * not available to us. With n = N(K + Q) samples, d_ij = √(‖x_i − x_j‖² + 10⁻⁶), each sample's
 * ipc nearest other samples in ascending distance, k' = n − 2 if k + 2 ≥ n else k, and k̃ = min(k', ipc):
 *
 *   ν_i   = distance to the nearest neighbour of another class among the ipc (∞ if none);
 *   ñ_ij  = (d_ij/(ν_i + ε)) / max(1, max_{j<k̃} d_ij/(ν_i + ε)),  j < k̃ (ε = 10⁻⁷);
 *   λ_sc  = 1 − Σ_i [Σ_{j same} ñ_ij / (s_i + ε)] / (#{i : s_i > 0} + ε),  s_i = same-class count among k̃;
 *   λ_dc  = Σ_i [Σ_{j other} d_ij/(D + ε) / (o_i + ε)] / (#{i : o_i > 0} + ε),  o_i = k̃ − s_i,
 *           D = the largest other-class distance among all first-k̃ neighbours; λ_dc = 1 when there is none;
 *   γ     = Σ_i s_i / (k' n) if k' + 2 < n, else 1;
 *   score = ((λ_sc + λ_dc)/2 + γ)/2,   loss = −log(score).
 *
 * Neighbour sets and the arg-min/arg-max choices are made on the values (no gradient through
 * them, as the authors' topk/min/max); a sample's own distance is excluded explicitly where the
 * authors drop the first column of a top-(ipc + 1) (the same unless two embeddings coincide).
 */
export function icnnScore(outputs: tf.Tensor, e: EpisodeShape, k: number): tf.Scalar {
  const x = episodeEmbeddings(outputs, e, 'icnn');
  const n = x.shape[0];
  const cls = episodeClasses(e);
  const ipc = e.shot + e.query;
  const kEff = k + 2 >= n ? n - 2 : k;
  const kk = Math.min(kEff, ipc);
  const D = pairDistances(x, x);
  const dv = D.dataSync();
  // Neighbours in ascending distance (ties by index), own sample excluded.
  const flat = new Int32Array(n * ipc);
  const same = new Float32Array(n * ipc);
  const others = Array.from({ length: n - 1 }, () => 0);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < n; j++) if (j !== i) others[m++] = j;
    others.sort((a, b) => dv[i * n + a] - dv[i * n + b] || a - b);
    for (let p = 0; p < ipc; p++) {
      flat[i * ipc + p] = i * n + others[p];
      same[i * ipc + p] = cls[others[p]] === cls[i] ? 1 : 0;
    }
  }
  const Dn = tf.gather(D.reshape([-1]), tf.tensor1d(flat, 'int32')).reshape([n, ipc]) as tf.Tensor2D;
  const dnv = Dn.dataSync();
  // ν_i: the first other-class neighbour (the list is ascending); none → the row's factor is 0.
  const nuAt = new Int32Array(n);
  const hasNu = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = Array.from({ length: ipc }, (_, q) => q).find((q) => same[i * ipc + q] === 0);
    nuAt[i] = p === undefined ? i * ipc : i * ipc + p;
    hasNu[i] = p === undefined ? 0 : 1;
  }
  const nu = tf.gather(Dn.reshape([-1]), tf.tensor1d(nuAt, 'int32'));
  const inv = tf.tensor1d(hasNu).div(nu.add(EPS)).expandDims(1);
  const first = Dn.slice([0, 0], [n, kk]);
  const nd = first.mul(inv);
  // max(1, max_j ñ): the largest of the first k̃ is the last (ascending).
  const over = new Float32Array(n);
  for (let i = 0; i < n; i++) over[i] = hasNu[i] && dnv[i * ipc + kk - 1] / (dnv[nuAt[i]] + EPS) > 1 ? 1 : 0;
  const overT = tf.tensor1d(over).expandDims(1);
  const denom = nd.slice([0, kk - 1], [n, 1]).mul(overT).add(tf.scalar(1).sub(overT));
  const ndn = nd.div(denom);
  const scM = new Float32Array(n * kk);
  const sCount = new Float32Array(n);
  const oCount = new Float32Array(n);
  let dMaxAt = -1;
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < kk; p++) {
      const s = same[i * ipc + p];
      scM[i * kk + p] = s;
      sCount[i] += s;
      oCount[i] += 1 - s;
      if (s === 0 && (dMaxAt < 0 || dnv[i * ipc + p] > dnv[dMaxAt])) dMaxAt = i * ipc + p;
    }
  }
  const scMT = tf.tensor2d(scM, [n, kk]);
  const nonzero = (c: Float32Array) => c.reduce((a, v) => a + (v > 0 ? 1 : 0), 0);
  const scSum = ndn.mul(scMT).sum(-1).div(tf.tensor1d(sCount).add(EPS));
  const lambdaSame = tf.scalar(1).sub(scSum.sum().div(nonzero(sCount) + EPS));
  let lambdaOther: tf.Scalar;
  if (dMaxAt < 0) {
    lambdaOther = tf.scalar(1);
  } else {
    const dMax = tf.gather(Dn.reshape([-1]), tf.tensor1d([dMaxAt], 'int32')).reshape([]);
    const dcn = first.mul(tf.scalar(1).sub(scMT)).div(dMax.add(EPS));
    lambdaOther = dcn.sum(-1).div(tf.tensor1d(oCount).add(EPS)).sum().div(nonzero(oCount) + EPS) as tf.Scalar;
  }
  const gamma = kEff + 2 < n ? sCount.reduce((a, v) => a + v, 0) / kEff / n : 1;
  return lambdaSame.add(lambdaOther).div(2).add(gamma).div(2) as tf.Scalar;
}

export function icnnLoss(params: Record<string, number>, episode: EpisodeShape): Loss {
  const { k } = params;
  return {
    name: 'icnn',
    fromLogits: false,
    classification: false,
    labelKind: 'groups',
    batchLevel: true,
    episode,
    params,
    definition: `icnn (Mendez-Ruiz et al. 2023, the ICNN loss as in the authors' code, support and queries together), k = ${k} (default 4): on each ${episode.way}-way ${episode.shot}-shot episode with ${episode.query} queries per class, ℓ = −log(score), score = ((λ_sc + λ_dc)/2 + γ)/2 over each sample's K + Q nearest neighbours: λ_sc = 1 − mean over samples with same-class neighbours among the first k of their mean same-class distance scaled by the nearest other-class distance (and by max(1, ·) of the row), λ_dc = mean over samples with other-class neighbours of their mean other-class distance scaled by the largest one (1 when none), γ = mean fraction of same-class neighbours among k; distances √(‖a − b‖² + 10⁻⁶); the objective is the mean over the fixed seeded episodes.`,
    perSample(_yTrue, yPred) {
      return tf.ones([yPred.shape[0]]).mul(icnnScore(yPred, episode, k).log().neg()) as tf.Tensor1D;
    },
  };
}
