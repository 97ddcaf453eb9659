import path from 'node:path';
import * as vscode from 'vscode';
import { LosscapePanel, type PanelEvents } from './losscapePanel';

export interface RenderRecord {
  kind: string;
  milliseconds: number;
}

/**
 * The analysis panels, one per configuration (a result opened otherwise: one per file): running
 * a configuration again, with other options or not, reuses its panel; new panels open in the
 * column the Losscape panels are in, not each in a new column. Also records what the webviews
 * report they rendered (tests, benchmark).
 */
export class PanelManager implements vscode.Disposable {
  private readonly panels = new Map<string, LosscapePanel>();
  private readonly rendered: RenderRecord[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get renders(): readonly RenderRecord[] {
    return this.rendered;
  }

  /** Events for a panel (analysis panel or result editor). */
  events(extra: Pick<PanelEvents, 'onRecompute' | 'exportFolder'>): PanelEvents {
    return {
      ...extra,
      log: this.log,
      onRendered: (r) => {
        this.rendered.push(r);
        if (this.rendered.length > 100) this.rendered.shift();
      },
    };
  }

  /** How many analysis panels are open (tests). */
  get count(): number {
    return this.panels.size;
  }

  /** The panel of `key`, created (in the Losscape column) if there is none, and revealed; it shows `resultFile`. */
  forResult(key: string, resultFile: string, title: string, onRecompute: () => void): LosscapePanel {
    const existing = this.panels.get(key);
    if (existing) {
      existing.webviewPanel.title = title;
      existing.setRecompute(onRecompute);
      existing.setRestoreState({ key, file: resultFile, title });
      existing.reveal();
      return existing;
    }
    const panel = LosscapePanel.create(this.extensionUri, title, this.events({ onRecompute, exportFolder: this.exportFolder(resultFile) }), this.column());
    this.adopt(key, panel, resultFile, title);
    return panel;
  }

  /** Registers a panel made elsewhere (the serializer's, after a reload) under `key`. */
  adopt(key: string, panel: LosscapePanel, resultFile: string, title: string): void {
    this.panels.get(key)?.dispose();
    panel.setRestoreState({ key, file: resultFile, title });
    this.panels.set(key, panel);
    panel.onDidDispose(() => {
      if (this.panels.get(key) === panel) this.panels.delete(key);
    });
  }

  /** Exports are offered in the workspace's visible export folder (losscape.exportFolder), not beside hidden results. */
  exportFolder(resultFile: string): vscode.Uri {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(resultFile)) ?? vscode.workspace.workspaceFolders?.[0];
    if (!folder) return vscode.Uri.file(path.dirname(resultFile));
    const setting = vscode.workspace.getConfiguration('losscape', folder.uri).get<string>('exportFolder', 'losscape-exports') || 'losscape-exports';
    return vscode.Uri.file(path.resolve(folder.uri.fsPath, setting));
  }

  /** The column of the Losscape panels already open, else beside the editor. */
  private column(): vscode.ViewColumn {
    for (const p of this.panels.values()) {
      const c = p.webviewPanel.viewColumn;
      if (c !== undefined) return c;
    }
    return vscode.ViewColumn.Beside;
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.dispose();
    this.panels.clear();
  }
}
