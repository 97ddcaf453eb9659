import * as tf from '@tensorflow/tfjs';

/**
 * Several vector–Jacobian products of one function from ONE recording of it: f runs once on
 * TF.js's tape, then the recorded tape is walked backwards once per cotangent. TF.js's own
 * `tf.grad`/`variableGrads` (engine.gradients) re-runs f for every cotangent; for the exact
 * Hessian's block product (H vⱼ = ∂/∂θ ⟨∇L(θ), vⱼ⟩ = Jᵀ_∇L vⱼ, curvatureOperators.ts) f is the
 * forward pass with the first backward pass, half of each product's cost, the same for every
 * vⱼ of a block.
 *
 * Each backward walk is exactly the one engine.gradients makes (tfjs-core 4.22 src/engine.ts
 * `gradients` and src/tape.ts `getFilteredNodesXToY`/`backpropagateGradients`, Apache-2.0,
 * restated here because tfjs-core does not export them): same nodes, same order, same gradient
 * functions on the same saved tensors, so each result is bit-identical to a `variableGrads` of
 * ⟨f, u⟩. It uses the engine's tape state (`startTape`, `endTape`, `state.activeTape`), which
 * gradientPatches.ts pins to the same TF.js version; `replayAvailable()` says whether it is there.
 */

interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineTape {
  startTape(): void;
  endTape(): void;
  state: { gradientDepth: number; activeTape: TapeNode[] | null };
}

function engineTape(): EngineTape | null {
  const e = tf.engine() as unknown as Partial<EngineTape>;
  // (state.activeTape appears with the first gradient taken: not checked here.)
  return typeof e.startTape === 'function' && typeof e.endTape === 'function' && e.state && typeof e.state.gradientDepth === 'number' ? (e as EngineTape) : null;
}

/** Whether this TF.js exposes the tape state replaying needs (and no gradient is being taken now). */
export function replayAvailable(): boolean {
  const e = engineTape();
  return e !== null && e.state.gradientDepth === 0;
}

/** The nodes on a path from some x to y, inputs pruned to those that depend on an x (tape.ts). */
function nodesFromXsToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    for (const name in node.inputs) {
      if (fromX.has(node.inputs[name].id)) {
        for (const o of node.outputs) fromX.add(o.id);
        nodeFromX.add(node.id);
        break;
      }
    }
  }
  const toY = new Set<number>([y.id]);
  const nodeToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      for (const name in node.inputs) {
        toY.add(node.inputs[name].id);
        nodeToY.add(node.id);
      }
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodeFromX.has(node.id) || !nodeToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const name in node.inputs) if (fromX.has(node.inputs[name].id)) inputs[name] = node.inputs[name];
    out.push({ ...node, inputs, outputs: node.outputs });
  }
  return out;
}

/**
 * A gradient taken on the tape (while an outer gradient is being recorded, so that it can be
 * differentiated again), for the exact Hessian: ∇_θ of the scalar `loss()`, except at each
 * node z = MatMul(a, θᵢ) (a Dense kernel on the data: `a` does not depend on θ) the kernel's
 * part aᵀ·dz is not formed; the node's cotangent dz is returned instead, with `a`, so that
 * ⟨∇L, v⟩ can take that part as ⟨dz, a·vᵢ⟩ (= ⟨aᵀ·dz, vᵢ⟩). Differentiating ⟨aᵀ·dz, vᵢ⟩ again
 * computes exactly a·vᵢ as dz's cotangent (MatMul's gradient for its second input), so the
 * products are the same to the bit; the first backward pass saves its largest matrix product
 * (on the demo MLP, xᵀ·dz with x [512, 784], 2 of its 4 large products per batch with the
 * transpose wasm needs for it).
 */
export interface TapeGradient {
  /** The gradient of each variable, or null where only data-side kernel nodes reach it. */
  grads: (tf.Tensor | null)[];
  /** The kernel nodes left unformed: variable index, the kernel's shape in the product, its cotangent dz, the data operand a and the product's transposes. */
  leaves: { variable: number; shape: number[]; dz: tf.Tensor; a: tf.Tensor; transposeA: boolean; transposeB: boolean }[];
}

export function gradientOnTape(loss: () => tf.Scalar, xs: tf.Variable[]): TapeGradient {
  const engine = engineTape();
  if (!engine || engine.state.gradientDepth !== 1 || !engine.state.activeTape) throw new Error('gradientOnTape runs inside vjpsOfOneRecording');
  const start = engine.state.activeTape.length;
  engine.startTape();
  let y: tf.Scalar;
  try {
    y = tf.tidy(loss);
  } finally {
    engine.endTape();
  }
  const recorded = engine.state.activeTape.slice(start);
  const nodes = nodesFromXsToY(recorded, xs, y);
  const original = new Map(recorded.map((n) => [n.id, n] as const));
  const index = new Map(xs.map((x, i) => [x.id, i] as const));
  // A kernel may reach its product through a Reshape (tfjs-layers' dot): the variable behind it.
  const behind = new Map<number, number>(index);
  for (const n of recorded) if (n.kernelName === 'Reshape' && n.inputs.x && index.has(n.inputs.x.id)) behind.set(n.outputs[0].id, index.get(n.inputs.x.id)!);
  // (tf.tidy keeps every tensor in what it returns; its type does not admit the nulls.)
  const walk = (): TapeGradient => {
    const acc = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
    const leaves: TapeGradient['leaves'] = [];
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i];
      const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
      // Nothing flows back through a node none of whose outputs has a cotangent (a kernel's
      // Reshape left unformed below): its gradients would be zeros.
      if (dys.every((d) => d === null)) continue;
      const full = original.get(node.id)!;
      const t =
        node.kernelName === 'BatchMatMul' && 'b' in node.inputs && !('a' in node.inputs) && behind.has(node.inputs.b.id) && dys[0] !== null && full.inputs.a && !full.inputs.a.isDisposed
          ? transposesOf(full.inputs.a.shape, node.inputs.b.shape, node.outputs[0].shape)
          : null;
      const leaf = t ? { variable: behind.get(node.inputs.b.id)!, shape: node.inputs.b.shape, dz: dys[0]!, a: full.inputs.a, ...t } : null;
      if (leaf) {
        leaves.push(leaf);
        continue;
      }
      backpropNode(node, dys, acc);
    }
    y.dispose();
    return { grads: xs.map((x) => acc.get(x.id) ?? null), leaves };
  };
  return tf.tidy(walk as unknown as () => tf.TensorContainer) as unknown as TapeGradient;
}

/**
 * The transposes of a rank-2 product z = a·b (a tape node keeps no attributes), where the
 * shapes of a, b and z allow exactly one choice; null otherwise (the node is then
 * differentiated as any other).
 */
function transposesOf(a: readonly number[], b: readonly number[], z: readonly number[]): { transposeA: boolean; transposeB: boolean } | null {
  if (a.length !== 2 || b.length !== 2 || z.length !== 2) return null;
  const fits: { transposeA: boolean; transposeB: boolean }[] = [];
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      const [rows, inner] = transposeA ? [a[1], a[0]] : [a[0], a[1]];
      const [innerB, cols] = transposeB ? [b[1], b[0]] : [b[0], b[1]];
      if (inner === innerB && rows === z[0] && cols === z[1]) fits.push({ transposeA, transposeB });
    }
  }
  return fits.length === 1 ? fits[0] : null;
}

/** One node of a backward walk (tape.ts backpropagateGradients): its inputs' gradients added into acc. */
function backpropNode(node: TapeNode, dys: (tf.Tensor | null)[], acc: Map<number, tf.Tensor>): void {
  if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
  const grads = node.gradient(dys);
  for (const name in node.inputs) {
    if (!(name in grads)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(grads)}.`);
    const dx = tf.tidy(() => grads[name]());
    const x = node.inputs[name];
    const prev = acc.get(x.id);
    if (prev) {
      acc.set(x.id, tf.add(prev, dx));
      prev.dispose();
    } else acc.set(x.id, dx);
  }
}

/** One backward walk from y with cotangent dy; the gradients of xs (zeros where none reaches). */
function backward(nodes: TapeNode[], xs: tf.Tensor[], y: tf.Tensor, dy: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => {
    const acc = new Map<number, tf.Tensor>([[y.id, dy]]);
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i];
      const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
      backpropNode(node, dys, acc);
    }
    return xs.map((x) => acc.get(x.id) ?? tf.zerosLike(x));
  });
}

/**
 * Jᵀuⱼ for every cotangent uⱼ (each of f's shape) of f with respect to `xs`, f recorded once;
 * result[j][i] is the gradient for xs[i] (caller disposes). `cotangents` may be a function,
 * called once f has run (when they depend on what f found, see gradientOnTape). Must not be called while a gradient
 * is being taken (replayAvailable()).
 */
export function vjpsOfOneRecording(f: () => tf.Tensor, xs: tf.Variable[], cotangents: tf.Tensor[] | (() => tf.Tensor[])): tf.Tensor[][] {
  const engine = engineTape();
  if (!engine || engine.state.gradientDepth !== 0) throw new Error('tape replay is unavailable here');
  let y: tf.Tensor | null = null;
  try {
    engine.startTape();
    try {
      y = tf.tidy(f);
    } finally {
      engine.endTape();
    }
    const nodes = nodesFromXsToY(engine.state.activeTape ?? [], xs, y);
    if (nodes.length === 0) throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.');
    const us = typeof cotangents === 'function' ? cotangents() : cotangents;
    return us.map((u) => backward(nodes, xs, y!, u));
  } finally {
    // As engine.gradients does once the outermost gradient is done: free what the tape saved.
    for (const node of engine.state.activeTape ?? []) for (const t of node.saved ?? []) t.dispose();
    engine.state.activeTape = null;
    y?.dispose();
  }
}
