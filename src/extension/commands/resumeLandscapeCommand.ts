/**
 * "Losscape: Resume Landscape": completes a partial landscape or trajectory result (cancelled,
 * crashed, a rank killed) in place, as `losscape landscape --resume FILE` does: the file given
 * (explorer menu, the result editor's title bar), the active result editor's, or one picked
 * among the workspace's incomplete results. The torch engine runs only in trusted workspaces.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import type { AnalysisReport } from '../analysis/analysisRunner';
import { pythonInterpreter } from '../engine/pythonInterpreter';
import { readResultFile } from '../results/readResult';
import { resumeSpecOf } from '../results/resumeSpec';
import { UNTRUSTED_TORCH_REASON } from '../config/runConfig';
import type { Services } from '../services';
import { errorMessage } from '../util/disposables';
import { RESULT_VIEW_TYPE } from './commandIds';

interface PartialItem extends vscode.QuickPickItem {
  uri: vscode.Uri;
}

function activeResultEditor(): vscode.Uri | undefined {
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
  const input = tab?.input;
  return input instanceof vscode.TabInputCustom && input.viewType === RESULT_VIEW_TYPE ? input.uri : undefined;
}

async function pickPartial(): Promise<vscode.Uri | undefined> {
  const found = await vscode.workspace.findFiles('**/*.losscape.json', '**/node_modules/**', 500);
  const items: PartialItem[] = [];
  for (const uri of found) {
    try {
      const r = await readResultFile(uri.fsPath);
      if (r.kind === 'landscape' && resumeSpecOf(r, uri.fsPath).ok) items.push({ label: vscode.workspace.asRelativePath(uri), description: r.status ?? 'incomplete', uri });
    } catch {
      // not a result: not offered
    }
  }
  if (items.length === 0) {
    void vscode.window.showInformationMessage('Losscape: no incomplete landscape result in the workspace.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title: 'Losscape: Resume Landscape', placeHolder: 'an incomplete *.losscape.json' }))?.uri;
}

export async function resumeLandscape(s: Services, arg: unknown): Promise<AnalysisReport | undefined> {
  const uri = arg instanceof vscode.Uri ? arg : typeof arg === 'string' ? vscode.Uri.file(arg) : (activeResultEditor() ?? (await pickPartial()));
  if (!uri) return undefined;
  const file = uri.fsPath;
  let outcome;
  try {
    outcome = resumeSpecOf(await readResultFile(file), file);
  } catch (err) {
    void vscode.window.showErrorMessage(`Losscape: ${errorMessage(err)}`);
    return undefined;
  }
  if (!outcome.ok) {
    void vscode.window.showWarningMessage(`Losscape: ${outcome.reason}`);
    return undefined;
  }
  let spec = outcome.spec;
  if (outcome.torch) {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(`Losscape: ${UNTRUSTED_TORCH_REASON}`, 'Manage Workspace Trust').then((c) => c && vscode.commands.executeCommand('workbench.trust.manage'));
      return undefined;
    }
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!('python' in spec && spec.python) && folder) spec = { ...spec, python: await pythonInterpreter(folder) } as typeof spec;
  }
  s.log.info(`resuming ${file}: ${outcome.missing} points to compute`);
  return s.runner.run({ spec, title: `${path.basename(file)} (resumed)`, recompute: true });
}
