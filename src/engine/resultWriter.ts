import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../shared/errors';
import type { SidecarArray } from '../shared/provenance';
import type { LosscapeResult } from '../shared/result';
import { isInput } from './loaders/inputFile';

/**
 * Writes a result file and its binary sidecar so that a reader never sees a mismatched pair
 * and no input is ever written over (docs/architecture.md, "Result files"):
 *
 * - each run writes its sidecar under a fresh name, `<name>.losscape.<12 hex>.bin`, which the
 *   JSON's array descriptors name (`file`); the sidecar is complete (temporary + rename) before
 *   any JSON that refers to it is renamed into place;
 * - the JSON is rewritten atomically (temporary + rename) after every unit of progress, so a
 *   cancelled, crashed or killed run leaves a valid file marked `complete: false`, and the file
 *   on disk is always either the old result with its old sidecar or the new one with its new;
 * - once a JSON is in place, sidecars of the same result that it does not name (the previous
 *   run's, or an orphan of a run killed between its two writes) are removed, as are temporaries
 *   of dead processes;
 * - a path that is an input (after symlinks, or the same inode) is refused, and the engine
 *   holds `<out>.lock` for the run so two runs cannot interleave their writes (lockOutput).
 */

const SIDECAR_TAG = /^[0-9a-f]{12}$/;

function stemOf(out: string): string {
  return out.endsWith('.json') ? out.slice(0, -'.json'.length) : out;
}

/** The result path each fresh sidecar belongs to, so that its first write checks that path too. */
const resultOfSidecar = new Map<string, string>();

/** A fresh sidecar path for a run that writes `out`: `<stem>.<12 hex>.bin` beside it. */
export function freshSidecarPath(out: string): string {
  const file = `${stemOf(path.resolve(out))}.${randomBytes(6).toString('hex')}.bin`;
  resultOfSidecar.set(file, path.resolve(out));
  return file;
}

/** Where the array `desc` of the result file `resultFile` lives. */
export function sidecarFile(resultFile: string, desc: Pick<SidecarArray, 'file'>): string {
  return path.join(path.dirname(path.resolve(resultFile)), path.basename(desc.file));
}

/** One line for a failed write to `out`: full disk, permissions, a file where a folder should be. */
export function outputError(out: string, e: unknown): Error {
  if (e instanceof InputError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  const why: Record<string, string> = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'the disk quota is exceeded',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOTDIR: 'a part of its folder path is a file, not a folder',
    EEXIST: 'a part of its folder path is a file, not a folder',
    EISDIR: 'it is a folder',
    ENAMETOOLONG: 'the name is too long',
    EIO: 'an I/O error',
  };
  if (code && why[code]) return new InputError(out, `cannot be written: ${why[code]} (${code})`);
  return new InputError(out, `cannot be written (${code ?? (e as Error)?.message ?? String(e)})`);
}

/** Refuses an output path that is an input of this run, or a folder. */
export function checkOutputPath(out: string, more: string[] = []): void {
  const abs = path.resolve(out);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(abs);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) throw new InputError(out, 'is a folder; the result path names a file (e.g. result.losscape.json)');
  if (st && !st.isFile()) throw new InputError(out, 'is not a regular file; the result path must name a file');
  const same = (f: string): boolean => {
    try {
      const a = fs.statSync(f);
      return st !== undefined && a.dev === st.dev && a.ino === st.ino;
    } catch {
      return false;
    }
  };
  if (isInput(abs) || more.some(same)) {
    throw new InputError(out, 'is one of the analysis inputs (model, weights, data, checkpoint or loss module); choose another result path');
  }
}

let tmpSerial = 0;

/** Writes `data` to `file` through a temporary beside it; the temporary never outlives a failure. */
function writeAtomic(file: string, chunks: Uint8Array[] | string, reportAs: string): void {
  const tmp = `${file}.tmp-${process.pid}-${++tmpSerial}`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(tmp, 'wx');
    try {
      if (typeof chunks === 'string') fs.writeFileSync(fd, chunks);
      else for (const c of chunks) fs.writeSync(fd, c);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw outputError(reportAs, e);
  }
}

export class SidecarWriter {
  private readonly chunks: Float32Array[] = [];
  private offset = 0;
  constructor(readonly file: string) {}

  /** Reserves space for an array; returns its descriptor (offsets in float32 elements). */
  add(values: Float32Array): SidecarArray {
    const desc: SidecarArray = { file: path.basename(this.file), offset: this.offset, length: values.length, dtype: 'float32' };
    this.chunks.push(values);
    this.offset += values.length;
    return desc;
  }

  /** Writes every array added so far (the file only grows: earlier descriptors stay valid). */
  write(): void {
    // The sidecar is written before its JSON: a result path that may not be written stops it here.
    const out = resultOfSidecar.get(this.file);
    if (out !== undefined) checkOutputPath(out);
    if (isInput(this.file)) throw new InputError(this.file, 'is one of the analysis inputs; choose another result path');
    // Float32Array is little-endian on every platform Node runs on that we support.
    writeAtomic(this.file, this.chunks.map((c) => new Uint8Array(c.buffer, c.byteOffset, c.byteLength)), this.file);
  }
}

/** The sidecar file names a result (or any JSON value) refers to. */
function sidecarNames(json: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(json)) {
    for (const v of json) if (v !== null && typeof v === 'object') sidecarNames(v, into);
  } else if (json !== null && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    if (typeof o.file === 'string' && o.dtype === 'float32' && typeof o.offset === 'number') into.add(path.basename(o.file));
    else for (const v of Object.values(o)) if (v !== null && typeof v === 'object') sidecarNames(v, into);
  }
  return into;
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * After `out` has been replaced by `result`: removes the sidecars of the same result that it
 * does not refer to, and temporaries left by dead processes. A sidecar is only ever one this
 * writer names (`<stem>.<12 hex>.bin`), or the older `<stem>.bin` when the previous JSON named
 * it; inputs are never touched.
 */
function removeStale(out: string, keep: Set<string>, previous: Set<string>): void {
  const dir = path.dirname(out);
  const base = path.basename(out);
  const stem = path.basename(stemOf(out));
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    let stale = false;
    if (name.startsWith(`${stem}.`) && name.endsWith('.bin') && !keep.has(name)) {
      const tag = name.slice(stem.length + 1, -'.bin'.length);
      stale = SIDECAR_TAG.test(tag) || (name === `${stem}.bin` && previous.has(name));
    } else {
      const m = /\.tmp-(\d+)(-\d+)?$/.exec(name);
      if (m && (name.startsWith(`${base}.tmp-`) || name.startsWith(`${stem}.`))) stale = !pidAlive(Number(m[1]));
    }
    const file = path.join(dir, name);
    if (stale && !isInput(file)) {
      try {
        fs.unlinkSync(file);
      } catch {
        // gone already, or not ours to remove
      }
    }
  }
}

function previousSidecars(out: string): Set<string> {
  try {
    return sidecarNames(JSON.parse(fs.readFileSync(out, 'utf8')));
  } catch {
    return new Set();
  }
}

export function writeResult(out: string, result: LosscapeResult): void {
  const abs = path.resolve(out);
  checkOutputPath(abs);
  const previous = fs.existsSync(`${stemOf(abs)}.bin`) ? previousSidecars(abs) : new Set<string>();
  writeAtomic(abs, JSON.stringify(result, null, 1), out);
  removeStale(abs, sidecarNames(result), previous);
}

/** The pid of a live process holding `<file>.lock` other than this one, or null. */
export function lockHolder(file: string): number | null {
  let holder = NaN;
  try {
    holder = Number(fs.readFileSync(`${path.resolve(file)}.lock`, 'utf8').trim());
  } catch {
    return null;
  }
  return pidAlive(holder) && holder !== process.pid ? holder : null;
}

/**
 * Holds `<out>.lock` while `run` writes `out`: a second run on the same path is refused in one
 * line instead of interleaving its JSON with the first one's sidecar. A lock left by a killed
 * process (its pid is gone) is taken over. Also checks, before any work, that `out` can be
 * written and is none of `inputs` (the paths the spec names; files found while loading are
 * checked again at every write).
 */
export async function lockOutput<T>(out: string, inputs: string[], run: () => Promise<T>): Promise<T> {
  const abs = path.resolve(out);
  checkOutputPath(abs, inputs);
  const lock = `${abs}.lock`;
  try {
    fs.mkdirSync(path.dirname(abs), { recursive: true });
  } catch (e) {
    throw outputError(out, e);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = fs.openSync(lock, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' || attempt > 2) throw outputError(out, e);
      let holder = NaN;
      try {
        holder = Number(fs.readFileSync(lock, 'utf8').trim());
      } catch {
        // vanished between open and read: try again
      }
      if (pidAlive(holder) && holder !== process.pid) {
        throw new InputError(out, `is being written by another Losscape run (pid ${holder}); wait for it to finish or choose another result path`);
      }
      try {
        fs.unlinkSync(lock);
      } catch {
        // someone else removed it
      }
    }
  }
  try {
    removeStale(abs, previousSidecars(abs), new Set());
    return await run();
  } finally {
    // A run that failed between its sidecar and its JSON (a full disk, an error) leaves the
    // result file as it was: the sidecar it wrote is not named there and goes.
    removeStale(abs, previousSidecars(abs), new Set());
    try {
      fs.unlinkSync(lock);
    } catch {
      // already gone
    }
  }
}

