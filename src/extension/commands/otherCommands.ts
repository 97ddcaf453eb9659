import * as vscode from 'vscode';
import { BackendPreferenceSchema, type BackendPreference } from '../../shared/protocol';
import type { Services } from '../services';
import { RESULT_VIEW_TYPE } from './commandIds';

export function cancelAnalysis(s: Services): number {
  const n = s.runner.cancelAll();
  if (n === 0) void vscode.window.showInformationMessage('Losscape: no analysis is running.');
  else s.log.info(`cancel requested for ${n} analysis run(s)`);
  return n;
}

interface UriItem extends vscode.QuickPickItem {
  uri?: vscode.Uri;
}

/** Opens a result file in its panel: the Uri given (explorer menu), or one picked from the workspace. */
export async function openResult(arg: unknown): Promise<vscode.Uri | undefined> {
  let uri = arg instanceof vscode.Uri ? arg : undefined;
  if (!uri) {
    const found = await vscode.workspace.findFiles('**/*.losscape.json', '**/node_modules/**', 500);
    const items: UriItem[] = found
      .sort((a, b) => a.fsPath.localeCompare(b.fsPath))
      .map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u }));
    items.push({ label: '$(folder-opened) Browse…', alwaysShow: true });
    const picked = await vscode.window.showQuickPick(items, { title: 'Losscape: Open Result', placeHolder: '*.losscape.json' });
    if (!picked) return undefined;
    uri =
      picked.uri ??
      (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Losscape result': ['json'] }, title: 'Open a Losscape result (*.losscape.json)' }))?.[0];
  }
  if (!uri) return undefined;
  await vscode.commands.executeCommand('vscode.openWith', uri, RESULT_VIEW_TYPE);
  return uri;
}

const BACKENDS: ReadonlyArray<{ label: BackendPreference; description: string }> = [
  { label: 'auto', description: 'native TensorFlow if installed, else WebAssembly, else plain JavaScript' },
  { label: 'tensorflow-gpu', description: 'needs @tensorflow/tfjs-node-gpu and CUDA' },
  { label: 'tensorflow', description: 'needs @tensorflow/tfjs-node' },
  { label: 'wasm', description: 'WebAssembly (SIMD), always available' },
  { label: 'cpu', description: 'plain JavaScript, slowest' },
];

/** Picks the engine backend (setting losscape.backend); the engine restarts when idle. */
export async function selectBackend(s: Services, arg: unknown): Promise<BackendPreference | undefined> {
  const given = BackendPreferenceSchema.safeParse(arg);
  const choice = given.success
    ? given.data
    : (await vscode.window.showQuickPick(BACKENDS, { title: 'Losscape: Select Backend', placeHolder: `in use: ${s.engine.backendLabel}` }))?.label;
  if (!choice) return undefined;
  await vscode.workspace.getConfiguration('losscape').update('backend', choice, vscode.ConfigurationTarget.Global);
  return choice;
}
