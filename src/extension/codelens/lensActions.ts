/**
 * What a CodeLens click does: Loss landscape, Sharpness and Hessian run the lens's loss (Compare
 * losses compares it with others)
 * (lensLoss.ts decides which, or why not) on the model and data of a run configuration of that
 * analysis (a landscape at the configuration's own dims, a sharpness or a Hessian configuration),
 * as the palette commands do; lensAgainstConfiguration.ts decides what the lens's loss does to
 * the configuration's. A lens that cannot run ('explain') shows why, once.
 */
import * as vscode from 'vscode';
import type { AnalysisReport } from '../analysis/analysisRunner';
import { runAnalysisCommand } from '../commands/analysisCommands';
import { COMMANDS } from '../commands/commandIds';
import { runLandscapeCommand } from '../commands/landscapeCommands';
import { runCompareLossesCommand } from '../commands/compareLossesCommand';
import type { Services } from '../services';
import { lensLoss } from './lensLoss';
import type { LensCommandArgs } from './lossCodeLensProvider';

export async function runLensAction(s: Services, args: LensCommandArgs): Promise<AnalysisReport | undefined> {
  const loss = lensLoss({ site: args.site, languageId: args.languageId, filePath: vscode.Uri.parse(args.uri).fsPath }, vscode.workspace.isTrusted);
  if ('message' in loss) {
    const buttons = loss.trust ? ['Manage Workspace Trust'] : ['Add Configuration…'];
    void vscode.window.showWarningMessage(`Losscape: ${loss.message}`, ...buttons).then(async (choice) => {
      if (choice === 'Manage Workspace Trust') await vscode.commands.executeCommand('workbench.trust.manage');
      else if (choice === 'Add Configuration…') await vscode.commands.executeCommand(COMMANDS.addConfiguration.id);
    });
    return undefined;
  }
  const opts = { overrides: loss.overrides, ...(args.configuration ? { configuration: args.configuration } : {}) };
  if (args.action === 'explain') return undefined;
  if (args.action === 'compare') {
    // The lens's loss leads the comparison; the others are asked for (prefilled).
    if (!loss.overrides.loss) {
      void vscode.window.showWarningMessage('Losscape: Compare losses runs the engine\'s built-in and paper losses; a loss from a workspace module cannot be compared.');
      return undefined;
    }
    return runCompareLossesCommand(s, {
      ...(args.configuration ? { configuration: args.configuration } : {}),
      ...(args.losses ? { losses: `${loss.overrides.loss},${args.losses}` } : {}),
      firstLoss: loss.overrides.loss,
    });
  }
  return args.action === 'landscape' ? runLandscapeCommand(s, '2d', { ...opts, anyLandscape: true }) : runAnalysisCommand(s, args.action, opts);
}
