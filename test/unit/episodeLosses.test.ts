import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { episodeOrder, lossOrder } from '../../src/engine/lossBatches';
import { makeLoss } from '../../src/engine/losses';
import { csDivergenceBatchLoss } from '../../src/engine/losses/csDivergence';
import { icnnScore } from '../../src/engine/losses/icnn';
import { protoTripletEpisodeLoss } from '../../src/engine/losses/protoTriplet';
import { Rng } from '../../src/engine/linalg/rng';
import { InputError } from '../../src/shared/errors';
import { parseEpisode, resolveLossParams } from '../../src/shared/lossParams';
import { csDivergence64, episodeClasses64, icnnScore64, numericGrad, protoTriplet64 } from './helpers/paperLosses64';

/**
 * The episode losses of Mendez-Ruiz et al. 2023 (proto-triplet, ICNN; as the authors' code
 * defines them) and the Cauchy–Schwarz divergence against float64 hand computations
 * (helpers/paperLosses64.ts), their gradients against float64 central differences, and the
 * seeded episodes every evaluation sees.
 */

type Shape = { way: number; shot: number; query: number };

function randomEpisode(e: Shape, d: number, seed: number, spread = 1): number[][] {
  const rng = new Rng(seed);
  const centre = Array.from({ length: e.way }, () => Array.from({ length: d }, () => spread * rng.normal()));
  return episodeClasses64(e.way, e.shot, e.query).map((c) => centre[c].map((v) => v + rng.normal()));
}

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

function value(f: (x: tf.Tensor2D) => tf.Scalar, emb: number[][]): number {
  return tf.tidy(() => f(tf.tensor2d(emb)).dataSync()[0]);
}

function grad(f: (x: tf.Tensor2D) => tf.Scalar, emb: number[][]): number[][] {
  return tf.tidy(() => tf.grad((x: tf.Tensor) => f(x as tf.Tensor2D))(tf.tensor2d(emb)).arraySync() as number[][]);
}

/** ∂f/∂emb by float64 central differences of the flattened embeddings. */
function numericGradOf(f: (emb: number[][]) => number, emb: number[][]): number[][] {
  const d = emb[0].length;
  const flat = emb.flat();
  const g = numericGrad((x) => f(Array.from({ length: emb.length }, (_, i) => x.slice(i * d, (i + 1) * d))), flat, 1e-5);
  return Array.from({ length: emb.length }, (_, i) => g.slice(i * d, (i + 1) * d));
}

const SHAPES: Shape[] = [
  { way: 2, shot: 1, query: 1 },
  { way: 3, shot: 2, query: 2 },
  { way: 5, shot: 1, query: 3 },
  { way: 4, shot: 3, query: 1 },
];

describe('episode losses and cs_divergence (float64 references)', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  describe('proto_triplet', () => {
    it('equals max(0, d(q, c_y) − min_{j≠y} d(q, c_j) + m) averaged over queries, on several episode shapes and margins', () => {
      SHAPES.forEach((e, s) => {
        for (const margin of [0, 0.5, 2]) {
          const emb = randomEpisode(e, 4, 10 + s, 0.8);
          close(value((x) => protoTripletEpisodeLoss(x, e, margin), emb), protoTriplet64(emb, e.way, e.shot, e.query, margin), 1e-5, `${JSON.stringify(e)} m=${margin}`);
        }
      });
    });

    it('is 0 for well-separated classes and equals the margin when every embedding coincides', () => {
      const e = { way: 3, shot: 2, query: 2 };
      const separated = randomEpisode(e, 3, 4, 100);
      assert.equal(value((x) => protoTripletEpisodeLoss(x, e, 0.5), separated), 0);
      const same = Array.from({ length: 12 }, () => [0.3, -1, 2]);
      close(value((x) => protoTripletEpisodeLoss(x, e, 0.5), same), 0.5, 1e-6, 'coincident');
    });

    it('gradient with respect to the embeddings equals float64 central differences', () => {
      const e = { way: 3, shot: 2, query: 2 };
      const emb = randomEpisode(e, 3, 21, 0.6);
      const g = grad((x) => protoTripletEpisodeLoss(x, e, 1), emb);
      const ref = numericGradOf((m) => protoTriplet64(m, e.way, e.shot, e.query, 1), emb);
      assert.ok(ref.flat().some((v) => Math.abs(v) > 1e-3), 'a non-trivial gradient');
      ref.forEach((row, i) => row.forEach((r, k) => close(g[i][k], r, 2e-4, `∂/∂x[${i}][${k}]`)));
    });
  });

  describe('icnn', () => {
    it('the ICNN score equals the authors’ procedure written in float64, on several shapes and k', () => {
      SHAPES.forEach((e, s) => {
        for (const k of [1, 4, 10]) {
          for (const spread of [0.3, 1.5]) {
            const emb = randomEpisode(e, 5, 30 + s, spread);
            close(value((x) => icnnScore(x, e, k), emb), icnnScore64(emb, e.way, e.shot, e.query, k), 1e-5, `${JSON.stringify(e)} k=${k} spread=${spread}`);
          }
        }
      });
    });

    it('covers its branches: no other-class neighbour (λ_dc = 1), k + 2 ≥ n (γ = 1), k > K + Q', () => {
      // Far-apart classes with K + Q = 5 ≥ k = 4: every first-k neighbour is of the same class.
      const e = { way: 2, shot: 2, query: 3 };
      const separated = randomEpisode(e, 3, 5, 1000);
      const s = value((x) => icnnScore(x, e, 4), separated);
      close(s, icnnScore64(separated, 2, 2, 3, 4), 1e-6, 'separated');
      assert.ok(s > 0.75 && s <= 1, `score ${s}`);
      const small = { way: 2, shot: 1, query: 1 }; // n = 4: k = 4 → k' = 2, γ = 1
      const emb = randomEpisode(small, 2, 6);
      close(value((x) => icnnScore(x, small, 4), emb), icnnScore64(emb, 2, 1, 1, 4), 1e-6, 'k + 2 ≥ n');
    });

    it('the loss is −log(score), and its gradient equals float64 central differences', () => {
      const e = { way: 3, shot: 2, query: 2 };
      const emb = randomEpisode(e, 3, 41, 0.7);
      const loss = makeLoss('icnn', false, {}, e);
      const l = tf.tidy(() => loss.perSample(tf.zeros([12]), tf.tensor2d(emb)).arraySync() as number[]);
      const ref = -Math.log(icnnScore64(emb, 3, 2, 2, 4));
      l.forEach((v) => close(v, ref, 1e-5, 'per-sample value is the episode loss'));
      const g = grad((x) => icnnScore(x, e, 4).log().neg() as tf.Scalar, emb);
      const num = numericGradOf((m) => -Math.log(icnnScore64(m, 3, 2, 2, 4)), emb);
      assert.ok(num.flat().some((v) => Math.abs(v) > 1e-3), 'a non-trivial gradient');
      num.forEach((row, i) => row.forEach((r, k) => close(g[i][k], r, 5e-4, `∂/∂x[${i}][${k}]`)));
    });
  });

  describe('cs_divergence', () => {
    const rng = new Rng(8);
    const rows = (n: number, m: number, s = 1) => Array.from({ length: n }, () => Array.from({ length: m }, () => s * rng.normal()));

    it('equals log Σκ(y,y) + log Σκ(ŷ,ŷ) − 2 log Σκ(y,ŷ), for one and several outputs and several σ', () => {
      for (const [n, m] of [[6, 1], [9, 3]]) {
        for (const sigma of [0.3, 1, 4]) {
          const y = rows(n, m);
          const p = rows(n, m, 1.5);
          const got = tf.tidy(() => csDivergenceBatchLoss(tf.tensor2d(p), tf.tensor2d(y), sigma).dataSync()[0]);
          close(got, csDivergence64(p, y, sigma), 2e-5, `n=${n} m=${m} σ=${sigma}`);
          assert.ok(got >= -1e-6, 'D_CS ≥ 0 (Cauchy–Schwarz)');
        }
      }
    });

    it('is 0 when the predictions are the targets or a permutation of them, and finite far from them', () => {
      const y = rows(7, 2);
      const perm = [3, 0, 6, 1, 5, 2, 4].map((i) => y[i]);
      for (const p of [y, perm]) assert.ok(Math.abs(tf.tidy(() => csDivergenceBatchLoss(tf.tensor2d(p), tf.tensor2d(y), 1).dataSync()[0])) < 1e-5);
      const far = y.map((r) => r.map((v) => v + 12)); // κ(y, ŷ) ≈ e^{−144}: zero in float32, not in float64
      const v = tf.tidy(() => csDivergenceBatchLoss(tf.tensor2d(far), tf.tensor2d(y), 1).dataSync()[0]);
      assert.ok(Number.isFinite(v) && v > 100, `far: ${v}`);
      close(v, csDivergence64(far, y, 1), 1e-5, 'far (the cross term underflows without log-sum-exp)');
    });

    it('gradient with respect to the predictions equals float64 central differences', () => {
      const y = rows(6, 2);
      const p = rows(6, 2, 1.3);
      const g = tf.tidy(() => tf.grad((x: tf.Tensor) => csDivergenceBatchLoss(x, tf.tensor2d(y), 0.8))(tf.tensor2d(p)).arraySync() as number[][]);
      numericGradOf((q) => csDivergence64(q, y, 0.8), p).forEach((row, i) => row.forEach((r, k) => close(g[i][k], r, 2e-4, `∂/∂ŷ[${i}][${k}]`)));
    });
  });

  describe('episodes', () => {
    const labels = Float32Array.from({ length: 60 }, (_, i) => [0, 1, 2, 3, 4, 0, 1, 2, 0, 1][i % 10]); // class 0: 18, 1: 18, 2: 12, 3: 6, 4: 6

    it('draws seeded episodes: support then queries class by class, distinct samples of one class per block', () => {
      const a = episodeOrder({ name: 'icnn' }, labels, { way: 3, shot: 2, query: 3, count: 4 }, 7, 'data.npz');
      const b = episodeOrder({ name: 'icnn' }, labels, { way: 3, shot: 2, query: 3, count: 4 }, 7, 'data.npz');
      assert.deepEqual(a.order, b.order);
      assert.notDeepEqual(a.order, episodeOrder({ name: 'icnn' }, labels, { way: 3, shot: 2, query: 3, count: 4 }, 8, 'data.npz').order);
      assert.deepEqual(a.episodes, { way: 3, shot: 2, query: 3, count: 4, seed: 7 });
      assert.equal(a.batchSize, 15);
      for (let e = 0; e < 4; e++) {
        const ep = Array.from(a.order.subarray(e * 15, (e + 1) * 15));
        const cls = [0, 1, 2].map((j) => labels[ep[j * 2]]);
        assert.equal(new Set(cls).size, 3, 'three different classes');
        for (let j = 0; j < 3; j++) {
          const block = [...ep.slice(j * 2, j * 2 + 2), ...ep.slice(6 + j * 3, 6 + j * 3 + 3)];
          assert.ok(block.every((i) => labels[i] === cls[j]), 'support and queries of class j share its label');
          assert.equal(new Set(block).size, 5, 'distinct samples');
        }
      }
    });

    it('refuses episodes the data cannot fill, non-integer labels, a missing or misplaced --episode, and bad specs, each in one line', () => {
      const err = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof InputError && re.test(e.message) && !e.message.includes('\n'));
      err(() => episodeOrder({ name: 'proto_triplet' }, labels, { way: 4, shot: 5, query: 2, count: 1 }, 0, 'd.npz'), /--episode: 4-way episodes with 5 \+ 2 samples per class need 4 classes with at least 7 samples each; d\.npz has 3 such classes \(of 5, largest 18 samples\)/);
      err(() => episodeOrder({ name: 'icnn' }, Float32Array.of(0, 1, 0.5, 1), { way: 2, shot: 1, query: 1, count: 1 }, 0, 'd.npz'), /d\.npz: icnn needs integer class labels/);
      const episodic = makeLoss('proto_triplet', false, {}, { way: 2, shot: 1, query: 1 });
      err(() => lossOrder(episodic, labels, 60, { batchSize: 8, seed: 0 }, 'd.npz'), /--episode: proto_triplet is an episode loss: pass --episode N,K,Q/);
      err(() => lossOrder(makeLoss('mse', false), labels, 60, { batchSize: 8, seed: 0, episode: { way: 2, shot: 1, query: 1, count: 1 } }, 'd.npz'), /--episode: applies to the episode losses proto_triplet and icnn, not mse/);
      err(() => makeLoss('icnn', false, {}), /--episode: icnn is an episode loss/);
      assert.throws(() => parseEpisode('1,1,1'), /needs at least 2 classes per episode/);
      assert.throws(() => parseEpisode('5,0,15'), /expects N,K,Q or N,K,Q,E/);
      assert.throws(() => parseEpisode('5,1'), /expects N,K,Q or N,K,Q,E/);
      assert.deepEqual(parseEpisode('5,1,15'), { way: 5, shot: 1, query: 15, count: 1 });
      assert.deepEqual(parseEpisode('5, 5, 15, 8'), { way: 5, shot: 5, query: 15, count: 8 });
    });

    it('parameters: defaults and one-line refusals', () => {
      assert.deepEqual(resolveLossParams('proto_triplet'), { margin: 0.5 });
      assert.deepEqual(resolveLossParams('icnn'), { k: 4 });
      assert.deepEqual(resolveLossParams('cs_divergence'), { sigma: 1 });
      assert.throws(() => resolveLossParams('proto_triplet', { margin: -1 }), /proto_triplet needs margin in \[0, ∞\), got -1/);
      assert.throws(() => resolveLossParams('icnn', { k: 2.5 }), /icnn needs k in \{1, 2, …\}, got 2\.5/);
      assert.throws(() => resolveLossParams('icnn', { k: 0 }), /icnn needs k in \{1, 2, …\}, got 0/);
      assert.throws(() => resolveLossParams('cs_divergence', { sigma: 0 }), /cs_divergence needs sigma in \(0, ∞\), got 0/);
    });
  });
});
