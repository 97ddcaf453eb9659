/**
 * What is wrong with the entries of a `.vscode/losscape.json` beyond its JSON schema (which
 * VS Code's JSON service checks on its own): fields that do not fit the analysis, files that do
 * not exist, losses the engine does not know, names used twice. Each problem names the entry
 * and the field and carries the text range to underline, so that the same list feeds the
 * Problems panel (configDiagnostics.ts) and the message shown when a run is refused. Pure:
 * the file system is a function passed in.
 */
import { findNodeAtLocation, parseTree, type Node } from 'jsonc-parser/lib/esm/main.js';
import { builtinLoss, SUPPORTED_LOSSES } from '../../shared/lossNames';
import { CHECKPOINT_ANALYSES, crossFieldIssues, RunConfigurationObject, resolveConfigPath, type RunConfiguration } from './runConfig';

export interface ConfigProblem {
  /** Index of the entry in "configurations" (-1: the file itself). */
  index: number;
  /** The entry's name, when it has one. */
  name?: string;
  /** The field, e.g. "loss", or "checkpoints[1]"; undefined: the entry as a whole. */
  field?: string;
  message: string;
  severity: 'error' | 'warning';
  /** Character range in the text to underline. */
  offset: number;
  length: number;
}

type Exists = (absolutePath: string) => boolean;
type Path = (string | number)[];

interface EntryIssue {
  path: Path;
  message: string;
  severity: 'error' | 'warning';
}

const isGlob = (p: string): boolean => /[*?[\]{}]/.test(p);
const fieldName = (path: Path): string | undefined => (path.length ? path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('') : undefined);

/** The problems of one entry (raw JSON: entries that fail the schema are checked as far as they go). */
export function entryIssues(entry: unknown, folder: string, exists: Exists): EntryIssue[] {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return [{ path: [], message: 'a configuration is an object { "name", "analysis", … }', severity: 'error' }];
  const raw = entry as Record<string, unknown>;
  const issues: EntryIssue[] = [];
  const parsed = RunConfigurationObject.safeParse(raw);
  if (parsed.success) for (const i of crossFieldIssues(parsed.data)) issues.push({ path: [i.path], message: i.message, severity: 'error' });
  const file = (path: Path, value: unknown, what: string): void => {
    if (typeof value !== 'string' || value === '' || isGlob(value)) return;
    // A PyTorch reference `net.py:NAME` names a file and a symbol in it: the file must exist.
    const onDisk = value.replace(/(\.py):[A-Za-z_]\w*$/i, '$1');
    if (!exists(resolveConfigPath(onDisk, folder))) issues.push({ path, message: `${what} ${onDisk} does not exist (paths are relative to the workspace folder)`, severity: 'error' });
  };
  const series = typeof raw.analysis === 'string' && CHECKPOINT_ANALYSES.has(raw.analysis as RunConfiguration['analysis']);
  if (!series) file(['model'], raw.model, 'the model');
  if (raw.analysis === 'landscape') file(['to'], raw.to, 'the second model');
  file(['data'], raw.data, 'the data file');
  file(['lossModule'], raw.lossModule, 'the loss module');
  file(['weights'], raw.weights, 'the weights file');
  file(['dataModule'], raw.dataModule, 'the data module');
  if (series) {
    if (typeof raw.checkpoints === 'string') file(['checkpoints'], raw.checkpoints, 'the checkpoint folder');
    else if (Array.isArray(raw.checkpoints)) raw.checkpoints.forEach((c, j) => file(['checkpoints', j], c, 'the checkpoint'));
  }
  // "loss": a name, or { "name", "params" } for a parameterised loss.
  const lossObject = typeof raw.loss === 'object' && raw.loss !== null && typeof (raw.loss as { name?: unknown }).name === 'string';
  const lossName = typeof raw.loss === 'string' ? raw.loss : lossObject ? (raw.loss as { name: string }).name : undefined;
  if (lossName !== undefined && lossName !== '' && !builtinLoss(lossName)) {
    issues.push({ path: lossObject ? ['loss', 'name'] : ['loss'], message: `unknown loss ${JSON.stringify(lossName)}; supported: ${SUPPORTED_LOSSES}, or a JS/TS function through "lossModule"`, severity: 'error' });
  }
  return issues;
}

function rangeOf(root: Node | undefined, path: Path): { offset: number; length: number } | undefined {
  if (!root) return undefined;
  const node = findNodeAtLocation(root, path);
  if (!node) return undefined;
  // A property's value: underline "key": value, so the key (what the user looks for) is in it.
  const property = node.parent?.type === 'property' ? node.parent : undefined;
  return property ? { offset: property.offset, length: property.length } : { offset: node.offset, length: node.length };
}

/** Every problem of the file's entries, located in `text`. An unparsable file gives [] (the JSON service reports it). */
export function configurationProblems(text: string, folder: string, exists: Exists): ConfigProblem[] {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  const list = root && findNodeAtLocation(root, ['configurations']);
  if (!list || list.type !== 'array' || !list.children) return [];
  const problems: ConfigProblem[] = [];
  const names = new Map<string, number>();
  list.children.forEach((node, index) => {
    const entry: unknown = nodeValue(node);
    const name = typeof entry === 'object' && entry !== null && typeof (entry as { name?: unknown }).name === 'string' ? (entry as { name: string }).name : undefined;
    for (const issue of entryIssues(entry, folder, exists)) {
      const at = rangeOf(root, ['configurations', index, ...issue.path]) ?? rangeOf(root, ['configurations', index, issue.path[0] ?? 'name']) ?? { offset: node.offset, length: node.length };
      problems.push({ index, name, field: fieldName(issue.path), message: issue.message, severity: issue.severity, ...at });
    }
    if (name !== undefined) {
      if (names.has(name)) {
        const at = rangeOf(root, ['configurations', index, 'name']) ?? { offset: node.offset, length: node.length };
        problems.push({ index, name, field: 'name', message: `the name "${name}" is used by configuration ${(names.get(name) ?? 0) + 1} too; commands find configurations by name`, severity: 'warning', ...at });
      } else names.set(name, index);
    }
  });
  return problems;
}

/** Where an entry (by name) and optionally one of its fields is in `text`. */
export function locateConfiguration(text: string, name: string, field?: string): { offset: number; length: number } | undefined {
  const root = parseTree(text, [], { allowTrailingComma: true });
  const list = root && findNodeAtLocation(root, ['configurations']);
  if (!root || !list?.children) return undefined;
  const index = list.children.findIndex((n) => {
    const v = nodeValue(n);
    return typeof v === 'object' && v !== null && (v as { name?: unknown }).name === name;
  });
  if (index < 0) return undefined;
  const node = list.children[index];
  return (field && rangeOf(root, ['configurations', index, field])) || rangeOf(root, ['configurations', index, 'name']) || { offset: node.offset, length: node.length };
}

function nodeValue(node: Node): unknown {
  switch (node.type) {
    case 'object':
      return Object.fromEntries((node.children ?? []).filter((p) => p.children?.length === 2).map((p) => [String(p.children?.[0].value), nodeValue(p.children?.[1] as Node)]));
    case 'array':
      return (node.children ?? []).map(nodeValue);
    default:
      return node.value;
  }
}

/** One line for a notification: the configuration, the field, what is wrong. */
export function describeProblem(p: Pick<ConfigProblem, 'name' | 'index' | 'field' | 'message'>): string {
  const who = p.name !== undefined ? `configuration "${p.name}"` : `configuration ${p.index + 1}`;
  return `${who}: ${p.field ? `"${p.field}": ` : ''}${p.message}`;
}

/**
 * An engine input error in the words of losscape.json: the engine speaks CLI (`--loss: unknown
 * loss 'focal'`), the user wrote a configuration. Returns the field it is about, if known.
 */
const FLAG_FIELDS: Record<string, string> = {
  '--loss': 'loss',
  '--loss-module': 'lossModule',
  '--loss-export': 'lossExport',
  '--model': 'model',
  '--data': 'data',
  '--to': 'to',
  '--checkpoints': 'checkpoints',
  '--label-column': 'labelColumn',
  '--samples': 'samples',
  '--batch-size': 'batchSize',
};

export function engineErrorInConfiguration(message: string, config: Pick<RunConfiguration, 'model' | 'data' | 'to' | 'lossModule' | 'checkpoints'>, folder: string): { field?: string; message: string } {
  const flag = /^(--[a-z-]+):\s*/.exec(message);
  let field: string | undefined;
  let rest = message;
  if (flag && FLAG_FIELDS[flag[1]]) {
    field = FLAG_FIELDS[flag[1]];
    rest = message.slice(flag[0].length);
  } else {
    const files: [string, unknown][] = [['model', config.model], ['data', config.data], ['to', config.to], ['lossModule', config.lossModule], ['checkpoints', config.checkpoints]];
    for (const [name, value] of files) {
      if (typeof value !== 'string') continue;
      const abs = resolveConfigPath(value, folder);
      const base = abs.split(/[\\/]/).pop() ?? abs;
      for (const prefix of [abs, value, base]) {
        if (message.startsWith(`${prefix}:`)) {
          field = name;
          rest = `${value}:${message.slice(prefix.length + 1)}`;
          break;
        }
      }
      if (field) break;
    }
  }
  // The engine's advice names CLI flags too; say the field instead.
  rest = rest.replace(/\bpass --loss\b/g, 'set "loss"').replace(/--loss ([\w.-]+)/g, '"loss": "$1"').replace(/--([a-z]+)-([a-z])([a-z]*)/g, (m, a: string, b: string, c: string) => (FLAG_FIELDS[m] ? `"${FLAG_FIELDS[m]}"` : `--${a}-${b}${c}`)).replace(/--(loss|model|data|samples|to)\b/g, '"$1"');
  return { ...(field ? { field } : {}), message: rest };
}
