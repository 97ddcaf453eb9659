import path from 'node:path';
import * as vscode from 'vscode';
import type { FolderConfiguration } from '../config/configStore';
import { resolveConfigPath, toSpec, type RunOverrides } from '../config/runConfig';
import { resultFileName, resultKey } from '../results/cacheKey';
import { inputFingerprints } from '../results/fingerprint';
import type { AnalysisRequest } from './analysisRunner';

/**
 * "tiny 2D · loss landscape 2D", but "tiny sharpness", not "tiny sharpness · sharpness": the
 * analysis is named only when the configuration's name does not say it already.
 */
export function panelTitle(name: string, what: string): string {
  const words = (t: string): string[] => t.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w && w !== 'loss');
  const have = new Set(words(name));
  return words(what).every((w) => have.has(w)) ? name : `${name} · ${what}`;
}

export function resultsFolder(folder: vscode.WorkspaceFolder): string {
  const setting = vscode.workspace.getConfiguration('losscape', folder.uri).get<string>('resultsFolder', '.losscape');
  return resolveConfigPath(setting || '.losscape', folder.uri.fsPath);
}

/**
 * The engine request for a configuration: paths resolved, workspace trust applied, and the
 * result file named by a hash of the inputs in the results folder (unless the configuration
 * names its `out`). A string is the reason it cannot run.
 */
export async function prepareRequest(entry: FolderConfiguration, overrides: RunOverrides, what: string, recompute = false): Promise<AnalysisRequest | string> {
  const folder = entry.folder.uri.fsPath;
  const trusted = vscode.workspace.isTrusted;
  const draft = toSpec(entry.config, { folder, out: path.join(folder, 'pending.losscape.json'), trusted }, overrides);
  if (!draft.ok) return draft.reason;
  let out = entry.config.out ? resolveConfigPath(entry.config.out, folder) : undefined;
  if (!out) {
    const key = resultKey(draft.spec, await inputFingerprints(draft.spec));
    out = path.join(resultsFolder(entry.folder), resultFileName(entry.config.name, draft.spec, key));
  }
  return { spec: { ...draft.spec, out }, title: panelTitle(entry.config.name, what), recompute, configuration: entry };
}
