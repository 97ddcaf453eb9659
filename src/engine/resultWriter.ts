import { mkdirSync, renameSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import type { SidecarArray } from '../shared/provenance';
import type { LosscapeResult } from '../shared/result';

/**
 * Writes a result file and its binary sidecar. The JSON is rewritten atomically (temp file +
 * rename) after every unit of progress, so a cancelled, crashed or killed run always leaves a
 * valid file holding what was computed, marked `complete: false`.
 */
export function sidecarPath(out: string): string {
  return out.endsWith('.losscape.json') ? out.slice(0, -'.json'.length) + '.bin' : out + '.bin';
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

  write(): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w');
    try {
      for (const c of this.chunks) {
        // Float32Array is little-endian on every platform Node runs on that we support.
        writeSync(fd, new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
      }
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}

export function writeResult(out: string, result: LosscapeResult): void {
  mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(result, null, 1));
  renameSync(tmp, out);
}
