/**
 * Data sets from the files users have (docs/architecture.md, "Inputs and outputs"):
 *
 * - `data.npz` with arrays `x`, `y` and optionally `x_test`, `y_test` (both or neither).
 * - A features `.npy` plus a labels `.npy`: given by `labelsPath`, or found beside it by name.
 *   The rule: split the file's stem on `_`, `-` and `.`; the last part that is exactly `x` (or
 *   `X`) becomes `y` (or `Y`): `x.npy` → `y.npy`, `data_x.npy` → `data_y.npy`,
 *   `X_train.npy` → `Y_train.npy`. A test split is picked up when the stems hold a `train`
 *   part and the `test` versions of both files exist (`x_train.npy` → `x_test.npy`, `y_test.npy`).
 * - A folder holding `x.npy` and `y.npy` (or `x_train.npy` and `y_train.npy`), with optional
 *   `x_test.npy` and `y_test.npy`.
 * - `.csv` with a header row and a label column (`labelColumn`, default `label`).
 *
 * `sha256` is the hash of the bytes of every file read, in the order x, y, x_test, y_test: for an
 * .npz or .csv that is the plain hash of the file; for .npy pairs it also covers the labels, so a
 * result's provenance changes when only the labels do.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../../shared/errors';
import { parseCsv } from './csv';
import { parseNpy, toFloat32, type NdArray } from './npy';
import { parseNpz } from './npz';
import { checkSize, readInputFile, statInput } from './inputFile';
import { assertFiniteRows } from './finite';

export interface Split {
  x: Float32Array;
  xShape: number[];
  y: Float32Array;
  yShape: number[];
}

export interface Dataset {
  train: Split;
  test?: Split;
  /** y is 1-D and holds class indices (integer dtype, or integral CSV labels, all ≥ 0). */
  labelsAreIndices: boolean;
  source: string;
  sha256: string;
}

export interface DatasetOptions {
  labelColumn?: string;
  labelsPath?: string;
}

const SUPPORTED =
  'Losscape reads .npz (arrays x, y, optional x_test, y_test), a .npy pair (features and labels), ' +
  'a folder holding x.npy and y.npy, or .csv with a label column';

const INTEGER_DTYPES = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'bool']);

async function readExisting(file: string, what = 'file'): Promise<Uint8Array> {
  return readInputFile(file, what);
}

/** The sibling named by replacing the last stem part equal to `from` (case kept), or null. */
function swapPart(file: string, from: string, to: string): string | null {
  const dir = path.dirname(file);
  const ext = path.extname(file);
  const parts = path.basename(file, ext).split(/([_.-])/); // keep separators at odd indices
  for (let i = parts.length - 1; i >= 0; i -= 2) {
    if (parts[i].toLowerCase() === from) {
      const isUpper = parts[i] === parts[i].toUpperCase() && parts[i] !== parts[i].toLowerCase();
      parts[i] = isUpper ? to.toUpperCase() : to;
      return path.join(dir, parts.join('') + ext);
    }
  }
  return null;
}

function checkSplit(x: NdArray, y: NdArray, xName: string, yName: string, source: string): void {
  if (x.shape.length === 0) throw new InputError(source, `${xName} is a scalar; it needs one row per sample`);
  if (y.shape.length === 0) throw new InputError(source, `${yName} is a scalar; it needs one label per sample`);
  if (x.shape[0] !== y.shape[0]) {
    throw new InputError(source, `${xName} has ${x.shape[0]} samples but ${yName} has ${y.shape[0]}; their first dimensions must match`);
  }
  if (x.shape[0] === 0) throw new InputError(source, `${xName} holds no samples`);
}

function toSplit(x: NdArray, y: NdArray, xName: string, yName: string, source: string): Split {
  const split = { x: toFloat32(x, xName), xShape: [...x.shape], y: toFloat32(y, yName), yShape: [...y.shape] };
  // Every sample, not only a --samples subset: the file is the input, whatever part is used.
  assertFiniteRows(split.x, split.xShape, source, xName);
  assertFiniteRows(split.y, split.yShape, source, yName);
  return split;
}

function areIndices(y: NdArray): boolean {
  if (!INTEGER_DTYPES.has(y.dtype) || y.shape.length !== 1) return false;
  for (const v of y.data) if (v < 0) return false;
  return true;
}

/** Builds the data set from parsed arrays; names are what error messages call them. */
function assemble(
  a: { x: NdArray; y: NdArray; xTest?: NdArray; yTest?: NdArray },
  names: { x: string; y: string; xTest: string; yTest: string },
  source: string,
  sha256: string,
): Dataset {
  checkSplit(a.x, a.y, names.x, names.y, source);
  const train = toSplit(a.x, a.y, names.x, names.y, source);
  let labelsAreIndices = areIndices(a.y);
  let test: Split | undefined;
  if (a.xTest && a.yTest) {
    checkSplit(a.xTest, a.yTest, names.xTest, names.yTest, source);
    const same = (p: number[], q: number[]): boolean => p.slice(1).join() === q.slice(1).join();
    if (!same(a.x.shape, a.xTest.shape) || a.y.shape.length !== a.yTest.shape.length || !same(a.y.shape, a.yTest.shape)) {
      throw new InputError(
        source,
        `test split shapes x (${a.xTest.shape.join(', ')}), y (${a.yTest.shape.join(', ')}) do not match the training split's x (${a.x.shape.join(', ')}), y (${a.y.shape.join(', ')}) beyond the first dimension`,
      );
    }
    test = toSplit(a.xTest, a.yTest, names.xTest, names.yTest, source);
    labelsAreIndices = labelsAreIndices && areIndices(a.yTest);
  }
  return { train, test, labelsAreIndices, source, sha256 };
}

function hashOf(...parts: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

async function loadNpz(file: string): Promise<Dataset> {
  const bytes = await readExisting(file);
  const arrays = parseNpz(bytes, file);
  const keys = Object.keys(arrays);
  for (const k of ['x', 'y']) {
    if (!(k in arrays)) {
      throw new InputError(file, `has no array '${k}' (it holds: ${keys.join(', ') || 'nothing'}); save with np.savez(path, x=..., y=..., x_test=..., y_test=...)`);
    }
  }
  if (('x_test' in arrays) !== ('y_test' in arrays)) {
    const missing = 'x_test' in arrays ? 'y_test' : 'x_test';
    throw new InputError(file, `has a test split without '${missing}'; save both x_test and y_test, or neither`);
  }
  const b = (k: string): string => `${path.basename(file)}[${k}]`;
  return assemble(
    { x: arrays.x, y: arrays.y, xTest: arrays.x_test, yTest: arrays.y_test },
    { x: b('x'), y: b('y'), xTest: b('x_test'), yTest: b('y_test') },
    file,
    hashOf(bytes),
  );
}

interface NpyFiles {
  x: string;
  y: string;
  xTest?: string;
  yTest?: string;
}

/** Reads and checks x, y and the optional test pair; the hash covers them in that order. */
async function loadNpyFiles(f: NpyFiles, source: string): Promise<Dataset> {
  const xBytes = await readExisting(f.x);
  const yBytes = await readExisting(f.y, 'labels file');
  const hashed = [xBytes, yBytes];
  const arrays: { x: NdArray; y: NdArray; xTest?: NdArray; yTest?: NdArray } = {
    x: parseNpy(xBytes, f.x),
    y: parseNpy(yBytes, f.y),
  };
  if (f.xTest && f.yTest) {
    const xtb = await readExisting(f.xTest);
    const ytb = await readExisting(f.yTest);
    arrays.xTest = parseNpy(xtb, f.xTest);
    arrays.yTest = parseNpy(ytb, f.yTest);
    hashed.push(xtb, ytb);
  }
  const b = (p?: string): string => path.basename(p ?? '');
  return assemble(arrays, { x: b(f.x), y: b(f.y), xTest: b(f.xTest), yTest: b(f.yTest) }, source, hashOf(...hashed));
}

/** A features file and its labels, plus the test pair when the names say `train` and both exist. */
async function loadNpyPair(xFile: string, yFile: string): Promise<Dataset> {
  const xTest = swapPart(xFile, 'train', 'test');
  const yTest = swapPart(yFile, 'train', 'test');
  const hasTest = xTest !== null && yTest !== null && fs.existsSync(xTest) && fs.existsSync(yTest);
  return loadNpyFiles({ x: xFile, y: yFile, ...(hasTest ? { xTest, yTest } : {}) }, xFile);
}

async function loadFolder(dir: string): Promise<Dataset> {
  const xTest = path.join(dir, 'x_test.npy');
  const yTest = path.join(dir, 'y_test.npy');
  const hasTest = fs.existsSync(xTest) && fs.existsSync(yTest);
  for (const [xName, yName] of [['x.npy', 'y.npy'], ['x_train.npy', 'y_train.npy']]) {
    const x = path.join(dir, xName);
    const y = path.join(dir, yName);
    if (fs.existsSync(x) && fs.existsSync(y)) return loadNpyFiles({ x, y, ...(hasTest ? { xTest, yTest } : {}) }, dir);
  }
  const present = fs.readdirSync(dir).filter((f) => /\.(npy|npz|csv)$/i.test(f));
  throw new InputError(dir, `is a folder without x.npy and y.npy (it holds: ${present.join(', ') || 'no data files'}); point at a data file or add x.npy and y.npy`);
}

export async function loadDataset(file: string, opts: DatasetOptions = {}): Promise<Dataset> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new InputError(file, `data file not found (looked for ${path.resolve(file)})`);
  }
  if (stat.isDirectory()) return loadFolder(file);

  const ext = path.extname(file).toLowerCase();
  if (ext === '.npz') return loadNpz(file);
  if (ext === '.npy') {
    let yFile = opts.labelsPath;
    if (yFile === undefined) {
      const sibling = swapPart(file, 'x', 'y');
      if (sibling === null || !fs.existsSync(sibling)) {
        const hint = sibling ? `, or put them in ${path.basename(sibling)} beside it` : ' (or name the features file like data_x.npy and the labels data_y.npy)';
        throw new InputError(file, `has no labels: set labelsPath to the labels .npy${hint}`);
      }
      yFile = sibling;
    }
    return loadNpyPair(file, yFile);
  }
  if (ext === '.csv') {
    // csv-parse holds every cell as a string: about 16 bytes of memory per byte of text.
    checkSize(file, statInput(file, 'data file').size * 16, 'needs about 16× its size to parse as CSV:');
    const bytes = await readExisting(file);
    const csv = parseCsv(new TextDecoder('utf-8').decode(bytes), file, opts.labelColumn ?? 'label');
    return {
      train: { x: csv.x, xShape: csv.xShape, y: csv.y, yShape: csv.yShape },
      labelsAreIndices: csv.labelsAreIndices,
      source: file,
      sha256: hashOf(bytes),
    };
  }
  throw new InputError(file, `has an unsupported extension '${ext || '(none)'}'; ${SUPPORTED}`);
}

/** The rows of `split` at `indices`, in that order (mini-batches, subsampled evaluation sets). */
export function subsetSplit(split: Split, indices: Int32Array): Split {
  const n = split.xShape[0];
  const xRow = split.xShape.slice(1).reduce((a, b) => a * b, 1);
  const yRow = split.yShape.slice(1).reduce((a, b) => a * b, 1);
  const x = new Float32Array(indices.length * xRow);
  const y = new Float32Array(indices.length * yRow);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (i < 0 || i >= n) throw new RangeError(`subsetSplit: index ${i} is outside 0..${n - 1}`);
    x.set(split.x.subarray(i * xRow, (i + 1) * xRow), k * xRow);
    y.set(split.y.subarray(i * yRow, (i + 1) * yRow), k * yRow);
  }
  return { x, xShape: [indices.length, ...split.xShape.slice(1)], y, yShape: [indices.length, ...split.yShape.slice(1)] };
}
