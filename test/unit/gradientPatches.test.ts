import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/engine/backend';
import { installGradientPatches, PATCHED_TFJS_VERSION } from '../../src/engine/tfjs/gradientPatches';
import { Rng } from '../../src/engine/linalg/rng';
import * as C from './helpers/conv64';

/**
 * Each patched gradient against float64: the Hessian-vector product of a scalar function built
 * on the op, by nested tf.grad on the patched tape (float32), against the mixed central
 * difference of the same function written in float64 JS (helpers/conv64.ts). Inputs are kept
 * ≥ 0.01 away from kinks and ties so the differences (step 1e-4) see a smooth function.
 * Tolerance 1e-5 relative (2-norm); float32 rounding gives ~1e-7.
 */
const TOL = 1e-5;

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / Math.max(n, 1e-300));
}

function normal(n: number, seed: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  new Rng(seed).fillNormal(a);
  return a.map((v) => v * scale);
}

/** Distinct values k·0.01 + offset in a seeded order: no ties, gaps ≥ 0.01. */
function distinct(n: number, seed: number, offset = 0): Float64Array {
  const keys = normal(n, seed);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => keys[a] - keys[b]);
  const out = new Float64Array(n);
  order.forEach((idx, rank) => (out[idx] = offset + (rank - n / 2) * 0.01));
  return out;
}

/** H v of f at x by double backprop on TF.js's tape. */
function tfHv(f: (p: tf.Tensor1D) => tf.Scalar, x: Float64Array, v: Float64Array): Float32Array {
  return tf.tidy(() => {
    const vt = tf.tensor1d(Float32Array.from(v));
    const inner = tf.grad((p: tf.Tensor) => f(p as tf.Tensor1D));
    const g = (p: tf.Tensor) => tf.sum(tf.mul(inner(p), vt)) as tf.Scalar;
    return tf.grad(g)(tf.tensor1d(Float32Array.from(x))).dataSync() as Float32Array;
  });
}

interface Case {
  name: string;
  x: Float64Array;
  tf: (p: tf.Tensor1D) => tf.Scalar;
  f64: (p: Float64Array) => number;
}

const dot = (c: ArrayLike<number>, y: ArrayLike<number>, g: (v: number) => number = (v) => v): number => {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += c[i] * g(y[i]);
  return s;
};

function unary(name: string, op: (t: tf.Tensor) => tf.Tensor, f: (v: number) => number, x: Float64Array): Case {
  const c = normal(x.length, 99);
  const ct = () => tf.tensor1d(Float32Array.from(c));
  return { name, x, tf: (p) => tf.sum(tf.mul(op(p), ct())) as tf.Scalar, f64: (p) => dot(c, p, f) };
}

function softmaxRows(p: ArrayLike<number>, rows: number, cols: number, log: boolean): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, p[r * cols + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(p[r * cols + j] - m);
    for (let j = 0; j < cols; j++) out[r * cols + j] = log ? p[r * cols + j] - m - Math.log(s) : Math.exp(p[r * cols + j] - m) / s;
  }
  return out;
}

/** f(x, W) = Σ c ⊙ op(x, W)², x and W packed in one vector. */
function bilinear(name: string, xs: number[], ws: number[], tfOp: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor, ref: (x: Float64Array, w: Float64Array) => Float64Array): Case {
  const nx = xs.reduce((a, b) => a * b, 1);
  const nw = ws.reduce((a, b) => a * b, 1);
  const x = normal(nx + nw, 5, 0.7);
  const outLen = ref(x.subarray(0, nx), x.subarray(nx)).length;
  const c = normal(outLen, 6);
  return {
    name,
    x,
    tf: (p) => {
      const y = tfOp(p.slice(0, nx).reshape(xs) as tf.Tensor4D, p.slice(nx, nw).reshape(ws) as tf.Tensor4D);
      return tf.sum(tf.mul(y.square().reshape([-1]), tf.tensor1d(Float32Array.from(c)))) as tf.Scalar;
    },
    f64: (p) => dot(c, ref(p.subarray(0, nx), p.subarray(nx)), (v) => v * v),
  };
}

function pooled(name: string, kind: 'max' | 'avg', xs: number[], k: number, s: number, pad: C.Pad): Case {
  const n = xs.reduce((a, b) => a * b, 1);
  const x = distinct(n, 11, 0.05);
  const len = C.pool(kind, x, xs, k, s, pad).y.length;
  const c = normal(len, 12);
  const op = kind === 'max' ? tf.maxPool : tf.avgPool;
  return {
    name,
    x,
    tf: (p) => tf.sum(tf.mul(op(p.reshape(xs) as tf.Tensor4D, k, s, pad).square().reshape([-1]), tf.tensor1d(Float32Array.from(c)))) as tf.Scalar,
    f64: (p) => dot(c, C.pool(kind, p, xs, k, s, pad).y, (v) => v * v),
  };
}

const cases: Case[] = [
  unary('Tanh', tf.tanh, Math.tanh, normal(12, 1)),
  unary('Sigmoid', tf.sigmoid, (v) => 1 / (1 + Math.exp(-v)), normal(12, 2)),
  unary('Exp', tf.exp, Math.exp, normal(12, 3, 0.5)),
  unary('Elu', tf.elu, (v) => (v > 0 ? v : Math.exp(v) - 1), distinct(12, 4, 0.005)),
  unary('Pow (base)', (t) => tf.pow(t, tf.scalar(2.5)), (v) => v ** 2.5, normal(12, 5).map((v) => 1 + Math.abs(v))),
  {
    name: 'Pow (base and exponent)',
    x: normal(8, 7).map((v) => 1.2 + 0.3 * Math.abs(v)),
    tf: (p) => tf.sum(tf.pow(p.slice(0, 4), p.slice(4, 4))) as tf.Scalar,
    f64: (p) => dot([1, 1, 1, 1], [0, 1, 2, 3].map((i) => p[i] ** p[4 + i])),
  },
  (() => {
    const c = normal(15, 8);
    return {
      name: 'Softmax',
      x: normal(15, 9),
      tf: (p: tf.Tensor1D) => tf.sum(tf.mul(tf.softmax(p.reshape([3, 5])).reshape([-1]), tf.tensor1d(Float32Array.from(c)))) as tf.Scalar,
      f64: (p: Float64Array) => dot(c, softmaxRows(p, 3, 5, false)),
    };
  })(),
  (() => {
    const c = normal(4, 10);
    return {
      name: 'Max (its mask uses Equal)',
      x: distinct(12, 13),
      tf: (p: tf.Tensor1D) => tf.sum(tf.mul(p.reshape([4, 3]).max(1).square(), tf.tensor1d(Float32Array.from(c)))) as tf.Scalar,
      f64: (p: Float64Array) => dot(c, [0, 1, 2, 3].map((r) => Math.max(p[3 * r], p[3 * r + 1], p[3 * r + 2])), (v) => v * v),
    };
  })(),
  (() => {
    const c = normal(12, 14);
    return {
      name: 'ClipByValue (its mask uses LogicalAnd)',
      x: distinct(12, 15),
      tf: (p: tf.Tensor1D) => tf.sum(tf.mul(p.clipByValue(-0.035, 0.025).square(), tf.tensor1d(Float32Array.from(c)))) as tf.Scalar,
      f64: (p: Float64Array) => dot(c, p, (v) => Math.min(Math.max(v, -0.035), 0.025) ** 2),
    };
  })(),
  ...(
    [
      ['Greater', (a: tf.Tensor, b: tf.Tensor) => tf.greater(a, b), (a: number, b: number) => a > b],
      ['Less', (a: tf.Tensor, b: tf.Tensor) => tf.less(a, b), (a: number, b: number) => a < b],
      ['LessEqual', (a: tf.Tensor, b: tf.Tensor) => tf.lessEqual(a, b), (a: number, b: number) => a <= b],
      ['Equal', (a: tf.Tensor, b: tf.Tensor) => tf.equal(tf.round(a.mul(10)), b), (a: number, b: number) => Math.round(a * 10) === b],
      ['NotEqual', (a: tf.Tensor, b: tf.Tensor) => tf.notEqual(tf.round(a.mul(10)), b), (a: number, b: number) => Math.round(a * 10) !== b],
      ['LogicalOr', (a: tf.Tensor, b: tf.Tensor) => tf.logicalOr(tf.less(a, b), tf.greater(a, 0.03)), (a: number, b: number) => a < b || a > 0.03],
      ['LogicalNot', (a: tf.Tensor, b: tf.Tensor) => tf.logicalNot(tf.less(a, b)), (a: number, b: number) => !(a < b)],
    ] as [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, (a: number, b: number) => boolean][]
  ).map(([name, op, ref]): Case => {
    const c = normal(16, 16);
    return {
      name: `${name} (inside tf.where)`,
      x: distinct(16, 17, 0.003),
      tf: (p) => tf.sum(tf.mul(tf.where(op(p, tf.scalar(0)), p.square(), p.mul(p).mul(p)), tf.tensor1d(Float32Array.from(c)))) as tf.Scalar,
      f64: (p) => dot(c, p, (v) => (ref(v, 0) ? v * v : v * v * v)),
    };
  }),
  bilinear('Conv2DBackpropFilter/Input (3×3, stride 1, valid)', [2, 5, 5, 2], [3, 3, 2, 3], (x, w) => tf.conv2d(x, w, 1, 'valid'), (x, w) => C.conv2d(x, [2, 5, 5, 2], w, [3, 3, 2, 3], 1, 'valid').y),
  bilinear('Conv2DBackpropFilter/Input (3×3, stride 2, same)', [2, 6, 5, 2], [3, 3, 2, 2], (x, w) => tf.conv2d(x, w, 2, 'same'), (x, w) => C.conv2d(x, [2, 6, 5, 2], w, [3, 3, 2, 2], 2, 'same').y),
  bilinear('DepthwiseConv2dNative backprops (3×3, multiplier 2, valid)', [2, 5, 5, 2], [3, 3, 2, 2], (x, w) => tf.depthwiseConv2d(x, w, 1, 'valid'), (x, w) => C.depthwise(x, [2, 5, 5, 2], w, [3, 3, 2, 2], 1, 'valid').y),
  bilinear('DepthwiseConv2dNative backprops (2×2, stride 2, same)', [1, 5, 5, 3], [2, 2, 3, 1], (x, w) => tf.depthwiseConv2d(x, w, 2, 'same'), (x, w) => C.depthwise(x, [1, 5, 5, 3], w, [2, 2, 3, 1], 2, 'same').y),
  pooled('MaxPoolGrad (2×2, stride 2, valid)', 'max', [2, 4, 4, 2], 2, 2, 'valid'),
  pooled('MaxPoolGrad (3×3, stride 2, same: overlapping windows)', 'max', [1, 5, 5, 2], 3, 2, 'same'),
  pooled('AvgPoolGrad (2×2, stride 2, valid)', 'avg', [2, 4, 4, 2], 2, 2, 'valid'),
  pooled('AvgPoolGrad (3×3, stride 1, valid: overlapping windows)', 'avg', [1, 5, 5, 2], 3, 1, 'valid'),
];

for (const backend of ['cpu', 'wasm'] as const) describe(`TF.js gradient patches (exact double backprop), ${backend} backend`, () => {
  let previous: string | undefined;
  before(async () => {
    previous = tf.getBackend();
    assert.equal((await selectBackend(backend)).backend, backend);
  });
  after(async () => {
    if (previous) await tf.setBackend(previous);
  });

  it(`are installed: TF.js is ${PATCHED_TFJS_VERSION} and every upstream gradient still has the defect the patch corrects`, () => {
    assert.equal(tf.version.tfjs, PATCHED_TFJS_VERSION, 'TF.js changed version: re-measure the gradient defects and update gradientPatches.ts');
    const s = installGradientPatches();
    assert.equal(s.reason, null);
    assert.ok(s.installed);
    for (const k of s.kernels) assert.ok((tf.getGradient(k) as { patched?: boolean }).patched, `${k} is not the patched gradient`);
  });

  for (const c of cases) {
    it(`${c.name}: H v by nested tf.grad matches float64 finite differences (rel. ${TOL})`, () => {
      installGradientPatches();
      const v = normal(c.x.length, 21);
      const before = tf.memory().numTensors;
      const got = tfHv(c.tf, c.x, v);
      assert.equal(tf.memory().numTensors, before, 'tensors leaked');
      const ref = C.fdHessianVector(c.f64, c.x, v);
      const e = relErr(got, ref);
      assert.ok(e < TOL, `relative error ${e.toExponential(2)}; got ${Array.from(got.slice(0, 4))}, want ${Array.from(ref.slice(0, 4))}`);
    });
  }
});
