import type { SidecarArray } from './provenance';

/** Reads one float32 array out of sidecar bytes (the caller reads the file; shared code has no fs). */
export function readSidecarArray(bytes: Uint8Array, desc: SidecarArray): Float32Array {
  const start = desc.offset * 4;
  const end = start + desc.length * 4;
  if (end > bytes.byteLength) {
    throw new Error(`${desc.file}: sidecar is ${bytes.byteLength} bytes, array needs bytes ${start}..${end}`);
  }
  const copy = bytes.slice(start, end);
  return new Float32Array(copy.buffer, copy.byteOffset, desc.length);
}
