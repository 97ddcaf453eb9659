import * as tf from '@tensorflow/tfjs';
import { InputError } from '../shared/errors';
import { builtinLoss, SUPPORTED_LOSSES, type EngineLossName } from '../shared/lossNames';
import { LossParamError, resolveLossParams } from '../shared/lossParams';
import { logSoftmax, oneHotLabels } from './losses/classLabels';
import { compSumLoss, gceLoss } from './losses/compSum';
import { csDivergenceLoss } from './losses/csDivergence';
import type { EpisodeShape } from './losses/episodes';
import { icnnLoss } from './losses/icnn';
import { multiSimilarityLoss } from './losses/multiSimilarity';
import { protoTripletLoss } from './losses/protoTriplet';
import { taylorSoftmaxLoss } from './losses/taylorSoftmax';
import { zLoss } from './losses/zLoss';

export { logSoftmax };

/**
 * Losses by name (Keras, TF.js and PyTorch spellings), written by hand rather than taken from
 * tf.losses: docs/numerics.md records that tf.losses.softmaxCrossEntropy routes through an
 * untracked intermediate, and the curvature analyses need each loss's Hessian with respect to
 * the model outputs in closed form. Reduction is Keras's default: the mean over samples of a
 * per-sample loss, itself a mean over output units where Keras takes one (MSE, MAE, Huber,
 * hinge, binary cross-entropy).
 */
export type LossName = EngineLossName;

export interface Loss {
  /** 'custom' for a user's loss function: it has no closed-form Hessian. */
  readonly name: LossName | 'custom';
  /** Whether the model's outputs are logits (true) or probabilities (false); cross-entropies only. */
  readonly fromLogits: boolean;
  /** Whether labels are class indices or one-hot (classification) or targets (regression). */
  readonly classification: boolean;
  /** Per-sample loss, shape [batch]. */
  perSample(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor1D;
  /** Per-sample correctness in {0, 1}, for classification losses. */
  correct?(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor1D;
  /**
   * What the labels are, where the loss decides it: class indices or one-hot ('classes'), or
   * group ids of embedding losses ('groups', any number of outputs). Unset: the built-ins' rules.
   */
  readonly labelKind?: 'classes' | 'groups';
  /** The loss's parameters with defaults filled in (parameterised losses). */
  readonly params?: Readonly<Record<string, number>>;
  /** The formula with its parameter values, for results' `definitions`. */
  readonly definition?: string;
  /**
   * One value per batch rather than a mean of per-sample losses: `perSample` then gives each
   * sample the batch's loss, and the objective must see fixed seeded batches.
   */
  readonly batchLevel?: boolean;
  /**
   * Episode losses: every batch is one episode of this shape, support then queries, class by
   * class (losses/episodes.ts); the objective must see fixed seeded episodes (lossBatches.ts).
   */
  readonly episode?: EpisodeShape;
  /** H_ℓ r per sample at the logits [rows, C], in closed form, for the Gauss–Newton operator. */
  outputHessian?(z: tf.Tensor2D, yTrue: tf.Tensor, r: tf.Tensor2D): tf.Tensor2D;
}

export interface ResolvedLossName {
  name: LossName;
  /** Undefined when the name leaves it open (decided from the model's last activation). */
  fromLogits?: boolean;
  /** As the user or config spelled it. */
  given: string;
}

export function resolveLossName(given: string, source = '--loss'): ResolvedLossName {
  const alias = builtinLoss(given);
  if (!alias) throw new InputError(source, `unknown loss '${given}'; supported: ${SUPPORTED_LOSSES}`);
  return { name: alias.name, fromLogits: alias.fromLogits, given };
}

/**
 * The loss recorded in a model's training config: a string, or a Keras serialised object
 * `{class_name, config: {from_logits}}`. A per-output list or dict is refused: Losscape
 * analyses single-output models.
 */
export function lossFromTrainingConfig(loss: unknown, source: string): ResolvedLossName | undefined {
  if (loss === undefined || loss === null) return undefined;
  if (typeof loss === 'string') return resolveLossName(loss, source);
  if (typeof loss === 'object' && !Array.isArray(loss)) {
    const o = loss as Record<string, unknown>;
    if (typeof o.class_name === 'string') {
      const r = resolveLossName(o.class_name, source);
      const cfg = o.config as Record<string, unknown> | undefined;
      if (cfg && typeof cfg.from_logits === 'boolean') r.fromLogits = cfg.from_logits;
      return r;
    }
  }
  throw new InputError(source, 'the training config has a per-output loss; pass --loss explicitly');
}

/** Keras's epsilon for clipping probabilities. */
const EPS = 1e-7;

function oneHotIfIndices(yTrue: tf.Tensor, classes: number): tf.Tensor {
  return yTrue.rank === 1 || (yTrue.rank === 2 && yTrue.shape[1] === 1 && classes > 1) ? oneHotLabels(yTrue, classes) : yTrue;
}

/** log σ(z) = −softplus(−z) = min(z, 0) − log(1 + e^{−|z|}), stable for large |z|. */
function logSigmoid(z: tf.Tensor): tf.Tensor {
  return tf.minimum(z, 0).sub(tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
}

function meanLast(t: tf.Tensor): tf.Tensor1D {
  return (t.rank === 1 ? t : t.reshape([t.shape[0], -1]).mean(-1)) as tf.Tensor1D;
}

/** The loss's full parameter set; a bad key or value is an InputError naming --loss-param. */
export function checkedParams(name: EngineLossName, params: Readonly<Record<string, number>>, option = '--loss-param'): Record<string, number> {
  try {
    return resolveLossParams(name, params, option);
  } catch (err) {
    if (err instanceof LossParamError) throw new InputError(err.option, err.message);
    throw err;
  }
}

/**
 * The loss of that name; `params` are the parameterised losses' (checked and completed by
 * `resolveLossParams`, src/shared/lossParams.ts). The papers' classification losses always
 * read logits.
 */
export function makeLoss(name: LossName, fromLogits: boolean, params: Record<string, number> = {}, episode?: EpisodeShape): Loss {
  switch (name) {
    case 'proto_triplet':
    case 'icnn': {
      const p = checkedParams(name, params);
      if (!episode) throw new InputError('--episode', `${name} is an episode loss: pass --episode N,K,Q[,E] (E N-way K-shot episodes with Q queries per class)`);
      return name === 'proto_triplet' ? protoTripletLoss(p, episode) : icnnLoss(p, episode);
    }
    case 'cs_divergence':
      return csDivergenceLoss(checkedParams(name, params));
    case 'comp_sum':
      return compSumLoss(checkedParams(name, params));
    case 'gce':
      return gceLoss(checkedParams(name, params));
    case 'zloss':
      return zLoss(checkedParams(name, params));
    case 'taylor_softmax':
      return taylorSoftmaxLoss(checkedParams(name, params));
    case 'multi_similarity':
      return multiSimilarityLoss(checkedParams(name, params));
    case 'categorical_crossentropy':
      return {
        name,
        fromLogits,
        classification: true,
        perSample(yTrue, yPred) {
          const y = oneHotIfIndices(yTrue, yPred.shape[yPred.rank - 1] as number);
          const logp = fromLogits
            ? logSoftmax(yPred)
            : yPred.div(yPred.sum(-1, true)).clipByValue(EPS, 1 - EPS).log();
          return y.mul(logp).sum(-1).neg() as tf.Tensor1D;
        },
        correct(yTrue, yPred) {
          const truth = yTrue.rank === 1 || yTrue.shape[1] === 1 ? tf.cast(yTrue.reshape([-1]), 'int32') : yTrue.argMax(-1);
          return tf.cast(tf.equal(yPred.argMax(-1), truth), 'float32') as tf.Tensor1D;
        },
      };
    case 'binary_crossentropy':
      return {
        name,
        fromLogits,
        classification: true,
        perSample(yTrue, yPred) {
          const y = yTrue.reshape(yPred.shape);
          if (fromLogits) {
            // −[y log σ(z) + (1−y) log σ(−z)]
            return meanLast(y.mul(logSigmoid(yPred)).add(tf.scalar(1).sub(y).mul(logSigmoid(yPred.neg()))).neg());
          }
          const p = yPred.clipByValue(EPS, 1 - EPS);
          return meanLast(y.mul(p.log()).add(tf.scalar(1).sub(y).mul(tf.scalar(1).sub(p).log())).neg());
        },
        correct(yTrue, yPred) {
          const threshold = fromLogits ? 0 : 0.5;
          const pred = tf.greater(yPred.reshape([yPred.shape[0], -1]), threshold);
          const truth = tf.greater(yTrue.reshape([yPred.shape[0], -1]), 0.5);
          return tf.cast(tf.equal(pred, truth), 'float32').min(-1) as tf.Tensor1D;
        },
      };
    case 'mse':
      return {
        name,
        fromLogits: false,
        classification: false,
        perSample: (yTrue, yPred) => meanLast(yPred.sub(yTrue.reshape(yPred.shape)).square()),
      };
    case 'mae':
      return {
        name,
        fromLogits: false,
        classification: false,
        perSample: (yTrue, yPred) => meanLast(yPred.sub(yTrue.reshape(yPred.shape)).abs()),
      };
    case 'huber':
      // δ = 1 (Keras default; PyTorch HuberLoss default; SmoothL1Loss with β = 1 coincides).
      return {
        name,
        fromLogits: false,
        classification: false,
        perSample(yTrue, yPred) {
          const a = yPred.sub(yTrue.reshape(yPred.shape)).abs();
          const quad = tf.minimum(a, 1);
          return meanLast(quad.square().mul(0.5).add(a.sub(quad)));
        },
      };
    case 'hinge':
      // Keras: labels in {0,1} are mapped to {−1,1}; mean(max(1 − y·ŷ, 0)).
      return {
        name,
        fromLogits: false,
        classification: false,
        perSample(yTrue, yPred) {
          const y0 = yTrue.reshape(yPred.shape);
          const y = tf.where(tf.equal(y0, 0), tf.onesLike(y0).neg(), y0);
          return meanLast(tf.relu(tf.scalar(1).sub(y.mul(yPred))));
        },
      };
  }
}

/**
 * A user's loss function as a Loss. It may return per-sample losses [batch] (as Keras losses
 * do), per-element losses (averaged over the trailing axes), or a scalar mean over the batch
 * (then every sample is given that mean: totals stay right, per-sample gradients do not).
 */
export function makeCustomLoss(fn: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor, source: string): Loss {
  return {
    name: 'custom',
    fromLogits: false,
    classification: false,
    perSample(yTrue, yPred) {
      let out: unknown;
      try {
        out = fn(yTrue, yPred);
      } catch (err) {
        throw new InputError(source, `the loss function threw: ${String((err as Error)?.message ?? err).split('\n')[0]}`);
      }
      if (!(out instanceof tf.Tensor)) throw new InputError(source, 'the loss function did not return a tensor');
      const batch = yPred.shape[0];
      if (out.rank === 0) return tf.mul(tf.ones([batch]), out) as tf.Tensor1D;
      if (out.shape[0] !== batch) throw new InputError(source, `the loss function returned shape [${out.shape}], expected [${batch}] (one loss per sample)`);
      return meanLast(out);
    },
  };
}
