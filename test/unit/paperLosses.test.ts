import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { makeLoss, type LossName } from '../../src/engine/losses';
import { multiSimilarityBatchLoss } from '../../src/engine/losses/multiSimilarity';
import { parseLossList, resolveLossParams } from '../../src/shared/lossParams';
import { ce64, compSum64, gce64, multiSimilarity64, numericGrad, numericHessian, taylor64, zloss64 } from './helpers/paperLosses64';
import { Rng } from '../../src/engine/linalg/rng';

/** The papers' losses (issue 11) against float64 hand computations from their definitions. */

function perSample(name: LossName, params: Record<string, number>, y: number[], h: number[][]): number[] {
  return tf.tidy(() => Array.from(makeLoss(name, true, params).perSample(tf.tensor1d(y), tf.tensor2d(h)).dataSync()));
}

function gradAt(name: LossName, params: Record<string, number>, y: number[], h: number[][]): number[][] {
  return tf.tidy(() => {
    const loss = makeLoss(name, true, params);
    const g = tf.grad((z: tf.Tensor) => loss.perSample(tf.tensor1d(y), z).sum())(tf.tensor2d(h));
    return g.arraySync() as number[][];
  });
}

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

/** Batches of logits: ordinary, confident, large-magnitude (where e^{h_k − h_y} overflows float32), ties. */
function batches(): { h: number[][]; y: number[] }[] {
  const rng = new Rng(11);
  const random = Array.from({ length: 6 }, () => Array.from({ length: 5 }, () => 2 * rng.normal()));
  return [
    { h: random, y: [0, 1, 2, 3, 4, 0] },
    { h: [[8, -2, 1], [-3, 4, 0.5], [0, 0, 0]], y: [0, 2, 1] },
    { h: [[60, -40, 5], [-30, 30, 29.5]], y: [1, 2] },
  ];
}

describe('paper losses (float64 references)', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('comp_sum equals Φ_τ(Σ_{k≠y} e^{h_k − h_y}) for τ in 0, 0.5, 1, 1.5, 2, and its closed forms', () => {
    for (const { h, y } of batches()) {
      for (const tau of [0, 0.5, 1, 1.5, 2]) {
        const got = perSample('comp_sum', { tau }, y, h);
        got.forEach((v, i) => {
          const ref = compSum64(h[i], y[i], tau);
          // float32 logits: the loss is good to ~1e-6 relative where finite (τ = 0 on big margins overflows both).
          if (Number.isFinite(ref) && ref < 1e30) close(v, ref, 2e-5, `τ=${tau} sample ${i}`);
        });
        got.forEach((v, i) => {
          const p = Math.exp(h[i][y[i]] - Math.log(h[i].reduce((s, x) => s + Math.exp(x), 0)));
          if (tau === 0 && 1 / p - 1 < 1e30) close(v, 1 / p - 1, 2e-5, 'τ = 0 is the sum-exponential loss');
          if (tau === 1) close(v, ce64(h[i], y[i]), 2e-5, 'τ = 1 is cross-entropy');
          if (tau === 2) close(v, 1 - p, 2e-6, 'τ = 2 is 1 − p_y');
        });
      }
    }
  });

  it('comp_sum at τ = 1 equals the engine’s cross-entropy, and gce(q) equals comp_sum(1 + q)', () => {
    const { h, y } = batches()[0];
    const ce = tf.tidy(() => Array.from(makeLoss('categorical_crossentropy', true).perSample(tf.tensor1d(y), tf.tensor2d(h)).dataSync()));
    perSample('comp_sum', { tau: 1 }, y, h).forEach((v, i) => close(v, ce[i], 1e-6, `sample ${i}`));
    const g = perSample('gce', { q: 0.4 }, y, h);
    perSample('comp_sum', { tau: 1.4 }, y, h).forEach((v, i) => close(v, g[i], 1e-6, `sample ${i}`));
  });

  it('gce equals (1 − p_y^q)/q and tends to cross-entropy as q → 0', () => {
    for (const { h, y } of batches()) {
      for (const q of [1, 0.7, 0.1]) {
        perSample('gce', { q }, y, h).forEach((v, i) => close(v, gce64(h[i], y[i], q), 2e-5, `q=${q} sample ${i}`));
      }
    }
    const { h, y } = batches()[0];
    // (1 − e^{qs})/q = −s − qs²/2 − …: the gap to cross-entropy shrinks linearly in q.
    let previous = Infinity;
    for (const q of [1e-1, 1e-2, 1e-3, 1e-4]) {
      const gap = Math.max(...perSample('gce', { q }, y, h).map((v, i) => Math.abs(v - ce64(h[i], y[i]))));
      const bound = q * Math.max(...h.map((r, i) => ce64(r, y[i]) ** 2)) + 1e-5;
      assert.ok(gap <= bound, `q=${q}: gap ${gap} > ${bound}`);
      assert.ok(gap < previous || gap < 1e-5, `q=${q}: gap ${gap} did not shrink from ${previous}`);
      previous = gap;
    }
  });

  it('zloss equals softplus(a(b − z_y))/a, is invariant to shifting and scaling the logits, and is finite at σ = 0', () => {
    for (const { h, y } of batches()) {
      for (const [a, b] of [[1, 2], [3, 0.5], [0.2, -1]]) {
        const got = perSample('zloss', { a, b }, y, h);
        got.forEach((v, i) => close(v, zloss64(h[i], y[i], a, b), 2e-5, `a=${a} b=${b} sample ${i}`));
        const moved = perSample('zloss', { a, b }, y, h.map((r) => r.map((v) => 3.5 * v - 7)));
        moved.forEach((v, i) => close(v, got[i], 2e-5, `shift/scale invariance, sample ${i}`));
      }
    }
    const tie = perSample('zloss', { a: 2, b: 1 }, [1], [[0.3, 0.3, 0.3]]);
    close(tie[0], Math.log1p(Math.exp(2)) / 2, 1e-6, 'σ = 0: z = 0');
    const g = gradAt('zloss', { a: 2, b: 1 }, [1], [[0.3, 0.3, 0.3]]);
    assert.ok(g[0].every(Number.isFinite), `gradient at σ = 0 is finite: ${g[0]}`);
  });

  it('taylor_softmax equals −log(t(h_y)/Σ t(h_k)), and predicts argmax t(h)', () => {
    for (const { h, y } of batches()) {
      perSample('taylor_softmax', {}, y, h).forEach((v, i) => close(v, taylor64(h[i], y[i]), 2e-5, `sample ${i}`));
    }
    // t(−4) = 5 > t(1) = 2.5 > t(0) = 1: class 0 is predicted although its logit is the smallest.
    const correct = tf.tidy(() => Array.from(makeLoss('taylor_softmax', true).correct!(tf.tensor1d([0]), tf.tensor2d([[-4, 1, 0]])).dataSync()));
    assert.deepEqual(correct, [1]);
  });

  it('gradients with respect to the logits equal float64 central differences', () => {
    const { h, y } = batches()[1];
    const cases: [LossName, Record<string, number>, (r: number[], c: number) => number][] = [
      ['comp_sum', { tau: 0.5 }, (r, c) => compSum64(r, c, 0.5)],
      ['comp_sum', { tau: 1.7 }, (r, c) => compSum64(r, c, 1.7)],
      ['gce', { q: 0.7 }, (r, c) => gce64(r, c, 0.7)],
      ['zloss', { a: 1.5, b: 2 }, (r, c) => zloss64(r, c, 1.5, 2)],
      ['taylor_softmax', {}, (r, c) => taylor64(r, c)],
    ];
    for (const [name, params, f] of cases) {
      const g = gradAt(name, params, y, h);
      h.forEach((row, i) => {
        if (name === 'zloss' && row.every((v) => v === row[0])) return; // σ = 0: not differentiable
        const ref = numericGrad((x) => f(x, y[i]), row);
        ref.forEach((r, k) => close(g[i][k], r, 2e-4, `${name} sample ${i} ∂/∂h_${k}`));
      });
    }
  });

  it('the closed-form loss Hessians at the logits (GGN) equal float64 finite-difference Hessians', () => {
    const { h, y } = batches()[0];
    const cases: [LossName, Record<string, number>, (r: number[], c: number) => number][] = [
      ['comp_sum', { tau: 0.3 }, (r, c) => compSum64(r, c, 0.3)],
      ['comp_sum', { tau: 1 }, (r, c) => compSum64(r, c, 1)],
      ['gce', { q: 0.7 }, (r, c) => gce64(r, c, 0.7)],
      ['taylor_softmax', {}, (r, c) => taylor64(r, c)],
      ['zloss', { a: 1.5, b: 2 }, (r, c) => zloss64(r, c, 1.5, 2)],
      ['zloss', { a: 4, b: -0.5 }, (r, c) => zloss64(r, c, 4, -0.5)],
    ];
    const K = h[0].length;
    for (const [name, params, f] of cases) {
      const loss = makeLoss(name, true, params);
      // H_ℓ applied to the unit vectors e_k, sample by sample: column k of each sample's Hessian.
      for (let k = 0; k < K; k++) {
        const col = tf.tidy(() => {
          const r = tf.oneHot(tf.fill([h.length], k, 'int32'), K).toFloat() as tf.Tensor2D;
          return loss.outputHessian!(tf.tensor2d(h), tf.tensor1d(y), r).arraySync() as number[][];
        });
        h.forEach((row, i) => {
          const H = numericHessian((x) => f(x, y[i]), row);
          H.forEach((hrow, j) => close(col[i][j], hrow[k], 5e-4, `${name} sample ${i} H[${j},${k}]`));
        });
      }
    }
  });

  describe('multi_similarity', () => {
    const params = { alpha: 2, beta: 50, lambda: 1, epsilon: 0.1 };
    function ms(emb: number[][], labels: number[], p = params): number {
      return tf.tidy(() => multiSimilarityBatchLoss(tf.tensor2d(emb), tf.tensor1d(labels), p).dataSync()[0]);
    }

    it('equals the float64 reference on random batches, with and without mined pairs', () => {
      const rng = new Rng(5);
      for (let trial = 0; trial < 5; trial++) {
        const n = 6 + trial;
        const emb = Array.from({ length: n }, () => Array.from({ length: 4 }, () => rng.normal()));
        const labels = Array.from({ length: n }, (_, i) => i % 3);
        for (const p of [params, { alpha: 1, beta: 10, lambda: 0.5, epsilon: 0.3 }]) {
          const ref = multiSimilarity64(emb, labels, p);
          close(ms(emb, labels, p), ref, 1e-5, `trial ${trial}`);
        }
      }
    });

    it('is 0 when no pair is mined: one class, all distinct classes, or well separated classes', () => {
      const emb = [[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]];
      assert.equal(ms(emb, [0, 0, 0, 0]), 0);
      assert.equal(ms(emb, [0, 1, 2, 3]), 0);
      // Positives at cosine ≈ 0.99, negatives ≈ 0.11: no negative above 0.99 − ε, no positive below 0.11 + ε.
      assert.equal(multiSimilarity64(emb, [0, 0, 1, 1], params), 0);
      assert.equal(ms(emb, [0, 0, 1, 1]), 0);
    });

    it('gradient with respect to the embeddings equals float64 central differences', () => {
      const rng = new Rng(8);
      const emb = Array.from({ length: 6 }, () => Array.from({ length: 3 }, () => rng.normal()));
      const labels = [0, 0, 1, 1, 2, 2];
      const p = { alpha: 2, beta: 5, lambda: 0.5, epsilon: 0.5 };
      const g = tf.tidy(() => tf.grad((e: tf.Tensor) => multiSimilarityBatchLoss(e, tf.tensor1d(labels), p))(tf.tensor2d(emb)).arraySync() as number[][]);
      const flat = emb.flat();
      const ref = numericGrad((x) => multiSimilarity64(Array.from({ length: 6 }, (_, i) => x.slice(3 * i, 3 * i + 3)), labels, p), flat, 1e-6);
      ref.forEach((r, k) => close(g[Math.floor(k / 3)][k % 3], r, 1e-3, `∂/∂e_${k}`));
    });

    it('per-sample values are the batch loss for every sample (sum = n·L_b)', () => {
      const emb = [[1, 0.2], [0.8, 0.4], [0.1, 1], [-0.2, 0.9], [0.5, 0.5]];
      const labels = [0, 0, 1, 1, 0];
      const per = tf.tidy(() => Array.from(makeLoss('multi_similarity', false).perSample(tf.tensor1d(labels), tf.tensor2d(emb)).dataSync()));
      const L = multiSimilarity64(emb, labels, params);
      per.forEach((v) => close(v, L, 1e-5, 'per sample'));
    });
  });

  describe('parameters', () => {
    it('fills defaults and refuses bad values and names with one line', () => {
      assert.deepEqual(resolveLossParams('comp_sum'), { tau: 1 });
      assert.deepEqual(resolveLossParams('zloss', { b: 3 }), { a: 1, b: 3 });
      assert.deepEqual(resolveLossParams('multi_similarity'), { alpha: 2, beta: 50, lambda: 1, epsilon: 0.1 });
      assert.throws(() => resolveLossParams('comp_sum', { tau: 2.5 }), /^Error: comp_sum needs tau in \[0, 2\], got 2.5$/);
      assert.throws(() => resolveLossParams('comp_sum', { tau: -0.1 }), /comp_sum needs tau in \[0, 2\], got -0.1/);
      assert.throws(() => resolveLossParams('gce', { q: 0 }), /gce needs q in \(0, 1\], got 0/);
      assert.throws(() => resolveLossParams('gce', { q: -1 }), /gce needs q in \(0, 1\]/);
      assert.throws(() => resolveLossParams('zloss', { a: 0 }), /zloss needs a in \(0, ∞\), got 0/);
      assert.throws(() => resolveLossParams('comp_sum', { q: 1 }), /comp_sum has no parameter 'q' \(its parameters: tau\)/);
      assert.throws(() => resolveLossParams('mse', { q: 1 }), /mse has no parameter 'q' \(it takes none\)/);
      assert.throws(() => makeLoss('gce', true, { q: 0 }), /^InputError: --loss-param: gce needs q in \(0, 1\], got 0$/);
    });

    it('parses compare-losses lists', () => {
      assert.deepEqual(parseLossList('ce,gce:q=0.7,zloss:a=1:b=2,comp_sum:tau=0.5'), [
        { name: 'ce', params: {} },
        { name: 'gce', params: { q: 0.7 } },
        { name: 'zloss', params: { a: 1, b: 2 } },
        { name: 'comp_sum', params: { tau: 0.5 } },
      ]);
      assert.throws(() => parseLossList('ce,,gce'), (e: Error & { option?: string }) => e.option === '--losses' && /comma-separated list/.test(e.message));
      assert.throws(() => parseLossList('gce:q'), /expects KEY=VALUE with a number, got 'q'/);
      assert.throws(() => parseLossList('gce:q=abc'), /got 'q=abc'/);
    });
  });
});
