import type * as vscode from 'vscode';
import type { AnalysisRunner } from './analysis/analysisRunner';
import type { ConfigDiagnostics } from './config/configDiagnostics';
import type { EngineManager } from './engine/engineManager';
import type { PanelManager } from './panels/panelManager';

/** What commands, CodeLens actions and editors share; made once in activate(). */
export interface Services {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  engine: EngineManager;
  panels: PanelManager;
  runner: AnalysisRunner;
  diagnostics: ConfigDiagnostics;
}
