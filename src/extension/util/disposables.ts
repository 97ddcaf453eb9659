import type * as vscode from 'vscode';

/** Owns disposables and disposes them once, last added first (vscode-hexeditor's pattern). */
export class DisposableStore implements vscode.Disposable {
  private items: vscode.Disposable[] = [];
  private disposed = false;

  add<T extends vscode.Disposable>(d: T): T {
    if (this.disposed) d.dispose();
    else this.items.push(d);
    return d;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const d of this.items.reverse()) {
      try {
        d.dispose();
      } catch {
        // one failing dispose must not keep the others alive
      }
    }
    this.items = [];
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
