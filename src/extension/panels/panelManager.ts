import path from 'node:path';
import * as vscode from 'vscode';
import { LosscapePanel, type PanelEvents } from './losscapePanel';

export interface RenderRecord {
  kind: string;
  milliseconds: number;
}

/**
 * The analysis panels, one per result file: running an analysis again (or recomputing it)
 * reuses its panel. Also records what the webviews report they rendered (tests, benchmark).
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

  /** The panel showing `resultFile`, created beside the editor if there is none, and revealed. */
  forResult(resultFile: string, title: string, onRecompute: () => void): LosscapePanel {
    const existing = this.panels.get(resultFile);
    if (existing) {
      existing.webviewPanel.title = title;
      existing.reveal();
      return existing;
    }
    const panel = LosscapePanel.create(this.extensionUri, title, this.events({ onRecompute, exportFolder: vscode.Uri.file(path.dirname(resultFile)) }));
    this.panels.set(resultFile, panel);
    panel.onDidDispose(() => this.panels.delete(resultFile));
    return panel;
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.dispose();
    this.panels.clear();
  }
}
