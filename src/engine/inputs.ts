import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { InputError } from '../shared/errors';
import type { Provenance } from '../shared/provenance';
import type { Inputs } from '../shared/specs/common';
import { loadDataset, subsetSplit, type Dataset, type Split } from './loaders/dataset';
import { loadModel, type LoadedModel } from './loaders/model';
import { lossFromTrainingConfig, makeCustomLoss, makeLoss, resolveLossName, type Loss, type ResolvedLossName } from './losses';
import { loadUserLoss } from './loaders/userModule';
import { Rng } from './linalg/rng';
import { Objective, type ObjectiveData } from './objective';
import { Stopwatch } from './provenance';

/**
 * Turns an analysis's inputs (model, data, loss, subset) into an Objective, checking that they
 * fit together and saying exactly what does not.
 */
export interface PreparedInputs {
  objective: Objective;
  loaded: LoadedModel;
  dataset: Dataset;
  loss: Loss;
  lossInfo: Provenance['loss'];
  /** Indices of the samples used (into the training split). */
  indices: Int32Array | null;
  dispose(): void;
}

/** The activation of the model's output, which decides logits vs probabilities. */
export function lastActivation(model: tf.LayersModel): string {
  const last = model.layers[model.layers.length - 1];
  const cls = last.getClassName();
  if (cls === 'Softmax') return 'softmax';
  const cfg = last.getConfig() as { activation?: unknown };
  return typeof cfg.activation === 'string' ? cfg.activation : 'linear';
}

export function resolveLoss(spec: Pick<Inputs, 'loss' | 'fromLogits' | 'lossModule' | 'lossExport' | 'lossFrom'>, loaded: LoadedModel): { loss: Loss; info: Provenance['loss'] } {
  const resolved = resolveLossOnly(spec, loaded);
  if (!spec.lossFrom) return resolved;
  const { source: _source, ...lens } = spec.lossFrom;
  return { loss: resolved.loss, info: { ...resolved.info, origin: 'lens', lens } };
}

function resolveLossOnly(spec: Pick<Inputs, 'loss' | 'fromLogits' | 'lossModule' | 'lossExport'>, loaded: LoadedModel): { loss: Loss; info: Provenance['loss'] } {
  if (spec.lossModule) {
    const { fn, name } = loadUserLoss(spec.lossModule, spec.lossExport);
    return { loss: makeCustomLoss(fn, spec.lossModule), info: { name: `${path.basename(spec.lossModule)}#${name}`, origin: 'module' } };
  }
  let resolved: ResolvedLossName | undefined;
  let origin: Provenance['loss']['origin'] = 'option';
  if (spec.loss) resolved = resolveLossName(spec.loss);
  else {
    resolved = lossFromTrainingConfig(loaded.trainingConfig?.loss, path.basename(loaded.path));
    origin = 'trainingConfig';
  }
  if (!resolved) {
    throw new InputError(path.basename(loaded.path), 'has no training config naming a loss; pass --loss (e.g. --loss categorical_crossentropy)');
  }
  const act = lastActivation(loaded.model);
  const probabilityActivation = resolved.name === 'binary_crossentropy' ? 'sigmoid' : 'softmax';
  const fromLogits = spec.fromLogits ?? resolved.fromLogits ?? act !== probabilityActivation;
  return { loss: makeLoss(resolved.name, fromLogits), info: { name: resolved.name, fromLogits, origin } };
}

function prod(s: number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

/** Checks and shapes a data split for a model and loss; `source` names the data file. */
export function objectiveData(model: tf.LayersModel, loss: Loss, split: Split, labelsAreIndices: boolean, source: string): ObjectiveData {
  const n = split.xShape[0];
  const inShape = (model.inputs[0].shape.slice(1) as (number | null)[]).map((s) => s ?? -1);
  const dataFeat = split.xShape.slice(1);
  let sampleShape = dataFeat;
  if (inShape.some((s) => s === -1)) {
    if (inShape.length !== dataFeat.length) {
      throw new InputError(source, `x has samples of shape [${dataFeat}] but the model expects [${inShape.map((s) => (s < 0 ? '?' : s))}]`);
    }
  } else if (inShape.join() !== dataFeat.join()) {
    // Same number of features in another layout (e.g. 28×28 images for a 784-input MLP): reshape, as Keras users expect.
    if (prod(inShape) !== prod(dataFeat)) {
      throw new InputError(source, `x has samples of shape [${dataFeat}] but the model expects [${inShape}]`);
    }
    sampleShape = inShape;
  }
  const outShape = (model.outputs[0].shape.slice(1) as (number | null)[]).map((s) => s ?? 1);
  const outUnits = prod(outShape);
  const ySample = split.yShape.slice(1);
  let ySampleShape = ySample;
  if (loss.name === 'custom') {
    // A user's loss gets the labels exactly as stored.
  } else if (loss.name === 'categorical_crossentropy' && labelsAreIndices && prod(ySample) === 1) {
    let max = -Infinity;
    let min = Infinity;
    for (const v of split.y) {
      if (v > max) max = v;
      if (v < min) min = v;
    }
    if (min < 0 || max >= outUnits) {
      throw new InputError(source, `labels range over ${min}..${max} but the model has ${outUnits} outputs`);
    }
    ySampleShape = [];
  } else if (prod(ySample) !== outUnits) {
    const hint = loss.classification && prod(ySample) === 1 && outUnits > 1 ? ' (are the labels class indices? they must be integers)' : '';
    throw new InputError(source, `y has samples of shape [${ySample}] but the model outputs [${outShape}] per sample${hint}`);
  } else {
    ySampleShape = outShape;
  }
  return { x: split.x, sampleShape, y: split.y, ySampleShape, n };
}

export async function prepareInputs(spec: Inputs): Promise<PreparedInputs> {
  const loaded = await loadModel(path.resolve(spec.model));
  try {
    const dataset = await loadDataset(path.resolve(spec.data), { labelColumn: spec.labelColumn });
    const { loss, info } = resolveLoss(spec, loaded);
    let split = dataset.train;
    let indices: Int32Array | null = null;
    const n = split.xShape[0];
    if (spec.samples !== undefined && spec.samples < n) {
      // A seeded subset, the same for every analysis with the same seed and size.
      indices = new Rng(spec.seed ^ 0x5eed).permutation(n).slice(0, spec.samples).sort();
      split = subsetSplit(split, indices);
    }
    const data = objectiveData(loaded.model, loss, split, dataset.labelsAreIndices, path.basename(spec.data));
    const objective = new Objective(loaded.model, loss, data, spec.batchSize);
    return {
      objective,
      loaded,
      dataset,
      loss,
      lossInfo: info,
      indices,
      dispose() {
        objective.dispose();
        loaded.model.dispose();
      },
    };
  } catch (err) {
    loaded.model.dispose();
    throw err;
  }
}

/** Loads an analysis's inputs, runs `compute` on them, and always frees the model and data. */
export async function withPreparedInputs<R>(spec: Inputs, compute: (p: PreparedInputs, watch: Stopwatch) => Promise<R>): Promise<R> {
  const watch = new Stopwatch();
  const prepared = await prepareInputs(spec);
  try {
    watch.lap('load');
    return await compute(prepared, watch);
  } finally {
    prepared.dispose();
  }
}
