import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { InputError } from '../../shared/errors';
import type { CheckpointHeader } from '../checkpoints';
import type { OutputKind } from '../grokking/stats';
import { seedKernels } from '../grokking/seedModel';
import { Rng } from '../linalg/rng';
import { loadDataset, subsetSplit, type Split } from '../loaders/dataset';
import { loadLayersModelFromFile, type LoadedModel } from '../loaders/modelJson';
import type { Loss } from '../losses';
import type { PreparedSeries, SeriesInputs } from '../trajectory/series';
import { lossOrder } from '../lossBatches';
import { objectiveData, resolveLoss } from './inputs';
import { TfjsObjective as Objective } from './objective';

/**
 * A checkpoint series of TF.js models made ready for analysis: one working model (loaded from
 * the last checkpoint) whose weights are replaced by each checkpoint's in turn, and objectives
 * over the train samples, the test split and an optional probe set, all bound to that model.
 * Every weight is copied (trainable or not, e.g. batch-norm statistics), so evaluations see
 * exactly the checkpoint.
 */
export interface PreparedTfjsSeries extends PreparedSeries {
  working: LoadedModel;
  loss: Loss;
  train: Objective;
  test: Objective | null;
  subset(size: number, seed: number): Promise<{ objective: Objective; indices: Int32Array; split: Split }>;
}

/** How the model's outputs turn into class probabilities, for the trajectory KL. */
export function outputKindOf(loss: Loss): OutputKind {
  if (loss.name === 'categorical_crossentropy') return loss.fromLogits ? 'softmax-logits' : 'softmax-probabilities';
  if (loss.name === 'binary_crossentropy') return loss.fromLogits ? 'sigmoid-logits' : 'sigmoid-probabilities';
  return 'none';
}

export async function prepareTfjsSeries(spec: SeriesInputs, headers: CheckpointHeader[], opts: { testSamples?: number } = {}): Promise<PreparedTfjsSeries> {
  const working = await loadLayersModelFromFile(headers[headers.length - 1].path);
  const objectives: Objective[] = [];
  try {
    const dataset = await loadDataset(path.resolve(spec.data), { labelColumn: spec.labelColumn });
    const { loss, info } = resolveLoss(spec, working);
    const source = path.basename(spec.data);
    let trainSplit = dataset.train;
    const n = trainSplit.xShape[0];
    if (spec.samples !== undefined && spec.samples < n) {
      // The same seeded subset as every other analysis with this seed and size (inputs.ts).
      trainSplit = subsetSplit(trainSplit, new Rng(spec.seed ^ 0x5eed).permutation(n).slice(0, spec.samples).sort());
    }
    const batching = lossOrder(loss, trainSplit.y, trainSplit.xShape[0], spec, source);
    if (batching) {
      trainSplit = subsetSplit(trainSplit, batching.order);
      if (batching.batches) info.batches = batching.batches;
      if (batching.episodes) info.episodes = batching.episodes;
    }
    const train = new Objective(working.model, loss, objectiveData(working.model, loss, trainSplit, dataset.labelsAreIndices, source), batching?.batchSize ?? spec.batchSize);
    objectives.push(train);
    let test: Objective | null = null;
    if (dataset.test) {
      let testSplit = dataset.test;
      const nt = testSplit.xShape[0];
      if (opts.testSamples !== undefined && opts.testSamples < nt) {
        testSplit = subsetSplit(testSplit, new Rng(spec.seed ^ 0x7e57).permutation(nt).slice(0, opts.testSamples).sort());
      }
      // An episode loss sees episodes of the test split too, drawn with their own seed.
      const testEpisodes = loss.episode ? lossOrder(loss, testSplit.y, testSplit.xShape[0], { ...spec, seed: spec.seed + 1 }, `${source} (test split)`) : null;
      if (testEpisodes) testSplit = subsetSplit(testSplit, testEpisodes.order);
      test = new Objective(working.model, loss, objectiveData(working.model, loss, testSplit, dataset.labelsAreIndices, `${source} (test split)`), testEpisodes?.batchSize ?? spec.batchSize);
      objectives.push(test);
    }
    const hashes: (string | null)[] = headers.map(() => null);
    const workWeights = working.model.weights;
    const prepared: PreparedTfjsSeries = {
      headers,
      working,
      dataset,
      loss,
      lossInfo: info,
      outputKind: outputKindOf(loss),
      classIndexLabels: dataset.labelsAreIndices && loss.name === 'categorical_crossentropy',
      train,
      trainSplit,
      test,
      hashes,
      async load(i) {
        const h = headers[i];
        const ck = await loadLayersModelFromFile(h.path);
        try {
          const w = ck.model.weights;
          if (w.length !== workWeights.length) {
            throw new InputError(h.path, `is not the same architecture as the series: ${w.length} weight tensors vs ${workWeights.length}`);
          }
          w.forEach((v, k) => {
            if (v.shape.join() !== workWeights[k].shape.join()) {
              throw new InputError(h.path, `is not the same architecture as the series: ${v.originalName ?? v.name} has shape [${v.shape}], expected [${workWeights[k].shape}]`);
            }
          });
          tf.tidy(() => working.model.setWeights(ck.model.getWeights()));
          hashes[i] = ck.sha256;
        } finally {
          ck.model.dispose();
        }
        return train.paramsSync();
      },
      seedKernels(centred) {
        return seedKernels(working.model, centred);
      },
      async subset(size, seed) {
        const nUsed = trainSplit.xShape[0];
        const k = Math.min(size, nUsed);
        const indices = new Rng(seed ^ 0x9e0be).permutation(nUsed).slice(0, k).sort();
        const split = subsetSplit(trainSplit, indices);
        const objective = new Objective(working.model, loss, objectiveData(working.model, loss, split, dataset.labelsAreIndices, source), spec.batchSize);
        return { objective, indices, split };
      },
      dispose() {
        for (const o of objectives) o.dispose();
        working.model.dispose();
      },
    };
    return prepared;
  } catch (err) {
    for (const o of objectives) o.dispose();
    working.model.dispose();
    throw err;
  }
}
