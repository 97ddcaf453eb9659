/**
 * Reading HDF5 (Keras weights) through h5wasm, the HDF5 C library compiled to wasm. h5wasm is
 * ESM-only, so it is loaded with import(); it reads from its in-memory file system, so each file
 * is copied in, read synchronously, and deleted again. HDF5 prints its error stack to stderr
 * on any failed call, so paths are probed link by link rather than by failing look-ups.
 */
import { InputError } from '../../shared/errors';

type H5 = typeof import('h5wasm');
export type H5File = InstanceType<H5['File']>;
export type H5Group = InstanceType<H5['Group']>;
export type H5Dataset = InstanceType<H5['Dataset']>;

let loading: Promise<H5> | undefined;

/** While above 0, HDF5's own printing is dropped: the InputError we throw says what is wrong. */
let quiet = 0;

/**
 * h5wasm's Emscripten runtime binds its stderr printer to `console.error` once, when the module
 * is instantiated, and HDF5 prints its whole error stack through it on every failed call (a
 * truncated file gives dozens of lines). So console.error is wrapped for that moment only: the
 * runtime keeps the wrapper, which forwards everything except while `quiet`.
 */
export function h5wasm(): Promise<H5> {
  loading ??= (async () => {
    const real = console.error;
    console.error = (...args: unknown[]): void => {
      if (quiet === 0) real.apply(console, args);
    };
    try {
      const m = await import('h5wasm/node');
      await m.ready;
      return m as unknown as H5;
    } finally {
      console.error = real;
    }
  })();
  return loading;
}

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** HDF5's superblock starts at byte 0, 512, 1024, 2048, … (a user block may come first). */
export function isHdf5(bytes: Uint8Array): boolean {
  for (let at = 0; at + SIGNATURE.length <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (SIGNATURE.every((b, i) => bytes[at + i] === b)) return true;
  }
  return false;
}

let serial = 0;

/** Opens `bytes` as an HDF5 file for `read`, then closes it and frees the in-memory copy; `what` names it inside `source` ('' for the file itself). */
export async function withH5File<T>(bytes: Uint8Array, source: string, what: string, read: (f: H5File) => T): Promise<T> {
  const subject = what ? `${what} ` : '';
  if (!isHdf5(bytes)) throw new InputError(source, `${subject}is not an HDF5 file (no HDF5 signature)`);
  const m = await h5wasm();
  const fs = m.FS!;
  const name = `/losscape-${process.pid}-${++serial}.h5`;
  fs.writeFile(name, bytes);
  let file: H5File | undefined;
  quiet++;
  try {
    try {
      file = new m.File(name, 'r');
    } catch (e) {
      throw new InputError(source, `${subject}cannot be opened as HDF5 (truncated or corrupt? ${String(e instanceof Error ? e.message : e)})`);
    }
    return read(file);
  } catch (e) {
    // Anything h5wasm throws while reading (a corrupt object header, an unsupported type) is
    // the file's fault: one line naming it.
    if (e instanceof InputError) throw e;
    throw new InputError(source, `${subject}cannot be read as HDF5 (${String(e instanceof Error ? e.message : e).split('\n')[0]})`);
  } finally {
    try {
      file?.close();
    } catch {
      // a file that failed half way may not close cleanly; its memory is freed with the unlink
    }
    fs.unlink(name);
    quiet--;
  }
}

/** The group or dataset at `path` below `root`, or null when any link on the way is missing. */
export function lookup(root: H5Group, path: string): H5Group | H5Dataset | null {
  let node: H5Group | H5Dataset = root;
  for (const part of path.split('/').filter((p) => p !== '')) {
    if (!('keys' in node) || !node.keys().includes(part)) return null;
    const next = node.get(part);
    if (!next || !('keys' in next || 'shape' in next)) return null;
    node = next as H5Group | H5Dataset;
  }
  return node;
}

export const isGroup = (n: unknown): n is H5Group => n !== null && typeof n === 'object' && 'keys' in n && 'create_group' in n;
export const isDataset = (n: unknown): n is H5Dataset => n !== null && typeof n === 'object' && 'shape' in n && !('keys' in n);

const clean = (s: string): string => s.replace(/[\0 ]+$/, '');

/** A string attribute (h5py writes str as variable-length and bytes as fixed-length strings). */
export function stringAttr(node: H5Group | H5Dataset, name: string): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(node.attrs, name)) return undefined;
  const v = node.attrs[name].value;
  if (typeof v === 'string') return clean(v);
  if (v instanceof Uint8Array) return clean(new TextDecoder().decode(v));
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return clean(v[0]);
  return undefined;
}

/**
 * A list-of-strings attribute such as Keras's `layer_names` and `weight_names`; Keras splits
 * long ones into `name0`, `name1`, … (HDF5's 64 KiB object-header limit). An empty list is
 * written by numpy as an empty float array.
 */
export function stringListAttr(node: H5Group | H5Dataset, name: string): string[] {
  const attrs = node.attrs;
  const read = (key: string): string[] => {
    const v = attrs[key].value;
    if (typeof v === 'string') return [clean(v)];
    if (Array.isArray(v)) return v.map((s) => clean(String(s)));
    return [];
  };
  if (Object.prototype.hasOwnProperty.call(attrs, name)) return read(name);
  const out: string[] = [];
  for (let i = 0; Object.prototype.hasOwnProperty.call(attrs, `${name}${i}`); i++) out.push(...read(`${name}${i}`));
  return out;
}

/** A dataset's values as float32 (Keras stores float32; float64 is narrowed). */
export function readFloat32(ds: H5Dataset, source: string, where: string): { shape: number[]; values: Float32Array } {
  if (Object.prototype.hasOwnProperty.call(ds.attrs, 'dtype')) {
    throw new InputError(source, `${where} is stored as ${stringAttr(ds, 'dtype') ?? 'a special dtype'}; Losscape reads float32 and float64 weights only`);
  }
  const v = ds.value;
  const shape = ds.shape ?? [];
  if (v instanceof Float32Array) return { shape, values: v };
  if (v instanceof Float64Array) return { shape, values: Float32Array.from(v) };
  throw new InputError(source, `${where} has dtype '${String(ds.dtype)}'; Losscape reads float32 and float64 weights only`);
}
