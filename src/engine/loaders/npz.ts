/**
 * NumPy `.npz` archives: a zip of `.npy` members, stored (np.savez) or deflated
 * (np.savez_compressed). numpy writes every member with Zip64 local headers; fflate reads
 * sizes from the central directory, which numpy keeps 32-bit for small members, so both load.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { InputError } from '../../shared/errors';
import { encodeNpy, parseNpy, type NdArray } from './npy';
import { checkSize } from './inputFile';

export function parseNpz(bytes: Uint8Array, source: string): Record<string, NdArray> {
  // Zip local-file signature PK\x03\x04 (an empty archive starts with the end record PK\x05\x06).
  const isZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);
  if (!isZip) {
    throw new InputError(source, 'is not an .npz archive (not a zip file); save arrays with np.savez or np.savez_compressed');
  }
  let members: Record<string, Uint8Array>;
  // The central directory states each member's inflated size; fflate inflates into a buffer of
  // exactly that size, so checking it first bounds memory even for a zip bomb.
  let inflated = 0;
  try {
    members = unzipSync(bytes, {
      filter: (f) => {
        if (!f.name.endsWith('.npy')) return false;
        checkSize(`${source}[${f.name.slice(0, -'.npy'.length)}]`, f.originalSize, 'inflates to');
        inflated += f.originalSize;
        checkSize(source, inflated, 'has members that inflate to');
        return true;
      },
    });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(source, `is a damaged .npz archive (${(e as Error).message}); re-save it with np.savez`);
  }
  const out: Record<string, NdArray> = {};
  for (const [name, data] of Object.entries(members)) {
    // np.savez only writes `<key>.npy`; anything else (e.g. a stray __MACOSX entry) is skipped.
    if (!name.endsWith('.npy')) continue;
    const key = name.slice(0, -'.npy'.length);
    out[key] = parseNpy(data, `${source}[${key}]`);
  }
  return out;
}

export function encodeNpz(arrays: Record<string, NdArray>, compress = false): Uint8Array {
  const files: Zippable = {};
  for (const [key, arr] of Object.entries(arrays)) {
    files[`${key}.npy`] = [encodeNpy(arr), { level: compress ? 6 : 0 }];
  }
  return zipSync(files);
}
