import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../shared/errors';
import type { Provenance } from '../../shared/provenance';
import { expandSeriesPatterns, stepFromPath, type CheckpointHeader } from '../checkpoints';
import type { OutputKind } from '../grokking/stats';
import type { StopSignal } from '../linalg/operator';
import { Rng } from '../linalg/rng';
import { loadDataset, subsetSplit, type Dataset, type Split } from '../loaders/dataset';
import { seededSubset } from '../sampleSubset';
import type { PreparedSeries, SeriesInputs } from '../trajectory/series';
import { loadTorchObjective, parsePyRef } from './inputs';
import { launchOf, parallelModeOf } from './launch';
import type { TorchObjective } from './objective';

/**
 * A checkpoint series of weight files for one PyTorch model (`--model net.py:NAME --checkpoints
 * GLOB|FOLDER`): ordered by the `step`/`global_step`/`epoch` entry of each checkpoint, else the
 * last integer in its file name. Every objective of the series (train, test, probe and sharpness
 * subsets) lives in its own worker; `load(i)` copies checkpoint i's full state (parameters and
 * buffers) into each of them.
 */
const WEIGHT_FILE = /\.(pt|pth|bin|ckpt|safetensors)$/i;

/** The weight files a checkpoint pattern names: a folder's weight files, a glob's matches, or a file. */
export function findWeightFiles(patterns: string | string[], cwd = process.cwd()): string[] {
  return expandSeriesPatterns(patterns, cwd, (abs, pattern) => {
    const files = fs.readdirSync(abs).filter((f) => WEIGHT_FILE.test(f)).sort().map((f) => path.join(abs, f));
    if (files.length === 0) throw new InputError(pattern, 'is a folder without weight files (.pt, .pth, .bin, .ckpt, .safetensors)');
    return files;
  });
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function outputKindOf(info: Provenance['loss']): OutputKind {
  if (info.name === 'categorical_crossentropy') return info.fromLogits === false ? 'softmax-probabilities' : 'softmax-logits';
  if (info.name === 'binary_crossentropy') return info.fromLogits === false ? 'sigmoid-probabilities' : 'sigmoid-logits';
  return 'none';
}

/** A data module's targets as the worker holds them, and whether they are class indices. */
async function moduleTargets(o: TorchObjective): Promise<{ split: Split; indices: boolean }> {
  const { result, frames } = await o.request('targets');
  const split: Split = { x: new Float32Array(0), xShape: [o.sampleCount], y: Float32Array.from(frames[0]), yShape: result.shape as number[] };
  return { split, indices: result.indices === true };
}

export async function prepareTorchSeries(spec: SeriesInputs, opts: { testSamples?: number; stop?: StopSignal } = {}): Promise<PreparedSeries> {
  if (!spec.model) throw new InputError('--model', 'a PyTorch checkpoint series needs the model: --model net.py:NAME (the checkpoints hold only weights)');
  const model = spec.model;
  const files = findWeightFiles(spec.checkpoints);
  if (files.length === 0) throw new InputError(String(spec.checkpoints), 'names no checkpoints');
  const objectives: TorchObjective[] = [];
  try {
    let dataset: Dataset;
    let trainSplit: Split;
    let testSplit: Split | null = null;
    let dataModule: { file: string; name: string } | null = null;
    const source = path.basename(spec.data);
    if (spec.dataModule) {
      dataModule = parsePyRef(spec.dataModule, '--data-module', 'data');
      dataset = { train: { x: new Float32Array(0), xShape: [0], y: new Float32Array(0), yShape: [0] }, labelsAreIndices: false, source: dataModule.file, sha256: sha256(dataModule.file) };
      trainSplit = dataset.train;
    } else {
      dataset = await loadDataset(path.resolve(spec.data), { labelColumn: spec.labelColumn });
      trainSplit = dataset.train;
      const idx = seededSubset(trainSplit.xShape[0], spec);
      if (idx) trainSplit = subsetSplit(trainSplit, idx);
      if (dataset.test) {
        testSplit = dataset.test;
        const nt = testSplit.xShape[0];
        if (opts.testSamples !== undefined && opts.testSamples < nt) {
          testSplit = subsetSplit(testSplit, new Rng(spec.seed ^ 0x7e57).permutation(nt).slice(0, opts.testSamples).sort());
        }
      }
    }
    const fullSpec = { ...spec, model };
    let loadedFile = files[files.length - 1];
    // The train objective (the one grids and products run on) gets the ranks; the test and probe
    // subsets are small and use one worker each (a cluster's rendezvous serves one group).
    const launch = launchOf(spec);
    const mode = parallelModeOf((spec as { kind?: string }).kind);
    const load = async (split: Split | null, src: string, sampleIndices?: ArrayLike<number>) => {
      const parallel = objectives.length === 0 ? { launch, mode } : undefined;
      const r = await loadTorchObjective({ spec: fullSpec, split, source: src, labelsAreIndices: dataset.labelsAreIndices, dataModule: split ? null : dataModule, weights: loadedFile, sampleIndices, stop: opts.stop, parallel });
      objectives.push(r.objective);
      return r;
    };
    const { objective: train, lossInfo } = await load(dataModule ? null : trainSplit, source);
    if (dataModule) {
      // The module's samples never reach this process: their labels come from the worker.
      const t = await moduleTargets(train);
      trainSplit = dataset.train = t.split;
      dataset.labelsAreIndices = t.indices;
    }
    const test = testSplit ? (await load(testSplit, `${source} (test split)`)).objective : null;

    // Order by step: the checkpoint's own entry, else its name (read_weights answers both ways).
    const stepped: CheckpointHeader[] = [];
    for (const f of files) {
      const { result } = await train.request('read_weights', { file: f });
      const nameStep = stepFromPath(f);
      const step = typeof result.step === 'number' ? result.step : null;
      if (step === null) throw new InputError(f, 'has no step: neither a step/global_step/epoch entry nor an integer in its file name');
      stepped.push({ path: f, step, stepSource: step === nameStep ? 'path' : 'file', layerClasses: [], weights: [], metadata: undefined });
    }
    stepped.sort((a, b) => a.step - b.step || a.path.localeCompare(b.path));
    for (let i = 1; i < stepped.length; i++) {
      if (stepped[i].step === stepped[i - 1].step) throw new InputError(stepped[i].path, `has step ${stepped[i].step}, like ${stepped[i - 1].path}; a series needs one checkpoint per step`);
    }
    const hashes: (string | null)[] = stepped.map(() => null);
    const classIndexLabels = dataset.labelsAreIndices && lossInfo.name === 'categorical_crossentropy';
    return {
      headers: stepped,
      dataset,
      lossInfo,
      outputKind: outputKindOf(lossInfo),
      classIndexLabels,
      train,
      trainSplit,
      test,
      hashes,
      async load(i) {
        const h = stepped[i];
        let theta: Float32Array | null = null;
        for (const o of objectives) {
          if (o.isDisposed) continue;
          const t = await o.loadCheckpoint(h.path);
          if (o === train) theta = t;
        }
        loadedFile = h.path;
        hashes[i] = sha256(h.path);
        return theta!;
      },
      async subset(size, seed) {
        // The same seeded draw for a data file and a data module (whose samples the worker holds).
        const nUsed = trainSplit.xShape[0];
        const k = Math.min(size, nUsed);
        const indices = new Rng(seed ^ 0x9e0be).permutation(nUsed).slice(0, k).sort();
        if (dataModule) {
          const { objective } = await load(null, source, indices);
          return { objective, indices, split: (await moduleTargets(objective)).split };
        }
        const split = subsetSplit(trainSplit, indices);
        const { objective } = await load(split, source);
        return { objective, indices, split };
      },
      seedKernels: () => null,
      dispose() {
        for (const o of objectives) o.dispose();
      },
    };
  } catch (err) {
    for (const o of objectives) o.dispose();
    throw err;
  }
}
