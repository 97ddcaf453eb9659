/**
 * What a CodeLens click does: Sharpness and Hessian say they are not available yet; Loss
 * landscape runs the lens's loss (lensLoss.ts decides which, or why not) on the model and data
 * of a run configuration, as the palette commands do.
 */
import * as vscode from 'vscode';
import type { AnalysisReport } from '../analysis/analysisRunner';
import { COMMANDS } from '../commands/commandIds';
import { runLandscapeCommand } from '../commands/landscapeCommands';
import { notAvailable } from '../commands/otherCommands';
import type { Services } from '../services';
import { lensLoss } from './lensLoss';
import type { LensCommandArgs } from './lossCodeLensProvider';

export async function runLensAction(s: Services, args: LensCommandArgs): Promise<AnalysisReport | undefined> {
  if (args.action !== 'landscape') {
    notAvailable(args.action === 'sharpness' ? COMMANDS.measureSharpness.title : COMMANDS.hessianSpectrum.title);
    return undefined;
  }
  const loss = lensLoss({ site: args.site, languageId: args.languageId, filePath: vscode.Uri.parse(args.uri).fsPath }, vscode.workspace.isTrusted);
  if ('message' in loss) {
    const buttons = loss.trust ? ['Manage Workspace Trust'] : ['Add Configuration…'];
    void vscode.window.showWarningMessage(`Losscape: ${loss.message}`, ...buttons).then(async (choice) => {
      if (choice === 'Manage Workspace Trust') await vscode.commands.executeCommand('workbench.trust.manage');
      else if (choice === 'Add Configuration…') await vscode.commands.executeCommand(COMMANDS.addConfiguration.id);
    });
    return undefined;
  }
  return runLandscapeCommand(s, '2d', { overrides: loss.overrides, ...(args.configuration ? { configuration: args.configuration } : {}) });
}
