/**
 * NumPy `.npy` reader and writer (format versions 1.0, 2.0 and 3.0; see numpy's
 * `numpy/lib/format.py`). Only what a data set or a weight file needs: little-endian numeric
 * arrays in C order. Everything else is refused with a message that says how to re-save it.
 */
import { InputError } from '../../shared/errors';

export type NdDtype =
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'bool';

export type NdData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array;

export interface NdArray {
  dtype: NdDtype;
  shape: number[];
  /** C order; bool arrays hold one byte (0 or 1) per element. */
  data: NdData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** descr without its byte-order character → dtype. */
const DESCR_TO_DTYPE: Record<string, NdDtype> = {
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  b1: 'bool',
};

const DTYPE_TO_DESCR: Record<NdDtype, string> = {
  float32: '<f4',
  float64: '<f8',
  int8: '|i1',
  int16: '<i2',
  int32: '<i4',
  int64: '<i8',
  uint8: '|u1',
  uint16: '<u2',
  uint32: '<u4',
  bool: '|b1',
};

const ITEMSIZE: Record<NdDtype, number> = {
  float32: 4,
  float64: 8,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  bool: 1,
};

const READABLE = 'use float32, float64 or an integer type';

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Views `buf` (a fresh, 0-offset buffer, so always aligned) as the dtype's typed array. */
function typedView(dtype: NdDtype, buf: ArrayBuffer, offset = 0, length?: number): NdData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf, offset, length);
    case 'float64':
      return new Float64Array(buf, offset, length);
    case 'int8':
      return new Int8Array(buf, offset, length);
    case 'int16':
      return new Int16Array(buf, offset, length);
    case 'int32':
      return new Int32Array(buf, offset, length);
    case 'int64':
      return new BigInt64Array(buf, offset, length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf, offset, length);
    case 'uint16':
      return new Uint16Array(buf, offset, length);
    case 'uint32':
      return new Uint32Array(buf, offset, length);
  }
}

function explainDescr(descr: string, source: string): NdDtype {
  const order = descr[0];
  const code = descr.slice(1);
  const kind = code[0];
  if (kind === 'c') {
    throw new InputError(source, `has dtype '${descr}' (complex), which Losscape cannot read; ${READABLE}`);
  }
  if (kind === 'f' && code === 'f2') {
    throw new InputError(source, `has dtype '${descr}' (float16), which Losscape cannot read; save it with arr.astype('float32')`);
  }
  if (kind === 'O') {
    throw new InputError(source, `holds Python objects (dtype '${descr}'), which Losscape cannot read; convert it to a numeric array first`);
  }
  if (kind === 'U' || kind === 'S' || kind === 'a') {
    throw new InputError(source, `holds strings (dtype '${descr}'), which Losscape cannot read; encode them as integers first`);
  }
  const dtype = DESCR_TO_DTYPE[code];
  if (dtype === undefined) {
    throw new InputError(source, `has dtype '${descr}', which Losscape cannot read; ${READABLE}`);
  }
  // Single-byte types have no byte order; numpy writes '|', but '<', '>' and '=' mean the same.
  if (order === '>' && ITEMSIZE[dtype] > 1) {
    throw new InputError(source, `is big-endian (dtype '${descr}'); save it little-endian with arr.astype('<${code}')`);
  }
  if (order !== '<' && order !== '|' && order !== '=' && order !== '>') {
    throw new InputError(source, `has an unreadable dtype '${descr}'; ${READABLE}`);
  }
  return dtype;
}

/** Parses the header dict, a Python literal like {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }. */
function parseHeader(header: string, source: string): { dtype: NdDtype; shape: number[] } {
  const descrMatch = /'descr'\s*:\s*'([^']*)'/.exec(header);
  if (!descrMatch) {
    if (/'descr'\s*:\s*\[/.test(header)) {
      throw new InputError(source, `holds a structured (record) array, which Losscape cannot read; save each field as its own array`);
    }
    throw new InputError(source, `has a malformed .npy header (no 'descr'); re-save it with np.save`);
  }
  const fortranMatch = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  if (!fortranMatch) {
    throw new InputError(source, `has a malformed .npy header (no 'fortran_order'); re-save it with np.save`);
  }
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!shapeMatch) {
    throw new InputError(source, `has a malformed .npy header (no 'shape'); re-save it with np.save`);
  }
  const dtype = explainDescr(descrMatch[1], source);
  if (fortranMatch[1] === 'True') {
    throw new InputError(source, `is stored in Fortran order; save it with np.save(path, np.ascontiguousarray(arr))`);
  }
  const shape: number[] = [];
  for (const part of shapeMatch[1].split(',')) {
    const t = part.trim().replace(/L$/, ''); // Python 2 wrote long ints as 3L
    if (t === '') continue;
    const n = Number(t);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new InputError(source, `has a malformed .npy header (shape (${shapeMatch[1]})); re-save it with np.save`);
    }
    shape.push(n);
  }
  return { dtype, shape };
}

export function parseNpy(bytes: Uint8Array, source: string): NdArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new InputError(source, 'is not a NumPy .npy file (bad magic bytes); save arrays with np.save');
  }
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new InputError(source, 'is truncated inside its .npy header');
    headerLen = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new InputError(source, `uses .npy format version ${major}.${bytes[7]}, which Losscape cannot read (1.0–3.0 are supported)`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw new InputError(source, 'is truncated inside its .npy header');
  // Version 3.0 allows UTF-8 field names; 1.0/2.0 headers are latin1 (ASCII in practice).
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const { dtype, shape } = parseHeader(header, source);

  const n = elementCount(shape);
  const need = n * ITEMSIZE[dtype];
  const have = bytes.length - dataStart;
  if (have < need) {
    throw new InputError(source, `is truncated: shape (${shape.join(', ')}) of ${dtype} needs ${need} data bytes but the file holds ${have}`);
  }
  // A view when the data are aligned for their type (numpy pads the header to 64 bytes, and a
  // file read whole or a zip member inflated by fflate starts its own buffer): the copy cost
  // ~20 ms of the demo's 31 MB load. Otherwise a copy into a fresh buffer, as typed arrays need
  // aligned offsets (an odd offset inside Node's Buffer pool, say); not bytes.slice(): on a Node
  // Buffer that is a view, not a copy. `bytes` is the caller's to give up (it is not reused).
  const at = bytes.byteOffset + dataStart;
  if (at % ITEMSIZE[dtype] === 0 && bytes.buffer instanceof ArrayBuffer) return { dtype, shape, data: typedView(dtype, bytes.buffer, at, n) };
  const copy = new Uint8Array(need);
  copy.set(bytes.subarray(dataStart, dataStart + need));
  return { dtype, shape, data: typedView(dtype, copy.buffer) };
}

function shapeLiteral(shape: readonly number[]): string {
  if (shape.length === 0) return '()';
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** Encodes C-order, little-endian .npy; header padded so the data starts on a 64-byte boundary. */
export function encodeNpy(arr: NdArray): Uint8Array {
  const n = elementCount(arr.shape);
  if (arr.data.length !== n) {
    throw new RangeError(`encodeNpy: shape (${arr.shape.join(', ')}) holds ${n} elements but data has ${arr.data.length}`);
  }
  const dict = `{'descr': '${DTYPE_TO_DESCR[arr.dtype]}', 'fortran_order': False, 'shape': ${shapeLiteral(arr.shape)}, }`;
  // Version 1.0 has a 2-byte header length; fall back to 2.0 only for huge shapes.
  const v1 = dict.length + 1 + 10 <= 0xffff;
  const prefix = v1 ? 10 : 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const headerLen = total - prefix;
  const header = dict + ' '.repeat(headerLen - dict.length - 1) + '\n';

  const dataBytes = new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  const out = new Uint8Array(total + dataBytes.length);
  out.set(MAGIC, 0);
  out[6] = v1 ? 1 : 2;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (v1) dv.setUint16(8, headerLen, true);
  else dv.setUint32(8, headerLen, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  // Typed arrays are platform-endian; every platform Node supports is little-endian.
  out.set(dataBytes, total);
  return out;
}

/** Converts to float32 (what the models consume); int64 values must be exactly representable. */
export function toFloat32(arr: NdArray, source = 'array'): Float32Array {
  if (arr.data instanceof Float32Array) return arr.data;
  if (arr.data instanceof BigInt64Array) {
    const out = new Float32Array(arr.data.length);
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    for (let i = 0; i < arr.data.length; i++) {
      const v = arr.data[i];
      if (v > max || v < -max) {
        throw new InputError(source, `holds int64 value ${v} outside ±2^53, which cannot be converted to a number; rescale or use int32`);
      }
      out[i] = Number(v);
    }
    return out;
  }
  return Float32Array.from(arr.data);
}
