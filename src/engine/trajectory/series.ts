import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { InputError } from '../../shared/errors';
import type { Provenance } from '../../shared/provenance';
import type { Inputs } from '../../shared/specs/common';
import { resolveCheckpoints, seriesHash, type CheckpointHeader } from '../checkpoints';
import { batchLevelOrder, objectiveData, resolveLoss } from '../inputs';
import { Rng } from '../linalg/rng';
import { loadDataset, subsetSplit, type Dataset, type Split } from '../loaders/dataset';
import { loadLayersModelFromFile, type LoadedModel } from '../loaders/modelJson';
import type { Loss } from '../losses';
import { Objective } from '../objective';
import { provenanceOf, type Stopwatch } from '../provenance';

/**
 * A checkpoint series made ready for analysis: one working model (loaded from the last
 * checkpoint) whose weights are replaced by each checkpoint's in turn, and objectives over the
 * train samples, the test split and an optional probe set, all bound to that model. Every
 * weight is copied (trainable or not, e.g. batch-norm statistics), so evaluations see exactly
 * the checkpoint.
 */
export interface SeriesInputs extends Omit<Inputs, 'model'> {
  checkpoints: string | string[];
}

export interface PreparedSeries {
  headers: CheckpointHeader[];
  working: LoadedModel;
  dataset: Dataset;
  loss: Loss;
  lossInfo: Provenance['loss'];
  /** The samples used (all train samples, or the seeded `samples` subset). */
  train: Objective;
  trainSplit: Split;
  test: Objective | null;
  /** sha256 of each checkpoint loaded so far (index-aligned with headers). */
  hashes: (string | null)[];
  /** Copies checkpoint i's weights into the working model; returns θ_i (trainable, flat). */
  load(i: number): Promise<Float32Array>;
  /** An objective over a seeded subset of the used train samples (the caller disposes it). */
  subset(size: number, seed: number): { objective: Objective; indices: Int32Array; split: Split };
  dispose(): void;
}

export async function prepareSeries(spec: SeriesInputs, opts: { testSamples?: number } = {}): Promise<PreparedSeries> {
  const headers = resolveCheckpoints(spec.checkpoints);
  if (headers.length === 0) throw new InputError(String(spec.checkpoints), 'names no checkpoints');
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
    const order = batchLevelOrder(loss, trainSplit.xShape[0], spec.batchSize, spec.seed);
    if (order) {
      trainSplit = subsetSplit(trainSplit, order);
      info.batches = { size: spec.batchSize, count: Math.ceil(trainSplit.xShape[0] / spec.batchSize), seed: spec.seed };
    }
    const train = new Objective(working.model, loss, objectiveData(working.model, loss, trainSplit, dataset.labelsAreIndices, source), spec.batchSize);
    objectives.push(train);
    let test: Objective | null = null;
    if (dataset.test) {
      let testSplit = dataset.test;
      const nt = testSplit.xShape[0];
      if (opts.testSamples !== undefined && opts.testSamples < nt) {
        testSplit = subsetSplit(testSplit, new Rng(spec.seed ^ 0x7e57).permutation(nt).slice(0, opts.testSamples).sort());
      }
      test = new Objective(working.model, loss, objectiveData(working.model, loss, testSplit, dataset.labelsAreIndices, `${source} (test split)`), spec.batchSize);
      objectives.push(test);
    }
    const hashes: (string | null)[] = headers.map(() => null);
    const workWeights = working.model.weights;
    const prepared: PreparedSeries = {
      headers,
      working,
      dataset,
      loss,
      lossInfo: info,
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
        return train.getParams();
      },
      subset(size, seed) {
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

/** The series' name for provenance: its pattern (one) or the folder holding all its checkpoints (a list). */
function seriesPath(checkpoints: string | string[], files: string[]): string {
  if (!Array.isArray(checkpoints) || checkpoints.length === 1) return path.resolve([checkpoints].flat()[0]);
  const parts = files.map((f) => path.dirname(f).split(path.sep));
  const common: string[] = [];
  for (let i = 0; parts.every((p) => i < p.length && p[i] === parts[0][i]); i++) common.push(parts[0][i]);
  return common.join(path.sep) || path.sep;
}

/** Provenance of a series: the model is the series (its pattern, and one hash over all checkpoints). */
export function seriesProvenance(spec: SeriesInputs, s: PreparedSeries, watch: Stopwatch, finished: boolean): Provenance {
  return provenanceOf(
    {
      model: {
        path: seriesPath(spec.checkpoints, s.headers.map((h) => h.path)),
        sha256: seriesHash(s.hashes.map((h, i) => h ?? `unloaded:${s.headers[i].path}`)),
        parameterCount: s.train.dim,
      },
      dataPath: spec.data,
      dataset: s.dataset,
      samplesUsed: s.train.sampleCount,
      loss: s.lossInfo,
      seed: spec.seed,
    },
    watch,
    finished,
  );
}
