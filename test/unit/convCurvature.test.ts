import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/engine/backend';
import { randomDirection } from '../../src/engine/directions';
import { hutchinsonTrace } from '../../src/engine/linalg/hutchinson';
import { lanczosEigs } from '../../src/engine/linalg/lanczos';
import { Rng } from '../../src/engine/linalg/rng';
import { setEngineInfo } from '../../src/engine/runtime';
import { conv64Fixture, type Conv64Fixture, type Conv64Name } from './helpers/curvature64Fixtures';

/**
 * Curvature of convolutional, pooling, BatchNorm, depthwise and embedding models on the default
 * wasm backend, against float64 references built without TF.js (PyTorch double backprop,
 * test/fixtures/curvature64/generate.py):
 *   loss, gradient and empirical NTK: 1e-5 relative; exact Hessian, GGN and Fisher products: ≤ 1e-5 relative each;
 *   top-5 Hessian and GGN eigenvalues: |Δλ| ≤ 1e-4·|λ|; the smallest 3 Hessian eigenvalues
 *   (all four fixtures are indefinite): right sign and |Δλ| ≤ 1e-4·λ_max.
 * Batches of 10 over 24 samples, so every product sums three batches on the device.
 */
const NAMES: Conv64Name[] = ['cnn', 'depthwise', 'embedding', 'indefinite'];

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
}

describe('curvature of conv / pooling / BatchNorm / depthwise / embedding models (wasm backend, float64 references)', () => {
  before(async () => setEngineInfo(await selectBackend('wasm')));
  after(async () => setEngineInfo(await selectBackend('cpu')));

  for (const name of NAMES) {
    describe(name, () => {
      let f: Conv64Fixture;
      let baseline: number;
      before(() => {
        f = conv64Fixture(name);
        baseline = tf.memory().numTensors;
      });
      after(() => f.dispose());

      it('loss and gradient match (1e-5)', async () => {
        const { loss, grad } = await f.obj.grad(f.obj.theta0);
        assert.ok(Math.abs(loss - f.ref.loss) <= 1e-5 * f.ref.loss, `${loss} vs ${f.ref.loss}`);
        assert.ok(relErr(grad, f.ref.grad) < 1e-5, `${relErr(grad, f.ref.grad)}`);
      });

      it('exact Hessian products (the default), GGN and empirical Fisher products match per product (1e-5), in one matmat each', async () => {
        const vs = f.ref.vectors.map((v) => Float64Array.from(v));
        for (const [kind, want] of [
          ['hessian', f.ref.hv],
          ['ggn', f.ref.gv],
          ['fisher', f.ref.fv],
        ] as const) {
          const curv = f.obj.curvature(kind);
          assert.equal(curv.fd, null, `${kind} products are exact`);
          const got = await curv.op.matmat(vs);
          got.forEach((g, i) => assert.ok(relErr(g, want[i]) < 1e-5, `${kind} product ${i}: ${relErr(g, want[i])}`));
          curv.dispose();
        }
        assert.equal(tf.memory().numTensors, baseline, 'tensors leaked');
      });

      it('empirical NTK Σ_c J_c J_cᵀ of the outputs matches (1e-5)', async () => {
        const k = await f.obj.ntk();
        assert.equal(k.n, f.ref.xShape[0]);
        assert.ok(relErr(k.K, f.ref.ntk) < 1e-5, `${k.method}: ${relErr(k.K, f.ref.ntk)}`);
      });

      it('top-5 Hessian and GGN eigenvalues (1e-4 relative), smallest 3 Hessian eigenvalues (sign, 1e-4·λ_max)', async () => {
        for (const [kind, all] of [
          ['hessian', f.ref.hessianEigenvalues],
          ['ggn', f.ref.ggnEigenvalues],
        ] as const) {
          const curv = f.obj.curvature(kind);
          const which = kind === 'hessian' ? 'both' : 'largest';
          const r = await lanczosEigs(curv.op, { k: 5, which, maxIter: Math.min(f.obj.dim, 90), tol: 1e-7, rng: new Rng(3) });
          const top = [...all].reverse().slice(0, 5);
          const lmax = top[0];
          top.forEach((l, i) => assert.ok(Math.abs(r.eigenvalues[i] - l) <= 1e-4 * Math.abs(l), `${kind} λ${i + 1}: ${r.eigenvalues[i]} vs ${l}`));
          if (kind === 'hessian') {
            const bottom = all.slice(0, 3);
            bottom.forEach((l, i) => {
              const got = r.eigenvalues[5 + i];
              assert.ok(l < 0 && got < 0, `λ_min${i + 1} should be negative: ${got} (reference ${l})`);
              assert.ok(Math.abs(got - l) <= 1e-4 * lmax, `λ_min${i + 1}: ${got} vs ${l}`);
            });
          }
          curv.dispose();
        }
      });
    });
  }

  it('Hutchinson through matmat equals Hutchinson by single products (CNN), and the trace agrees with the float64 trace within 4 standard errors', async () => {
    const f = conv64Fixture('cnn');
    try {
      const curv = f.obj.curvature('hessian');
      const blocked = await hutchinsonTrace(curv.op, { probes: 40, rng: new Rng(5), block: 10 });
      const single = await hutchinsonTrace({ dim: curv.op.dim, matvec: (v) => curv.op.matvec(v) }, { probes: 40, rng: new Rng(5) });
      blocked.samples.forEach((s, i) => assert.ok(Math.abs(s - single.samples[i]) <= 1e-5 * (Math.abs(s) + 1), `sample ${i}`));
      const trace = f.ref.hessianEigenvalues.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(blocked.estimate - trace) <= 4 * blocked.stderr, `${blocked.estimate} ± ${blocked.stderr} vs ${trace}`);
    } finally {
      f.dispose();
    }
  });

  it('filter normalisation of a DepthwiseConv2D kernel [3,3,3,2]: 3·2 = 6 filters (output channels c·2 + m), each rescaled to θ’s norm', () => {
    const f = conv64Fixture('depthwise');
    try {
      const g = f.obj.groups[0];
      assert.deepEqual(g.shape, [3, 3, 3, 2]);
      assert.equal(g.filters, 6);
      const d = randomDirection(f.obj.theta0, f.obj.groups, new Rng(4), 'filter', 'zero');
      const norms = (v: Float32Array) => {
        const n = new Array(6).fill(0);
        // element ((p·3 + q)·3 + c)·2 + m belongs to output channel c·2 + m
        for (let k = 0; k < g.size; k++) n[k % 6] += v[g.offset + k] ** 2;
        return n.map(Math.sqrt);
      };
      const want = norms(f.obj.theta0);
      norms(d).forEach((x, i) => assert.ok(Math.abs(x - want[i]) <= 1e-5 * want[i], `channel ${i}: ${x} vs ${want[i]}`));
    } finally {
      f.dispose();
    }
  });

  it('--hv finite-difference on the smooth depthwise model: products within 1e-3, each error below 3× its own estimate', async () => {
    const f = conv64Fixture('depthwise');
    try {
      const curv = f.obj.curvature('hessian', { hv: 'finite-difference' });
      assert.ok(curv.fd);
      for (let i = 0; i < 3; i++) {
        const got = await curv.op.matvec(Float64Array.from(f.ref.vectors[i]));
        const err = relErr(got, f.ref.hv[i]);
        const est = curv.fd.relativeErrors[i];
        assert.ok(err < 1e-3 && err <= 3 * est, `product ${i}: error ${err}, estimate ${est}`);
      }
      curv.dispose();
    } finally {
      f.dispose();
    }
  });
});
