import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/engine/backend';
import { Rng } from '../../src/engine/linalg/rng';

/** The re-registered wasm BatchMatMul (explicit transposes) against a float64 product in JS. */
describe('wasm BatchMatMul with explicit transposes', () => {
  let previous: string | undefined;
  before(async () => {
    previous = tf.getBackend();
    const info = await selectBackend('wasm');
    assert.equal(info.backend, 'wasm');
  });
  after(async () => {
    await tf.setBackend(previous ?? 'cpu');
  });

  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as [boolean, boolean][]) {
    it(`transposeA=${ta} transposeB=${tb}, batched, matches float64 within 1e-5 relative`, () => {
      const rng = new Rng(9);
      const [B, m, k, n] = [3, 5, 7, 4];
      const a = new Float32Array(B * m * k);
      const b = new Float32Array(B * k * n);
      rng.fillNormal(a);
      rng.fillNormal(b);
      // Stored layouts: A is [B, m, k] or [B, k, m] when transposed; likewise B.
      const A = (i: number, p: number, q: number) => (ta ? a[i * m * k + q * m + p] : a[i * m * k + p * k + q]);
      const Bv = (i: number, p: number, q: number) => (tb ? b[i * k * n + q * k + p] : b[i * k * n + p * n + q]);
      const before = tf.memory().numTensors;
      const out = tf.tidy(() =>
        tf.matMul(tf.tensor3d(a, ta ? [B, k, m] : [B, m, k]), tf.tensor3d(b, tb ? [B, n, k] : [B, k, n]), ta, tb).dataSync(),
      );
      assert.equal(tf.memory().numTensors, before);
      for (let i = 0; i < B; i++)
        for (let p = 0; p < m; p++)
          for (let q = 0; q < n; q++) {
            let s = 0;
            for (let r = 0; r < k; r++) s += A(i, p, r) * Bv(i, r, q);
            const got = out[i * m * n + p * n + q];
            assert.ok(Math.abs(got - s) <= 1e-5 * Math.max(1, Math.abs(s)), `(${i},${p},${q}): ${got} vs ${s}`);
          }
    });
  }
});
