/**
 * The analysis commands other than the landscape ones (Measure Sharpness, Hessian Spectrum,
 * Grokking Statistics, Trajectory Landscape, Pruning Saliency): pick a configuration of that
 * analysis (or add one), make the engine request, run it. The landscape commands
 * (landscapeCommands.ts) share the helpers here.
 */
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { AnalysisReport } from '../analysis/analysisRunner';
import { prepareRequest } from '../analysis/prepareRequest';
import { lensAgainstConfiguration } from '../codelens/lensAgainstConfiguration';
import type { ConfigurationPreset } from '../config/addConfiguration';
import { describeProblem, entryIssues } from '../config/configProblems';
import { OPEN_CONFIGURATION, openConfiguration } from '../config/openConfiguration';
import type { FolderConfiguration } from '../config/configStore';
import { pickConfiguration } from '../config/pickConfiguration';
import type { AnalysisName, RunOverrides } from '../config/runConfig';
import type { Services } from '../services';
import type { AnalysisCommandOptions } from './commandArgs';
import { COMMAND_OF_ANALYSIS } from './commandIds';

export type ConfiguredAnalysis = Exclude<AnalysisName, 'landscape'>;

/** What each command calls its analysis (QuickPick, notification and panel titles). */
export const ANALYSIS_TITLES: Record<ConfiguredAnalysis, string> = {
  sharpness: 'sharpness',
  hessian: 'Hessian spectrum',
  grokking: 'grokking statistics',
  trajectory: 'trajectory landscape',
  saliency: 'pruning saliency',
};

/** The loss a CodeLens chose, as the preset of a configuration added from there. */
export function lossPreset(overrides: RunOverrides | undefined): ConfigurationPreset {
  return {
    ...(overrides?.loss ? { loss: overrides.loss } : {}),
    ...(overrides?.lossModule ? { lossModule: vscode.workspace.asRelativePath(overrides.lossModule.path, false), lossExport: overrides.lossModule.export } : {}),
  };
}

/** Why a configuration (given by name or inline) cannot run under this command, or undefined. */
export function wrongAnalysis(entry: FolderConfiguration, expected: AnalysisName): string | undefined {
  const got = entry.config.analysis;
  if (got === expected) return undefined;
  return `configuration "${entry.config.name}" is a ${got} configuration, not ${expected}: run it with "Losscape: ${COMMAND_OF_ANALYSIS[got].title}".`;
}

/** Resolves, names and runs a configuration (the common end of every analysis command). */
export async function runConfiguration(s: Services, entry: FolderConfiguration, given: RunOverrides, what: string, recompute: boolean): Promise<AnalysisReport | undefined> {
  const { overrides, warning } = lensAgainstConfiguration(entry.config, given);
  if (warning) {
    s.log.warn(warning);
    void vscode.window.showWarningMessage(`Losscape: ${warning}`);
  }
  // Missing files, unknown losses…: refused here, naming the configuration and the field (the
  // Problems panel has them too), rather than sent to the engine and answered in CLI terms.
  void s.diagnostics.refresh(entry.folder);
  const issue = entryIssues(entry.config, entry.folder.uri.fsPath, existsSync).find((i) => i.severity === 'error');
  if (issue) {
    const field = issue.path.length ? String(issue.path[0]) : undefined;
    const text = describeProblem({ name: entry.config.name, index: 0, field: issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('') || undefined, message: issue.message });
    s.log.error(text);
    void vscode.window.showErrorMessage(`Losscape: ${text}`, OPEN_CONFIGURATION).then((choice) => {
      if (choice) void openConfiguration(entry.folder, entry.config.name, field);
    });
    return undefined;
  }
  const request = await prepareRequest(entry, overrides, what, recompute);
  if (typeof request === 'string') {
    void vscode.window.showErrorMessage(`Losscape: ${request}`, OPEN_CONFIGURATION).then((choice) => {
      if (choice) void openConfiguration(entry.folder, entry.config.name);
    });
    return undefined;
  }
  return s.runner.run(request);
}

/** Measure Sharpness, Hessian Spectrum, Grokking Statistics, Trajectory Landscape, Pruning Saliency. */
export async function runAnalysisCommand(s: Services, analysis: ConfiguredAnalysis, opts: AnalysisCommandOptions): Promise<AnalysisReport | undefined> {
  const what = ANALYSIS_TITLES[analysis];
  const preset: ConfigurationPreset = { analysis, ...lossPreset(opts.overrides) };
  const entry = await pickConfiguration({ title: what, filter: (c) => c.analysis === analysis, preset, log: s.log }, opts.configuration);
  if (!entry) return undefined;
  const wrong = wrongAnalysis(entry, analysis);
  if (wrong) {
    void vscode.window.showErrorMessage(`Losscape: ${wrong}`);
    return undefined;
  }
  return runConfiguration(s, entry, { ...opts.overrides }, what, opts.recompute ?? false);
}
