/**
 * "Losscape: Add Configuration…": builds a run configuration from QuickPicks over what the
 * workspace holds (models: model.json, .keras, .h5, or a PyTorch module in a .py file with its
 * class or factory and weights; checkpoint series for grokking and trajectory; data files;
 * losses, a Python loss for PyTorch models) and saves it in .vscode/losscape.json. A PyTorch
 * configuration starts with its torch options written out (device, dtype, the interpreter when
 * one is selected) so that they are visible and editable.
 */
import path from 'node:path';
import * as vscode from 'vscode';
import { ENGINE_LOSSES } from '../../shared/lossNames';
import { errorMessage } from '../util/disposables';
import { saveConfiguration, type FolderConfiguration } from './configStore';
import { describeSeries, findCheckpointSeries } from './checkpointSeries';
import { CHECKPOINT_ANALYSES, HESSIAN_DEFAULTS, type AnalysisName, type RunConfiguration } from './runConfig';
import { pythonInterpreter } from '../engine/pythonInterpreter';
import { lossCandidates, modelCandidates, pythonSymbols, type PythonSymbol } from './pythonSymbols';
import { MODEL_GLOB, pickFolder, TORCH_MODEL_GLOB, TORCH_WEIGHTS_GLOB, workspaceFileItems, type WorkspaceFileItem } from './workspaceFiles';

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

async function pickFile(folder: vscode.WorkspaceFolder, glob: string, title: string, none: string, exclude?: string, more: WorkspaceFileItem[] = []): Promise<string | undefined> {
  const items = [...(await workspaceFileItems(folder, glob)), ...more].filter((i) => i.relative !== exclude);
  if (items.length === 0) {
    void vscode.window.showErrorMessage(`Losscape: ${none}`);
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true, matchOnDescription: true }))?.relative;
}

interface LossItem extends vscode.QuickPickItem {
  loss?: string;
  /** A Python loss in a workspace file (PyTorch models). */
  python?: true;
}

const lossKnown = (preset: ConfigurationPreset): boolean => Boolean(preset.loss || preset.lossModule);

interface PickedLoss {
  loss?: string;
  lossModule?: string;
  lossExport?: string;
}

async function pickLoss(folder: vscode.WorkspaceFolder, preset: ConfigurationPreset, title: () => string, torch: boolean): Promise<PickedLoss | undefined> {
  if (lossKnown(preset)) return { loss: preset.loss };
  // A PyTorch model carries no loss: a built-in one, or a Python function / nn.Module class.
  const items: LossItem[] = [
    ...(torch
      ? [{ label: '$(file-code) A Python loss in a workspace file…', description: 'a function (outputs, targets) or an nn.Module class, run as loss.py:NAME', python: true as const }]
      : [{ label: "From the model's training config", description: 'the loss saved with model.json' }]),
    ...ENGINE_LOSSES.map((l) => ({ label: l.name, description: l.label, loss: l.name })),
  ];
  const shown = title();
  const picked = await vscode.window.showQuickPick(items, { title: shown, ignoreFocusOut: true });
  if (!picked) return undefined;
  if (!picked.python) return { loss: picked.loss };
  const file = await pickFile(folder, TORCH_MODEL_GLOB, `${shown}: the Python file`, `no .py file in ${folder.name}.`);
  if (!file) return undefined;
  const symbol = await pickSymbol(folder, file, `${shown}: the loss in ${file}`, lossCandidates);
  return symbol ? { lossModule: file, lossExport: symbol } : undefined;
}

interface SymbolItem extends vscode.QuickPickItem {
  name: string;
}

/** A class or function of a workspace .py file, ordered by `rank` (nn.Module classes first for a model, loss-like names for a loss). */
async function pickSymbol(folder: vscode.WorkspaceFolder, file: string, title: string, rank: (s: PythonSymbol[]) => PythonSymbol[]): Promise<string | undefined> {
  const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder.uri, file)));
  const symbols = rank(pythonSymbols(text));
  if (symbols.length === 0) {
    void vscode.window.showErrorMessage(`Losscape: ${file} defines no top-level class or function.`);
    return undefined;
  }
  const items: SymbolItem[] = symbols.map((s) => ({ label: s.name, description: s.kind === 'class' ? `class (${s.detail})` : `def ${s.name}(${s.detail})`, detail: `line ${s.line + 1}`, name: s.name }));
  return (await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true, matchOnDescription: true }))?.name;
}

interface WeightsItem extends vscode.QuickPickItem {
  relative?: string;
}

/** The PyTorch weights: a state_dict / checkpoint dict / .safetensors of the workspace, or none (the module's own initialisation). */
async function pickWeights(folder: vscode.WorkspaceFolder, title: string): Promise<{ weights?: string } | undefined> {
  const files = await workspaceFileItems(folder, TORCH_WEIGHTS_GLOB);
  const items: WeightsItem[] = [...files, { label: 'None', description: "the module's own initialisation (as the class or factory makes it)" }];
  const picked = await vscode.window.showQuickPick(items, { title, ignoreFocusOut: true, matchOnDescription: true });
  return picked && { weights: picked.relative };
}

/** The interpreter a new PyTorch configuration names: the selected one (Python extension, losscape.pythonPath), not the plain default. */
async function selectedPython(folder: vscode.WorkspaceFolder): Promise<string | undefined> {
  const python = await pythonInterpreter(folder);
  return python === 'python3' ? undefined : python;
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
  // PyTorch modules (.py files) are listed after the TF.js/Keras models; their class or factory and weights are sub-steps.
  const pythonFiles = series ? [] : (await workspaceFileItems(folder, TORCH_MODEL_GLOB)).map((i) => ({ ...i, description: 'PyTorch: a class or factory in it (next)' }));
  const model = series
    ? await pickCheckpoints(folder, steps.next('checkpoints'))
    : await pickFile(
        folder,
        MODEL_GLOB,
        steps.next(kind.between ? 'first model' : 'model'),
        `no model in ${folder.name}; Losscape reads TF.js Layers models (model.json + weight shards), Keras .keras / .h5 files and PyTorch modules (.py).`,
        undefined,
        pythonFiles,
      );
  if (!model) return undefined;
  const torch = !series && model.endsWith('.py');
  let torchModel: { model: string; weights?: string } | undefined;
  if (torch) {
    const symbol = await pickSymbol(folder, model, steps.title(`the PyTorch model in ${model} (a class or factory returning an nn.Module)`), modelCandidates);
    if (!symbol) return undefined;
    const weights = await pickWeights(folder, steps.title(`weights of ${symbol}${kind.between ? ' at t = 0' : ''} (a state_dict, a checkpoint dict holding one, or .safetensors)`));
    if (!weights) return undefined;
    torchModel = { model: `${model}:${symbol}`, ...weights };
  }
  let to: string | undefined;
  if (kind.between) {
    to = torch
      ? await pickFile(folder, TORCH_WEIGHTS_GLOB, steps.title('second weights (the line goes from the first weights to these)'), 'no second weights file in the workspace; between-checkpoints needs two.', torchModel?.weights)
      : await pickFile(folder, MODEL_GLOB, steps.title('second model (the line goes from the first model to this one)'), 'only one model in the workspace; between-checkpoints needs two.', model);
    if (!to) return undefined;
  }
  const data = await pickFile(folder, '**/*.{npz,npy,csv}', steps.next('data'), `no data file (.npz, .npy, .csv) in ${folder.name}.`);
  if (!data) return undefined;
  const loss = await pickLoss(folder, preset, () => steps.next('loss'), torch);
  if (!loss) return undefined;
  const python = torch ? await selectedPython(folder) : undefined;
  const name = await vscode.window.showInputBox({ title: steps.next('name'), prompt: `Saved in .vscode/losscape.json with "samples": ${DEFAULT_SAMPLES} (a seeded subset; edit it there)`, value: defaultName(kind, model, series), ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : 'a name is needed') });
  if (!name) return undefined;
  const config: RunConfiguration = {
    name: name.trim(),
    analysis: kind.analysis,
    ...(series ? { checkpoints: model } : { model: torchModel?.model ?? model }),
    ...(torchModel?.weights ? { weights: torchModel.weights } : {}),
    data,
    ...(loss.loss ? { loss: loss.loss } : {}),
    ...(loss.lossModule ? { lossModule: loss.lossModule, lossExport: loss.lossExport } : {}),
    // The torch engine's options, written out to be seen and edited.
    ...(torch ? { device: 'auto', dtype: 'float32' as const, ...(python ? { python } : {}) } : {}),
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
