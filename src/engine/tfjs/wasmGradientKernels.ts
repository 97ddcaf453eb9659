import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Gradient kernels the wasm backend of TF.js 4.22 does not register, so that convolutional,
 * depthwise and embedding models have gradients on the default backend (docs/numerics.md: without
 * them the first backward pass throws "Kernel 'Conv2DBackpropFilter' not registered"):
 *
 *   Conv2DBackpropFilter                 a forward Conv2D (XNNPACK) of x and dy with batch and
 *                                        channels swapped, or for one input channel a column
 *                                        matrix built by bulk copies onto BatchMatMul
 *   DepthwiseConv2dNativeBackpropFilter  direct loops (C·M filters of kh·kw taps: small), shared
 *   DepthwiseConv2dNativeBackpropInput   with the input backprop
 *   UnsortedSegmentSum                   a scatter-add (the gradient of Gather: embeddings)
 *
 * and five it registers but that are wrong or slow: Conv2DBackpropInput (direct loops at
 * ~0.2 GFLOP/s; here a forward Conv2D of the dilated dy with the rotated filter), GatherV2 (a
 * per-index closure check; wrong with batchDims > 0), Identity (a copy; here shared data, as on
 * the cpu backend), and MaxPoolGrad and MaxPoolWithArgmax,
 * which start each window's maximum at FLT_MIN (the smallest positive float) instead of −∞, so a
 * window whose values are all negative (after tanh, BatchNorm, or a convolution without ReLU)
 * gets no gradient at all (measured: 4 % relative error in a max-pooled model's gradient). Both
 * are replaced by loops that follow the cpu backend's rule: the first strict maximum in
 * row-major window order.
 *
 * No JS loop runs over a convolution's activations element by element (the im2col/col2im
 * loops that did were most of the CNN's Hessian-vector product). Each kernel reads its inputs
 * from the wasm heap and writes its output there; views are taken after every allocation, since
 * an allocation may grow (and move) the heap. Float32 only (the dtype of every trainable tensor
 * here). Tested against the cpu backend in test/unit/wasmGradientKernels.test.ts. Must be
 * registered before `tf.setBackend('wasm')` runs the kernels' setup, like wasmKernels.ts.
 */

type Info = tf.TensorInfo;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Runs another wasm kernel on heap tensors (its output is the caller's to dispose). */
function runWasm(name: string, wasm: BackendWasm, inputs: Record<string, Info>, attrs: Record<string, unknown>): Info {
  return tf.getKernel(name, 'wasm')!.kernelFunc({ inputs, backend: wasm, attrs: attrs as unknown as tf.NamedAttrMap }) as Info;
}

type Pads = [[number, number], [number, number], [number, number], [number, number]];

/** wasm's Conv2D (XNNPACK) with explicit padding: stride 1, the given dilation. */
function xnnConv(wasm: BackendWasm, x: Info, filter: Info, pads: Pads, dilations: [number, number]): Info {
  return runWasm('Conv2D', wasm, { x, filter }, { strides: [1, 1], pad: pads, dilations, dataFormat: 'NHWC', dimRoundingMode: undefined });
}

function convInfo(xShape: number[], filterShape: number[], attrs: tf.Conv2DBackpropFilterAttrs | tf.Conv2DBackpropInputAttrs, kernel: string) {
  const { strides, pad, dataFormat, dimRoundingMode } = attrs;
  if (dataFormat !== undefined && dataFormat !== 'NHWC') throw new Error(`${kernel} on wasm supports NHWC only, got ${dataFormat}`);
  const info = tf.backend_util.computeConv2DInfo(xShape as [number, number, number, number], filterShape as [number, number, number, number], strides, 1, pad, dimRoundingMode);
  const { filterHeight: kh, filterWidth: kw, padInfo } = info;
  // Both backprops below are correlations whose padding is k − 1 − (forward padding): a
  // forward padding of k or more (only explicit pads allow it) is not supported.
  if ([padInfo.top, padInfo.bottom].some((p) => p > kh - 1) || [padInfo.left, padInfo.right].some((p) => p > kw - 1))
    throw new Error(`${kernel} on wasm supports paddings below the kernel size, got ${JSON.stringify(padInfo)} for a ${kh}×${kw} kernel`);
  return info;
}

/**
 * Both convolution backprops as one forward Conv2D each (XNNPACK, the fast kernel of the
 * backend), the textbook identities (Dumoulin & Visin 2016, "A guide to convolution arithmetic",
 * §4) written for NHWC:
 *
 *   dW[p,q,c,o] = Σ_{n,i,j} x[n, i·s+p−top, j·s+q−left, c] · dy[n,i,j,o]
 *               = Conv2D(xᵀ, dyᵀ; dilation s)     xᵀ = x as [C, H, W, N] (batch ↔ channels),
 *                                                 dyᵀ = dy as a filter [oh, ow, N, Co];
 *   dx[n,r,t,c] = Σ_{p,q,o} dŷ[n, r+p, t+q, o] · W[kh−1−p, kw−1−q, c, o]
 *               = Conv2D(dŷ, rot180(W)ᵀ)          dŷ = dy dilated by s (s − 1 zeros between
 *                                                 pixels) and padded by k − 1 − (forward pad).
 *
 * Only the filter-sized operands are rearranged in JS; the data-sized ones go through wasm's
 * Transpose, so no JS loop runs over activations (it did: im2col/col2im loops were most of the
 * CNN's Hessian-vector product, docs/numerics.md).
 */
/** dW = col·dy with the column matrix built by copies: the faster route for one input channel. */
function backpropFilterByTaps(wasm: BackendWasm, x: Info, dy: Info, filterShape: number[], info: tf.backend_util.Conv2DInfo): Info {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: oh, outWidth: ow, outChannels: Co, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const M = N * oh * ow;
  // Patches tap by tap, [kh·kw, M, Ci]: for stride 1 each output row of a tap is one contiguous
  // run of x (ow·Ci values), copied with one TypedArray.set.
  const taps = wasm.makeOutput([kh * kw, M, Ci], 'float32');
  let col: Info | null = null;
  try {
    const tv = wasm.typedArrayFromHeap(taps) as Float32Array;
    const xv = wasm.typedArrayFromHeap(x) as Float32Array;
    tv.fill(0);
    for (let p = 0; p < kh; p++)
      for (let q = 0; q < kw; q++) {
        // Output columns j whose input column t = j·sw + q − left lies inside x.
        const jFrom = Math.max(0, Math.ceil((left - q) / sw));
        const jTo = Math.min(ow, Math.floor((W - 1 + left - q) / sw) + 1);
        if (jTo <= jFrom) continue;
        const tapBase = (p * kw + q) * M * Ci;
        for (let n = 0; n < N; n++)
          for (let i = 0; i < oh; i++) {
            const r = i * sh + p - top;
            if (r < 0 || r >= H) continue;
            const dst = tapBase + ((n * oh + i) * ow + jFrom) * Ci;
            const src = ((n * H + r) * W + jFrom * sw + q - left) * Ci;
            if (sw === 1) tv.set(xv.subarray(src, src + (jTo - jFrom) * Ci), dst);
            else for (let j = 0; j < jTo - jFrom; j++) tv.set(xv.subarray(src + j * sw * Ci, src + (j * sw + 1) * Ci), dst + j * Ci);
          }
      }
    // → [kh·kw, Ci, M] = [K, M], K in the filter's (p, q, c) order, so that dW = col·dy is an
    // untransposed BatchMatMul (the fast path, wasmKernels.ts).
    col = Ci === 1 ? taps : runWasm('Transpose', wasm, { x: taps }, { perm: [0, 2, 1] });
    const out = runWasm('BatchMatMul', wasm, { a: { dataId: col.dataId, shape: [1, kh * kw * Ci, M], dtype: 'float32' }, b: { dataId: dy.dataId, shape: [1, M, Co], dtype: 'float32' } }, { transposeA: false, transposeB: false });
    return { dataId: out.dataId, shape: filterShape, dtype: 'float32' };
  } finally {
    wasm.disposeData(taps.dataId);
    if (col && col !== taps) wasm.disposeData(col.dataId);
  }
}

/** dW = Conv2D(xᵀ, dyᵀ; dilation s): the faster route for several input channels. */
function backpropFilterByConv(wasm: BackendWasm, x: Info, dy: Info, filterShape: number[], info: tf.backend_util.Conv2DInfo): Info {
  const { inHeight: H, inWidth: W, inChannels: Ci, outHeight: oh, outWidth: ow, outChannels: Co, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // Rows/columns of x that no output reads (floor rounding with strides) are cut off by the
  // output size below rather than by a negative padding.
  const bottom = Math.max(0, kh + (oh - 1) * sh - H - top);
  const right = Math.max(0, kw + (ow - 1) * sw - W - left);
  const xT = runWasm('Transpose', wasm, { x }, { perm: [3, 1, 2, 0] });
  const dyT = runWasm('Transpose', wasm, { x: dy }, { perm: [1, 2, 0, 3] });
  let conv: Info | null = null;
  try {
    conv = xnnConv(wasm, xT, dyT, [[0, 0], [top, bottom], [left, right], [0, 0]], [sh, sw]);
    // conv: [Ci, kh', kw', Co] with kh' ≥ kh, kw' ≥ kw → dW [kh, kw, Ci, Co] (filter-sized).
    const [, kh2, kw2] = conv.shape;
    const out = wasm.makeOutput(filterShape, 'float32');
    const dw = wasm.typedArrayFromHeap(out) as Float32Array;
    const cv = wasm.typedArrayFromHeap(conv) as Float32Array;
    for (let p = 0; p < kh; p++)
      for (let q = 0; q < kw; q++)
        for (let c = 0; c < Ci; c++) {
          const src = ((c * kh2 + p) * kw2 + q) * Co;
          dw.set(cv.subarray(src, src + Co), ((p * kw + q) * Ci + c) * Co);
        }
    return out;
  } finally {
    for (const t of [xT, dyT, conv]) if (t) wasm.disposeData(t.dataId);
  }
}

/**
 * Two routes, by measurement on the demo-digits CNN (256 samples, CPU ms per call; the JS
 * im2col loop they replace: 16.6 and 20.9): one input channel, by copies 11.5 vs by Conv2D 21;
 * eight channels, 17.7 vs 13.2 (the Conv2D route transposes both data-sized operands, which
 * costs most when the column matrix is small).
 */
function conv2dBackpropFilter({ inputs, backend, attrs }: KernelArgs): Info {
  const wasm = backend as BackendWasm;
  const { x, dy } = inputs as { x: Info; dy: Info };
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const filterShape = a.filterShape as number[];
  const info = convInfo(x.shape, filterShape, a, 'Conv2DBackpropFilter');
  return info.inChannels === 1 ? backpropFilterByTaps(wasm, x, dy, filterShape, info) : backpropFilterByConv(wasm, x, dy, filterShape, info);
}

/**
 * dx = Conv2D(dŷ, rot180(W)ᵀ) (see conv2dBackpropFilter). Replaces wasm's own kernel, which
 * runs direct loops at ~0.2 GFLOP/s (10× a forward convolution of the same size, measured).
 */
function conv2dBackpropInput({ inputs, backend, attrs }: KernelArgs): Info {
  const wasm = backend as BackendWasm;
  const { dy, filter } = inputs as { dy: Info; filter: Info };
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const inputShape = a.inputShape as number[];
  const info = convInfo(inputShape, filter.shape, a, 'Conv2DBackpropInput');
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: Ci, outHeight: oh, outWidth: ow, outChannels: Co, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const rot = wasm.makeOutput([kh, kw, Co, Ci], 'float32');
  let dilated: Info | null = null;
  try {
    const rv = wasm.typedArrayFromHeap(rot) as Float32Array;
    const wv = wasm.typedArrayFromHeap(filter) as Float32Array;
    for (let p = 0; p < kh; p++)
      for (let q = 0; q < kw; q++) {
        const src = ((kh - 1 - p) * kw + (kw - 1 - q)) * Ci * Co;
        const dst = (p * kw + q) * Co * Ci;
        for (let c = 0; c < Ci; c++) for (let o = 0; o < Co; o++) rv[dst + o * Ci + c] = wv[src + c * Co + o];
      }
    const Hd = (oh - 1) * sh + 1;
    const Wd = (ow - 1) * sw + 1;
    let src: Info = dy;
    if (sh > 1 || sw > 1) {
      // s − 1 zeros between the pixels of dy: one contiguous copy of Co values per pixel.
      dilated = wasm.makeOutput([N, Hd, Wd, Co], 'float32');
      const dv = wasm.typedArrayFromHeap(dilated) as Float32Array;
      const yv = wasm.typedArrayFromHeap(dy) as Float32Array;
      dv.fill(0);
      for (let n = 0, k = 0; n < N; n++)
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++, k += Co) dv.set(yv.subarray(k, k + Co), ((n * Hd + i * sh) * Wd + j * sw) * Co);
      src = dilated;
    }
    const pt = kh - 1 - top;
    const pl = kw - 1 - left;
    return xnnConv(wasm, src, rot, [[0, 0], [pt, H + kh - 1 - Hd - pt], [pl, W + kw - 1 - Wd - pl], [0, 0]], [1, 1]);
  } finally {
    wasm.disposeData(rot.dataId);
    if (dilated) wasm.disposeData(dilated.dataId);
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

/**
 * Both depthwise backprops walk the same (output pixel, tap) pairs — direct loops, C·M filters
 * of kh·kw taps are small — and differ only in what they accumulate there:
 *   filter  dW[p,q,c,m] += x[n,r,t,c] · dy[n,i,j,c·M+m]
 *   input   dx[n,r,t,c] += Σ_m dy[n,i,j,c·M+m] · W[p,q,c,m]
 */
function depthwiseBackprop(wasm: BackendWasm, of: 'filter' | 'input', operand: Info, dy: Info, xShape: number[], filterShape: number[], attrs: tf.NamedAttrMap): Info {
  const info = depthwiseInfo(xShape, filterShape, attrs);
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const M = filterShape[3];
  const { top, left } = info.padInfo;
  const out = wasm.makeOutput(of === 'filter' ? filterShape : xShape, 'float32');
  const ov = wasm.typedArrayFromHeap(out) as Float32Array;
  const av = wasm.typedArrayFromHeap(operand) as Float32Array;
  const dyv = wasm.typedArrayFromHeap(dy) as Float32Array;
  ov.fill(0);
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
            if (of === 'filter')
              for (let c = 0; c < C; c++) {
                const xval = av[xBase + c];
                for (let m = 0; m < M; m++) ov[wBase + c * M + m] += xval * dyv[dyBase + c * M + m];
              }
            else
              for (let c = 0; c < C; c++) {
                let s = 0;
                for (let m = 0; m < M; m++) s += dyv[dyBase + c * M + m] * av[wBase + c * M + m];
                ov[xBase + c] += s;
              }
          }
        }
      }
  return out;
}

function depthwiseBackpropFilter({ inputs, backend, attrs }: KernelArgs): Info {
  const { x, dy } = inputs as { x: Info; dy: Info };
  const filterShape = (attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs).filterShape;
  return depthwiseBackprop(backend as BackendWasm, 'filter', x, dy, x.shape, filterShape, attrs!);
}

function depthwiseBackpropInput({ inputs, backend, attrs }: KernelArgs): Info {
  const { dy, filter } = inputs as { dy: Info; filter: Info };
  const inputShape = (attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs).inputShape;
  return depthwiseBackprop(backend as BackendWasm, 'input', filter, dy, inputShape, filter.shape, attrs!);
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
 * strict maximum, −∞ start (the cpu backend's maxPoolPositions); −1 for a window of NaNs.
 * Each window's valid column range is found once per output column, so the inner loop has no
 * bounds test.
 */
function argmaxPositions(xv: Float32Array, info: tf.backend_util.Conv2DInfo): Int32Array {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const pos = new Int32Array(N * oh * ow * C);
  const qFrom = new Int32Array(ow);
  const qTo = new Int32Array(ow);
  for (let j = 0; j < ow; j++) {
    const c0 = j * sw - left;
    let q = 0;
    while (q < fw && c0 + q < 0) q += dw;
    qFrom[j] = c0 + q;
    let e = q;
    while (e < fw && c0 + e < W) e += dw;
    qTo[j] = c0 + e;
  }
  const rowStride = W * C;
  const tapStride = dw * C;
  let o = 0;
  for (let n = 0; n < N; n++)
    for (let i = 0; i < oh; i++) {
      const r0 = i * sh - top;
      let pFrom = 0;
      while (pFrom < fh && r0 + pFrom < 0) pFrom += dh;
      let pTo = pFrom;
      while (pTo < fh && r0 + pTo < H) pTo += dh;
      const rows = (pTo - pFrom) / dh;
      const rowBase = (n * H + r0 + pFrom) * rowStride;
      for (let j = 0; j < ow; j++) {
        const colFrom = qFrom[j] * C;
        const colTo = qTo[j] * C;
        for (let c = 0; c < C; c++, o++) {
          let best = -Infinity;
          let at = -1;
          for (let pr = 0, rb = rowBase + c; pr < rows; pr++, rb += dh * rowStride)
            for (let idx = rb + colFrom, end = rb + colTo; idx < end; idx += tapStride) {
              const v = xv[idx];
              if (v > best) {
                best = v;
                at = idx;
              }
            }
          pos[o] = at;
        }
      }
    }
  return pos;
}

/**
 * Within one Hessian-vector product the same pooling input is searched three times (the
 * backward pass, and in the double backward both the gradient of MaxPoolGrad, through
 * MaxPoolWithArgmax, and MaxPool's own gradient again): the last few results are kept, keyed by
 * the input's dataId (a fresh object per tensor whose data never changes) and the pooling.
 */
const recentPositions: { dataId: object; key: string; pos: Int32Array }[] = [];

function positionsOf(wasm: BackendWasm, x: Info, info: tf.backend_util.Conv2DInfo): Int32Array {
  const key = [info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left, info.outHeight, info.outWidth].join();
  const hit = recentPositions.find((e) => e.dataId === x.dataId && e.key === key);
  if (hit) return hit.pos;
  const pos = argmaxPositions(wasm.typedArrayFromHeap(x) as Float32Array, info);
  recentPositions.unshift({ dataId: x.dataId, key, pos });
  if (recentPositions.length > 4) recentPositions.pop();
  return pos;
}

function poolInfo(xShape: number[], attrs: tf.NamedAttrMap): tf.backend_util.Conv2DInfo {
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
  return tf.backend_util.computePool2DInfo(xShape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
}

function maxPoolGrad({ inputs, backend, attrs }: KernelArgs): Info {
  const wasm = backend as BackendWasm;
  const { dy, input } = inputs as { dy: Info; input: Info };
  const pos = positionsOf(wasm, input, poolInfo(input.shape, attrs!));
  const out = wasm.makeOutput(input.shape, 'float32');
  const dxv = wasm.typedArrayFromHeap(out) as Float32Array;
  const dyv = wasm.typedArrayFromHeap(dy) as Float32Array;
  dxv.fill(0);
  for (let k = 0; k < pos.length; k++) {
    const at = pos[k];
    if (at >= 0) dxv[at] += dyv[k];
  }
  return out;
}

function maxPoolWithArgmax({ inputs, backend, attrs }: KernelArgs): Info[] {
  const wasm = backend as BackendWasm;
  const { x } = inputs as { x: Info };
  const { includeBatchInIndex } = attrs as unknown as tf.MaxPoolWithArgmaxAttrs;
  const info = poolInfo(x.shape, attrs!);
  const pos = positionsOf(wasm, x, info);
  const pooled = wasm.makeOutput(info.outShape, 'float32');
  const indexes = wasm.makeOutput(info.outShape, 'int32');
  const xv = wasm.typedArrayFromHeap(x) as Float32Array;
  const pv = wasm.typedArrayFromHeap(pooled) as Float32Array;
  const iv = wasm.typedArrayFromHeap(indexes) as Int32Array;
  const perSample = info.inHeight * info.inWidth * info.inChannels;
  for (let k = 0; k < pos.length; k++) {
    const at = pos[k];
    pv[k] = at >= 0 ? xv[at] : -Infinity;
    iv[k] = includeBatchInIndex || at < 0 ? at : at % perSample;
  }
  return [pooled, indexes];
}

/**
 * GatherV2 as copies on the heap. wasm's own kernel checks every index through a closure and an
 * assert call, then runs a C++ gather at ~60 ns per element (measured: 28 ms CPU for the 346k
 * pooled positions of the demo CNN, whose second-order MaxPoolGrad gradient gathers them once per
 * Hessian-vector product, gradientPatches.ts; this loop: ~1 ms), and with batchDims > 0 it
 * returns wrong values (TF.js 4.22; test/unit/wasmGradientKernels.test.ts compares with cpu).
 */
function gatherV2({ inputs, backend, attrs }: KernelArgs): Info {
  const wasm = backend as BackendWasm;
  const { x, indices } = inputs as { x: Info; indices: Info };
  const { axis, batchDims } = attrs as unknown as tf.GatherV2Attrs;
  if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') throw new Error(`GatherV2 on wasm: unsupported dtype ${x.dtype}`);
  const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0];
  const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x as tf.TensorInfo as tf.Tensor, indices as tf.TensorInfo as tf.Tensor, parsedAxis, batchDims);
  const { batchSize: B, outerSize: O, dimSize: D, sliceSize: S } = info;
  const checked = wasm.typedArrayFromHeap(indices) as Int32Array | Float32Array;
  for (let i = 0; i < checked.length; i++) {
    const k = checked[i];
    if (!(k >= 0 && k <= D - 1)) throw new Error(`GatherV2: the index value ${k} is not in [0, ${D - 1}]`);
  }
  const perBatch = checked.length / B;
  const out = wasm.makeOutput(info.outputShape, x.dtype);
  const ids = wasm.typedArrayFromHeap(indices) as Int32Array | Float32Array;
  const xv = wasm.typedArrayFromHeap(x) as Float32Array | Int32Array | Uint8Array;
  const ov = wasm.typedArrayFromHeap(out) as Float32Array | Int32Array | Uint8Array;
  let k = 0;
  for (let b = 0; b < B; b++)
    for (let o = 0; o < O; o++) {
      const base = (b * O + o) * D;
      const idBase = b * perBatch;
      if (S === 1) for (let i = 0; i < perBatch; i++) ov[k++] = xv[base + ids[idBase + i]];
      else
        for (let i = 0; i < perBatch; i++, k += S) {
          const src = (base + ids[idBase + i]) * S;
          ov.set(xv.subarray(src, src + S), k);
        }
    }
  return out;
}

/**
 * Identity shares its input's data (reference-counted), as the cpu backend's does; wasm's own
 * copies it. The engine runs Identity for every tensor a gradient saves (`clone`), ~150 copies of
 * activations per Hessian-vector product of the demo CNN, and a copy's new dataId hides the
 * pooling input from the argmax cache above (tensors never change, so sharing is safe).
 */
function identity({ inputs, backend }: KernelArgs): Info {
  const { x } = inputs as { x: Info };
  (backend as BackendWasm).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Kernels wasm has but gets wrong or runs slowly: replaced. */
const REPLACED: { name: string; kernelFunc: (args: KernelArgs) => Info | Info[] }[] = [
  { name: 'GatherV2', kernelFunc: gatherV2 },
  { name: 'Identity', kernelFunc: identity },
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
