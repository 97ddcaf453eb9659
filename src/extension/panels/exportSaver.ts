import * as vscode from 'vscode';
import { errorMessage } from '../util/disposables';
import { EXPORT_FILTERS, exportBytes, exportFileName, type ExportMessage } from './exportData';

/**
 * Asks where to save an export from a panel (default: the workspace's visible export folder,
 * created on first use), writes it, and says so with "Open" and "Reveal in Explorer". Returns
 * the file, or undefined if cancelled.
 */
export async function saveExport(msg: ExportMessage, near: vscode.Uri | undefined, log: vscode.LogOutputChannel): Promise<vscode.Uri | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = exportBytes(msg);
  } catch (err) {
    log.warn(`export dropped: ${errorMessage(err)}`);
    void vscode.window.showErrorMessage(`Losscape: could not export: ${errorMessage(err)}`);
    return undefined;
  }
  const folder = near ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  if (folder) await vscode.workspace.fs.createDirectory(folder).then(undefined, () => undefined);
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, exportFileName(msg)) : undefined,
    filters: EXPORT_FILTERS[msg.format],
    title: `Save ${msg.format.toUpperCase()} export`,
  });
  if (!target) return undefined;
  await vscode.workspace.fs.writeFile(target, bytes);
  log.info(`exported ${msg.format} to ${target.fsPath}`);
  void vscode.window.showInformationMessage(`Losscape: saved ${vscode.workspace.asRelativePath(target)}`, 'Open', 'Reveal in Explorer').then((choice) => {
    if (choice === 'Open') void vscode.commands.executeCommand('vscode.open', target);
    else if (choice === 'Reveal in Explorer') void vscode.commands.executeCommand('revealInExplorer', target);
  });
  return target;
}
