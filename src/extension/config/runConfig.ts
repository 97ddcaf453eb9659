/**
 * Run configurations: `.vscode/losscape.json`, like launch.json. Each names a model, data, a
 * loss and analysis options; commands pick one and turn it into an engine spec. Pure (no
 * `vscode`): parsing, validation and the spec are unit-tested. The JSON schema contributed to
 * VS Code (schemas/losscape.schema.json) describes the same shape; a unit test keeps them equal.
 */
import path from 'node:path';
import { z } from 'zod';
import type { AnalysisSpecInput } from '../../shared/protocol';
import type { LossFrom } from '../../shared/specs/common';
import { CheckpointsSchema, GrokkingSpecSchema } from '../../shared/specs/grokking';
import { HessianSpecSchema } from '../../shared/specs/hessian';
import { SaliencySpecSchema } from '../../shared/specs/saliency';
import { SharpnessSpecSchema } from '../../shared/specs/sharpness';
import { TrajectorySpecSchema } from '../../shared/specs/trajectory';
import { builtinLoss } from '../../shared/lossNames';
import { EPISODE_LOSSES } from '../../shared/lossParams';
import { parseJsonc } from './jsonc';
import { appendConfiguration } from './jsoncInsert';

export const ANALYSES = ['landscape', 'sharpness', 'hessian', 'grokking', 'trajectory', 'saliency'] as const;
export type AnalysisName = (typeof ANALYSES)[number];

/** Analyses the engine runs in this version (all of them now; kept for callers that ask). */
export const AVAILABLE_ANALYSES: ReadonlySet<AnalysisName> = new Set(ANALYSES);

/** Analyses of a checkpoint series: they take `checkpoints` (a folder, glob or list) instead of `model`. */
export const CHECKPOINT_ANALYSES: ReadonlySet<AnalysisName> = new Set(['grokking', 'trajectory']);

/** The Hessian Spectrum command's defaults where the configuration says nothing: top 5 eigenvalues and the trace. */
export const HESSIAN_DEFAULTS = { operator: 'hessian', top: 5, trace: true } as const;

/** Strips an engine option's default (the engine fills it in) and makes it optional. */
type Bare<T> = T extends z.ZodDefault<infer I> ? Bare<I> : T extends z.ZodOptional<infer I> ? Bare<I> : T;
function option<T extends z.ZodTypeAny>(engine: T): z.ZodOptional<Bare<T>> {
  let inner: z.ZodTypeAny = engine;
  for (;;) {
    if (inner instanceof z.ZodDefault) inner = inner.removeDefault();
    else if (inner instanceof z.ZodOptional) inner = inner.unwrap();
    else break;
  }
  return (inner as Bare<T>).optional() as z.ZodOptional<Bare<T>>;
}

const sharp = SharpnessSpecSchema.shape;
const hess = HessianSpecSchema.shape;
const sal = SaliencySpecSchema.shape;
const grok = GrokkingSpecSchema.shape;
const traj = TrajectorySpecSchema.shape;

/**
 * Every field a configuration may hold (flat, like launch.json). Which ones apply depends on
 * `analysis` (FIELDS below); the analysis options take the engine's own constraints.
 */
export const RunConfigurationObject = z
  .object({
    name: z.string().min(1),
    analysis: z.enum(ANALYSES),
    /** A model.json, .keras or .h5, or a PyTorch net.py:NAME / TorchScript .pt (every analysis; grokking and trajectory only for PyTorch). */
    model: z.string().min(1).optional(),
    /** tfjs or torch; omitted: torch for .py/.pt/.pth models. */
    engine: z.enum(['tfjs', 'torch']).optional(),
    /** torch: keyword arguments of the model's class or factory. */
    modelArgs: z.record(z.string(), z.unknown()).optional(),
    /** torch: a state_dict / checkpoint dict / .safetensors file. */
    weights: z.string().min(1).optional(),
    dtype: z.enum(['float32', 'float64']).optional(),
    device: z.string().min(1).optional(),
    /** torch: the Python interpreter; omitted: the Python extension's, else losscape.pythonPath, else python3. */
    python: z.string().min(1).optional(),
    trainMode: z.boolean().optional(),
    /** torch: ranks of torch.distributed on this machine (docs/distributed.md). */
    workers: z.number().int().positive().optional(),
    /** torch, clusters: machines taking part; > 1 needs "rendezvous". */
    nnodes: z.number().int().positive().optional(),
    /** torch, clusters: this machine's index (0 writes the result). */
    nodeRank: z.number().int().nonnegative().optional(),
    /** torch, clusters: HOST:PORT of rank 0's rendezvous store. */
    rendezvous: z.string().regex(/^\S+:\d{1,5}$/, 'HOST:PORT').optional(),
    /** torch, several ranks: seconds after which a dead or stuck rank ends the run. */
    distTimeout: z.number().positive().optional(),
    /** torch: data.py:NAME returning (x, y) or a Dataset (then "data" may name that file). */
    dataModule: z.string().min(1).optional(),
    /** grokking, trajectory: a folder of checkpoint folders, a glob, or a list of model.json paths. */
    checkpoints: CheckpointsSchema.optional(),
    data: z.string().min(1),
    /** A loss name, or a parameterised loss `{ name, params }` (the engine checks the parameters). */
    loss: z.union([z.string().min(1), z.object({ name: z.string().min(1), params: z.record(z.string(), z.number()).optional() }).strict()]).optional(),
    /** A JS/TS module of the workspace exporting the loss; run only in a trusted workspace. */
    lossModule: z.string().min(1).optional(),
    /** Its export to use; default: `default`, the only function, or the one named like *loss*. */
    lossExport: z.string().min(1).optional(),
    fromLogits: z.boolean().optional(),
    labelColumn: z.string().optional(),
    samples: z.number().int().positive().optional(),
    batchSize: z.number().int().positive().optional(),
    /** Episode losses (proto_triplet, icnn): `count` seeded N-way K-shot episodes with Q queries per class. */
    episode: z.object({ way: z.number().int().min(2), shot: z.number().int().positive(), query: z.number().int().positive(), count: z.number().int().positive().optional() }).strict().optional(),
    seed: z.number().int().optional(),
    // landscape (and trajectory: points, range, accuracy, to)
    dims: z.union([z.literal(1), z.literal(2)]).optional(),
    points: z.number().int().min(2).max(1001).optional(),
    range: z.tuple([z.number(), z.number()]).optional(),
    norm: z.enum(['filter', 'layer', 'none']).optional(),
    bias: z.enum(['zero', 'keep']).optional(),
    /** landscape: a second model (the line to it); trajectory (line): the step of the checkpoint at t = 1. */
    to: z.union([z.string().min(1), z.number().int().nonnegative()]).optional(),
    accuracy: z.boolean().optional(),
    /** random (filter-normalised Gaussian) or hessian (the top two Hessian eigenvectors). */
    directions: z.enum(['random', 'hessian']).optional(),
    /** landscape (2D): cores evaluating the grid, 1 or 2 (a worker thread; default 2 on wasm/cpu with a second core). */
    threads: z.number().int().min(1).max(2).optional(),
    /** landscape (hessian directions), hessian, grokking (λ_max of the Hessian): exact or finite-difference Hessian products. */
    hv: option(hess.hv),
    // sharpness
    rho: option(sharp.rho),
    ascentSteps: option(sharp.ascentSteps),
    asam: option(sharp.asam),
    asamRho: option(sharp.asamRho),
    eta: option(sharp.eta),
    keskar: option(sharp.keskar),
    epsilon: option(sharp.epsilon),
    subspace: option(sharp.subspace),
    averageSamples: option(sharp.averageSamples),
    sigma: option(sharp.sigma),
    // hessian (and saliency: top)
    operator: option(hess.operator),
    top: option(hess.top),
    bottom: option(hess.bottom),
    method: option(hess.method),
    maxIter: option(hess.maxIter),
    tol: option(hess.tol),
    trace: option(hess.trace),
    traceMethod: option(hess.traceMethod),
    probes: option(hess.probes),
    diagonal: option(hess.diagonal),
    density: option(hess.density),
    densitySteps: option(hess.densitySteps),
    densityStarts: option(hess.densityStarts),
    perLayer: option(hess.perLayer),
    fdStep: option(hess.fdStep),
    memoryLimitMb: option(hess.memoryLimitMb),
    vectors: option(hess.vectors),
    // saliency
    gradients: option(sal.gradients),
    gradientBatch: option(sal.gradientBatch),
    lambda: option(sal.lambda),
    blockSize: option(sal.blockSize),
    sparsities: option(sal.sparsities),
    // grokking
    probe: option(grok.probe),
    testSamples: option(grok.testSamples),
    lag: option(grok.lag),
    temperature: option(grok.temperature),
    trainLossBelow: option(grok.trainLossBelow),
    testLossBelow: option(grok.testLossBelow),
    trainAccuracyAbove: option(grok.trainAccuracyAbove),
    testAccuracyAbove: option(grok.testAccuracyAbove),
    /** grokking: λ_max of this curvature at every checkpoint (off when omitted). */
    sharpness: option(grok.sharpness),
    sharpnessSamples: option(grok.sharpnessSamples),
    learningRate: option(grok.learningRate),
    sweepAlpha: option(grok.sweepAlpha),
    mainAlpha: option(grok.mainAlpha),
    // trajectory
    mode: option(traj.mode),
    from: option(traj.from),
    through: option(traj.through),
    margin: option(traj.margin),
    /** Result file; default: the results folder, named by a hash of the inputs. */
    out: z.string().min(1).optional(),
  })
  .strict();

type Field = keyof z.infer<typeof RunConfigurationObject>;

/** Fields of every configuration. */
export const COMMON_FIELDS = [
  'name', 'analysis', 'data', 'loss', 'lossModule', 'lossExport', 'fromLogits', 'labelColumn', 'samples', 'batchSize', 'episode', 'seed', 'out',
  'engine', 'modelArgs', 'weights', 'dtype', 'device', 'python', 'trainMode', 'dataModule',
  'workers', 'nnodes', 'nodeRank', 'rendezvous', 'distTimeout',
] as const satisfies readonly Field[];

/** Whether a configuration runs on the torch engine (explicitly, or by its model's file type). */
export function usesTorch(config: Pick<RunConfiguration, 'engine' | 'model'>): boolean {
  return config.engine === 'torch' || (config.engine === undefined && config.model !== undefined && /\.(py|pt|pth)$|\.py:[A-Za-z_]\w*$/i.test(config.model));
}

/**
 * The fields each analysis takes besides the common ones; any other is an error naming the
 * analysis it belongs to. They are the engine spec's fields of the same names (model or
 * checkpoints included); schemas/losscape.schema.json lists the same (a unit test checks).
 */
export const FIELDS: Record<AnalysisName, readonly Field[]> = {
  landscape: ['model', 'dims', 'points', 'range', 'norm', 'bias', 'to', 'accuracy', 'directions', 'threads', 'hv'],
  sharpness: ['model', 'rho', 'ascentSteps', 'asam', 'asamRho', 'eta', 'keskar', 'epsilon', 'subspace', 'averageSamples', 'sigma'],
  hessian: [
    'model', 'operator', 'hv', 'top', 'bottom', 'method', 'maxIter', 'tol', 'trace', 'traceMethod', 'probes', 'diagonal', 'density', 'densitySteps',
    'densityStarts', 'perLayer', 'fdStep', 'memoryLimitMb', 'vectors',
  ],
  saliency: ['model', 'gradients', 'gradientBatch', 'lambda', 'blockSize', 'top', 'sparsities'],
  grokking: [
    'checkpoints', 'model', 'probe', 'testSamples', 'lag', 'temperature', 'trainLossBelow', 'testLossBelow', 'trainAccuracyAbove', 'testAccuracyAbove',
    'sharpness', 'sharpnessSamples', 'learningRate', 'sweepAlpha', 'mainAlpha', 'hv',
  ],
  trajectory: ['checkpoints', 'model', 'mode', 'from', 'to', 'through', 'points', 'margin', 'range', 'accuracy'],
};

/** The analyses a field belongs to (for the error message). */
function ownersOf(field: string): AnalysisName[] {
  return ANALYSES.filter((a) => (FIELDS[a] as readonly string[]).includes(field));
}

/** What is wrong with a configuration across fields (its analysis and the fields it holds); [] when nothing. */
export function crossFieldIssues(config: z.infer<typeof RunConfigurationObject>): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  const allowed = new Set<string>([...COMMON_FIELDS, ...FIELDS[config.analysis]]);
  const series = CHECKPOINT_ANALYSES.has(config.analysis);
  if (series && config.checkpoints === undefined) {
    issues.push({ path: 'checkpoints', message: `a ${config.analysis} configuration needs "checkpoints" (a folder of checkpoint folders, a glob, or a list of model.json paths)` });
  }
  if (!series && config.model === undefined) issues.push({ path: 'model', message: `a ${config.analysis} configuration needs "model" (a model.json, .keras or .h5)` });
  for (const [key, value] of Object.entries(config)) {
    if (key === 'model' && series && value !== undefined && !usesTorch(config)) {
      issues.push({ path: key, message: `${config.analysis} reads a checkpoint series: use "checkpoints" instead of "model" (a "model" names the PyTorch module of weight-file checkpoints, with "engine": "torch")` });
      continue;
    }
    if (value === undefined || allowed.has(key)) continue;
    if (key === 'model' && series) {
      issues.push({ path: key, message: `${config.analysis} reads a checkpoint series: use "checkpoints" instead of "model"` });
      continue;
    }
    const owners = ownersOf(key);
    issues.push({ path: key, message: `not an option of ${config.analysis} configurations${owners.length ? ` (it is one of ${owners.join(', ')})` : ''}` });
  }
  if (config.analysis === 'landscape' && typeof config.to === 'number') issues.push({ path: 'to', message: 'a landscape\'s "to" is a second model file, not a step' });
  if (config.analysis === 'trajectory' && typeof config.to === 'string') issues.push({ path: 'to', message: 'a trajectory\'s "to" is a checkpoint step (an integer)' });
  return issues;
}

export const RunConfigurationSchema = RunConfigurationObject.superRefine((config, ctx) => {
  for (const issue of crossFieldIssues(config)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [issue.path], message: issue.message });
});
export type RunConfiguration = z.infer<typeof RunConfigurationObject>;

export const CONFIG_FILE_VERSION = 1;

export interface ParsedConfigurations {
  configurations: RunConfiguration[];
  /** One line per configuration that was left out, naming the file, the entry and the field. */
  problems: string[];
}

function describeIssue(issue: z.ZodIssue): string {
  const where = issue.path.length ? issue.path.join('.') : '(entry)';
  return `${where}: ${issue.message}`;
}

/** Parses a losscape.json text; bad entries are reported and skipped, a bad file throws. */
export function parseRunConfigurations(text: string, source: string): ParsedConfigurations {
  const json = parseJsonc(text, source);
  const file = z.object({ version: z.literal(CONFIG_FILE_VERSION), configurations: z.array(z.unknown()) }).safeParse(json);
  if (!file.success) throw new Error(`${source}: ${describeIssue(file.error.issues[0])} (expected { "version": 1, "configurations": [ … ] })`);
  const configurations: RunConfiguration[] = [];
  const problems: string[] = [];
  file.data.configurations.forEach((entry, i) => {
    const parsed = RunConfigurationSchema.safeParse(entry);
    if (parsed.success) configurations.push(parsed.data);
    else {
      const name = typeof entry === 'object' && entry !== null && 'name' in entry ? ` "${String(entry.name)}"` : '';
      problems.push(`${source}: configuration ${i + 1}${name}: ${describeIssue(parsed.error.issues[0])}`);
    }
  });
  return { configurations, problems };
}

/**
 * The file's text with `config` added: appended in place when the name is new (comments and
 * layout kept), else the file rewritten with it replacing the one of the same name.
 */
export function withConfiguration(existing: RunConfiguration[], config: RunConfiguration, text?: string): string {
  if (text !== undefined && !existing.some((c) => c.name === config.name)) {
    const appended = appendConfiguration(text, JSON.stringify(config, null, 2));
    if (appended !== undefined) return appended;
  }
  const rest = existing.filter((c) => c.name !== config.name);
  return JSON.stringify({ version: CONFIG_FILE_VERSION, configurations: [...rest, config] }, null, 2) + '\n';
}

/** `${workspaceFolder}` substituted, then made absolute against the configuration's folder. */
export function resolveConfigPath(p: string, folder: string): string {
  const substituted = p.replace(/\$\{workspaceFolder\}/g, folder);
  return path.resolve(folder, substituted);
}

/** What a command changes in a configuration before running it. */
export interface RunOverrides {
  dims?: 1 | 2;
  to?: string;
  /** A built-in loss (from a CodeLens): replaces the configuration's loss and loss module. */
  loss?: string;
  fromLogits?: boolean;
  /** A workspace module's loss (from a CodeLens): absolute path and export name. */
  lossModule?: { path: string; export?: string };
  /** Which CodeLens chose `loss` / `lossModule`; recorded in the result (provenance.loss.lens). */
  lossFrom?: LossFrom;
  /** Compare Losses: run a loss comparison of these losses on the configuration's model and data instead. */
  compareLosses?: { name: string; params: Record<string, number> }[];
}

export interface SpecContext {
  /** The workspace folder the configuration belongs to (relative paths resolve against it). */
  folder: string;
  /** Result file. */
  out: string;
  /** Workspace trust: workspace modules (lossModule) and the torch engine are refused when false. */
  trusted: boolean;
  /** The Python interpreter for the torch engine (the Python extension's, else losscape.pythonPath); a configuration's "python" wins. */
  python?: string;
}

export const UNTRUSTED_TORCH_REASON =
  'This workspace is not trusted, so Losscape will not run the PyTorch engine here: it runs your Python interpreter and the workspace\'s model code. ' +
  'Trust the workspace (Workspaces: Manage Workspace Trust) to analyse PyTorch models.';

export const UNTRUSTED_MODULE_REASON =
  'This workspace is not trusted, so Losscape will not run code from it (a loss function from a JS/TS module). ' +
  'Analyses with a built-in loss still work. Trust the workspace (Workspaces: Manage Workspace Trust) to use workspace modules.';

export type SpecOutcome = { ok: true; spec: AnalysisSpecInput } | { ok: false; reason: string };

/** The analysis options of `config` for its kind, copied as they are (names equal the engine's). */
function optionsOf(config: RunConfiguration, skip: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS[config.analysis]) {
    if (skip.includes(f)) continue;
    const v = config[f];
    if (v !== undefined) out[f] = v;
  }
  return out;
}

/**
 * The engine spec for a configuration. `ctx.out` is the result file (the caller decides it, from
 * the configuration's `out` or the results folder). Paths are made absolute against the folder.
 * Overrides: `loss`/`lossModule` (a CodeLens) apply to every analysis; `dims`/`to` (the landscape
 * commands) to landscapes only.
 */
export function toSpec(config: RunConfiguration, ctx: SpecContext, overrides: RunOverrides = {}): SpecOutcome {
  const { folder, out } = ctx;
  if (!AVAILABLE_ANALYSES.has(config.analysis)) {
    return { ok: false, reason: `The ${config.analysis} analysis is not available in this version of Losscape (configuration "${config.name}").` };
  }
  const issue = crossFieldIssues(config)[0];
  if (issue) return { ok: false, reason: `configuration "${config.name}": ${issue.path}: ${issue.message}.` };
  const abs = (p: string): string => resolveConfigPath(p, folder);
  // file.py:NAME references: the file part is resolved.
  const absRef = (p: string): string => {
    const m = /^(.*\.py):([A-Za-z_]\w*)$/.exec(p);
    return m ? `${abs(m[1])}:${m[2]}` : abs(p);
  };
  const lensLoss = overrides.loss !== undefined || overrides.lossModule !== undefined;
  const configLoss = typeof config.loss === 'object' ? config.loss : config.loss === undefined ? undefined : { name: config.loss, params: undefined };
  const loss = lensLoss ? overrides.loss : configLoss?.name;
  const lossParams = lensLoss ? undefined : configLoss?.params;
  const fromLogits = lensLoss ? overrides.fromLogits : (overrides.fromLogits ?? config.fromLogits);
  const lossModule = lensLoss ? overrides.lossModule?.path : config.lossModule && abs(config.lossModule);
  const lossExport = lensLoss ? overrides.lossModule?.export : config.lossExport;
  if (lossModule && !ctx.trusted) return { ok: false, reason: UNTRUSTED_MODULE_REASON };
  if (usesTorch(config) && !ctx.trusted) return { ok: false, reason: UNTRUSTED_TORCH_REASON };
  if (lossModule && /\.py(:[A-Za-z_]\w*)?$/i.test(lossModule) && !usesTorch(config)) {
    return { ok: false, reason: `A Python loss runs on a PyTorch model (the torch engine); configuration "${config.name}" has a TF.js/Keras model. Pick or add a configuration with a PyTorch model ("model": "net.py:NAME", "weights": …).` };
  }
  const distributed = [config.workers !== undefined && config.workers > 1, config.nnodes !== undefined, config.nodeRank !== undefined, config.rendezvous !== undefined].some(Boolean);
  if (distributed && !usesTorch(config)) {
    return { ok: false, reason: `"workers", "nnodes", "nodeRank" and "rendezvous" run torch.distributed ranks of the torch engine; configuration "${config.name}" has a TF.js/Keras model.` };
  }
  const python = config.python ?? ctx.python;
  const inputs = {
    data: abs(config.data),
    ...(config.engine !== undefined ? { engine: config.engine } : {}),
    ...(config.modelArgs !== undefined ? { modelArgs: config.modelArgs } : {}),
    ...(config.weights !== undefined ? { weights: abs(config.weights) } : {}),
    ...(config.dtype !== undefined ? { dtype: config.dtype } : {}),
    ...(config.device !== undefined ? { device: config.device } : {}),
    ...(usesTorch(config) && python !== undefined ? { python } : {}),
    ...(config.trainMode !== undefined ? { trainMode: config.trainMode } : {}),
    // torch.distributed, passed as the CLI's --workers, --nnodes, --node-rank, --rendezvous, --dist-timeout are.
    ...(config.workers !== undefined ? { workers: config.workers } : {}),
    ...(config.nnodes !== undefined ? { nnodes: config.nnodes } : {}),
    ...(config.nodeRank !== undefined ? { nodeRank: config.nodeRank } : {}),
    ...(config.rendezvous !== undefined ? { rendezvous: config.rendezvous } : {}),
    ...(config.distTimeout !== undefined ? { distTimeout: config.distTimeout } : {}),
    ...(config.dataModule !== undefined ? { dataModule: absRef(config.dataModule) } : {}),
    out,
    ...(loss !== undefined ? { loss } : {}),
    ...(lossParams !== undefined ? { lossParams } : {}),
    ...(lossModule ? { lossModule } : {}),
    ...(lossModule && lossExport ? { lossExport } : {}),
    ...(fromLogits !== undefined ? { fromLogits } : {}),
    ...(lensLoss && overrides.lossFrom ? { lossFrom: overrides.lossFrom } : {}),
    ...(config.labelColumn !== undefined ? { labelColumn: config.labelColumn } : {}),
    ...(config.samples !== undefined ? { samples: config.samples } : {}),
    ...(config.batchSize !== undefined ? { batchSize: config.batchSize } : {}),
    // The episodes shape an episode loss only: a lens choosing another loss leaves them out.
    ...(config.episode !== undefined && (overrides.compareLosses || EPISODE_LOSSES.has(builtinLoss(loss ?? '')?.name ?? 'mse')) ? { episode: { count: 1, ...config.episode } } : {}),
    ...(config.seed !== undefined ? { seed: config.seed } : {}),
  };
  const model = config.model !== undefined ? abs(config.model) : '';
  if (overrides.compareLosses) {
    if (config.model === undefined) return { ok: false, reason: `Compare Losses needs a configuration with a "model"; "${config.name}" reads a checkpoint series.` };
    const { loss: _l, lossParams: _p, lossModule: _m, lossExport: _e, ...shared } = inputs as typeof inputs & { lossParams?: unknown; lossModule?: unknown; lossExport?: unknown };
    return { ok: true, spec: { kind: 'loss-comparison', model, ...shared, losses: overrides.compareLosses } };
  }
  const checkpoints = config.checkpoints === undefined ? '' : Array.isArray(config.checkpoints) ? config.checkpoints.map(abs) : abs(config.checkpoints);
  switch (config.analysis) {
    case 'landscape': {
      const toOverride = overrides.to ?? config.to;
      const to = typeof toOverride === 'string' ? toOverride : undefined;
      const dims = overrides.dims ?? config.dims ?? (to ? 1 : 2);
      if (to && dims !== 1) return { ok: false, reason: `"to" (a second model) makes a 1D line; configuration "${config.name}" asks for dims 2.` };
      const spec: AnalysisSpecInput = {
        kind: 'landscape',
        model,
        ...inputs,
        dims,
        ...optionsOf(config, ['model', 'dims', 'to']),
        ...(to !== undefined ? { to: abs(to) } : {}),
      };
      return { ok: true, spec };
    }
    case 'hessian':
      return {
        ok: true,
        spec: { kind: 'hessian', model, ...inputs, ...HESSIAN_DEFAULTS, ...optionsOf(config, ['model']) } as AnalysisSpecInput,
      };
    case 'sharpness':
    case 'saliency':
      return { ok: true, spec: { kind: config.analysis, model, ...inputs, ...optionsOf(config, ['model']) } as AnalysisSpecInput };
    case 'grokking':
    case 'trajectory':
      return { ok: true, spec: { kind: config.analysis, checkpoints, ...(model ? { model } : {}), ...inputs, ...optionsOf(config, ['checkpoints', 'model']) } as AnalysisSpecInput };
  }
}
