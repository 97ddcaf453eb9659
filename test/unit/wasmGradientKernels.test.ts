import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/engine/backend';
import { Rng } from '../../src/engine/linalg/rng';
import { registerWasmGradientKernels, WASM_GRADIENT_KERNELS } from '../../src/engine/tfjs/wasmGradientKernels';

/**
 * The gradient kernels added to the wasm backend (and the pooling gradients it has) against the
 * cpu backend's, on the same float32 inputs: ≤ 1e-5 relative (2-norm). Then a model with every
 * such layer gets the same gradient on both backends.
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

function normal(shape: number[], seed: number): Float32Array {
  const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
  new Rng(seed).fillNormal(a);
  return a;
}

interface KernelCase {
  name: string;
  kernel: string;
  inputs: () => Record<string, tf.Tensor>;
  attrs: Record<string, unknown>;
}

/** The kernel's outputs, concatenated (MaxPoolWithArgmax has two). */
function onBackend(backend: string, c: KernelCase): Float32Array {
  return tf.tidy(() => {
    const out = tf.engine().runKernel(c.kernel, c.inputs() as tf.NamedTensorMap, c.attrs as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
    assert.equal(tf.getBackend(), backend);
    const parts = (Array.isArray(out) ? out : [out]).map((o) => Float32Array.from(o.dataSync()));
    const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    return all;
  });
}

const t = (shape: number[], seed: number) => tf.tensor(normal(shape, seed), shape);

const convCase = (name: string, x: number[], f: number[], dy: number[], strides: number, pad: 'valid' | 'same'): KernelCase[] => [
  {
    name: `Conv2DBackpropFilter ${name}`,
    kernel: 'Conv2DBackpropFilter',
    inputs: () => ({ x: t(x, 1), dy: t(dy, 2) }),
    attrs: { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: f },
  },
  {
    name: `Conv2DBackpropInput ${name}`,
    kernel: 'Conv2DBackpropInput',
    inputs: () => ({ dy: t(dy, 2), filter: t(f, 13) }),
    attrs: { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: x },
  },
];

const depthwiseCases = (name: string, x: number[], f: number[], dy: number[], strides: number, pad: 'valid' | 'same'): KernelCase[] => [
  {
    name: `DepthwiseConv2dNativeBackpropFilter ${name}`,
    kernel: 'DepthwiseConv2dNativeBackpropFilter',
    inputs: () => ({ x: t(x, 3), dy: t(dy, 4) }),
    attrs: { strides, pad, dilations: 1, dimRoundingMode: undefined, filterShape: f },
  },
  {
    name: `DepthwiseConv2dNativeBackpropInput ${name}`,
    kernel: 'DepthwiseConv2dNativeBackpropInput',
    inputs: () => ({ dy: t(dy, 5), filter: t(f, 6) }),
    attrs: { strides, pad, dilations: 1, dimRoundingMode: undefined, inputShape: x },
  },
];

const poolCases = (name: string, x: number[], k: number, s: number, pad: 'valid' | 'same'): KernelCase[] => {
  const info = tf.backend_util.computePool2DInfo(x as [number, number, number, number], k, s, 1, pad);
  const y = info.outShape;
  return [
    {
      name: `MaxPoolGrad ${name}`,
      kernel: 'MaxPoolGrad',
      inputs: () => {
        const input = t(x, 7);
        return { dy: t(y, 8), input, output: tf.maxPool(input as tf.Tensor4D, k, s, pad) };
      },
      attrs: { filterSize: k, strides: s, pad, dimRoundingMode: undefined },
    },
    {
      name: `MaxPoolWithArgmax ${name} (values and batch-inclusive indices)`,
      kernel: 'MaxPoolWithArgmax',
      inputs: () => ({ x: t(x, 7) }),
      attrs: { filterSize: k, strides: s, pad, includeBatchInIndex: true },
    },
    {
      name: `MaxPool (forward) ${name}`,
      kernel: 'MaxPool',
      inputs: () => ({ x: t(x, 7) }),
      attrs: { filterSize: k, strides: s, pad, dimRoundingMode: undefined },
    },
    {
      name: `AvgPoolGrad ${name}`,
      kernel: 'AvgPoolGrad',
      inputs: () => ({ dy: t(y, 9), input: t(x, 10) }),
      attrs: { filterSize: k, strides: s, pad },
    },
  ];
};

const cases: KernelCase[] = [
  ...convCase('3×3 stride 1 valid', [3, 7, 6, 2], [3, 3, 2, 4], [3, 5, 4, 4], 1, 'valid'),
  ...convCase('3×3 stride 2 same', [2, 7, 6, 3], [3, 3, 3, 5], [2, 4, 3, 5], 2, 'same'),
  ...convCase('1×5 stride 1 same (Conv1D shape)', [4, 1, 9, 2], [1, 5, 2, 3], [4, 1, 9, 3], 1, 'same'),
  // A last row and column no output reads (floor rounding with stride 2).
  ...convCase('3×3 stride 2 valid, unread last row/column', [2, 8, 9, 3], [3, 3, 3, 4], [2, 3, 4, 4], 2, 'valid'),
  ...convCase('2×4 stride 3 same', [2, 7, 10, 2], [2, 4, 2, 3], [2, 3, 4, 3], 3, 'same'),
  // One input channel takes the other Conv2DBackpropFilter route (copies, no Conv2D).
  ...convCase('one channel, 3×3 stride 2 same', [2, 7, 6, 1], [3, 3, 1, 4], [2, 4, 3, 4], 2, 'same'),
  ...convCase('one channel, 3×3 stride 2 valid, unread last row/column', [2, 8, 9, 1], [3, 3, 1, 2], [2, 3, 4, 2], 2, 'valid'),
  ...convCase('one channel, 1×5 stride 1 same (Conv1D shape)', [3, 1, 9, 1], [1, 5, 1, 3], [3, 1, 9, 3], 1, 'same'),
  // The demo-digits CNN's two layers (one channel in; 8 → 16 after pooling).
  ...convCase('demo CNN first layer', [4, 28, 28, 1], [3, 3, 1, 8], [4, 26, 26, 8], 1, 'valid'),
  ...convCase('demo CNN second layer', [4, 13, 13, 8], [3, 3, 8, 16], [4, 11, 11, 16], 1, 'valid'),
  ...depthwiseCases('3×3 multiplier 2 valid', [2, 6, 6, 3], [3, 3, 3, 2], [2, 4, 4, 6], 1, 'valid'),
  ...depthwiseCases('3×3 multiplier 1 stride 2 same', [2, 7, 6, 4], [3, 3, 4, 1], [2, 4, 3, 4], 2, 'same'),
  ...poolCases('2×2 stride 2 valid', [2, 6, 6, 3], 2, 2, 'valid'),
  ...poolCases('3×3 stride 2 same', [2, 7, 7, 2], 3, 2, 'same'),
  ...poolCases('3×3 stride 1 valid (overlapping windows)', [2, 6, 7, 3], 3, 1, 'valid'),
  ...poolCases('2×2 stride 2 same, odd sizes', [2, 5, 7, 2], 2, 2, 'same'),
  ...poolCases('demo CNN pooling', [4, 26, 26, 8], 2, 2, 'valid'),
  {
    name: 'GatherV2 (replaced: copies on the heap) along axis 1',
    kernel: 'GatherV2',
    inputs: () => ({ x: t([3, 5, 2], 14), indices: tf.tensor1d([4, 0, 0, 2], 'int32') }),
    attrs: { axis: 1, batchDims: 0 },
  },
  {
    name: 'GatherV2 with batchDims 1 and 2-D indices (wasm’s own kernel got these wrong)',
    kernel: 'GatherV2',
    inputs: () => ({ x: t([2, 6, 3], 15), indices: tf.tensor2d([5, 1, 1, 0, 3, 2], [2, 3], 'int32') }),
    attrs: { axis: 1, batchDims: 1 },
  },
  {
    name: 'UnsortedSegmentSum (repeated, negative and out-of-range ids dropped)',
    kernel: 'UnsortedSegmentSum',
    inputs: () => ({ x: t([7, 3, 2], 11), segmentIds: tf.tensor1d([0, 4, 4, -1, 2, 9, 0], 'int32') }),
    attrs: { numSegments: 5 },
  },
];

describe('wasm gradient kernels against the cpu backend', () => {
  let previous: string | undefined;
  before(async () => {
    previous = tf.getBackend();
    assert.equal((await selectBackend('wasm')).backend, 'wasm');
  });
  after(async () => {
    await tf.setBackend(previous ?? 'cpu');
  });

  it('registers every kernel wasm lacks', () => {
    registerWasmGradientKernels();
    for (const k of WASM_GRADIENT_KERNELS) assert.ok(tf.getKernel(k, 'wasm'), k);
  });

  for (const c of cases) {
    it(`${c.name}: matches cpu (rel. ${TOL}), no tensor leaked`, async () => {
      await tf.setBackend('cpu');
      const ref = onBackend('cpu', c);
      await tf.setBackend('wasm');
      const before = tf.memory().numTensors;
      const got = onBackend('wasm', c);
      assert.equal(tf.memory().numTensors, before);
      assert.equal(got.length, ref.length);
      assert.ok(relErr(got, ref) < TOL, `relative error ${relErr(got, ref)}`);
    });
  }

  it('GatherV2: an index out of range is refused, as before the replacement', () => {
    assert.throws(() => tf.tidy(() => tf.gather(tf.ones([4, 2]), tf.tensor1d([1, 4], 'int32'))), /index value 4 is not in \[0, 3\]/);
  });

  it('a Conv2D/BatchNorm/MaxPool/Depthwise/AvgPool/Dense model and an Embedding model: same gradients on wasm and cpu', async () => {
    const cnn = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 2], filters: 3, kernelSize: 3, activation: 'relu' }),
        tf.layers.batchNormalization(),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.depthwiseConv2d({ kernelSize: 2, depthMultiplier: 2, padding: 'same', activation: 'tanh' }),
        tf.layers.averagePooling2d({ poolSize: 3, strides: 1 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3 }),
      ],
    });
    const emb = tf.sequential({ layers: [tf.layers.embedding({ inputDim: 11, outputDim: 4, inputLength: 5 }), tf.layers.flatten(), tf.layers.dense({ units: 2 })] });
    const x = normal([5, 8, 8, 2], 12);
    const ids = Float32Array.from({ length: 15 }, (_, i) => (i * 7) % 11);
    const grads = (model: tf.Sequential, input: () => tf.Tensor): Float32Array[] =>
      tf.tidy(() => {
        const { grads: g } = tf.variableGrads(() => (model.apply(input()) as tf.Tensor).tanh().square().sum() as tf.Scalar, model.trainableWeights.map((w) => w.read() as tf.Variable));
        return Object.values(g).map((v) => v.dataSync() as Float32Array);
      });
    const run = () => [...grads(cnn, () => tf.tensor(x, [5, 8, 8, 2])), ...grads(emb, () => tf.tensor(ids, [3, 5]))];
    await tf.setBackend('cpu');
    const ref = run();
    await tf.setBackend('wasm');
    const got = run();
    assert.equal(got.length, ref.length);
    got.forEach((g, i) => assert.ok(relErr(g, ref[i]) < TOL, `variable ${i}: relative error ${relErr(g, ref[i])}`));
    cnn.dispose();
    emb.dispose();
  });
});
