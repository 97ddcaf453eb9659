/**
 * Opening a `*.losscape.json` shows its panel: a custom read-only editor around the same
 * LosscapePanel. The file is validated (parseResult); an invalid file shows a clear error in
 * the panel and a notification. The panel follows the file while an analysis rewrites it, and
 * "recompute" reruns the analysis from the options recorded in the file.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import type { LosscapeResult } from '../../shared/result';
import { RESULT_VIEW_TYPE } from '../commands/commandIds';
import { readResultFile } from '../results/readResult';
import { recordedSpecOf } from '../results/recordedSpec';
import type { Services } from '../services';
import { DisposableStore, errorMessage } from '../util/disposables';
import { LosscapePanel } from './losscapePanel';

class ResultDocument implements vscode.CustomDocument {
  constructor(readonly uri: vscode.Uri) {}
  dispose(): void {}
}

export class ResultEditorProvider implements vscode.CustomReadonlyEditorProvider<ResultDocument> {
  static register(s: Services): vscode.Disposable {
    return vscode.window.registerCustomEditorProvider(RESULT_VIEW_TYPE, new ResultEditorProvider(s), {
      supportsMultipleEditorsPerDocument: true,
    });
  }

  constructor(private readonly s: Services) {}

  openCustomDocument(uri: vscode.Uri): ResultDocument {
    return new ResultDocument(uri);
  }

  async resolveCustomEditor(doc: ResultDocument, webviewPanel: vscode.WebviewPanel): Promise<void> {
    const file = doc.uri.fsPath;
    const title = path.basename(file);
    let current: LosscapeResult | undefined;
    const recompute = (): void => {
      const recorded = current ? recordedSpecOf(current, file) : { ok: false as const, missing: 'not loaded' };
      if (!recorded.ok) {
        void vscode.window.showErrorMessage(`Losscape: ${title} does not record enough of its inputs to be recomputed (${recorded.missing}).`);
        return;
      }
      void this.s.runner.run({ spec: recorded.spec, title, recompute: true });
    };
    const panel = new LosscapePanel(webviewPanel, this.s.extensionUri, this.s.panels.events({ onRecompute: recompute, exportFolder: this.s.panels.exportFolder(file) }));
    const store = new DisposableStore();
    panel.onDidDispose(() => store.dispose());
    const load = async (notify: boolean): Promise<void> => {
      try {
        current = await readResultFile(file);
        panel.show(current, title);
        panel.status(current.complete ? '' : `Incomplete result${current.status ? `: ${current.status}` : ''}.`);
      } catch (err) {
        const message = errorMessage(err);
        this.s.log.warn(message);
        panel.status(message, 'error');
        if (notify) void vscode.window.showErrorMessage(`Losscape: ${message}`);
      }
    };
    if (doc.uri.scheme === 'file') {
      const watcher = store.add(vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file))));
      let timer: NodeJS.Timeout | undefined;
      const reload = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => void load(false), 200);
      };
      store.add(watcher.onDidChange(reload));
      store.add(watcher.onDidCreate(reload));
      store.add({ dispose: () => clearTimeout(timer) });
    }
    await load(true);
  }
}
