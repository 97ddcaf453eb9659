import * as tf from '@tensorflow/tfjs';
import { InputError } from '../../shared/errors';
import { lastActivation } from './inputs';
import type { Loss } from '../losses';

/**
 * The Hessian of each built-in loss with respect to the model's output, in closed form, for
 * the generalised Gauss–Newton matrix G = (1/n) Σₙ Jₙᵀ H_ℓ,ₙ Jₙ (Schraudolph 2002; Martens
 * 2020, "New insights and perspectives on the natural gradient method" §8). The per-sample
 * losses are those of `losses.ts` (Keras reductions), so with C output units:
 *
 *   softmax cross-entropy, at the logits z:  H_ℓ = s·(diag(p) − ppᵀ), p = softmax(z), s = Σ_c y_c (1 for class labels)
 *   sigmoid binary cross-entropy, at z:       H_ℓ = diag(p(1 − p)) / C, p = σ(z)
 *   mean squared error:                       H_ℓ = 2I / C
 *   Huber (δ = 1):                            H_ℓ = diag(1[|f − y| ≤ 1]) / C (almost everywhere)
 *
 * A cross-entropy on probabilities (a model ending in softmax or sigmoid) is split at the logits,
 * the usual GGN (the loss composed with the output activation is convex in z): while products
 * are computed the last layer's activation is replaced by the identity and restored after.
 * MAE and hinge have no useful second derivative (zero almost everywhere): the Gauss–Newton
 * operator refuses them. A user's loss function gets H_ℓ by automatic differentiation (below).
 */
export interface LossCurvature {
  /** Whether H_ℓ is taken at the logits (the last activation switched off during products). */
  atLogits: boolean;
  /** Short description for results. */
  description: string;
  /**
   * H_ℓ r per sample, for z the model's outputs (logits if `atLogits`) and y the batch's labels,
   * both [rows, C] after flattening; returns [rows, C].
   */
  apply(z: tf.Tensor2D, y: tf.Tensor, r: tf.Tensor2D): tf.Tensor2D;
  /** Runs `f` with the model producing what H_ℓ expects (logits when `atLogits`), synchronously. */
  withOutputs<T>(f: () => T): T;
}

type Swappable = { activation?: unknown; softmax?: unknown };

let linear: unknown = null;

/** A genuine TF.js linear activation object (a throwaway Dense's default), so the layer stays well-formed. */
function linearActivation(): unknown {
  linear ??= (tf.layers.dense({ units: 1 }) as unknown as Swappable).activation;
  return linear;
}

/** Runs f with the model's last layer's output activation replaced by the identity. */
function withoutLastActivation(model: tf.LayersModel): <T>(f: () => T) => T {
  const last = model.layers[model.layers.length - 1] as unknown as Swappable;
  return <T>(f: () => T): T => {
    if (last.softmax !== undefined && typeof last.softmax === 'function') {
      const saved = last.softmax;
      last.softmax = (x: tf.Tensor) => x;
      try {
        return f();
      } finally {
        last.softmax = saved;
      }
    }
    const saved = last.activation;
    last.activation = linearActivation();
    try {
      return f();
    } finally {
      last.activation = saved;
    }
  };
}

function labelsLike(y: tf.Tensor, z: tf.Tensor2D): tf.Tensor2D {
  const C = z.shape[1];
  if (y.size === z.shape[0] && C > 1) return tf.oneHot(tf.cast(y.reshape([-1]), 'int32'), C).toFloat() as tf.Tensor2D;
  return y.reshape(z.shape) as tf.Tensor2D;
}

function refuse(what: string): never {
  throw new InputError('--operator', `the Gauss–Newton operator needs a twice-differentiable loss with a closed-form Hessian; ${what}. Use --operator hessian or fisher`);
}

/**
 * H_ℓ r for a loss without a closed form (a user's loss function), by automatic differentiation
 * in the outputs: H_ℓ r = ∇_z ⟨∇_z Σ ℓ(z), r⟩ over the batch (block diagonal for a per-sample
 * loss; a loss returning the batch mean gives n·mean, whose z-Hessian is the GGN's too), with the
 * engine's second-order gradient patches (docs/numerics.md). Ops whose gradients are wrong under
 * double backward (customGrad ones such as tf.logSoftmax) would give a wrong H_ℓ silently, so the
 * first product is checked against a central difference of ∇_z along r (float32; relative 2e-2)
 * and a disagreement refuses the operator in one line.
 */
function autodiffCurvature(loss: Loss): LossCurvature {
  let checked = false;
  const gradAt = (y: tf.Tensor) => tf.grad((z: tf.Tensor) => loss.perSample(y, z).sum());
  return {
    atLogits: false,
    description: 'a loss function from a module: H_ℓ by automatic differentiation in the outputs (checked against finite differences on the first batch)',
    withOutputs: <T>(f: () => T): T => f(),
    apply(z, y, r) {
      let hr: tf.Tensor2D;
      try {
        hr = tf.grad((u: tf.Tensor) => gradAt(y)(u).mul(r).sum())(z) as tf.Tensor2D;
      } catch (err) {
        if (err instanceof InputError) throw err;
        const why = String((err as Error)?.message ?? err).split('\n')[0];
        return refuse(`the loss function has no second derivative by automatic differentiation in TF.js (${why}): an op it uses loses its second-order gradient (e.g. tf.logSoftmax, tf.losses.*); write it from primitives`);
      }
      if (!checked) {
        const h = (1e-2 * Math.max(1, tf.max(z.abs()).dataSync()[0])) / Math.max(1e-12, tf.max(r.abs()).dataSync()[0]);
        const fd = gradAt(y)(z.add(r.mul(h))).sub(gradAt(y)(z.sub(r.mul(h)))).div(2 * h);
        const scale = Math.max(tf.norm(fd).dataSync()[0], tf.norm(hr).dataSync()[0]);
        const err = tf.norm(hr.sub(fd)).dataSync()[0];
        if (scale > 0 && err > 2e-2 * scale) {
          refuse(`the loss function's second derivatives by automatic differentiation disagree with finite differences (relative ${(err / scale).toPrecision(2)}): an op it uses has no exact second-order gradient in TF.js (e.g. tf.logSoftmax, tf.losses.*); write it from primitives`);
        }
        checked = true;
      }
      return hr;
    },
  };
}

/** The loss's curvature for `model`, or an InputError saying why there is none. */
export function lossCurvature(loss: Loss, model: tf.LayersModel): LossCurvature {
  const act = lastActivation(model);
  const last = model.layers[model.layers.length - 1] as unknown as Swappable;
  const swappable = typeof last.softmax === 'function' || last.activation !== undefined;
  const same = <T>(f: () => T): T => f();
  switch (loss.name) {
    case 'categorical_crossentropy': {
      if (!loss.fromLogits && (act !== 'softmax' || !swappable)) {
        refuse(`the loss reads the outputs as probabilities but the model does not end in a softmax (last activation '${act}'), so there are no logits to take it at`);
      }
      return {
        atLogits: true,
        description: 'softmax cross-entropy at the logits: H_ℓ = s·(diag(p) − ppᵀ)',
        withOutputs: loss.fromLogits ? same : withoutLastActivation(model),
        apply(z, y, r) {
          const p = tf.softmax(z);
          const hr = p.mul(r.sub(p.mul(r).sum(-1, true)));
          if (y.size === z.shape[0]) return hr as tf.Tensor2D;
          return hr.mul(labelsLike(y, z).sum(-1, true)) as tf.Tensor2D;
        },
      };
    }
    case 'binary_crossentropy': {
      if (!loss.fromLogits && (act !== 'sigmoid' || !swappable)) {
        refuse(`the loss reads the outputs as probabilities but the model does not end in a sigmoid (last activation '${act}')`);
      }
      return {
        atLogits: true,
        description: 'sigmoid binary cross-entropy at the logits: H_ℓ = diag(p(1 − p))/C',
        withOutputs: loss.fromLogits ? same : withoutLastActivation(model),
        apply(z, _y, r) {
          const p = tf.sigmoid(z);
          return p.mul(tf.scalar(1).sub(p)).mul(r).div(z.shape[1]) as tf.Tensor2D;
        },
      };
    }
    case 'mse':
      return { atLogits: false, description: 'mean squared error: H_ℓ = 2I/C', withOutputs: same, apply: (z, _y, r) => r.mul(2 / z.shape[1]) as tf.Tensor2D };
    case 'huber':
      return {
        atLogits: false,
        description: 'Huber (δ = 1): H_ℓ = diag(1[|f − y| ≤ 1])/C',
        withOutputs: same,
        apply(z, y, r) {
          const inside = tf.lessEqual(z.sub(labelsLike(y, z)).abs(), 1).toFloat();
          return inside.mul(r).div(z.shape[1]) as tf.Tensor2D;
        },
      };
    case 'mae':
      return refuse('mae has none (its second derivative is zero almost everywhere)');
    case 'hinge':
      return refuse('hinge has none (its second derivative is zero almost everywhere)');
    case 'custom':
      return autodiffCurvature(loss);
    case 'comp_sum':
    case 'gce':
    case 'zloss':
    case 'taylor_softmax': {
      const hessian = loss.outputHessian;
      if (!hessian) return refuse(`${loss.name} has no closed form here`);
      // The papers' losses read logits (the final softmax is switched off when the objective is built).
      return { atLogits: true, description: `${loss.name} at the logits, H_ℓ in closed form (see the loss's definition)`, withOutputs: same, apply: (z, y, r) => hessian(z, y, r) };
    }
    case 'multi_similarity':
    case 'cs_divergence':
    case 'proto_triplet':
    case 'icnn':
      throw new InputError('--operator', `${loss.name} is a batch-level loss: its Hessian with respect to the outputs couples the samples of ${loss.episode ? 'an episode' : 'a batch'}, so there is no per-sample loss Hessian for the Gauss–Newton matrix. Use --operator hessian`);
  }
}
