/**
 * Compare Losses: one model and its data (from a run configuration with a model) under several
 * losses, `ce,gce:q=0.7,comp_sum:tau=0.5`, asked for in an input box (prefilled with the CodeLens's
 * loss when run from one) and checked as it is typed. The engine computes a loss-comparison
 * result; it opens in its panel like every other result.
 */
import * as vscode from 'vscode';
import { LossParamError, parseLossList } from '../../shared/lossParams';
import type { AnalysisReport } from '../analysis/analysisRunner';
import type { Services } from '../services';
import { pickConfiguration } from '../config/pickConfiguration';
import type { AnalysisCommandOptions } from './commandArgs';
import { runConfiguration } from './analysisCommands';

export const DEFAULT_COMPARED = 'gce:q=0.7,comp_sum:tau=0.5';

function checkList(text: string): string | undefined {
  try {
    parseLossList(text);
    return undefined;
  } catch (err) {
    return err instanceof LossParamError ? err.message : String(err);
  }
}

export async function runCompareLossesCommand(s: Services, opts: AnalysisCommandOptions & { firstLoss?: string }): Promise<AnalysisReport | undefined> {
  const entry = await pickConfiguration({ title: 'loss comparison', filter: (c) => c.model !== undefined, preset: { analysis: 'landscape' }, log: s.log }, opts.configuration);
  if (!entry) return undefined;
  let text = opts.losses;
  if (text === undefined) {
    const first = opts.firstLoss ?? (typeof entry.config.loss === 'string' ? entry.config.loss : entry.config.loss?.name) ?? 'ce';
    text = await vscode.window.showInputBox({
      title: 'Losscape: Compare Losses',
      prompt: 'Losses to compare, with parameters: name:key=value, comma-separated (comp_sum tau, gce q, zloss a b, multi_similarity alpha beta lambda epsilon, proto_triplet margin, icnn k, cs_divergence sigma; the configuration\'s "episode" shapes proto_triplet and icnn)',
      value: `${first},${DEFAULT_COMPARED}`,
      validateInput: checkList,
      ignoreFocusOut: true,
    });
    if (text === undefined) return undefined;
  }
  const problem = checkList(text);
  if (problem) {
    void vscode.window.showErrorMessage(`Losscape: --losses: ${problem}`);
    return undefined;
  }
  return runConfiguration(s, entry, { compareLosses: parseLossList(text) }, 'loss comparison', opts.recompute ?? false);
}
