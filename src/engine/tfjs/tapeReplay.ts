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
  return typeof e.startTape === 'function' && typeof e.endTape === 'function' && e.state && 'gradientDepth' in e.state && 'activeTape' in e.state ? (e as EngineTape) : null;
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

/** One backward walk from y with cotangent dy; the gradients of xs (zeros where none reaches). */
function backward(nodes: TapeNode[], xs: tf.Tensor[], y: tf.Tensor, dy: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => {
    const acc = new Map<number, tf.Tensor>([[y.id, dy]]);
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i];
      const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
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
    return xs.map((x) => acc.get(x.id) ?? tf.zerosLike(x));
  });
}

/**
 * Jᵀuⱼ for every cotangent uⱼ (each of f's shape) of f with respect to `xs`, f recorded once;
 * result[j][i] is the gradient for xs[i] (caller disposes). Must not be called while a gradient
 * is being taken (replayAvailable()).
 */
export function vjpsOfOneRecording(f: () => tf.Tensor, xs: tf.Variable[], cotangents: tf.Tensor[]): tf.Tensor[][] {
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
    return cotangents.map((u) => backward(nodes, xs, y!, u));
  } finally {
    // As engine.gradients does once the outermost gradient is done: free what the tape saved.
    for (const node of engine.state.activeTape ?? []) for (const t of node.saved ?? []) t.dispose();
    engine.state.activeTape = null;
    y?.dispose();
  }
}
