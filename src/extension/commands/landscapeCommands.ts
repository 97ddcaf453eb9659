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

/**
 * A configuration's own "dims" (or its "to", a line) decides what runs, as launch.json does; the
 * command's dims is only the default for configurations that say nothing. The palette lists
 * the configurations that fit the command; one given by name (a CodeLens, a test) runs as it is.
 */
const MODES: Record<LandscapeMode, { filter: (c: RunConfiguration) => boolean; dims: 1 | 2 }> = {
  '2d': { filter: (c) => c.analysis === 'landscape' && !c.to && c.dims !== 1, dims: 2 },
  '1d': { filter: (c) => c.analysis === 'landscape' && c.dims !== 2, dims: 1 },
  between: { filter: (c) => c.analysis === 'landscape' && c.dims !== 2, dims: 1 },
};

/** What a landscape of these dims is called (panel and notification titles). */
export function landscapeWhat(dims: 1 | 2, between: boolean): string {
  return between ? 'loss between checkpoints' : `loss landscape ${dims}D`;
}

/** The dims a configuration runs at under a command whose default is `commandDims`. */
export function effectiveDims(config: RunConfiguration, commandDims: 1 | 2, to: string | undefined): 1 | 2 {
  if (to !== undefined) return 1;
  return config.dims ?? commandDims;
}

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
  const title = mode === 'between' ? landscapeWhat(1, true) : landscapeWhat(m.dims, false);
  const preset: ConfigurationPreset = {
    analysis: 'landscape',
    dims: m.dims,
    between: mode === 'between',
    ...lossPreset(opts.overrides),
  };
  const filter = opts.anyLandscape ? (c: RunConfiguration): boolean => c.analysis === 'landscape' : m.filter;
  const entry = await pickConfiguration({ title, filter, preset, log: s.log }, opts.configuration);
  if (!entry) return undefined;
  const wrong = wrongAnalysis(entry, 'landscape');
  if (wrong) {
    void vscode.window.showErrorMessage(`Losscape: ${wrong}`);
    return undefined;
  }
  const overrides: RunOverrides = { ...opts.overrides };
  const configured = typeof entry.config.to === 'string' ? entry.config.to : undefined;
  if (mode === 'between') {
    if (entry.config.dims === 2) {
      void vscode.window.showErrorMessage(`Losscape: configuration "${entry.config.name}" asks for "dims": 2; the line between checkpoints is 1D.`);
      return undefined;
    }
    const to = opts.to ?? configured ?? (await pickSecondModel(entry.folder, entry.config.model ?? ''));
    if (!to) return undefined;
    overrides.to = to;
  }
  const dims = effectiveDims(entry.config, m.dims, overrides.to ?? configured);
  overrides.dims = dims;
  return runConfiguration(s, entry, overrides, landscapeWhat(dims, (overrides.to ?? configured) !== undefined), opts.recompute ?? false);
}
