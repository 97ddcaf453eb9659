import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../../shared/errors';
import type { Provenance } from '../../shared/provenance';
import type { Inputs } from '../../shared/specs/common';
import type { PreparedInputs } from '../inputs';
import type { StopSignal } from '../linalg/operator';
import { loadDataset, subsetSplit, type Dataset, type Split } from '../loaders/dataset';
import { BATCH_LEVEL_LOSSES, EPISODE_LOSSES, LOSS_PARAMS } from '../../shared/lossParams';
import type { EngineLossName } from '../../shared/lossNames';
import { lossOrder } from '../lossBatches';
import { checkedParams, resolveLossName } from '../losses';
import { announceModelBackend } from '../runtime';
import { seededSubset } from '../sampleSubset';
import type { Frame } from './framing';
import { TorchObjective, type TorchLoadReply } from './objective';
import { launchArgs, launchOf, parallelModeOf, type Launch } from './launch';
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

function lossSpec(spec: Pick<Inputs, 'loss' | 'lossModule' | 'lossExport' | 'fromLogits' | 'lossParams' | 'episode'>): { wire: Record<string, unknown>; info: Provenance['loss'] } {
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
  if (PAPER_LOSSES.has(r.name)) {
    // The papers' losses (python/losscape_torch/paper_losses.py), checked here first for the same one-line errors.
    const params = checkedParams(r.name, spec.lossParams ?? {});
    const episode = EPISODE_LOSSES.has(r.name) && spec.episode ? { way: spec.episode.way, shot: spec.episode.shot, query: spec.episode.query } : undefined;
    if (EPISODE_LOSSES.has(r.name) && !episode) throw new InputError('--episode', `${r.name} is an episode loss: pass --episode N,K,Q[,E]`);
    if (spec.episode && !EPISODE_LOSSES.has(r.name)) throw new InputError('--episode', `applies to the episode losses proto_triplet and icnn, not ${r.name}`);
    return {
      wire: { kind: 'paper', name: r.name, params, ...(episode ? { episode } : {}) },
      info: { name: r.name, origin: 'option', ...(Object.keys(params).length ? { params } : {}) },
    };
  }
  if (spec.episode) throw new InputError('--episode', `applies to the episode losses proto_triplet and icnn, not ${r.name}`);
  const fromLogits = spec.fromLogits ?? r.fromLogits;
  return { wire: { kind: 'builtin', name: r.name, ...(fromLogits !== undefined ? { fromLogits } : {}) }, info: { name: r.name, fromLogits, origin: 'option' } };
}

/** The papers' losses: every loss with a parameter table, and the parameterless taylor_softmax. */
const PAPER_LOSSES: ReadonlySet<EngineLossName> = new Set([...(Object.keys(LOSS_PARAMS) as EngineLossName[]), 'taylor_softmax']);

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
  /** torch.distributed: the launch and how the analysis splits work (absent: one process). */
  parallel?: { launch: Launch | null; mode: 'points' | 'data' };
}

/** Starts (or reuses) a worker and loads model, weights, data and loss into it. */
export async function loadTorchObjective(a: TorchLoadArgs): Promise<{ objective: TorchObjective; lossInfo: Provenance['loss']; order: Int32Array | null }> {
  const { spec } = a;
  const model = modelSpec(spec.model, spec.modelArgs);
  const loss = lossSpec(spec);
  // A batch-level loss sees fixed seeded batches (or episodes), as on the TF.js engine: the samples are sent in that order.
  const name = loss.wire.kind === 'paper' ? (loss.wire.name as EngineLossName) : null;
  let batching: ReturnType<typeof lossOrder> = null;
  if (name && BATCH_LEVEL_LOSSES.has(name)) {
    if (!a.split) throw new InputError('--data-module', `${name} is a batch-level loss: its fixed batches are drawn from the samples of a --data file, which a data module does not give`);
    const like = { name, batchLevel: true, ...(EPISODE_LOSSES.has(name) ? { episode: loss.wire.episode } : {}) };
    batching = lossOrder(like, a.split.y, a.split.xShape[0], spec, a.source);
    if (batching) a = { ...a, split: subsetSplit(a.split, batching.order) };
  }
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
  const launch = a.parallel?.launch ?? null;
  const worker = await acquireTorchWorker(resolvePython(spec.python), launchArgs(launch));
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
        batchSize: batching?.batchSize ?? spec.batchSize,
        ...(launch ? { parallel: { mode: a.parallel!.mode } } : {}),
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
    const lossInfo: Provenance['loss'] =
      loss.info.origin === 'module'
        ? loss.info
        : {
            ...loss.info,
            fromLogits: info.loss.fromLogits ?? loss.info.fromLogits,
            ...(name && info.loss.description ? { definition: info.loss.description } : {}),
            ...(batching?.batches ? { batches: batching.batches } : {}),
            ...(batching?.episodes ? { episodes: batching.episodes } : {}),
          };
    const objective = new TorchObjective(worker, info, out[0], a.stop, () => releaseTorchWorker(worker));
    announceModelBackend(objective.backend);
    return { objective, lossInfo, order: batching?.order ?? null };
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
  // The analysis's kind says how several ranks split the work (landscape grids deal points).
  const parallel = { launch: launchOf(spec), mode: parallelModeOf((spec as { kind?: string }).kind) };
  const { objective, lossInfo, order } = await loadTorchObjective({ spec, split, source: path.basename(spec.data), labelsAreIndices: dataset.labelsAreIndices, dataModule, stop, parallel });
  if (dataModule) dataset.train.xShape = [objective.sampleCount];
  if (order) {
    const before = indices;
    indices = before ? order.map((k) => before[k]) : order;
  }
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
