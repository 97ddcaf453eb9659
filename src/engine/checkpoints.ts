/**
 * Checkpoint series: the model.json files of one training run, found from folders, globs or
 * paths, ordered by training step and checked to share one architecture.
 *
 * Finding them. Each pattern is
 * - a folder: its subfolders' `model.json` (`run/step-000100/model.json`, …); when it has none,
 *   the `*.json` files directly inside it that are Layers models;
 * - a glob (`*`, `?`, `[…]`, `{a,b}`, `**`), matched with minimatch against paths relative to the
 *   working directory (quote it so the shell does not expand it; an expanded list works too);
 * - a model.json path.
 *
 * The step of a checkpoint (documented rule, in this order):
 * 1. a non-negative integer `step` in model.json, top level or in `userDefinedMetadata`
 *    (`model.setUserDefinedMetadata({step})` before saving writes the latter);
 * 2. else the last integer in its name: the file's stem, or, for a file named `model.json`, the
 *    name of the folder holding it (`step-000125/model.json` → 125, `ckpt_7.json` → 7,
 *    `epoch3-step200/model.json` → 200).
 * Two checkpoints with one step, or one without a step, are errors naming them.
 *
 * Same architecture: every checkpoint must have the first one's layer classes and weight shapes,
 * in order (names may differ: TF.js numbers layer names per process).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { Minimatch } from 'minimatch';
import { InputError } from '../shared/errors';
import { readInputFile } from './loaders/inputFile';

export interface CheckpointHeader {
  /** Absolute path of the model.json. */
  path: string;
  step: number;
  stepSource: 'file' | 'path';
  /** Layer classes in topology order. */
  layerClasses: string[];
  /** Weight shapes in manifest order (all weights, trainable or not). */
  weights: { name: string; shape: number[] }[];
  /** userDefinedMetadata of the model.json, if any. */
  metadata: Record<string, unknown> | undefined;
}

const MAGIC = /[*?[\]{}]/;

/** The most directory entries one glob may look at. */
const MAX_GLOB_ENTRIES = 200_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** Expands one glob pattern to the files it matches, sorted; relative patterns are resolved against cwd. */
export function expandGlob(pattern: string, cwd = process.cwd()): string[] {
  const abs = toPosix(path.resolve(cwd, pattern));
  const parts = abs.split('/');
  const firstMagic = parts.findIndex((p) => MAGIC.test(p));
  if (firstMagic < 0) return fs.existsSync(abs) ? [path.resolve(abs)] : [];
  const base = parts.slice(0, firstMagic).join('/') || '/';
  const mm = new Minimatch(abs, { dot: false });
  const out: string[] = [];
  // A symlink back up the tree would make `**` walk forever: each real folder is entered once,
  // and the walk as a whole is bounded.
  const entered = new Set<string>();
  let visited = 0;
  const walk = (dir: string): void => {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch {
      return;
    }
    if (entered.has(real)) return;
    entered.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    visited += entries.length;
    if (visited > MAX_GLOB_ENTRIES) throw new InputError(pattern, `visits more than ${MAX_GLOB_ENTRIES} files and folders; narrow the pattern`);
    for (const e of entries) {
      const p = dir === '/' ? `/${e.name}` : `${dir}/${e.name}`;
      const isDir = e.isDirectory() || (e.isSymbolicLink() && safeIsDir(p));
      if (mm.match(p)) out.push(path.resolve(p));
      // Descend only where the pattern can still match something below (minimatch's partial match).
      if (isDir && mm.match(p, true)) walk(p);
    }
  };
  if (fs.existsSync(base)) walk(base);
  return out.filter((p) => !safeIsDir(p)).sort();
}

function safeIsDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function looksLikeLayersModel(file: string): boolean {
  try {
    const j = JSON.parse(readInputFile(file, 'checkpoint').toString('utf8')) as unknown;
    return isObject(j) && isObject(j.modelTopology);
  } catch {
    return false;
  }
}

/**
 * The files a checkpoint series names: for each pattern, `listFolder`'s files when it is a folder,
 * a glob's matches, or the file itself; deduplicated, unordered. Shared by the TF.js series
 * (model.json checkpoints) and the torch series (weight files), which differ only in what a
 * folder holds.
 */
export function expandSeriesPatterns(
  patterns: string | string[],
  cwd: string,
  listFolder: (abs: string, pattern: string) => string[],
): string[] {
  const found = new Set<string>();
  for (const pattern of [patterns].flat()) {
    const abs = path.resolve(cwd, pattern);
    let files: string[];
    if (!MAGIC.test(pattern) && safeIsDir(abs)) {
      files = listFolder(abs, pattern);
    } else if (MAGIC.test(pattern)) {
      files = expandGlob(pattern, cwd);
      if (files.length === 0) throw new InputError(pattern, 'matches no files');
    } else {
      if (!fs.existsSync(abs)) throw new InputError(pattern, 'checkpoint not found');
      files = [abs];
    }
    for (const f of files) found.add(f);
  }
  return [...found];
}

/** The model.json files named by the patterns (folders, globs, paths), deduplicated, unordered. */
export function findCheckpointFiles(patterns: string | string[], cwd = process.cwd()): string[] {
  return expandSeriesPatterns(patterns, cwd, (abs, pattern) => {
    let files = fs
      .readdirSync(abs, { withFileTypes: true })
      .filter((e) => e.isDirectory() || (e.isSymbolicLink() && safeIsDir(path.join(abs, e.name))))
      .map((e) => path.join(abs, e.name, 'model.json'))
      .filter((f) => fs.existsSync(f));
    if (files.length === 0) {
      files = fs
        .readdirSync(abs)
        .filter((f) => f.toLowerCase().endsWith('.json'))
        .map((f) => path.join(abs, f))
        .filter(looksLikeLayersModel);
    }
    if (files.length === 0) throw new InputError(pattern, 'is a folder without checkpoints (no */model.json and no Layers model .json inside)');
    return files;
  });
}

/** The last integer in a checkpoint's name (rule 2 above), or null. */
export function stepFromPath(file: string): number | null {
  const base = path.basename(file);
  const stem = base.replace(/\.json$/i, '');
  const name = stem.toLowerCase() === 'model' ? path.basename(path.dirname(file)) : stem;
  const m = name.match(/\d+/g);
  if (!m) return null;
  const n = Number(m[m.length - 1]);
  return Number.isSafeInteger(n) ? n : null;
}

function stepFromJson(json: Record<string, unknown>): number | null {
  const meta = isObject(json.userDefinedMetadata) ? json.userDefinedMetadata : undefined;
  for (const v of [json.step, meta?.step]) {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  }
  return null;
}

function layerClassesOf(topology: Record<string, unknown>): string[] {
  // tfjs: modelTopology = {class_name, config: {layers: [...]}} (Keras 2 style; Keras 3 alike).
  const cfg = isObject(topology.model_config) ? topology.model_config : topology;
  const inner = isObject(cfg.config) ? cfg.config : undefined;
  const layers = inner && Array.isArray(inner.layers) ? inner.layers : [];
  return layers.map((l) => (isObject(l) && typeof l.class_name === 'string' ? l.class_name : '?'));
}

/** Reads what ordering and the architecture check need from a model.json, without loading weights. */
export function readCheckpointHeader(file: string): CheckpointHeader {
  let json: unknown;
  const bytes = readInputFile(file, 'checkpoint');
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new InputError(file, `is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (!isObject(json) || !isObject(json.modelTopology)) throw new InputError(file, 'is not a TF.js Layers model.json (no modelTopology)');
  const weights: { name: string; shape: number[] }[] = [];
  if (Array.isArray(json.weightsManifest)) {
    for (const g of json.weightsManifest) {
      if (!isObject(g) || !Array.isArray(g.weights)) continue;
      for (const w of g.weights) {
        if (isObject(w) && typeof w.name === 'string' && Array.isArray(w.shape)) weights.push({ name: w.name, shape: w.shape as number[] });
      }
    }
  }
  const fromFile = stepFromJson(json);
  const fromPath = fromFile === null ? stepFromPath(file) : null;
  if (fromFile === null && fromPath === null) {
    throw new InputError(file, "has no step: put the step in its name (e.g. step-000100/model.json) or a 'step' field in model.json");
  }
  return {
    path: path.resolve(file),
    step: (fromFile ?? fromPath)!,
    stepSource: fromFile !== null ? 'file' : 'path',
    layerClasses: layerClassesOf(json.modelTopology),
    weights,
    metadata: isObject(json.userDefinedMetadata) ? json.userDefinedMetadata : undefined,
  };
}

/** Throws an InputError naming the first checkpoint whose architecture differs from the first one's. */
export function checkSameArchitecture(headers: CheckpointHeader[]): void {
  const [ref, ...rest] = headers;
  if (!ref) return;
  const refName = path.basename(path.dirname(ref.path)) + '/' + path.basename(ref.path);
  for (const h of rest) {
    if (h.layerClasses.join() !== ref.layerClasses.join()) {
      throw new InputError(h.path, `is not the same architecture as ${refName}: layers [${h.layerClasses.join(', ')}] vs [${ref.layerClasses.join(', ')}]`);
    }
    if (h.weights.length !== ref.weights.length) {
      throw new InputError(h.path, `is not the same architecture as ${refName}: ${h.weights.length} weight tensors vs ${ref.weights.length}`);
    }
    h.weights.forEach((w, i) => {
      if (w.shape.join() !== ref.weights[i].shape.join()) {
        throw new InputError(h.path, `is not the same architecture as ${refName}: weight ${i} (${w.name}) has shape [${w.shape.join(', ')}], expected [${ref.weights[i].shape.join(', ')}]`);
      }
    });
  }
}

/** Finds, reads, orders (by step) and checks a checkpoint series. */
export function resolveCheckpoints(patterns: string | string[], cwd = process.cwd()): CheckpointHeader[] {
  const headers = findCheckpointFiles(patterns, cwd).map(readCheckpointHeader);
  headers.sort((a, b) => a.step - b.step || a.path.localeCompare(b.path));
  for (let i = 1; i < headers.length; i++) {
    if (headers[i].step === headers[i - 1].step) {
      throw new InputError(headers[i].path, `has step ${headers[i].step}, like ${headers[i - 1].path}; a series needs one checkpoint per step`);
    }
  }
  checkSameArchitecture(headers);
  return headers;
}

/** One hash for a whole series: sha256 over the checkpoints' own sha256 hex digests, in step order. */
export function seriesHash(hashes: string[]): string {
  const h = createHash('sha256');
  for (const s of hashes) h.update(s);
  return h.digest('hex');
}
