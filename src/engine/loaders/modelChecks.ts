/**
 * What every analysis assumes of a loaded model, checked once where models are loaded so that a
 * model that breaks it is refused in one line naming the file: one input and one output (the
 * objective feeds x to inputs[0] and compares outputs[0] with y), at least one trainable
 * weight, and finite weights.
 */
import type * as tf from '@tensorflow/tfjs';
import { InputError } from '../../shared/errors';
import { firstNonFinite, valueName } from './finite';

export function assertSingleInputOutput(model: tf.LayersModel, source: string): void {
  const names = (ts: tf.SymbolicTensor[]): string => ts.map((t) => t.name.split('/')[0]).join(', ');
  if (model.layers.length === 0 || model.inputs.length === 0) throw new InputError(source, 'has no layers (an empty model)');
  if (model.inputs.length !== 1) {
    throw new InputError(source, `has ${model.inputs.length} inputs (${names(model.inputs)}); Losscape analyses models with one input and one output`);
  }
  if (model.outputs.length !== 1) {
    throw new InputError(source, `has ${model.outputs.length} outputs (${names(model.outputs)}); Losscape analyses models with one input and one output`);
  }
  if (model.trainableWeights.length === 0) throw new InputError(source, 'has no trainable weights: there is no parameter space to analyse');
}

/** Refuses a model any of whose weights (trainable or not) is NaN/Inf; names the weight and index. */
export function assertFiniteWeights(model: tf.LayersModel, source: string): void {
  for (const w of model.weights) {
    const v = w.read().dataSync();
    const at = firstNonFinite(v as ArrayLike<number>);
    if (at >= 0) {
      throw new InputError(source, `weight '${w.originalName ?? w.name}' holds ${valueName(v[at] as number)} at flat index ${at}; the model's weights must be finite (diverged training?)`);
    }
  }
}

/** Both checks; the model is disposed when one fails. */
export function checkLoadedModel(model: tf.LayersModel, source: string): void {
  try {
    assertSingleInputOutput(model, source);
    assertFiniteWeights(model, source);
  } catch (e) {
    model.dispose();
    throw e;
  }
}
