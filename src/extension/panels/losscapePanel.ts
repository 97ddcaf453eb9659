/**
 * A Losscape webview panel: the webview bundle (dist/webview.js) in a page with a strict CSP
 * and a fresh nonce, resources limited to dist/ and media/, and a ready handshake: what the
 * host wants shown is kept and (re)sent whenever the webview says `ready` (also after it was
 * hidden and reloaded). Every message from the webview is validated; invalid ones are logged
 * and dropped. Used for analysis panels and, around the editor's panel, for result files.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { buildPanelHtml } from '../../shared/report';
import type { LosscapeResult } from '../../shared/result';
import { WebviewToHostSchema, type HostToWebview, type PanelState, type WebviewToHost } from '../../shared/webviewProtocol';
import { DisposableStore, errorMessage } from '../util/disposables';
import { saveExport } from './exportSaver';

export const PANEL_VIEW_TYPE = 'losscape.panel';

export interface PanelEvents {
  log: vscode.LogOutputChannel;
  /** The webview asked to recompute what it shows. */
  onRecompute?: () => void;
  /** The webview finished drawing a result. */
  onRendered?: (r: { kind: string; milliseconds: number }) => void;
  /** Where exports are offered to be saved (default: the first workspace folder). */
  exportFolder?: vscode.Uri;
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

function themeKind(kind: vscode.ColorThemeKind): Extract<HostToWebview, { type: 'theme' }>['kind'] {
  switch (kind) {
    case vscode.ColorThemeKind.Light:
      return 'light';
    case vscode.ColorThemeKind.HighContrast:
      return 'high-contrast';
    case vscode.ColorThemeKind.HighContrastLight:
      return 'high-contrast-light';
    default:
      return 'dark';
  }
}

export class LosscapePanel implements vscode.Disposable {
  private readonly disposables = new DisposableStore();
  private ready = false;
  private shown: Extract<HostToWebview, { type: 'show' }> | undefined;
  private statusLine: Extract<HostToWebview, { type: 'status' }> | undefined;
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;

  private restoreState: PanelState | undefined;
  private recompute: (() => void) | undefined;

  /** A new panel in `column` (default: beside the active editor). */
  static create(extensionUri: vscode.Uri, title: string, events: PanelEvents, column: vscode.ViewColumn = vscode.ViewColumn.Beside): LosscapePanel {
    const panel = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPE,
      title,
      { viewColumn: column, preserveFocus: true },
      { ...webviewOptions(extensionUri), retainContextWhenHidden: false },
    );
    return new LosscapePanel(panel, extensionUri, events);
  }

  constructor(
    readonly webviewPanel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly events: PanelEvents,
  ) {
    this.recompute = events.onRecompute;
    const webview = webviewPanel.webview;
    webview.options = webviewOptions(extensionUri);
    webview.html = buildPanelHtml({
      cspSource: webview.cspSource,
      nonce: randomBytes(16).toString('base64'),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'losscape.css')).toString(),
      title: webviewPanel.title,
    });
    this.disposables.add(webview.onDidReceiveMessage((m: unknown) => this.receive(m)));
    this.disposables.add(
      vscode.window.onDidChangeActiveColorTheme((t) => {
        if (this.ready) void webview.postMessage({ type: 'theme', kind: themeKind(t.kind) } satisfies HostToWebview);
      }),
    );
    this.disposables.add(webviewPanel.onDidDispose(() => this.dispose()));
  }

  get title(): string {
    return this.webviewPanel.title;
  }

  /** Whether a result was shown (a failed first run leaves a panel without one). */
  get hasResult(): boolean {
    return this.shown !== undefined;
  }

  /** What "recompute" in the panel runs now (a panel reused for a new run of its configuration). */
  setRecompute(fn: () => void): void {
    this.recompute = fn;
  }

  /** Kept in the webview's state, for the serializer to reopen the panel after a reload. */
  setRestoreState(state: PanelState): void {
    this.restoreState = state;
    if (this.shown) this.shown = { ...this.shown, restore: state };
  }

  /** Shows a (partial or complete) result; the webview redraws progressively. */
  show(result: LosscapeResult, title?: string): void {
    this.shown = { type: 'show', result, ...(title ? { title } : {}), ...(this.restoreState ? { restore: { ...this.restoreState, ...(title ? { title } : {}) } } : {}) };
    if (result.complete && this.statusLine?.level === 'info') this.statusLine = { type: 'status', text: '', level: 'info' };
    this.flush();
  }

  /** A line above the chart ('' clears it). */
  status(text: string, level: 'info' | 'error' = 'info'): void {
    this.statusLine = { type: 'status', text, level };
    this.flush();
  }

  reveal(): void {
    this.webviewPanel.reveal(undefined, true);
  }

  private flush(): void {
    if (!this.ready) return;
    const webview = this.webviewPanel.webview;
    if (this.shown) void webview.postMessage(this.shown);
    if (this.statusLine) void webview.postMessage(this.statusLine);
  }

  private receive(raw: unknown): void {
    const parsed = WebviewToHostSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.events.log.warn(`dropped an invalid message from a Losscape panel (${issue.path.join('.') || 'message'}: ${issue.message})`);
      return;
    }
    this.handle(parsed.data);
  }

  private handle(msg: WebviewToHost): void {
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        this.flush();
        break;
      case 'rendered':
        this.events.onRendered?.({ kind: msg.kind, milliseconds: msg.milliseconds });
        break;
      case 'log':
        this.events.log[msg.level === 'error' ? 'error' : msg.level === 'warn' ? 'warn' : 'info'](`[panel] ${msg.message}`);
        break;
      case 'recompute':
        if (this.recompute) this.recompute();
        else void vscode.window.showInformationMessage('Losscape: this result cannot be recomputed from here (its inputs are unknown).');
        break;
      case 'export':
        saveExport(msg, this.events.exportFolder, this.events.log).catch((err: unknown) => {
          void vscode.window.showErrorMessage(`Losscape: could not save the export: ${errorMessage(err)}`);
        });
        break;
    }
  }

  private isDisposed = false;

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.disposables.dispose();
    this.disposed.fire();
    this.disposed.dispose();
    this.webviewPanel.dispose();
  }
}
