import * as tf from '@tensorflow/tfjs';
import type { EngineLossName } from '../../shared/lossNames';

/**
 * How a loss reads the model's outputs, decided as Keras decides it: a cross-entropy whose
 * outputs come from a softmax (a sigmoid for binary cross-entropy) is computed from the
 * pre-activation values, the logits, whatever the loss was told (keras/src/backend/tensorflow/nn.py,
 * `categorical_crossentropy`: `output._keras_logits`, with a warning when `from_logits=True`
 * disagrees); only when no logits exist are probabilities clipped at 1e-7. PyTorch's names
 * (CrossEntropyLoss, BCEWithLogitsLoss) mean logits; on a softmax-final model those are the
 * pre-softmax values too, and the result records a warning that the stated semantics and the
 * model disagree. The papers' classification losses are defined on logits, read the same way.
 */
export type OutputReading =
  /** The model's final softmax/sigmoid is switched off: the loss sees its input. */
  | 'pre-activation'
  /** The outputs are the logits (the model ends without a softmax/sigmoid). */
  | 'logits'
  /** The outputs are read as probabilities, clipped at 1e-7 (no logits exist). */
  | 'probabilities'
  /** The outputs as they are (regression and embedding losses). */
  | 'outputs';

export interface OutputSemantics {
  fromLogits: boolean;
  reading: OutputReading;
  /** Set when what the loss was told and what the model is disagree. */
  warning?: string;
}

const LOGIT_LOSSES: ReadonlySet<EngineLossName> = new Set(['comp_sum', 'gce', 'zloss', 'taylor_softmax']);

/**
 * @param stated logits (true) / probabilities (false) as the name, the flags or the training
 *   config say; undefined when nothing says.
 * @param activation the model's last activation (`lastActivation`).
 * @param given the loss as the user wrote it, for messages.
 */
export function outputSemantics(name: EngineLossName, stated: boolean | undefined, activation: string, given: string): OutputSemantics | { error: string } {
  const probabilityActivation = name === 'binary_crossentropy' ? 'sigmoid' : 'softmax';
  if (name === 'categorical_crossentropy' || name === 'binary_crossentropy') {
    if (activation === probabilityActivation) {
      const warning =
        stated === true
          ? `${given} takes logits but the model ends in a ${activation}: its pre-${activation} values are used as the logits (as Keras does), not the probabilities`
          : undefined;
      return { fromLogits: true, reading: 'pre-activation', ...(warning ? { warning } : {}) };
    }
    if (stated === false) return { fromLogits: false, reading: 'probabilities' };
    return { fromLogits: true, reading: 'logits' };
  }
  if (LOGIT_LOSSES.has(name)) {
    if (stated === false) return { error: `${name} is defined on logits; outputs cannot be read as probabilities for it` };
    if (activation === 'softmax') return { fromLogits: true, reading: 'pre-activation' };
    const warning =
      activation === 'linear' ? undefined : `${name} reads the outputs as logits, but the model's last activation is '${activation}'; they are used as they are`;
    return { fromLogits: true, reading: 'logits', ...(warning ? { warning } : {}) };
  }
  return { fromLogits: false, reading: 'outputs' };
}

type Swappable = { activation?: unknown; softmax?: unknown };

/** A genuine TF.js linear activation object (a throwaway Dense's default), so the layer stays well-formed. */
let linear: unknown = null;
function linearActivation(): unknown {
  linear ??= (tf.layers.dense({ units: 1 }) as unknown as Swappable).activation;
  return linear;
}

/**
 * Switches the model's final softmax/sigmoid off for good, so that every consumer of its
 * outputs (loss, gradients, curvature products, NTK) sees the logits. The model is the
 * engine's own copy, loaded for this analysis. Returns false when the last layer has no
 * activation that can be switched off.
 */
export function stripOutputActivation(model: tf.LayersModel): boolean {
  const last = model.layers[model.layers.length - 1] as unknown as Swappable;
  if (typeof last.softmax === 'function') {
    last.softmax = (x: tf.Tensor) => x;
    return true;
  }
  if (last.activation === undefined) return false;
  last.activation = linearActivation();
  return true;
}
