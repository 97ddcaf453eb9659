import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../shared/errors';
import type { Provenance } from '../../shared/provenance';
import type { Inputs } from '../../shared/specs/common';
import type { PreparedInputs } from '../inputs';
import type { StopSignal } from '../linalg/operator';
import { loadDataset, subsetSplit, type Dataset, type Split } from '../loaders/dataset';
import { resolveLossName } from '../losses';
import { announceModelBackend } from '../runtime';
import { seededSubset } from '../sampleSubset';
import type { Frame } from './framing';
import { TorchObjective, type TorchLoadReply } from './objective';
import { acquireTorchWorker, releaseTorchWorker, resolvePython } from './worker';

/**
 * Turns an analysis's inputs into a TorchObjective: the Node engine's loaders read and validate
 * the data (the same files and messages as the TF.js engine) and send x/y as frames, or the
 * worker runs `--data-module data.py:NAME`; the worker builds the model, loads the weights and
 * checks that model, data and loss fit together.
 */
const PY_NAME = /^(.*\.py):([A-Za-z_][A-Za-z0-9_]*)$/;

/** Whether a model path is a PyTorch one (the engine chosen when --engine is absent). */
export function isTorchModelPath(model: string | undefined): boolean {
  return model !== undefined && (PY_NAME.test(model) || /\.(py|pt|pth)$/i.test(model));
}

/** `file.py:NAME` → absolute file and name; `option` names the flag in errors. */
export function parsePyRef(ref: string, option: string, what: string): { file: string; name: string } {
  const m = PY_NAME.exec(ref);
  if (!m) {
    if (/\.py$/i.test(ref)) throw new InputError(option, `${ref}: name the ${what} in the file, e.g. ${ref}:${what === 'model' ? 'Net' : what === 'data' ? 'make_data' : 'my_loss'}`);
    throw new InputError(option, `${ref}: expected FILE.py:NAME`);
  }
  const file = path.resolve(m[1]);
  if (!fs.existsSync(file)) throw new InputError(m[1], 'does not exist');
  return { file, name: m[2] };
}

export function modelSpec(model: string, args: Record<string, unknown> | undefined): Record<string, unknown> {
  if (/\.(pt|pth)$/i.test(model) && !PY_NAME.test(model)) {
    const file = path.resolve(model);
    if (!fs.existsSync(file)) throw new InputError(model, 'does not exist');
    return { kind: 'torchscript', file };
  }
  const { file, name } = parsePyRef(model, '--model', 'model');
  return { kind: 'module', file, name, args: args ?? {} };
}

function lossSpec(spec: Pick<Inputs, 'loss' | 'lossModule' | 'lossExport' | 'fromLogits'>): { wire: Record<string, unknown>; info: Provenance['loss'] } {
  if (spec.lossModule) {
    const ref = spec.lossExport && !PY_NAME.test(spec.lossModule) ? `${spec.lossModule}:${spec.lossExport}` : spec.lossModule;
    if (!/\.py(:|$)/i.test(ref)) throw new InputError('--loss-module', `${spec.lossModule}: the torch engine runs Python losses (loss.py:NAME); JS/TS loss modules need --engine tfjs`);
    const { file, name } = parsePyRef(ref, '--loss-module', 'loss');
    return { wire: { kind: 'module', file, name, args: {} }, info: { name: `${path.basename(file)}#${name}`, origin: 'module' } };
  }
  if (!spec.loss) {
    throw new InputError('--loss', 'a PyTorch model carries no loss; pass --loss (e.g. --loss categorical_crossentropy) or --loss-module loss.py:NAME');
  }
  const r = resolveLossName(spec.loss);
  const fromLogits = spec.fromLogits ?? r.fromLogits;
  return { wire: { kind: 'builtin', name: r.name, ...(fromLogits !== undefined ? { fromLogits } : {}) }, info: { name: r.name, fromLogits, origin: 'option' } };
}

function sha256Of(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) h.update(fs.readFileSync(f));
  return h.digest('hex');
}

/** The model's identity: its file, plus the weights file when there is one. */
export function torchModelIdentity(spec: Pick<Inputs, 'model' | 'weights'>): { path: string; sha256: string } {
  const file = path.resolve((PY_NAME.exec(spec.model)?.[1] ?? spec.model));
  const files = [file, ...(spec.weights ? [path.resolve(spec.weights)] : [])];
  for (const f of files) if (!fs.existsSync(f)) throw new InputError(path.relative(process.cwd(), f) || f, 'does not exist');
  return { path: path.resolve(spec.model), sha256: sha256Of(files) };
}

/** Data of a `--data-module`: the worker loads it; provenance hashes the module file. */
function moduleDataset(file: string): Dataset {
  const empty: Split = { x: new Float32Array(0), xShape: [0], y: new Float32Array(0), yShape: [0] };
  return { train: empty, labelsAreIndices: false, source: file, sha256: sha256Of([file]) };
}

export interface TorchLoadArgs {
  spec: Inputs | (Omit<Inputs, 'model'> & { model: string });
  /** The samples to send as frames, or null with a data module. */
  split: Split | null;
  /** Name of the data in messages. */
  source: string;
  labelsAreIndices: boolean;
  /** Data module `{file, name}` when the worker loads the data itself. */
  dataModule: { file: string; name: string } | null;
  weights?: string | null;
  /** With a data module: these of its samples (a seeded probe subset), else `spec.samples` first ones. */
  sampleIndices?: ArrayLike<number>;
  stop?: StopSignal;
}

/** Starts (or reuses) a worker and loads model, weights, data and loss into it. */
export async function loadTorchObjective(a: TorchLoadArgs): Promise<{ objective: TorchObjective; lossInfo: Provenance['loss'] }> {
  const { spec } = a;
  const model = modelSpec(spec.model, spec.modelArgs);
  const loss = lossSpec(spec);
  const weights = a.weights === undefined ? spec.weights : a.weights;
  if (weights && !fs.existsSync(path.resolve(weights))) throw new InputError(weights, 'does not exist');
  const frames: Frame[] = [];
  let data: Record<string, unknown>;
  if (a.split) {
    data = { kind: 'frames', xShape: a.split.xShape, yShape: a.split.yShape };
    frames.push(a.split.x, a.split.y);
  } else {
    data = { kind: 'module', file: a.dataModule!.file, name: a.dataModule!.name, args: {} };
  }
  const worker = await acquireTorchWorker(resolvePython(spec.python));
  try {
    const { result, frames: out } = await worker.request(
      'load',
      {
        model,
        weights: weights ? path.resolve(weights) : null,
        data,
        samples: a.split ? null : a.sampleIndices ? { indices: Array.from(a.sampleIndices) } : spec.samples !== undefined ? { count: spec.samples } : null,
        loss: loss.wire,
        dtype: spec.dtype ?? 'float32',
        device: spec.device ?? 'auto',
        trainMode: spec.trainMode ?? false,
        batchSize: spec.batchSize,
      },
      frames,
      a.stop,
    );
    const info = result as unknown as TorchLoadReply;
    if (a.split && a.labelsAreIndices && info.loss.name === 'categorical_crossentropy' && a.split.yShape.slice(1).reduce((x, y) => x * y, 1) === 1) {
      let min = Infinity;
      let max = -Infinity;
      for (const v of a.split.y) {
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (min < 0 || max >= info.outputUnits) throw new InputError(a.source, `labels range over ${min}..${max} but the model has ${info.outputUnits} outputs`);
    }
    const lossInfo: Provenance['loss'] = loss.info.origin === 'module' ? loss.info : { ...loss.info, fromLogits: info.loss.fromLogits ?? loss.info.fromLogits };
    const objective = new TorchObjective(worker, info, out[0], a.stop, () => releaseTorchWorker(worker));
    announceModelBackend(objective.backend);
    return { objective, lossInfo };
  } catch (err) {
    releaseTorchWorker(worker);
    throw err;
  }
}

export async function prepareTorchInputs(spec: Inputs, stop?: StopSignal): Promise<PreparedInputs> {
  if (spec.lossModule === undefined && spec.loss === undefined) lossSpec(spec); // the one-line "pass --loss" error before any work
  const identity = torchModelIdentity(spec);
  let dataset: Dataset;
  let split: Split | null = null;
  let indices: Int32Array | null = null;
  let dataModule: { file: string; name: string } | null = null;
  if (spec.dataModule) {
    dataModule = parsePyRef(spec.dataModule, '--data-module', 'data');
    dataset = moduleDataset(dataModule.file);
  } else {
    dataset = await loadDataset(path.resolve(spec.data), { labelColumn: spec.labelColumn });
    split = dataset.train;
    indices = seededSubset(split.xShape[0], spec);
    if (indices) split = subsetSplit(split, indices);
  }
  const { objective, lossInfo } = await loadTorchObjective({ spec, split, source: path.basename(spec.data), labelsAreIndices: dataset.labelsAreIndices, dataModule, stop });
  if (dataModule) dataset.train.xShape = [objective.sampleCount];
  return {
    objective,
    model: identity,
    dataset,
    lossInfo,
    indices,
    async paramsOf(file) {
      const { frames } = await objective.request('read_weights', { file: path.resolve(file) });
      return frames[0] instanceof Float32Array ? frames[0] : Float32Array.from(frames[0]);
    },
    dispose() {
      objective.dispose();
    },
  };
}
