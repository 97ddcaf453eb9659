import * as tf from '@tensorflow/tfjs';

/**
 * Faster BatchMatMul for the wasm backend. docs/numerics.md records that its matMul with transposeA
 * runs at ~0.4 GFLOP/s and with transposeB at ~2 GFLOP/s, against ~15–28 untransposed, and
 * every backward pass of a Dense layer uses the transposed forms. Transposing the operand
 * explicitly (one cheap Transpose kernel) and multiplying untransposed is much faster.
 * Must run before `tf.setBackend('wasm')`: the engine runs kernels' setup functions then.
 */
let patched = false;

export function patchWasmBatchMatMul(): void {
  if (patched) return;
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!original || !transpose) return;
  patched = true;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return original.kernelFunc({ inputs, backend, attrs });
      const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
        const r = t.shape.length;
        const perm = Array.from({ length: r }, (_, i) => i);
        [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
        return transpose.kernelFunc({ inputs: { x: t }, backend, attrs: { perm } }) as tf.TensorInfo;
      };
      const at = transposeA ? swapLast(a) : a;
      const bt = transposeB ? swapLast(b) : b;
      const wasm = backend as { disposeData(id: object): void };
      try {
        return original.kernelFunc({ inputs: { a: at, b: bt }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
      } finally {
        if (at !== a) wasm.disposeData(at.dataId);
        if (bt !== b) wasm.disposeData(bt.dataId);
      }
    },
  });
}
