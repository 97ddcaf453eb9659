import * as tf from '@tensorflow/tfjs';
import { helperWanted, startGridWorker } from './gridWorkerClient';
import path from 'node:path';
import { InputError } from '../../shared/errors';
import type { Provenance } from '../../shared/provenance';
import type { Inputs } from '../../shared/specs/common';
import { loadDataset, subsetSplit, type Split } from '../loaders/dataset';
import { loadModel, type LoadedModel } from '../loaders/model';
import { lossFromTrainingConfig, makeCustomLoss, makeLoss, resolveLossName, type Loss, type ResolvedLossName } from '../losses';
import { loadUserLoss } from '../loaders/userModule';
import { lossOrder } from '../lossBatches';
import { outputSemantics, stripOutputActivation } from '../losses/outputActivation';
import type { PreparedInputs } from '../inputs';
import type { PlaneHelper } from '../planeHelper';
import { seededSubset } from '../sampleSubset';
import { TfjsObjective, type ObjectiveData } from './objective';

/**
 * Turns an analysis's inputs (model, data, loss, subset) into a TF.js objective, checking that
 * they fit together and saying exactly what does not.
 */
export interface PreparedTfjsInputs extends PreparedInputs {
  objective: TfjsObjective;
  loaded: LoadedModel;
  loss: Loss;
  /** The objective's samples as prepared (the grid worker takes them) and its batch size. */
  objectiveData: ObjectiveData;
  batchSize: number;
}

/** The activation of the model's output, which decides logits vs probabilities. */
export function lastActivation(model: tf.LayersModel): string {
  const last = model.layers[model.layers.length - 1];
  const cls = last.getClassName();
  if (cls === 'Softmax') return 'softmax';
  const cfg = last.getConfig() as { activation?: unknown };
  return typeof cfg.activation === 'string' ? cfg.activation : 'linear';
}

export function resolveLoss(
  spec: Pick<Inputs, 'loss' | 'lossParams' | 'fromLogits' | 'lossModule' | 'lossExport' | 'episode'>,
  loaded: LoadedModel,
): { loss: Loss; info: Provenance['loss'] } {
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
  const semantics = outputSemantics(resolved.name, spec.fromLogits ?? resolved.fromLogits, act, resolved.given);
  if ('error' in semantics) throw new InputError('--from-probabilities', semantics.error);
  let { fromLogits, reading } = semantics;
  // The loss reads logits from here on: every consumer of the model's outputs sees them (Keras's rule, outputActivation.ts).
  if (reading === 'pre-activation' && !stripOutputActivation(loaded.model)) {
    fromLogits = false;
    reading = 'probabilities';
  }
  const loss = makeLoss(resolved.name, fromLogits, spec.lossParams ?? {}, spec.episode);
  const info: Provenance['loss'] = {
    name: resolved.name,
    fromLogits,
    origin,
    reading,
    ...(loss.params && Object.keys(loss.params).length ? { params: { ...loss.params } } : {}),
    ...(loss.definition ? { definition: loss.definition } : {}),
    ...(semantics.warning ? { warnings: [semantics.warning] } : {}),
  };
  return { loss, info };
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
  } else if (loss.labelKind === 'groups') {
    if (prod(ySample) !== 1) throw new InputError(source, `${loss.name} needs one class label per sample, but y has samples of shape [${ySample}]`);
    ySampleShape = [];
  } else if ((loss.name === 'categorical_crossentropy' || loss.labelKind === 'classes') && labelsAreIndices && prod(ySample) === 1) {
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

export async function prepareTfjsInputs(spec: Inputs): Promise<PreparedTfjsInputs> {
  const loaded = await loadModel(path.resolve(spec.model));
  try {
    const dataset = await loadDataset(path.resolve(spec.data), { labelColumn: spec.labelColumn });
    const { loss, info } = resolveLoss(spec, loaded);
    let split = dataset.train;
    let indices = seededSubset(split.xShape[0], spec);
    if (indices) {
      // Shapes and label ranges are checked on every sample of the file, not only the subset used.
      objectiveData(loaded.model, loss, split, dataset.labelsAreIndices, path.basename(spec.data));
      split = subsetSplit(split, indices);
    }
    const batching = lossOrder(loss, split.y, split.xShape[0], spec, path.basename(spec.data));
    if (batching) {
      split = subsetSplit(split, batching.order);
      const before = indices;
      indices = before ? batching.order.map((k) => before[k]) : batching.order;
      if (batching.batches) info.batches = batching.batches;
      if (batching.episodes) info.episodes = batching.episodes;
    }
    const data = objectiveData(loaded.model, loss, split, dataset.labelsAreIndices, path.basename(spec.data));
    const batchSize = batching?.batchSize ?? spec.batchSize;
    const objective = new TfjsObjective(loaded.model, loss, data, batchSize);
    return {
      objective,
      objectiveData: data,
      batchSize,
      loaded,
      model: { path: path.resolve(spec.model), sha256: loaded.sha256 },
      dataset,
      loss,
      lossInfo: info,
      indices,
      paramsOf: (file) => secondModelParams(file, spec.model, objective),
      startPlaneHelper: (threads) => startTfjsPlaneHelper(spec, threads),
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

/**
 * The model and loss of `spec`, loaded and resolved as prepareTfjsInputs does, without the data:
 * the grid worker loads them while the main thread loads the data, then builds its objective
 * on the main thread's samples with `objectiveOn` (so the data file is not read twice).
 */
export async function loadTfjsModelAndLoss(spec: Inputs): Promise<{ objectiveOn(data: ObjectiveData, batchSize: number): TfjsObjective; dispose(): void }> {
  const loaded = await loadModel(path.resolve(spec.model));
  try {
    const { loss } = resolveLoss(spec, loaded);
    let objective: TfjsObjective | null = null;
    return {
      objectiveOn(data, batchSize) {
        objective?.dispose();
        objective = new TfjsObjective(loaded.model, loss, data, batchSize);
        return objective;
      },
      dispose() {
        objective?.dispose();
        loaded.model.dispose();
      },
    };
  } catch (err) {
    loaded.model.dispose();
    throw err;
  }
}

/** The landscape-grid worker thread for `spec`, where it helps (gridWorkerClient.ts). */
export function startTfjsPlaneHelper(spec: Inputs, threads: number | undefined): PlaneHelper | null {
  return helperWanted(threads) ? startGridWorker(spec) : null;
}

/** θ of another model file of the same architecture (the line between two models). */
async function secondModelParams(file: string, firstModel: string, obj: TfjsObjective): Promise<Float32Array> {
  const other = await loadModel(path.resolve(file));
  try {
    const weights = other.model.trainableWeights;
    const groups = obj.groups;
    const mismatch =
      weights.length !== groups.length
        ? `has ${weights.length} trainable tensors, ${path.basename(firstModel)} has ${groups.length}`
        : weights
            .map((w, i) => (w.shape.join() === groups[i].shape.join() ? null : `${w.name} has shape [${w.shape}], expected [${groups[i].shape}]`))
            .find((m) => m !== null);
    if (mismatch) throw new InputError(file, `is not the same architecture as the first model: ${mismatch}`);
    const theta = new Float32Array(obj.dim);
    for (let i = 0; i < weights.length; i++) theta.set(weights[i].read().dataSync() as Float32Array, groups[i].offset);
    return theta;
  } finally {
    other.model.dispose();
  }
}
