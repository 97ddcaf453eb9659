import * as vscode from 'vscode';
import type { AnalysisReport } from '../analysis/analysisRunner';
import type { ConfigurationPreset } from '../config/addConfiguration';
import { pickConfiguration } from '../config/pickConfiguration';
import type { RunConfiguration, RunOverrides } from '../config/runConfig';
import { MODEL_GLOB, workspaceFileItems } from '../config/workspaceFiles';
import type { Services } from '../services';
import { lossPreset, runConfiguration, wrongAnalysis } from './analysisCommands';
import type { AnalysisCommandOptions } from './commandArgs';

export type LandscapeMode = '2d' | '1d' | 'between';

const MODES: Record<LandscapeMode, { what: string; filter: (c: RunConfiguration) => boolean; dims: 1 | 2 }> = {
  '2d': { what: 'loss landscape 2D', filter: (c) => c.analysis === 'landscape' && !c.to, dims: 2 },
  '1d': { what: 'loss landscape 1D', filter: (c) => c.analysis === 'landscape', dims: 1 },
  between: { what: 'loss between checkpoints', filter: (c) => c.analysis === 'landscape', dims: 1 },
};

async function pickSecondModel(folder: vscode.WorkspaceFolder, first: string): Promise<string | undefined> {
  const items = (await workspaceFileItems(folder, MODEL_GLOB)).filter((i) => i.relative !== first.replace(/^\.\//, ''));
  if (items.length === 0) {
    void vscode.window.showErrorMessage('Losscape: between checkpoints needs a second model (model.json, .keras or .h5) in the workspace.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title: `Second checkpoint: the line goes from ${first} to…` }))?.relative;
}

/** Plot Loss Landscape (2D / 1D / between checkpoints). Returns what happened (tests read it). */
export async function runLandscapeCommand(s: Services, mode: LandscapeMode, opts: AnalysisCommandOptions): Promise<AnalysisReport | undefined> {
  const m = MODES[mode];
  const preset: ConfigurationPreset = {
    analysis: 'landscape',
    dims: m.dims,
    between: mode === 'between',
    ...lossPreset(opts.overrides),
  };
  const entry = await pickConfiguration({ title: m.what, filter: m.filter, preset, log: s.log }, opts.configuration);
  if (!entry) return undefined;
  const wrong = wrongAnalysis(entry, 'landscape');
  if (wrong) {
    void vscode.window.showErrorMessage(`Losscape: ${wrong}`);
    return undefined;
  }
  const overrides: RunOverrides = { ...opts.overrides, dims: m.dims };
  if (mode === 'between') {
    const configured = typeof entry.config.to === 'string' ? entry.config.to : undefined;
    const to = opts.to ?? configured ?? (await pickSecondModel(entry.folder, entry.config.model ?? ''));
    if (!to) return undefined;
    overrides.to = to;
  }
  return runConfiguration(s, entry, overrides, m.what, opts.recompute ?? false);
}
