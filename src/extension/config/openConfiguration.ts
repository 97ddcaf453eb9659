import { promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { locateConfiguration } from './configProblems';
import { configFileOf } from './configStore';

export const OPEN_CONFIGURATION = 'Open losscape.json';

/** Opens the folder's losscape.json with the entry (and its field, when given) selected. */
export async function openConfiguration(folder: vscode.WorkspaceFolder, name: string, field?: string): Promise<vscode.TextEditor> {
  const uri = vscode.Uri.file(configFileOf(folder));
  const doc = await vscode.workspace.openTextDocument(uri);
  const at = locateConfiguration(doc.getText() || (await fs.readFile(uri.fsPath, 'utf8')), name, field);
  const selection = at ? new vscode.Range(doc.positionAt(at.offset), doc.positionAt(at.offset + at.length)) : undefined;
  return vscode.window.showTextDocument(doc, { selection, preview: false });
}
