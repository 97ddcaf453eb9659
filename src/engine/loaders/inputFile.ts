/**
 * Every file an analysis reads goes through here, for three guarantees (docs/architecture.md,
 * "Inputs and outputs"):
 *
 * - only regular files are read: a FIFO or a device (`/dev/zero`) would block or never end, and
 *   opening a FIFO already blocks, so the type is checked with stat() before open();
 * - nothing larger than the read limit is read or decoded: the size is known before reading
 *   (stat, a zip's central directory, an .npy header's shape × dtype) and checked against
 *   `maxInputBytes()`, a share of free memory (`LOSSCAPE_MAX_BYTES` overrides);
 * - every file read is recorded, so that the result writer can refuse to write over one.
 */
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../shared/errors';

/**
 * The most bytes one input may hold (file size, or decoded size for archives and arrays). A
 * quarter of free memory: a file is held once as read, once decoded to float32 and once as
 * tensors, with room left for the analysis itself.
 */
export function maxInputBytes(): number {
  const env = process.env.LOSSCAPE_MAX_BYTES;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (Number.isFinite(n) && n > 0) return Math.floor(n);
  }
  return Math.max(64 * 2 ** 20, Math.floor(os.freemem() / 4));
}

export function formatBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** Refuses `bytes` (of `what`, in `source`) over the read limit, before anything is allocated. */
export function checkSize(source: string, bytes: number, what = 'is'): void {
  const limit = maxInputBytes();
  if (bytes > limit) {
    const envSet = process.env.LOSSCAPE_MAX_BYTES ? 'LOSSCAPE_MAX_BYTES' : 'a quarter of free memory; LOSSCAPE_MAX_BYTES overrides';
    throw new InputError(source, `${what} ${formatBytes(bytes)}, over the ${formatBytes(limit)} Losscape reads at once (${envSet})`);
  }
}

const reads = new Map<string, { dev: number; ino: number }>();

/** Forgets the inputs of the previous analysis (the engine runs one at a time). */
export function beginInputs(): void {
  reads.clear();
}

function record(file: string, st: fs.Stats): void {
  let real = path.resolve(file);
  try {
    real = fs.realpathSync(file);
  } catch {
    // recorded by its resolved path
  }
  reads.set(real, { dev: st.dev, ino: st.ino });
}

/** Whether `file` (after symlinks, or as the same inode: hard links) is something read as input. */
export function isInput(file: string): boolean {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return false;
  }
  for (const [real, r] of reads) {
    if (r.dev !== st.dev || r.ino !== st.ino) continue;
    // The same inode: the input itself, a symlink or a hard link to it — unless the input has
    // since been deleted and its inode number reused by a new file.
    try {
      const now = fs.statSync(real);
      if (now.dev === r.dev && now.ino === r.ino) return true;
    } catch {
      // deleted: not an input any more
    }
  }
  return false;
}

/** The inputs read so far (real paths), for messages. */
export function inputsRead(): string[] {
  return [...reads.keys()];
}

const describeType = (st: fs.Stats): string =>
  st.isFIFO() ? 'a named pipe (FIFO)' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';

/**
 * stat() of an input that must be a regular file; `what` names it in messages ('model file',
 * 'data file', …). Missing, unreadable, folders, pipes and devices are InputErrors.
 */
export function statInput(file: string, what = 'file'): fs.Stats {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError(file, `${what} not found (looked for ${path.resolve(file)})`);
    if (code === 'ELOOP') throw new InputError(file, 'is a symbolic link that loops');
    throw new InputError(file, `cannot be read (${code ?? (e as Error).message})`);
  }
  if (st.isDirectory()) throw new InputError(file, `is a folder, expected a ${what}`);
  if (!st.isFile()) throw new InputError(file, `is ${describeType(st)}, expected a ${what}; Losscape reads regular files only`);
  return st;
}

/** Reads a whole input file after checking its type and size; records it as an input. */
export function readInputFile(file: string, what = 'file'): Buffer {
  const st = statInput(file, what);
  checkSize(file, st.size);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(file, `cannot be read (${code ?? (e as Error).message})`);
  }
  record(file, st);
  return bytes;
}

/** Records a file read some other way (e.g. by esbuild) as an input. */
export function recordInput(file: string): void {
  try {
    record(file, fs.statSync(file));
  } catch {
    // not there: nothing to protect
  }
}
