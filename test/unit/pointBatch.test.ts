import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/engine/backend';
import { pointOnPlane, randomDirection } from '../../src/engine/directions';
import { makeLoss } from '../../src/engine/losses';
import { Rng } from '../../src/engine/linalg/rng';
import { setEngineInfo } from '../../src/engine/runtime';
import { TfjsObjective } from '../../src/engine/tfjs/objective';
import type { Evaluation } from '../../src/engine/objective';
import { conv2d, pool } from './helpers/conv64';
import { conv64Fixture, type Conv64Fixture } from './helpers/curvature64Fixtures';
import { tanhMlp, type Fixture } from './helpers/curvatureFixtures';
import { lossGrad } from './helpers/mlp64';

/**
 * Landscape points evaluated several per pass (src/engine/tfjs/pointBatch.ts) against the
 * per-point path (the model's own forward pass, one point at a time) and against float64
 * forward passes written without TF.js, on both backends:
 *   batched vs per-point loss: ≤ 2e-6 relative; accuracy: equal;
 *   batched vs float64: ≤ 1e-5 relative (float32 forward passes of these models agree with
 *   float64 to ~1e-7; the bound leaves room for the clipping-free CE of small probabilities).
 * The fixtures have several batches with a short last one (80 = 32 + 32 + 16; 24 = 10 + 10 + 4),
 * and rows of 9 points (passes of 5 + 4), so every pass sums uneven batches.
 */
const COORDS: number[][] = Array.from({ length: 9 }, (_, i) => [-0.8 + 0.2 * i, 0.35 - 0.1 * i]);

async function along(obj: TfjsObjective, dirs: Float32Array[]): Promise<Evaluation[]> {
  const out: Evaluation[] = [];
  await obj.evaluateAlong(obj.theta0, dirs, COORDS, true, { isCancellationRequested: false }, (j, e) => (out[j] = e));
  return out;
}

async function perPoint(obj: TfjsObjective, dirs: Float32Array[]): Promise<Evaluation[]> {
  const out: Evaluation[] = [];
  for (const c of COORDS) out.push(await obj.evaluate(pointOnPlane(obj.theta0, dirs, c), true));
  return out;
}

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

/** The 'cnn' fixture in float64: conv 3×3 (valid) + ReLU → BatchNorm (moving statistics, ε = 1e-3) → max-pool 2 → dense → softmax → cross-entropy. */
function cnnLoss64(f: Conv64Fixture, theta: ArrayLike<number>): number {
  const { ref } = f;
  const th = Array.from(theta);
  let o = 0;
  const take = (n: number) => th.slice(o, (o += n));
  const [W1, b1, gamma, beta, W2, b2] = [take(72), take(4), take(4), take(4), take(108), take(3)];
  const c = conv2d(ref.x, ref.xShape, W1, [3, 3, 2, 4], 1, 'valid');
  const mean = ref.nonTrainable.moving_mean!;
  const variance = ref.nonTrainable.moving_variance!;
  const h = c.y.map((v, i) => {
    const ch = i % 4;
    const r = Math.max(0, v + b1[ch]);
    return ((r - mean[ch]) / Math.sqrt(variance[ch] + 1e-3)) * gamma[ch] + beta[ch];
  });
  const p = pool('max', h, c.shape, 2, 2, 'valid');
  const N = ref.xShape[0];
  const per = p.y.length / N;
  let sum = 0;
  for (let n = 0; n < N; n++) {
    const z = [0, 1, 2].map((k) => {
      let s = b2[k];
      for (let j = 0; j < per; j++) s += p.y[n * per + j] * W2[j * 3 + k];
      return s;
    });
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, v) => a + Math.exp(v - m), 0));
    sum += lse - z[ref.y[n]];
  }
  return sum / N;
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`landscape points several per pass (${backend} backend)`, () => {
    before(async () => setEngineInfo(await selectBackend(backend)));
    after(async () => setEngineInfo(await selectBackend('cpu')));

    describe('tanh MLP 4-8-3, cross-entropy, 3 batches', () => {
      let f: Fixture;
      let dirs: Float32Array[];
      before(() => {
        f = tanhMlp(32);
        const rng = new Rng(5);
        dirs = [0, 1].map(() => randomDirection(f.obj.theta0, f.obj.groups, rng, 'filter', 'keep'));
      });
      after(() => f.dispose());

      it('batches points (more than one per pass)', () => {
        assert.ok(f.obj.pointsPerPass() > 1, `pointsPerPass ${f.obj.pointsPerPass()}`);
      });

      it('matches the per-point path (2e-6 rel.) and float64 (1e-5 rel.); accuracy equal', async () => {
        const a = await along(f.obj, dirs);
        const b = await perPoint(f.obj, dirs);
        assert.equal(a.length, COORDS.length);
        COORDS.forEach((c, j) => {
          assert.ok(rel(a[j].loss, b[j].loss) < 2e-6, `point ${j}: ${a[j].loss} vs ${b[j].loss}`);
          assert.equal(a[j].accuracy, b[j].accuracy);
          const ref = lossGrad(f.net, f.loss, pointOnPlane(f.obj.theta0, dirs, c), f.data).l;
          assert.ok(rel(a[j].loss, ref) < 1e-5, `point ${j}: ${a[j].loss} vs float64 ${ref}`);
        });
      });

      it("gives each point the same value whatever other points share its pass (resumed and shared rows rely on it)", async () => {
        const pts = COORDS.map((c) => pointOnPlane(f.obj.theta0, dirs, c));
        const all = await f.obj.evaluatePoints(pts);
        for (const [a, b] of [[0, 1], [2, 7], [8, 9], [3, 9]]) {
          const part = await f.obj.evaluatePoints(pts.slice(a, b));
          part.forEach((e, j) => assert.deepEqual(e, all[a + j]));
        }
      });

      it('reuses its pass buffers from row to row without carrying anything over: rows A, B, A give A twice and B as a fresh objective does, bit for bit; overlapping rows too', async () => {
        // (The cpu backend keeps the array a tensor is made from; the buffers are refilled only
        // after the pass's tensors are disposed.)
        const rowB = COORDS.map(([x, y]) => [y, -x / 2]);
        const alongRow = async (obj: TfjsObjective, coords: number[][]) => {
          const out: Evaluation[] = [];
          await obj.evaluateAlong(obj.theta0, dirs, coords, true, { isCancellationRequested: false }, (j, e) => (out[j] = e));
          return out;
        };
        const a1 = await alongRow(f.obj, COORDS);
        const b = await alongRow(f.obj, rowB);
        const a2 = await alongRow(f.obj, COORDS);
        assert.deepEqual(a2, a1);
        const fresh = tanhMlp(32);
        try {
          assert.deepEqual(await alongRow(fresh.obj, rowB), b);
        } finally {
          fresh.dispose();
        }
        assert.notDeepEqual(b, a1);
        // Two rows at once on one objective: the second takes buffers of its own.
        const [a3, b3] = await Promise.all([alongRow(f.obj, COORDS), alongRow(f.obj, rowB)]);
        assert.deepEqual(a3, a1);
        assert.deepEqual(b3, b);
      });

      it('stops between passes when asked, keeping the points reported', async () => {
        const seen: number[] = [];
        const stop = { isCancellationRequested: false };
        const row = Array.from({ length: 3 * f.obj.pointsPerPass() }, (_, i) => [i / 50, 0]);
        await assert.rejects(
          f.obj.evaluateAlong(f.obj.theta0, dirs, row, false, stop, (j) => {
            seen.push(j);
            stop.isCancellationRequested = true;
          }),
          /cancel/i,
        );
        // The first pass is reported whole, then the stop is seen before the second.
        assert.equal(seen.length, f.obj.pointsPerPass());
      });
    });

    describe('CNN (Conv2D + ReLU, BatchNorm, MaxPool, Dense softmax), 3 batches', () => {
      let f: Conv64Fixture;
      let dirs: Float32Array[];
      before(() => {
        f = conv64Fixture('cnn');
        const rng = new Rng(6);
        dirs = [0, 1].map(() => randomDirection(f.obj.theta0, f.obj.groups, rng, 'filter', 'keep'));
      });
      after(() => f.dispose());

      it('its float64 forward pass reproduces the fixture loss at θ (1e-6 rel.)', () => {
        assert.ok(rel(cnnLoss64(f, f.obj.theta0), f.ref.loss) < 1e-6);
      });

      it('batches points, matching the per-point path (2e-6 rel.) and float64 (1e-5 rel.); accuracy equal', async () => {
        assert.ok(f.obj.pointsPerPass() > 1);
        const a = await along(f.obj, dirs);
        const b = await perPoint(f.obj, dirs);
        COORDS.forEach((c, j) => {
          assert.ok(rel(a[j].loss, b[j].loss) < 2e-6, `point ${j}: ${a[j].loss} vs ${b[j].loss}`);
          assert.equal(a[j].accuracy, b[j].accuracy);
          const ref = cnnLoss64(f, pointOnPlane(f.obj.theta0, dirs, c));
          assert.ok(rel(a[j].loss, ref) < 1e-5, `point ${j}: ${a[j].loss} vs float64 ${ref}`);
        });
      });
    });

    describe('two stacked convolutions (the second on per-point activations), same padding, stride 2, mse', () => {
      let obj: TfjsObjective;
      let model: tf.LayersModel;
      before(() => {
        model = tf.sequential({
          layers: [
            tf.layers.conv2d({ inputShape: [7, 7, 2], filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }), biasInitializer: tf.initializers.randomNormal({ seed: 2 }) }),
            tf.layers.conv2d({ filters: 2, kernelSize: 2, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }), biasInitializer: tf.initializers.randomNormal({ seed: 4 }) }),
            tf.layers.flatten(),
            tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotNormal({ seed: 5 }) }),
          ],
        });
        const rng = new Rng(8);
        const n = 13;
        const x = new Float32Array(n * 98);
        const y = new Float32Array(n * 2);
        rng.fillNormal(x);
        rng.fillNormal(y);
        obj = new TfjsObjective(model, makeLoss('mse', false), { x, sampleShape: [7, 7, 2], y, ySampleShape: [2], n }, 5);
      });
      after(() => {
        obj.dispose();
        model.dispose();
      });

      it('matches the per-point path (2e-6 rel.)', async () => {
        assert.ok(obj.pointsPerPass() > 1);
        const rng = new Rng(9);
        const dirs = [0, 1].map(() => randomDirection(obj.theta0, obj.groups, rng, 'filter', 'keep'));
        const a = await along(obj, dirs);
        const b = await perPoint(obj, dirs);
        COORDS.forEach((_, j) => assert.ok(rel(a[j].loss, b[j].loss) < 2e-6, `point ${j}: ${a[j].loss} vs ${b[j].loss}`));
        assert.equal(a[0].accuracy, null);
      });
    });

    it('falls back to one point per pass for a loss that is not a function of each row alone (batch-level)', () => {
      const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
      const x = new Float32Array(12).fill(0.5);
      const o = new TfjsObjective(m, makeLoss('cs_divergence', false), { x, sampleShape: [3], y: Float32Array.of(0, 1, 0, 1), ySampleShape: [], n: 4 }, 4);
      try {
        assert.equal(o.pointsPerPass(), 1);
      } finally {
        o.dispose();
        m.dispose();
      }
    });

    it('falls back to one point per pass for a layer it does not batch (Embedding)', () => {
      const e = conv64Fixture('embedding');
      try {
        assert.equal(e.obj.pointsPerPass(), 1);
      } finally {
        e.dispose();
      }
    });
  });
}
