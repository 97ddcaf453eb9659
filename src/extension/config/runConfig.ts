/**
 * Run configurations: `.vscode/losscape.json`, like launch.json. Each names a model, data, a
 * loss and analysis options; commands pick one and turn it into an engine spec. Pure (no
 * `vscode`): parsing, validation and the spec are unit-tested. The JSON schema contributed to
 * VS Code (schemas/losscape.schema.json) describes the same shape; a unit test keeps them equal.
 */
import path from 'node:path';
import { z } from 'zod';
import type { AnalysisSpecInput } from '../../shared/protocol';
import { parseJsonc } from './jsonc';
import { appendConfiguration } from './jsoncInsert';

export const ANALYSES = ['landscape', 'sharpness', 'hessian', 'grokking', 'trajectory'] as const;
export type AnalysisName = (typeof ANALYSES)[number];

/** Analyses the engine runs in this version; the others have commands that say so. */
export const AVAILABLE_ANALYSES: ReadonlySet<AnalysisName> = new Set(['landscape']);

export const RunConfigurationSchema = z
  .object({
    name: z.string().min(1),
    analysis: z.enum(ANALYSES),
    /** A model.json (or, for checkpoint analyses, a folder or glob of them). */
    model: z.string().min(1),
    data: z.string().min(1),
    loss: z.string().min(1).optional(),
    /** A JS/TS module of the workspace exporting the loss; run only in a trusted workspace. */
    lossModule: z.string().min(1).optional(),
    /** Its export to use; default: `default`, the only function, or the one named like *loss*. */
    lossExport: z.string().min(1).optional(),
    fromLogits: z.boolean().optional(),
    labelColumn: z.string().optional(),
    samples: z.number().int().positive().optional(),
    batchSize: z.number().int().positive().optional(),
    seed: z.number().int().optional(),
    dims: z.union([z.literal(1), z.literal(2)]).optional(),
    points: z.number().int().min(2).max(1001).optional(),
    range: z.tuple([z.number(), z.number()]).optional(),
    norm: z.enum(['filter', 'layer', 'none']).optional(),
    bias: z.enum(['zero', 'keep']).optional(),
    to: z.string().min(1).optional(),
    accuracy: z.boolean().optional(),
    /** random (filter-normalised Gaussian) or hessian (the top two Hessian eigenvectors). */
    directions: z.enum(['random', 'hessian']).optional(),
    /** Result file; default: the results folder, named by a hash of the inputs. */
    out: z.string().min(1).optional(),
  })
  .strict();
export type RunConfiguration = z.infer<typeof RunConfigurationSchema>;

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
}

export interface SpecContext {
  /** The workspace folder the configuration belongs to (relative paths resolve against it). */
  folder: string;
  /** Result file. */
  out: string;
  /** Workspace trust: workspace modules (lossModule) are refused when false. */
  trusted: boolean;
}

export const UNTRUSTED_MODULE_REASON =
  'This workspace is not trusted, so Losscape will not run code from it (a loss function from a JS/TS module). ' +
  'Analyses with a built-in loss still work. Trust the workspace (Workspaces: Manage Workspace Trust) to use workspace modules.';

export type SpecOutcome = { ok: true; spec: AnalysisSpecInput } | { ok: false; reason: string };

/**
 * The engine spec for a configuration. `ctx.out` is the result file (the caller decides it, from
 * the configuration's `out` or the results folder). Paths are made absolute against the folder.
 */
export function toSpec(config: RunConfiguration, ctx: SpecContext, overrides: RunOverrides = {}): SpecOutcome {
  const { folder, out } = ctx;
  if (!AVAILABLE_ANALYSES.has(config.analysis)) {
    return { ok: false, reason: `The ${config.analysis} analysis is not available in this version of Losscape (configuration "${config.name}").` };
  }
  const abs = (p: string): string => resolveConfigPath(p, folder);
  const to = overrides.to ?? config.to;
  const dims = overrides.dims ?? config.dims ?? (to ? 1 : 2);
  if (to && dims !== 1) return { ok: false, reason: `"to" (a second model) makes a 1D line; configuration "${config.name}" asks for dims 2.` };
  const lensLoss = overrides.loss !== undefined || overrides.lossModule !== undefined;
  const loss = lensLoss ? overrides.loss : config.loss;
  const fromLogits = lensLoss ? overrides.fromLogits : (overrides.fromLogits ?? config.fromLogits);
  const lossModule = lensLoss ? overrides.lossModule?.path : config.lossModule && abs(config.lossModule);
  const lossExport = lensLoss ? overrides.lossModule?.export : config.lossExport;
  if (lossModule && !ctx.trusted) return { ok: false, reason: UNTRUSTED_MODULE_REASON };
  const spec: AnalysisSpecInput = {
    kind: 'landscape',
    model: abs(config.model),
    data: abs(config.data),
    out,
    dims,
    ...(loss !== undefined ? { loss } : {}),
    ...(lossModule ? { lossModule } : {}),
    ...(lossModule && lossExport ? { lossExport } : {}),
    ...(fromLogits !== undefined ? { fromLogits } : {}),
    ...(config.labelColumn !== undefined ? { labelColumn: config.labelColumn } : {}),
    ...(config.samples !== undefined ? { samples: config.samples } : {}),
    ...(config.batchSize !== undefined ? { batchSize: config.batchSize } : {}),
    ...(config.seed !== undefined ? { seed: config.seed } : {}),
    ...(config.points !== undefined ? { points: config.points } : {}),
    ...(config.range !== undefined ? { range: config.range } : {}),
    ...(config.norm !== undefined ? { norm: config.norm } : {}),
    ...(config.bias !== undefined ? { bias: config.bias } : {}),
    ...(config.accuracy !== undefined ? { accuracy: config.accuracy } : {}),
    ...(config.directions !== undefined ? { directions: config.directions } : {}),
    ...(to !== undefined ? { to: abs(to) } : {}),
  };
  return { ok: true, spec };
}
