import * as vscode from 'vscode';
import type { EngineManager } from './engineManager';

/** Shows the engine's backend, and a spinner while an analysis runs (click: cancel / show log). */
export class EngineStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('losscape.engine', vscode.StatusBarAlignment.Left, 10);
  private readonly listener: vscode.Disposable;

  constructor(private readonly engine: EngineManager) {
    this.item.name = 'Losscape engine';
    this.listener = engine.onDidChangeState(() => this.update());
    this.update();
    this.item.show();
  }

  private update(): void {
    const backend = this.engine.backendLabel;
    if (this.engine.isRunning) {
      this.item.text = `$(sync~spin) Losscape: ${backend}`;
      this.item.tooltip = `Losscape: an analysis is running on the ${backend} backend. Click to cancel it.`;
      this.item.command = 'losscape.cancelAnalysis';
    } else {
      this.item.text = `$(graph-line) Losscape: ${backend}`;
      const info = this.engine.info;
      this.item.tooltip = info
        ? `Losscape engine: ${info.backend} (${info.version}), pid ${info.pid}. Click for the engine log.`
        : `Losscape engine: not started (backend preference: ${backend}). Click for the engine log.`;
      this.item.command = 'losscape.showEngineLog';
    }
  }

  dispose(): void {
    this.listener.dispose();
    this.item.dispose();
  }
}
