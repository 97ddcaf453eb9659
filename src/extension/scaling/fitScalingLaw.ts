/**
 * "Fit Scaling Law": fits a law to a CSV (or JSON) table of runs in the engine process (the
 * fit is plain TypeScript there; the extension host only reads the header) and shows the
 * scaling panel. The columns come from the header (runsTableColumns.ts) or, when a role is
 * missing, from a QuickPick over the header's columns; the law from a QuickPick unless given.
 * Results are cached like other analyses: same table (size, mtime) and options, same file.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { ScalingSpecInput } from '../../shared/specs/scaling';
import type { AnalysisReport } from '../analysis/analysisRunner';
import { resultsFolder } from '../analysis/prepareRequest';
import { resultKey, slug } from '../results/cacheKey';
import { inputFingerprints } from '../results/fingerprint';
import type { Services } from '../services';
import { headerCells, matchColumns, type Role, type RunsColumns } from './runsTableColumns';

/** What the command takes from a CodeLens or a test; a plain Uri comes from the editor title or the explorer. */
export interface FitScalingArgs {
  uri: string;
  columns?: RunsColumns;
  law?: 'chinchilla' | 'power' | 'kaplan';
  holdout?: 'largest';
  bootstrap?: number;
  /** Initialisations; tests use the coarse sub-grid. */
  grid?: 'paper' | 'coarse';
  recompute?: boolean;
}

const LAWS = [
  { label: 'Chinchilla (approach 3)', description: 'L = E + A/N^α + B/D^β, Huber on log L, L-BFGS from 4,500 starts', law: 'chinchilla' as const },
  { label: 'Chinchilla, hold out the largest model', description: 'and report the error of its predicted final loss', law: 'chinchilla' as const, holdout: 'largest' as const },
  { label: 'Power law in N', description: 'L = E + A·N^−α', law: 'power' as const },
  { label: 'Kaplan et al. 2020', description: 'L = [(N_c/N)^{α_N/α_D} + D_c/D]^{α_D}', law: 'kaplan' as const },
];

function readArgs(arg: unknown): FitScalingArgs | undefined {
  if (arg instanceof vscode.Uri) return { uri: arg.toString() };
  if (arg && typeof arg === 'object' && typeof (arg as FitScalingArgs).uri === 'string') return arg as FitScalingArgs;
  const doc = vscode.window.activeTextEditor?.document;
  if (doc && /\.(csv|json)$/i.test(doc.uri.fsPath)) return { uri: doc.uri.toString() };
  return undefined;
}

async function headerOf(file: string): Promise<string[]> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8');
    if (/\.json$/i.test(file)) {
      const m = /\{([^{}]*)\}/.exec(text);
      return m ? [...m[1].matchAll(/"([^"]+)"\s*:/g)].map((x) => x[1]) : [];
    }
    return headerCells(text);
  } finally {
    await fh.close();
  }
}

async function pickColumns(file: string, cells: string[]): Promise<RunsColumns | undefined> {
  const found = matchColumns(cells);
  const ask: [Role, string][] = [
    ['params', 'model size N (parameters)'],
    ['tokens', 'data size D (tokens or samples)'],
    ['loss', 'loss'],
  ];
  for (const [role, what] of ask) {
    if (found[role]) continue;
    const pick = await vscode.window.showQuickPick(cells, { title: `Fit Scaling Law: which column of ${path.basename(file)} is the ${what}?`, ignoreFocusOut: true });
    if (!pick) return undefined;
    found[role] = pick;
  }
  return found as RunsColumns;
}

export async function fitScalingLaw(s: Services, arg: unknown): Promise<AnalysisReport | undefined> {
  let args = readArgs(arg);
  if (!args) {
    const picked = await vscode.window.showOpenDialog({ title: 'Fit Scaling Law: a table of runs', filters: { 'Runs table': ['csv', 'json'] }, canSelectMany: false });
    if (!picked?.[0]) return undefined;
    args = { uri: picked[0].toString() };
  }
  const uri = vscode.Uri.parse(args.uri);
  const file = uri.fsPath;
  let cells: string[];
  try {
    cells = await headerOf(file);
  } catch (e) {
    void vscode.window.showErrorMessage(`Losscape: cannot read ${path.basename(file)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
    return undefined;
  }
  const columns = args.columns ?? (await pickColumns(file, cells));
  if (!columns) return undefined;
  let law = args.law;
  let holdout = args.holdout;
  if (!law) {
    const pick = await vscode.window.showQuickPick(LAWS, { title: `Fit Scaling Law to ${path.basename(file)}`, ignoreFocusOut: true });
    if (!pick) return undefined;
    law = pick.law;
    holdout = pick.holdout;
  }
  const spec: ScalingSpecInput = {
    kind: 'scaling',
    runs: [file],
    paramsColumn: columns.params,
    tokensColumn: columns.tokens,
    lossColumn: columns.loss,
    runColumn: columns.run,
    stepColumn: columns.step,
    computeColumn: columns.compute,
    law,
    holdout,
    bootstrap: args.bootstrap ?? 200,
    grid: args.grid ?? 'paper',
    out: '',
  };
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  const dir = folder ? resultsFolder(folder) : path.join(path.dirname(file), '.losscape');
  const key = resultKey(spec, await inputFingerprints(spec));
  const out = path.join(dir, `${slug(path.basename(file, path.extname(file)))}-scaling-${key.slice(0, 12)}.losscape.json`);
  return s.runner.run({ spec: { ...spec, out }, title: `${path.basename(file)} · Fit Scaling Law`, recompute: args.recompute });
}
