/**
 * Extension entry point: wiring only. Nothing here loads TensorFlow.js or starts the engine;
 * the engine process is forked on the first analysis (docs/architecture.md: processes and bundles).
 */
import * as vscode from 'vscode';
import { BackendPreferenceSchema, type BackendPreference } from '../shared/protocol';
import { AnalysisRunner, RUNNING_CONTEXT_KEY } from './analysis/analysisRunner';
import { ConfigDiagnostics } from './config/configDiagnostics';
import { registerPanelSerializer } from './panels/panelSerializer';
import type { LosscapeApi } from './api';
import { LENS_SELECTOR, LossCodeLensProvider } from './codelens/lossCodeLensProvider';
import { registerCommands } from './commands/registerCommands';
import { EngineManager } from './engine/engineManager';
import { EngineStatusBar } from './engine/statusBar';
import { PanelManager } from './panels/panelManager';
import { ResultEditorProvider } from './panels/resultEditorProvider';
import { SCALING_LENS_SELECTOR, ScalingCodeLensProvider } from './scaling/scalingCodeLens';
import type { Services } from './services';
import { DisposableStore } from './util/disposables';

let store: DisposableStore | undefined;

function backendSetting(): BackendPreference {
  const parsed = BackendPreferenceSchema.safeParse(vscode.workspace.getConfiguration('losscape').get('backend'));
  return parsed.success ? parsed.data : 'auto';
}

export function activate(context: vscode.ExtensionContext): LosscapeApi {
  const started = performance.now();
  store = new DisposableStore();
  const d = store;
  const log = d.add(vscode.window.createOutputChannel('Losscape', { log: true }));
  const engine = d.add(
    new EngineManager({
      enginePath: vscode.Uri.joinPath(context.extensionUri, 'dist', 'engine.js').fsPath,
      log,
      backend: backendSetting,
      cwd: () => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    }),
  );
  const panels = d.add(new PanelManager(context.extensionUri, log));
  const runner = d.add(new AnalysisRunner(engine, panels, log));
  const diagnostics = d.add(new ConfigDiagnostics());
  const s: Services = { extensionUri: context.extensionUri, log, engine, panels, runner, diagnostics };
  void vscode.commands.executeCommand('setContext', RUNNING_CONTEXT_KEY, false);

  d.add(new EngineStatusBar(engine));
  for (const c of registerCommands(s)) d.add(c);
  const lenses = d.add(new LossCodeLensProvider());
  d.add(vscode.languages.registerCodeLensProvider(LENS_SELECTOR, lenses));
  d.add(vscode.languages.registerCodeLensProvider(SCALING_LENS_SELECTOR, d.add(new ScalingCodeLensProvider())));
  d.add(ResultEditorProvider.register(s));
  d.add(registerPanelSerializer(s));
  d.add(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('losscape.backend')) return;
      log.info(`backend preference is now ${backendSetting()}; the engine restarts for the next analysis`);
      engine.restart();
    }),
  );
  context.subscriptions.push(d);

  const activationMs = performance.now() - started;
  log.info(`Losscape activated in ${activationMs.toFixed(1)} ms`);
  return {
    enginePid: () => engine.pid,
    backend: () => engine.info?.backend,
    renders: () => panels.renders,
    panelCount: () => panels.count,
    refreshDiagnostics: () => diagnostics.refreshAll(),
    activationMs,
  };
}

export function deactivate(): void {
  store?.dispose();
  store = undefined;
}
