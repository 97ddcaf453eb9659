/**
 * "Losscape: Add Configuration…": builds a run configuration from QuickPicks over what the
 * workspace holds (model.json files, data files, losses) and saves it in .vscode/losscape.json.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { ENGINE_LOSSES } from '../codelens/builtinLosses';
import { errorMessage } from '../util/disposables';
import { saveConfiguration, type FolderConfiguration } from './configStore';
import type { AnalysisName, RunConfiguration } from './runConfig';
import { pickFolder, workspaceFileItems } from './workspaceFiles';

/** What the caller already knows (e.g. the loss under a CodeLens). */
export interface ConfigurationPreset {
  loss?: string;
  fromLogits?: boolean;
  lossModule?: string;
  lossExport?: string;
  analysis?: AnalysisName;
  dims?: 1 | 2;
  between?: boolean;
}

interface KindItem extends vscode.QuickPickItem {
  analysis: AnalysisName;
  dims?: 1 | 2;
  between?: boolean;
}

const KINDS: KindItem[] = [
  { label: 'Loss landscape (2D)', description: 'f(α, β) around the model, random filter-normalised directions', analysis: 'landscape', dims: 2 },
  { label: 'Loss landscape (1D)', description: 'f(t) along one direction', analysis: 'landscape', dims: 1 },
  { label: 'Loss landscape between checkpoints', description: 'the line from one model to another', analysis: 'landscape', dims: 1, between: true },
  { label: 'Sharpness', description: 'planned', analysis: 'sharpness' },
  { label: 'Hessian spectrum', description: 'planned', analysis: 'hessian' },
  { label: 'Grokking statistics', description: 'planned', analysis: 'grokking' },
  { label: 'Trajectory landscape', description: 'planned', analysis: 'trajectory' },
];

async function pickKind(preset: ConfigurationPreset): Promise<KindItem | undefined> {
  if (preset.analysis) {
    const known = KINDS.find((k) => k.analysis === preset.analysis && (k.between ?? false) === (preset.between ?? false) && (!preset.dims || k.dims === preset.dims));
    if (known) return known;
  }
  return vscode.window.showQuickPick(KINDS, { title: 'Add Losscape configuration (1/4): analysis', ignoreFocusOut: true });
}

async function pickFile(folder: vscode.WorkspaceFolder, glob: string, title: string, none: string, exclude?: string): Promise<string | undefined> {
  const items = (await workspaceFileItems(folder, glob)).filter((i) => i.relative !== exclude);
  if (items.length === 0) {
    void vscode.window.showErrorMessage(`Losscape: ${none}`);
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true, matchOnDescription: true }))?.relative;
}

interface LossItem extends vscode.QuickPickItem {
  loss?: string;
}

async function pickLoss(preset: ConfigurationPreset): Promise<{ loss?: string } | undefined> {
  if (preset.loss || preset.lossModule) return { loss: preset.loss };
  const items: LossItem[] = [
    { label: "From the model's training config", description: 'the loss saved with model.json' },
    ...ENGINE_LOSSES.map((l) => ({ label: l.name, description: l.label, loss: l.name })),
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Add Losscape configuration (4/4): loss', ignoreFocusOut: true });
  return picked && { loss: picked.loss };
}

function defaultName(kind: KindItem, model: string): string {
  const where = path.basename(path.dirname(model)) || 'model';
  return `${where}: ${kind.label.replace(/^Loss landscape/, 'landscape')}`;
}

/** Runs the QuickPicks; saves and returns the new configuration (undefined if dismissed). */
export async function addConfiguration(preset: ConfigurationPreset = {}, log?: vscode.LogOutputChannel): Promise<FolderConfiguration | undefined> {
  const folder = await pickFolder();
  if (!folder) return undefined;
  const kind = await pickKind(preset);
  if (!kind) return undefined;
  const model = await pickFile(folder, '**/model.json', 'Add Losscape configuration (2/4): model', `no model.json in ${folder.name}; Losscape reads TF.js Layers models (model.json + weight shards).`);
  if (!model) return undefined;
  let to: string | undefined;
  if (kind.between) {
    to = await pickFile(folder, '**/model.json', 'Second checkpoint (the line goes from the first model to this one)', 'only one model.json in the workspace; between-checkpoints needs two.', model);
    if (!to) return undefined;
  }
  const data = await pickFile(folder, '**/*.{npz,npy,csv}', 'Add Losscape configuration (3/4): data', `no data file (.npz, .npy, .csv) in ${folder.name}.`);
  if (!data) return undefined;
  const loss = await pickLoss(preset);
  if (!loss) return undefined;
  const name = await vscode.window.showInputBox({ title: 'Configuration name', value: defaultName(kind, model), ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : 'a name is needed') });
  if (!name) return undefined;
  const config: RunConfiguration = {
    name: name.trim(),
    analysis: kind.analysis,
    model,
    data,
    ...(loss.loss ? { loss: loss.loss } : {}),
    ...(preset.fromLogits !== undefined ? { fromLogits: preset.fromLogits } : {}),
    ...(preset.lossModule ? { lossModule: preset.lossModule, ...(preset.lossExport ? { lossExport: preset.lossExport } : {}) } : {}),
    ...(kind.analysis === 'landscape' ? { dims: kind.dims ?? 2 } : {}),
    ...(to ? { to } : {}),
  };
  try {
    const file = await saveConfiguration(folder, config);
    log?.info(`added configuration "${config.name}" to ${file}`);
  } catch (err) {
    void vscode.window.showErrorMessage(`Losscape: ${errorMessage(err)}`);
    return undefined;
  }
  return { folder, config };
}
