import path from 'node:path';
import * as vscode from 'vscode';

const EXCLUDE = '{**/node_modules/**,**/.losscape/**,**/.git/**}';

/** The models Losscape reads: TF.js Layers model.json, Keras .keras and .h5. */
export const MODEL_GLOB = '**/{model.json,*.keras,*.h5}';

/** PyTorch modules (`net.py:NAME`), and the weight files of a PyTorch model. */
export const TORCH_MODEL_GLOB = '**/*.py';
export const TORCH_WEIGHTS_GLOB = '**/*.{pt,pth,safetensors,ckpt}';

export interface WorkspaceFileItem extends vscode.QuickPickItem {
  /** Path relative to the folder, with forward slashes (as written in losscape.json). */
  relative: string;
}

/** Files of `folder` matching `glob`, as QuickPick items (relative path as label, folder as detail). */
export async function workspaceFileItems(folder: vscode.WorkspaceFolder, glob: string, limit = 500): Promise<WorkspaceFileItem[]> {
  const uris = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, glob), EXCLUDE, limit);
  return uris
    .map((u) => path.relative(folder.uri.fsPath, u.fsPath).split(path.sep).join('/'))
    .sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b))
    .map((relative) => ({ label: relative, relative }));
}

export async function pickFolder(): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  if (folders.length === 0) {
    void vscode.window.showErrorMessage('Losscape: open a folder first; run configurations live in its .vscode/losscape.json.');
    return undefined;
  }
  if (folders.length === 1) return folders[0];
  return vscode.window.showWorkspaceFolderPick({ placeHolder: 'Workspace folder for the configuration' });
}
