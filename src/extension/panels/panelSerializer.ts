/**
 * Reopens analysis panels after "Reload Window": VS Code hands back each panel with the state its
 * webview kept (PanelStateSchema: the result file and the panel's key); the panel is adopted
 * under its key again (so the next run of its configuration reuses it) and shows the saved
 * result. State is webview input: validated, and a file that is gone or invalid is said so.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { PanelStateSchema } from '../../shared/webviewProtocol';
import type { LosscapeResult } from '../../shared/result';
import { readResultFile } from '../results/readResult';
import type { Services } from '../services';
import { errorMessage } from '../util/disposables';
import { LosscapePanel, PANEL_VIEW_TYPE } from './losscapePanel';
import { recordedSpecOf } from '../results/recordedSpec';

export function registerPanelSerializer(s: Services): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
    async deserializeWebviewPanel(webviewPanel: vscode.WebviewPanel, raw: unknown): Promise<void> {
      const parsed = PanelStateSchema.safeParse(raw);
      if (!parsed.success) {
        s.log.warn('a Losscape panel from before the reload kept no result file; closing it');
        webviewPanel.dispose();
        return;
      }
      const { key, file } = parsed.data;
      const title = parsed.data.title ?? path.basename(file);
      let current: LosscapeResult | undefined;
      const recompute = (): void => {
        const recorded = current ? recordedSpecOf(current, file) : { ok: false as const, missing: 'not loaded' };
        if (!recorded.ok) {
          void vscode.window.showErrorMessage(`Losscape: ${path.basename(file)} does not record enough of its inputs to be recomputed (${recorded.missing}).`);
          return;
        }
        void s.runner.run({ spec: recorded.spec, title, recompute: true, key });
      };
      const panel = new LosscapePanel(webviewPanel, s.extensionUri, s.panels.events({ onRecompute: recompute, exportFolder: s.panels.exportFolder(file) }));
      webviewPanel.title = title;
      s.panels.adopt(key, panel, file, title);
      try {
        current = await readResultFile(file);
        panel.show(current, title);
        if (!current.complete) panel.status(`Incomplete result${current.status ? `: ${current.status}` : ''}.`);
      } catch (err) {
        panel.status(`Could not reopen the saved result: ${errorMessage(err)}`, 'error');
      }
    },
  });
}
