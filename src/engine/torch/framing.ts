import os from 'node:os';
import { frameBytes, frameView, uninitialisedBytes } from './frameSlots';

/**
 * The torch worker's message framing (docs/torch-worker-protocol.md, "Framing"): a u32 LE header
 * length, the UTF-8 JSON header, then the raw little-endian bytes of each frame the header lists.
 * Vectors travel only as frames, never as JSON arrays.
 */
export type Frame = Float32Array | Float64Array;

export interface FrameDesc {
  dtype: 'f32' | 'f64';
  length: number;
  /** Set when the frame's bytes are in a frame slot (frameSlots.ts), not in the stream. */
  slot?: number;
  offset?: number;
}

export interface Message {
  header: Record<string, unknown>;
  frames: Frame[];
}

// Typed arrays use the platform's byte order; every platform Node and torch ship for is LE.
if (os.endianness() !== 'LE') throw new Error('the torch worker protocol needs a little-endian machine');

/**
 * The buffers of one message, in order (written with one writev-style burst). `descs`, when
 * given, are the frames' descriptors as frameSlots.ts wrote them: a frame in a slot is listed but
 * not sent.
 */
export function encodeMessage(header: Record<string, unknown>, frames: readonly Frame[] = [], descs?: readonly FrameDesc[]): Buffer[] {
  const listed: readonly FrameDesc[] = descs ?? frames.map((f) => ({ dtype: f instanceof Float64Array ? 'f64' : 'f32', length: f.length }));
  const json = Buffer.from(JSON.stringify({ ...header, frames: listed }), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length, 0);
  const inline = frames.filter((_, i) => listed[i].slot === undefined);
  return [len, json, ...inline.map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength))];
}

/** JSON has no NaN/Infinity: the worker sends them as strings; this turns them back into numbers. */
export function reviveNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number.NaN;
}

/**
 * Incremental parser of the worker's stdout: `push` chunks as they arrive, complete messages
 * come out in order. Frames are copied into their own (aligned) buffers.
 */
export class MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private pending: { header: Record<string, unknown>; descs: FrameDesc[]; need: number } | null = null;

  /**
   * `fromSlot` reads a frame the header places in a frame slot (the message's header and the
   * frame's index given too); without it such a frame is an error.
   */
  constructor(private readonly fromSlot?: (desc: FrameDesc & { slot: number; offset: number }, header: Record<string, unknown>, index: number) => Frame) {}

  push(chunk: Buffer): Message[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Message[] = [];
    for (;;) {
      if (!this.pending) {
        if (this.buffered < 4) break;
        const hlen = this.peek(4).readUInt32LE(0);
        if (this.buffered < 4 + hlen) break;
        this.take(4);
        const header = JSON.parse(this.take(hlen).toString('utf8')) as Record<string, unknown>;
        const descs = Array.isArray(header.frames) ? (header.frames as FrameDesc[]) : [];
        let need = 0;
        for (const d of descs) {
          if (d.dtype !== 'f32' && d.dtype !== 'f64') throw new Error(`torch worker sent a frame of unknown dtype ${String(d.dtype)}`);
          if (d.slot === undefined) need += frameBytes(d);
          else if (!this.fromSlot) throw new Error('torch worker sent a frame in a slot, but this reader has none');
        }
        this.pending = { header, descs, need };
      }
      if (this.buffered < this.pending.need) break;
      const header = this.pending.header;
      const frames = this.pending.descs.map((d, i) => {
        if (d.slot !== undefined) return this.fromSlot!({ ...d, slot: d.slot, offset: Number(d.offset) }, header, i);
        const bytes = uninitialisedBytes(frameBytes(d));
        this.takeInto(bytes);
        return frameView(bytes, d);
      });
      out.push({ header: this.pending.header, frames });
      this.pending = null;
    }
    return out;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all.subarray(0, n);
  }

  /** The next dst.length bytes copied straight into dst (a frame spans many pipe chunks: one copy, no concat). */
  private takeInto(dst: Uint8Array): void {
    let at = 0;
    while (at < dst.length) {
      const first = this.chunks[0];
      const k = Math.min(first.length, dst.length - at);
      dst.set(k === first.length ? first : first.subarray(0, k), at);
      at += k;
      if (k === first.length) this.chunks.shift();
      else this.chunks[0] = first.subarray(k);
    }
    this.buffered -= dst.length;
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}
