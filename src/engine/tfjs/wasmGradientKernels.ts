import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Gradient kernels the wasm backend of TF.js 4.22 does not register, so that convolutional,
 * depthwise and embedding models have gradients on the default backend (docs/numerics.md: without
 * them the first backward pass throws "Kernel 'Conv2DBackpropFilter' not registered").
 *
 *   Conv2DBackpropFilter                 dW = colᵀ·dy: an im2col of x, laid out transposed
 *                                        ([kh·kw·C, N·oh·ow]) so the wasm BatchMatMul multiplies
 *                                        it untransposed (the fast path, see wasmKernels.ts)
 *   DepthwiseConv2dNativeBackpropFilter  direct loops (C·M filters of kh·kw taps: small)
 *   DepthwiseConv2dNativeBackpropInput   direct loops (a scatter of dy·W)
 *   UnsortedSegmentSum                   a scatter-add (the gradient of Gather: embeddings)
 *
 * and three it registers but that are wrong or slow: Conv2DBackpropInput (col2im onto
 * BatchMatMul, below), and its MaxPoolGrad and MaxPoolWithArgmax start each window's
 * maximum at FLT_MIN (the smallest positive float) instead of −∞, so a window whose values are
 * all negative (after tanh, BatchNorm, or a convolution without ReLU) gets no gradient at all
 * (measured: 4 % relative error in a max-pooled model's gradient). Both are replaced by loops
 * that follow the cpu backend's rule: the first strict maximum in row-major window order.
 *
 * Each reads its inputs from the wasm heap and writes its output there; views are taken after
 * every allocation, since an allocation may grow (and move) the heap. Float32 only (the dtype
 * of every trainable tensor here). Tested against the cpu backend in
 * test/unit/wasmGradientKernels.test.ts. Must be registered before `tf.setBackend('wasm')`
 * runs the kernels' setup, like wasmKernels.ts.
 */

type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function conv2dBackpropFilter({ inputs, backend, attrs }: KernelArgs): Info {
  const wasm = backend as BackendWasm;
  const { x, dy } = inputs as { x: Info; dy: Info };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${dataFormat}`);
  const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: oh, outWidth: ow, outChannels: Co, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const M = N * oh * ow;
  const K = kh * kw * Ci;
  const col = wasm.makeOutput([1, K, M], 'float32');
  const colV = wasm.typedArrayFromHeap(col) as Float32Array;
  const xv = wasm.typedArrayFromHeap(x) as Float32Array;
  for (let p = 0; p < kh; p++)
    for (let q = 0; q < kw; q++)
      for (let c = 0; c < Ci; c++) {
        let o = ((p * kw + q) * Ci + c) * M;
        for (let n = 0; n < N; n++)
          for (let i = 0; i < oh; i++) {
            const r = i * sh + p - top;
            const rowOk = r >= 0 && r < H;
            const base = (n * H + r) * W;
            for (let j = 0; j < ow; j++, o++) {
              const t = j * sw + q - left;
              colV[o] = rowOk && t >= 0 && t < W ? xv[(base + t) * Ci + c] : 0;
            }
          }
      }
  const matMul = tf.getKernel('BatchMatMul', 'wasm')!;
  try {
    const out = matMul.kernelFunc({
      inputs: { a: col, b: { dataId: dy.dataId, shape: [1, M, Co], dtype: 'float32' } },
      backend: wasm,
      attrs: { transposeA: false, transposeB: false },
    }) as Info;
    return { dataId: out.dataId, shape: filterShape, dtype: 'float32' };
  } finally {
    wasm.disposeData(col.dataId);
  }
}

/**
 * dx = col2im(dy·Wᵀ): one BatchMatMul [N·oh·ow, Co] × [Co, kh·kw·C], then each column block
 * added back onto the input positions it came from. Replaces wasm's own kernel, which runs
 * direct loops at ~0.2 GFLOP/s (10× a forward convolution of the same size, measured).
 */
function conv2dBackpropInput({ inputs, backend, attrs }: KernelArgs): Info {
  const wasm = backend as BackendWasm;
  const { dy, filter } = inputs as { dy: Info; filter: Info };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropInput on wasm supports NHWC only, got ${dataFormat}`);
  const info = tf.backend_util.computeConv2DInfo(inputShape as [number, number, number, number], filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: oh, outWidth: ow, outChannels: Co, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const M = N * oh * ow;
  const K = kh * kw * Ci;
  const matMul = tf.getKernel('BatchMatMul', 'wasm')!;
  const g = matMul.kernelFunc({
    inputs: { a: { dataId: dy.dataId, shape: [1, M, Co], dtype: 'float32' }, b: { dataId: filter.dataId, shape: [1, K, Co], dtype: 'float32' } },
    backend: wasm,
    attrs: { transposeA: false, transposeB: true },
  }) as Info;
  try {
    const out = wasm.makeOutput(inputShape, 'float32');
    const dxv = wasm.typedArrayFromHeap(out) as Float32Array;
    const gv = wasm.typedArrayFromHeap(g) as Float32Array;
    dxv.fill(0);
    let o = 0;
    for (let n = 0; n < N; n++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++)
          for (let p = 0; p < kh; p++) {
            const r = i * sh + p - top;
            for (let q = 0; q < kw; q++, o += Ci) {
              const t = j * sw + q - left;
              if (r < 0 || r >= H || t < 0 || t >= W) continue;
              const base = ((n * H + r) * W + t) * Ci;
              for (let c = 0; c < Ci; c++) dxv[base + c] += gv[o + c];
            }
          }
    return out;
  } finally {
    wasm.disposeData(g.dataId);
  }
}

function depthwiseInfo(xShape: number[], filterShape: number[], attrs: tf.NamedAttrMap) {
  const { strides, pad, dilations, dimRoundingMode } = attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  // TF.js's own depthwise gradient refuses dilations > 1, so these kernels never see them.
  const d = typeof dilations === 'number' ? [dilations, dilations] : (dilations ?? [1, 1]);
  if (d[0] !== 1 || d[1] !== 1) throw new Error(`depthwise convolution gradients support dilation 1 only, got ${d}`);
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
}

function depthwiseBackpropFilter({ inputs, backend, attrs }: KernelArgs): Info {
  const wasm = backend as BackendWasm;
  const { x, dy } = inputs as { x: Info; dy: Info };
  const filterShape = (attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs).filterShape;
  const info = depthwiseInfo(x.shape, filterShape, attrs!);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const M = filterShape[3];
  const { top, left } = info.padInfo;
  const out = wasm.makeOutput(filterShape, 'float32');
  const dwv = wasm.typedArrayFromHeap(out) as Float32Array;
  const xv = wasm.typedArrayFromHeap(x) as Float32Array;
  const dyv = wasm.typedArrayFromHeap(dy) as Float32Array;
  dwv.fill(0);
  const CM = C * M;
  for (let n = 0; n < N; n++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const dyBase = ((n * oh + i) * ow + j) * CM;
        for (let p = 0; p < kh; p++) {
          const r = i * sh + p * dh - top;
          if (r < 0 || r >= H) continue;
          for (let q = 0; q < kw; q++) {
            const t = j * sw + q * dw - left;
            if (t < 0 || t >= W) continue;
            const xBase = ((n * H + r) * W + t) * C;
            const wBase = (p * kw + q) * CM;
            for (let c = 0; c < C; c++) {
              const xval = xv[xBase + c];
              for (let m = 0; m < M; m++) dwv[wBase + c * M + m] += xval * dyv[dyBase + c * M + m];
            }
          }
        }
      }
  return out;
}

function depthwiseBackpropInput({ inputs, backend, attrs }: KernelArgs): Info {
  const wasm = backend as BackendWasm;
  const { dy, filter } = inputs as { dy: Info; filter: Info };
  const inputShape = (attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs).inputShape;
  const info = depthwiseInfo(inputShape, filter.shape, attrs!);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const M = filter.shape[3];
  const { top, left } = info.padInfo;
  const out = wasm.makeOutput(inputShape, 'float32');
  const dxv = wasm.typedArrayFromHeap(out) as Float32Array;
  const wv = wasm.typedArrayFromHeap(filter) as Float32Array;
  const dyv = wasm.typedArrayFromHeap(dy) as Float32Array;
  dxv.fill(0);
  const CM = C * M;
  for (let n = 0; n < N; n++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const dyBase = ((n * oh + i) * ow + j) * CM;
        for (let p = 0; p < kh; p++) {
          const r = i * sh + p * dh - top;
          if (r < 0 || r >= H) continue;
          for (let q = 0; q < kw; q++) {
            const t = j * sw + q * dw - left;
            if (t < 0 || t >= W) continue;
            const xBase = ((n * H + r) * W + t) * C;
            const wBase = (p * kw + q) * CM;
            for (let c = 0; c < C; c++) {
              let s = 0;
              for (let m = 0; m < M; m++) s += dyv[dyBase + c * M + m] * wv[wBase + c * M + m];
              dxv[xBase + c] += s;
            }
          }
        }
      }
  return out;
}

function unsortedSegmentSum({ inputs, backend, attrs }: KernelArgs): Info {
  const wasm = backend as BackendWasm;
  const { x, segmentIds } = inputs as { x: Info; segmentIds: Info };
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  if (x.dtype !== 'float32') throw new Error(`UnsortedSegmentSum on wasm supports float32 only, got ${x.dtype}`);
  const inner = x.shape.slice(segmentIds.shape.length);
  const D = size(inner);
  const out = wasm.makeOutput([numSegments, ...inner], 'float32');
  const ov = wasm.typedArrayFromHeap(out) as Float32Array;
  const xv = wasm.typedArrayFromHeap(x) as Float32Array;
  const ids = wasm.typedArrayFromHeap(segmentIds) as Int32Array | Float32Array;
  ov.fill(0);
  for (let k = 0; k < ids.length; k++) {
    const s = ids[k];
    // TensorFlow drops negative and out-of-range segment ids.
    if (!(s >= 0 && s < numSegments)) continue;
    const src = k * D;
    const dst = s * D;
    for (let j = 0; j < D; j++) ov[dst + j] += xv[src + j];
  }
  return out;
}

/**
 * For each output of a max-pooling, the flat index (batch included) of its window's first
 * strict maximum, −∞ start (the cpu backend's maxPoolPositions).
 */
function argmaxPositions(xv: Float32Array, info: tf.backend_util.Conv2DInfo, values: Float32Array | null): Int32Array {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const pos = new Int32Array(N * oh * ow * C);
  let o = 0;
  for (let n = 0; n < N; n++)
    for (let i = 0; i < oh; i++) {
      const r0 = i * sh - top;
      for (let j = 0; j < ow; j++) {
        const c0 = j * sw - left;
        for (let c = 0; c < C; c++, o++) {
          let best = -Infinity;
          let at = -1;
          for (let p = 0; p < fh; p += dh) {
            const r = r0 + p;
            if (r < 0 || r >= H) continue;
            for (let q = 0; q < fw; q += dw) {
              const t = c0 + q;
              if (t < 0 || t >= W) continue;
              const idx = ((n * H + r) * W + t) * C + c;
              if (xv[idx] > best) {
                best = xv[idx];
                at = idx;
              }
            }
          }
          pos[o] = at;
          if (values) values[o] = best;
        }
      }
    }
  return pos;
}

function poolInfo(xShape: number[], attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
  return tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
}

function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): Info {
  const wasm = backend as BackendWasm;
  const { dy, input } = inputs as { dy: Info; input: Info };
  const info = poolInfo(input.shape, attrs!);
  const out = wasm.makeOutput(input.shape, 'float32');
  const dxv = wasm.typedArrayFromHeap(out) as Float32Array;
  const pos = argmaxPositions(wasm.typedArrayFromHeap(input) as Float32Array, info, null);
  const dyv = wasm.typedArrayFromHeap(dy) as Float32Array;
  dxv.fill(0);
  for (let k = 0; k < pos.length; k++) if (pos[k] >= 0) dxv[pos[k]] += dyv[k];
  return out;
}

function maxPoolWithArgmax({ inputs, backend, attrs }: KernelArgs): Info[] {
  const wasm = backend as BackendWasm;
  const { x } = inputs as { x: Info };
  const { includeBatchInIndex } = attrs as unknown as tf.MaxPoolWithArgmaxAttrs;
  const info = poolInfo(x.shape, attrs!);
  const pooled = wasm.makeOutput(info.outShape, 'float32');
  const indexes = wasm.makeOutput(info.outShape, 'int32');
  const pv = wasm.typedArrayFromHeap(pooled) as Float32Array;
  const iv = wasm.typedArrayFromHeap(indexes) as Int32Array;
  const pos = argmaxPositions(wasm.typedArrayFromHeap(x) as Float32Array, info, pv);
  const perSample = info.inHeight * info.inWidth * info.inChannels;
  for (let k = 0; k < pos.length; k++) iv[k] = includeBatchInIndex ? pos[k] : pos[k] % perSample;
  return [pooled, indexes];
}

/** Kernels wasm has but gets wrong or runs slowly: replaced. */
const REPLACED: { name: string; kernelFunc: (args: KernelArgs) => Info | Info[] }[] = [
  { name: 'Conv2DBackpropInput', kernelFunc: conv2dBackpropInput },
  { name: 'MaxPoolGrad', kernelFunc: maxPoolGrad },
  { name: 'MaxPoolWithArgmax', kernelFunc: maxPoolWithArgmax },
];

const KERNELS: { name: string; kernelFunc: (args: KernelArgs) => Info }[] = [
  { name: 'Conv2DBackpropFilter', kernelFunc: conv2dBackpropFilter },
  { name: 'DepthwiseConv2dNativeBackpropFilter', kernelFunc: depthwiseBackpropFilter },
  { name: 'DepthwiseConv2dNativeBackpropInput', kernelFunc: depthwiseBackpropInput },
  { name: 'UnsortedSegmentSum', kernelFunc: unsortedSegmentSum },
];

let registered = false;

/** Registers the kernels wasm lacks and replaces the wrong ones (once). */
export function registerWasmGradientKernels(): void {
  if (registered) return;
  registered = true;
  for (const k of KERNELS) {
    if (tf.getKernel(k.name, 'wasm')) continue;
    tf.registerKernel({ kernelName: k.name, backendName: 'wasm', kernelFunc: k.kernelFunc as unknown as tf.KernelFunc });
  }
  for (const k of REPLACED) {
    if (tf.getKernel(k.name, 'wasm')) tf.unregisterKernel(k.name, 'wasm');
    tf.registerKernel({ kernelName: k.name, backendName: 'wasm', kernelFunc: k.kernelFunc as unknown as tf.KernelFunc });
  }
}

/** The kernel names this module provides (for the tests and the bench). */
export const WASM_GRADIENT_KERNELS = [...KERNELS, ...REPLACED].map((k) => k.name);
