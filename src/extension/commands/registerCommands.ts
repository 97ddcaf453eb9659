import * as vscode from 'vscode';
import { addConfiguration } from '../config/addConfiguration';
import { runLensAction } from '../codelens/lensActions';
import type { LensCommandArgs } from '../codelens/lossCodeLensProvider';
import type { Services } from '../services';
import { readCommandArgument } from './commandArgs';
import { COMMANDS, LENS_COMMAND } from './commandIds';
import { runAnalysisCommand } from './analysisCommands';
import { runLandscapeCommand } from './landscapeCommands';
import { runCompareLossesCommand } from './compareLossesCommand';
import { cancelAnalysis, openResult, selectBackend } from './otherCommands';
import { fitScalingLaw } from '../scaling/fitScalingLaw';
import { resumeLandscape } from './resumeLandscapeCommand';

function isLensArgs(v: unknown): v is LensCommandArgs {
  return typeof v === 'object' && v !== null && 'action' in v && 'site' in v && 'uri' in v && 'languageId' in v;
}

/** Every command of package.json `contributes.commands`, plus the CodeLens one. */
export function registerCommands(s: Services): vscode.Disposable[] {
  const reg = (id: string, fn: (arg: unknown) => unknown): vscode.Disposable => vscode.commands.registerCommand(id, fn);
  return [
    reg(COMMANDS.plotLandscape2D.id, (a) => runLandscapeCommand(s, '2d', readCommandArgument(a))),
    reg(COMMANDS.plotLandscape1D.id, (a) => runLandscapeCommand(s, '1d', readCommandArgument(a))),
    reg(COMMANDS.plotLandscapeBetweenCheckpoints.id, (a) => runLandscapeCommand(s, 'between', readCommandArgument(a))),
    reg(COMMANDS.measureSharpness.id, (a) => runAnalysisCommand(s, 'sharpness', readCommandArgument(a))),
    reg(COMMANDS.hessianSpectrum.id, (a) => runAnalysisCommand(s, 'hessian', readCommandArgument(a))),
    reg(COMMANDS.grokkingStatistics.id, (a) => runAnalysisCommand(s, 'grokking', readCommandArgument(a))),
    reg(COMMANDS.trajectoryLandscape.id, (a) => runAnalysisCommand(s, 'trajectory', readCommandArgument(a))),
    reg(COMMANDS.pruneSaliency.id, (a) => runAnalysisCommand(s, 'saliency', readCommandArgument(a))),
    reg(COMMANDS.compareLosses.id, (a) => runCompareLossesCommand(s, readCommandArgument(a))),
    reg(COMMANDS.openResult.id, (a) => openResult(a)),
    reg(COMMANDS.cancelAnalysis.id, () => cancelAnalysis(s)),
    reg(COMMANDS.showEngineLog.id, () => s.log.show(true)),
    reg(COMMANDS.selectBackend.id, (a) => selectBackend(s, a)),
    reg(COMMANDS.addConfiguration.id, async () => {
      const added = await addConfiguration({}, s.log);
      if (added) await vscode.window.showTextDocument(vscode.Uri.joinPath(added.folder.uri, '.vscode', 'losscape.json'));
      return added?.config;
    }),
    reg(COMMANDS.fitScalingLaw.id, (a) => fitScalingLaw(s, a)),
    reg(COMMANDS.resumeLandscape.id, (a) => resumeLandscape(s, a)),
    reg(LENS_COMMAND, (a) => (isLensArgs(a) ? runLensAction(s, a) : undefined)),
  ];
}
