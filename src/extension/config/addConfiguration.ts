/**
 * "Losscape: Add Configuration…": builds a run configuration from QuickPicks over what the
 * workspace holds (models: model.json, .keras, .h5; checkpoint series for grokking and
 * trajectory; data files; losses) and saves it in .vscode/losscape.json.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { ENGINE_LOSSES } from '../../shared/lossNames';
import { errorMessage } from '../util/disposables';
import { saveConfiguration, type FolderConfiguration } from './configStore';
import { describeSeries, findCheckpointSeries } from './checkpointSeries';
import { CHECKPOINT_ANALYSES, HESSIAN_DEFAULTS, type AnalysisName, type RunConfiguration } from './runConfig';
import { MODEL_GLOB, pickFolder, workspaceFileItems } from './workspaceFiles';

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
  { label: 'Sharpness', description: 'SAM, ASAM, Keskar and average-case sharpness at the model', analysis: 'sharpness' },
  { label: 'Hessian spectrum', description: 'top eigenvalues and trace of the Hessian (or GGN, Fisher)', analysis: 'hessian' },
  { label: 'Grokking statistics', description: 'losses, norms, NTK and events over a checkpoint series', analysis: 'grokking' },
  { label: 'Trajectory landscape', description: 'the loss on the PCA plane of a checkpoint series, with the training path', analysis: 'trajectory' },
  { label: 'Pruning saliency (M-FAC)', description: 'Optimal-Brain-Surgeon saliency of every weight', analysis: 'saliency' },
];

function presetKind(preset: ConfigurationPreset): KindItem | undefined {
  if (!preset.analysis) return undefined;
  return KINDS.find((k) => k.analysis === preset.analysis && (k.between ?? false) === (preset.between ?? false) && (!preset.dims || k.dims === preset.dims));
}

/**
 * The titles of the steps actually shown, numbered "(k/N)": the analysis and the loss are not
 * asked when the caller already knows them (a command of that analysis, a CodeLens's loss).
 */
export class Steps {
  private k = 0;
  readonly total: number;
  constructor(askKind: boolean, askLoss: boolean) {
    // analysis?, model (or checkpoints, with the second model of a line), data, loss?, name
    this.total = (askKind ? 1 : 0) + 3 + (askLoss ? 1 : 0);
  }
  next(what: string): string {
    this.k++;
    return this.title(what);
  }
  /** A sub-step of the current step (the second model of a line). */
  title(what: string): string {
    return `Add Losscape configuration (${this.k}/${this.total}): ${what}`;
  }
}

/** Starting number of training samples written in a new configuration (visible and editable). */
export const DEFAULT_SAMPLES = 1024;

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

const lossKnown = (preset: ConfigurationPreset): boolean => Boolean(preset.loss || preset.lossModule);

async function pickLoss(preset: ConfigurationPreset, title: () => string): Promise<{ loss?: string } | undefined> {
  if (lossKnown(preset)) return { loss: preset.loss };
  const items: LossItem[] = [
    { label: "From the model's training config", description: 'the loss saved with model.json' },
    ...ENGINE_LOSSES.map((l) => ({ label: l.name, description: l.label, loss: l.name })),
  ];
  const picked = await vscode.window.showQuickPick(items, { title: title(), ignoreFocusOut: true });
  return picked && { loss: picked.loss };
}

interface SeriesItem extends vscode.QuickPickItem {
  /** The folder of checkpoint folders; undefined: enter a glob. */
  folder?: string;
}

/** A folder of checkpoint folders (…/step-N/model.json) of the workspace, or a glob typed in. */
async function pickCheckpoints(folder: vscode.WorkspaceFolder, title: string): Promise<string | undefined> {
  const series = findCheckpointSeries((await workspaceFileItems(folder, '**/model.json', 5000)).map((i) => i.relative));
  const items: SeriesItem[] = series.map((s) => ({ label: s.folder === '.' ? `. (${folder.name})` : s.folder, description: describeSeries(s), folder: s.folder }));
  items.push({ label: '$(edit) Enter a folder or glob…', description: "e.g. run/step-*/model.json (each checkpoint's step: the last number in its name)", alwaysShow: true });
  const picked = await vscode.window.showQuickPick(items, {
    title,
    ignoreFocusOut: true,
    matchOnDescription: true,
    placeHolder: series.length ? 'A folder whose subfolders are the checkpoints of one run' : `No folder of checkpoint folders (…/step-N/model.json) found in ${folder.name}`,
  });
  if (!picked) return undefined;
  if (picked.folder !== undefined) return picked.folder;
  const typed = await vscode.window.showInputBox({
    title,
    value: 'checkpoints/*/model.json',
    prompt: 'A folder of checkpoint folders, or a glob of model.json files, relative to the workspace folder',
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() ? undefined : 'a folder or glob is needed'),
  });
  return typed?.trim() || undefined;
}

function defaultName(kind: KindItem, model: string, series: boolean): string {
  // A series is named by its folder: the last path segment before any glob character.
  const plain = model.split('/').filter((p) => p && p !== '.');
  const stop = plain.findIndex((p) => /[*?[\]{}]/.test(p));
  // A model.json by its folder, a .keras / .h5 by its name.
  const single = path.basename(model) === 'model.json' ? path.basename(path.dirname(model)) : path.basename(model, path.extname(model));
  const where = (series ? (stop < 0 ? plain : plain.slice(0, stop)).pop() : single.replace(/^\.$/, '')) || (series ? 'checkpoints' : 'model');
  return `${where}: ${kind.label.replace(/^Loss landscape/, 'landscape')}`;
}

/** Options a new configuration of this kind starts with (visible and editable in the file). */
function startingOptions(kind: KindItem): Partial<RunConfiguration> {
  // A seeded subset keeps the first run short (a 41×41 grid on 8,000 samples takes minutes); the
  // engine uses all samples when the data has fewer.
  const samples = { samples: DEFAULT_SAMPLES };
  if (kind.analysis === 'landscape') return { dims: kind.dims ?? 2, ...samples };
  if (kind.analysis === 'hessian') return { ...samples, ...HESSIAN_DEFAULTS };
  return samples;
}

/** Runs the QuickPicks; saves and returns the new configuration (undefined if dismissed). */
export async function addConfiguration(preset: ConfigurationPreset = {}, log?: vscode.LogOutputChannel): Promise<FolderConfiguration | undefined> {
  const folder = await pickFolder();
  if (!folder) return undefined;
  const known = presetKind(preset);
  const steps = new Steps(!known, !lossKnown(preset));
  const kind = known ?? (await vscode.window.showQuickPick(KINDS, { title: steps.next('analysis'), ignoreFocusOut: true }));
  if (!kind) return undefined;
  const series = CHECKPOINT_ANALYSES.has(kind.analysis);
  const model = series
    ? await pickCheckpoints(folder, steps.next('checkpoints'))
    : await pickFile(
        folder,
        MODEL_GLOB,
        steps.next(kind.between ? 'first model' : 'model'),
        `no model in ${folder.name}; Losscape reads TF.js Layers models (model.json + weight shards) and Keras .keras / .h5 files.`,
      );
  if (!model) return undefined;
  let to: string | undefined;
  if (kind.between) {
    to = await pickFile(folder, MODEL_GLOB, steps.title('second model (the line goes from the first model to this one)'), 'only one model in the workspace; between-checkpoints needs two.', model);
    if (!to) return undefined;
  }
  const data = await pickFile(folder, '**/*.{npz,npy,csv}', steps.next('data'), `no data file (.npz, .npy, .csv) in ${folder.name}.`);
  if (!data) return undefined;
  const loss = await pickLoss(preset, () => steps.next('loss'));
  if (!loss) return undefined;
  const name = await vscode.window.showInputBox({ title: steps.next('name'), prompt: `Saved in .vscode/losscape.json with "samples": ${DEFAULT_SAMPLES} (a seeded subset; edit it there)`, value: defaultName(kind, model, series), ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : 'a name is needed') });
  if (!name) return undefined;
  const config: RunConfiguration = {
    name: name.trim(),
    analysis: kind.analysis,
    ...(series ? { checkpoints: model } : { model }),
    data,
    ...(loss.loss ? { loss: loss.loss } : {}),
    ...(preset.fromLogits !== undefined ? { fromLogits: preset.fromLogits } : {}),
    ...(preset.lossModule ? { lossModule: preset.lossModule, ...(preset.lossExport ? { lossExport: preset.lossExport } : {}) } : {}),
    ...startingOptions(kind),
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
