/**
 * Problems of `.vscode/losscape.json` (configProblems.ts: fields that do not fit, missing files,
 * unknown losses) as diagnostics in the Problems panel, on the line of the field. Refreshed when
 * the file is opened, edited or saved, when files appear or vanish in the workspace, and before
 * every run; the open editor's text wins over the file on disk.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as vscode from 'vscode';
import { configurationProblems, type ConfigProblem } from './configProblems';
import { configFileOf } from './configStore';

/** Offsets → positions in `text` (without opening a document). */
function positionsOf(text: string): { positionAt(offset: number): vscode.Position } {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return {
    positionAt(offset: number): vscode.Position {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= offset) lo = mid;
        else hi = mid - 1;
      }
      return new vscode.Position(lo, offset - starts[lo]);
    },
  };
}

const isConfigFile = (uri: vscode.Uri): boolean => uri.scheme === 'file' && /[\\/]\.vscode[\\/]losscape\.json$/.test(uri.fsPath);

export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('losscape');
  private readonly listeners: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor() {
    const later = (uri?: vscode.Uri): void => {
      // Results being written, dependencies and git do not change what a configuration points at.
      if (uri && /[\\/](\.losscape|node_modules|\.git)[\\/]/.test(uri.fsPath)) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.refreshAll(), 300);
    };
    const watcher = vscode.workspace.createFileSystemWatcher('**/*');
    this.listeners.push(
      this.collection,
      watcher,
      watcher.onDidCreate(later),
      watcher.onDidDelete(later),
      watcher.onDidChange((uri) => {
        if (isConfigFile(uri)) later();
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (isConfigFile(e.document.uri)) later();
      }),
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (isConfigFile(d.uri)) later();
      }),
      vscode.workspace.onDidOpenTextDocument((d) => {
        if (isConfigFile(d.uri)) later();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => later()),
      { dispose: () => clearTimeout(this.timer) },
    );
    void this.refreshAll();
  }

  /** Re-reads every folder's losscape.json; resolves once the Problems panel is up to date. */
  async refreshAll(): Promise<void> {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    await Promise.all(folders.map((f) => this.refresh(f)));
  }

  /** The problems of one folder's file (also set as its diagnostics). */
  async refresh(folder: vscode.WorkspaceFolder): Promise<ConfigProblem[]> {
    const uri = vscode.Uri.file(configFileOf(folder));
    // An editor's unsaved text wins; otherwise the file on disk (an open document may lag behind it).
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath && d.isDirty);
    let text: string | undefined = open?.getText();
    if (text === undefined) text = await fs.readFile(uri.fsPath, 'utf8').catch(() => undefined);
    if (text === undefined) {
      this.collection.delete(uri);
      return [];
    }
    const problems = configurationProblems(text, folder.uri.fsPath, existsSync);
    const positions = positionsOf(text);
    this.collection.set(
      uri,
      problems.map((p) => {
        const range = new vscode.Range(positions.positionAt(p.offset), positions.positionAt(p.offset + p.length));
        const d = new vscode.Diagnostic(range, `${p.name !== undefined ? `"${p.name}": ` : ''}${p.message}`, p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
        d.source = 'Losscape';
        if (p.field) d.code = p.field;
        return d;
      }),
    );
    return problems;
  }

  dispose(): void {
    for (const l of this.listeners) l.dispose();
  }
}
