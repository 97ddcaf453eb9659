import * as tf from '@tensorflow/tfjs';

/**
 * Gradient registrations that make nested `tf.grad` (double backprop) exact in TF.js 4.22, so
 * Hessian-vector products ∂/∂θ ⟨∇L(θ), v⟩ (Pearlmutter 1994) can be computed on its tape.
 *
 * Two defects of the upstream registry, measured (docs/numerics.md):
 * 1. Gradients computed from an op's saved *output* (Tanh, Sigmoid, Exp, Softmax, Elu, Pow):
 *    the engine clones the output onto the tape before the op's own node, so the reverse sweep
 *    of an outer gradient reaches the op before the clone and the clone's cotangent is
 *    dropped: the second-order term through y is lost silently. The fix computes each gradient
 *    from the op's *input* (y recomputed inside the gradient), which is on the tape in order.
 * 2. Missing gradients of ops that appear inside first-order gradients: comparisons and logical
 *    ops (Max/Min's mask uses Equal, ClipByValue's uses LogicalAnd; all have zero derivative),
 *    Conv2DBackpropFilter, the depthwise backprops, MaxPoolGrad and AvgPoolGrad (all linear in
 *    the cotangent; piecewise constant, so zero almost everywhere, in the pooled values).
 *
 * Max, Min and MaxPool keep their saved-output gradients: the lost link there carries d/dy of
 * a mask, which is zero almost everywhere. Not covered: `tf.logSoftmax` and other `customGrad`
 * ops that save their output (no kernel to re-register; write them from primitives, as
 * losses.ts does), LRN, MaxPool3D.
 *
 * The patches are pinned to one TF.js version: `installGradientPatches` checks the version and
 * that each upstream gradient still has the shape this file corrects (saved outputs, or no
 * gradient at all); if either changed it installs nothing and says why, and callers fall back
 * to finite differences (`exactHessianAvailable`). test/unit/gradientPatches.test.ts checks
 * every op against float64 finite differences and fails when the version or the upstream
 * behaviour changes.
 */
export const PATCHED_TFJS_VERSION = '4.22.0';

type GradFunc = (dy: tf.Tensor, saved: tf.Tensor[], attrs: Record<string, unknown>) => Record<string, () => tf.Tensor>;

interface Patch {
  kernel: string;
  /** What upstream registers: a gradient from the saved output, or none. */
  upstream: 'saved-output' | 'missing';
  inputsToSave: string[];
  gradFunc: GradFunc;
}

const run = (kernel: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor =>
  tf.engine().runKernel(kernel, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;

/** Sums a broadcast gradient back to `shape` (as upstream's binary-op gradients do). */
function unbroadcast(g: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, g.shape);
  return (axes.length > 0 ? g.sum(axes) : g).reshape(shape);
}

const zeroGradient = (names: string[]): Patch['gradFunc'] => (_dy, saved) =>
  Object.fromEntries(names.map((n, i) => [n, () => tf.zeros(saved[i].shape, 'float32')]));

const comparison = (kernel: string): Patch => ({ kernel, upstream: 'missing', inputsToSave: ['a', 'b'], gradFunc: zeroGradient(['a', 'b']) });

const PATCHES: Patch[] = [
  {
    kernel: 'Tanh',
    upstream: 'saved-output',
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => dy.mul(tf.scalar(1).sub(tf.tanh(x).square())) }),
  },
  {
    kernel: 'Sigmoid',
    upstream: 'saved-output',
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({
      x: () => {
        const s = tf.sigmoid(x);
        return dy.mul(s.mul(tf.scalar(1).sub(s)));
      },
    }),
  },
  {
    kernel: 'Exp',
    upstream: 'saved-output',
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({ x: () => dy.mul(tf.exp(x)) }),
  },
  {
    kernel: 'Softmax',
    upstream: 'saved-output',
    inputsToSave: ['logits'],
    gradFunc: (dy, [logits], attrs) => ({
      logits: () => {
        const dim = attrs.dim as number;
        const y = tf.softmax(logits, dim);
        const dyy = dy.mul(y);
        return dyy.sub(dyy.sum([dim], true).mul(y));
      },
    }),
  },
  {
    kernel: 'Elu',
    upstream: 'saved-output',
    inputsToSave: ['x'],
    // elu'(x) = 1 for x > 0, eˣ otherwise; min(x, 0) keeps eˣ finite where it is not selected.
    gradFunc: (dy, [x]) => ({ x: () => tf.where(tf.greater(x, 0), dy, dy.mul(tf.exp(tf.minimum(x, 0)))) }),
  },
  {
    kernel: 'Pow',
    upstream: 'saved-output',
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => {
      return {
        a: () => {
          const e = tf.cast(b, 'float32');
          return unbroadcast(dy.mul(e.mul(tf.pow(a, e.sub(1)))), a.shape);
        },
        b: () => {
          const logA = tf.where(tf.greater(a, 0), tf.log(tf.maximum(a, 1e-38)), tf.zerosLike(a));
          return unbroadcast(dy.mul(tf.pow(a, b).mul(logA)), b.shape);
        },
      };
    },
  },
  ...['Equal', 'NotEqual', 'Greater', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalOr'].map(comparison),
  { kernel: 'LogicalNot', upstream: 'missing', inputsToSave: ['x'], gradFunc: zeroGradient(['x']) },
  {
    // dW = Σ x ⋆ dy is bilinear in (x, dy): its adjoints are the transposed convolution and the convolution.
    kernel: 'Conv2DBackpropFilter',
    upstream: 'missing',
    inputsToSave: ['x', 'dy'],
    gradFunc: (ddw, [x, dy], attrs) => {
      const { strides, pad, dataFormat, dimRoundingMode } = attrs;
      return {
        x: () => run('Conv2DBackpropInput', { dy, filter: ddw }, { strides, pad, dataFormat, dimRoundingMode, inputShape: x.shape }),
        dy: () =>
          tf.conv2d(x as tf.Tensor4D, ddw as tf.Tensor4D, strides as [number, number], pad as 'valid', dataFormat as 'NHWC', 1, dimRoundingMode as 'round'),
      };
    },
  },
  {
    kernel: 'DepthwiseConv2dNativeBackpropFilter',
    upstream: 'missing',
    inputsToSave: ['x', 'dy'],
    gradFunc: (ddw, [x, dy], attrs) => {
      const { strides, pad, dilations, dimRoundingMode } = attrs;
      return {
        x: () => run('DepthwiseConv2dNativeBackpropInput', { dy, filter: ddw }, { strides, pad, dilations, dimRoundingMode, inputShape: x.shape }),
        dy: () =>
          tf.depthwiseConv2d(x as tf.Tensor4D, ddw as tf.Tensor4D, strides as [number, number], pad as 'valid', 'NHWC', dilations as [number, number], dimRoundingMode as 'round'),
      };
    },
  },
  {
    kernel: 'DepthwiseConv2dNativeBackpropInput',
    upstream: 'missing',
    inputsToSave: ['dy', 'filter'],
    gradFunc: (ddx, [dy, filter], attrs) => {
      const { strides, pad, dilations, dimRoundingMode } = attrs;
      return {
        dy: () =>
          tf.depthwiseConv2d(ddx as tf.Tensor4D, filter as tf.Tensor4D, strides as [number, number], pad as 'valid', 'NHWC', dilations as [number, number], dimRoundingMode as 'round'),
        filter: () => run('DepthwiseConv2dNativeBackpropFilter', { x: ddx, dy }, { strides, pad, dilations, dimRoundingMode, filterShape: filter.shape }),
      };
    },
  },
  {
    // MaxPoolGrad scatters dy to each window's argmax; its adjoint in dy gathers from there. The
    // argmax comes from MaxPoolWithArgmax, which shares the first-maximum rule of MaxPoolGrad.
    kernel: 'MaxPoolGrad',
    upstream: 'missing',
    inputsToSave: ['dy', 'input', 'output'],
    gradFunc: (ddx, [dy, input, output], attrs) => {
      const { filterSize, strides, pad } = attrs;
      return {
        dy: () => {
          const { indexes } = tf.maxPoolWithArgmax(input as tf.Tensor4D, filterSize as [number, number], strides as [number, number], pad as 'valid', true);
          return tf.gather(ddx.reshape([-1]), indexes.reshape([-1])).reshape(dy.shape);
        },
        input: () => tf.zerosLike(input),
        output: () => tf.zerosLike(output),
      };
    },
  },
  {
    // AvgPoolGrad spreads dy/(fh·fw) over each window (zero padding): its adjoint in dy is the
    // window sum divided by fh·fw, a depthwise convolution with a constant filter.
    kernel: 'AvgPoolGrad',
    upstream: 'missing',
    inputsToSave: ['dy', 'input'],
    gradFunc: (ddx, [dy, input], attrs) => {
      const { filterSize, strides, pad } = attrs;
      const [fh, fw] = typeof filterSize === 'number' ? [filterSize, filterSize] : (filterSize as [number, number]);
      return {
        dy: () => {
          const c = ddx.shape[3] as number;
          const w = tf.fill([fh, fw, c, 1], 1 / (fh * fw)) as tf.Tensor4D;
          return tf.depthwiseConv2d(ddx as tf.Tensor4D, w, strides as [number, number], pad as 'valid').reshape(dy.shape);
        },
        input: () => tf.zerosLike(input),
      };
    },
  },
];

export interface PatchState {
  installed: boolean;
  /** Why the patches are not installed (version or upstream drift), when they are not. */
  reason: string | null;
  kernels: string[];
}

let state: PatchState | null = null;

/** Differences between the upstream registry and what the patches expect to correct. */
export function upstreamDrift(): string[] {
  const drift: string[] = [];
  for (const p of PATCHES) {
    const g = tf.getGradient(p.kernel) as (tf.GradConfig & { patched?: boolean }) | undefined;
    if (g && (g as { patched?: boolean }).patched) continue;
    if (p.upstream === 'missing' && g) drift.push(`${p.kernel}: upstream now registers a gradient`);
    if (p.upstream === 'saved-output' && !(g && (g.outputsToSave ?? []).some(Boolean))) drift.push(`${p.kernel}: upstream gradient no longer uses the saved output`);
  }
  return drift;
}

/**
 * Registers the patched gradients once (idempotent). Installs nothing on another TF.js version
 * or when the upstream gradients changed; `exactHessianAvailable()` then says why.
 */
export function installGradientPatches(): PatchState {
  if (state) return state;
  const kernels = PATCHES.map((p) => p.kernel);
  if (tf.version.tfjs !== PATCHED_TFJS_VERSION) {
    state = { installed: false, reason: `gradient patches are for TF.js ${PATCHED_TFJS_VERSION}, found ${tf.version.tfjs}`, kernels };
    return state;
  }
  const drift = upstreamDrift();
  if (drift.length > 0) {
    state = { installed: false, reason: `TF.js gradients changed upstream: ${drift.join('; ')}`, kernels };
    return state;
  }
  for (const p of PATCHES) {
    tf.registerGradient({ kernelName: p.kernel, inputsToSave: p.inputsToSave, gradFunc: p.gradFunc as tf.GradConfig['gradFunc'], patched: true } as tf.GradConfig);
  }
  state = { installed: true, reason: null, kernels };
  return state;
}

/** Whether double backprop is exact on this TF.js (installing the patches if needed). */
export function exactHessianAvailable(): { available: boolean; reason: string | null } {
  const s = installGradientPatches();
  return { available: s.installed, reason: s.reason };
}
