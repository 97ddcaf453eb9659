import * as fs from 'node:fs';
import path from 'node:path';
import type { Frame, FrameDesc } from './framing';

/**
 * Frame slots: files in shared memory that carry a request's and its reply's vectors beside the
 * pipe (docs/torch-worker-protocol.md, "Frame slots"). Through a pipe, a 4 MB vector crosses in
 * 64 KiB reads, each an event-loop turn and a copy in the engine; through a slot it crosses in
 * one positional write and one read. Linux only (/dev/shm is memory, and extra stdio fds reach
 * the child); elsewhere, or with LOSSCAPE_TORCH_TRANSPORT=pipe, everything stays in the pipe.
 *
 * Each slot is a file created in /dev/shm, opened, and unlinked at once: the engine and the
 * worker hold it by descriptor only (the worker gets it as an extra stdio fd), so its memory is
 * freed when both have exited, whatever way they end — nothing is left in /dev/shm.
 *
 * A slot belongs to one request from the moment its frames are written until its reply has
 * been read: the worker reads a request's slot frames before it queues the request, and writes
 * its reply's frames into the same slot, so the two never overlap.
 */
export const SLOT_COUNT = 4;
/** Smaller frames stay in the pipe: a slot costs two system calls each way. */
export const SLOT_MIN_BYTES = 64 * 1024;
/** A slot holding more than this after a reply is truncated, so one large request does not keep its memory. */
const KEEP_BYTES = 64 * 2 ** 20;

const SHM_DIR = '/dev/shm';

export type Transport = 'slots' | 'pipe';

/** The transport new workers use: slots on Linux with a writable /dev/shm, unless LOSSCAPE_TORCH_TRANSPORT=pipe. */
export function chosenTransport(): Transport {
  const env = process.env.LOSSCAPE_TORCH_TRANSPORT;
  if (env === 'pipe') return 'pipe';
  if (process.platform !== 'linux') return 'pipe';
  try {
    fs.accessSync(SHM_DIR, fs.constants.W_OK);
    return 'slots';
  } catch {
    return 'pipe';
  }
}

/** A frame's place in a slot, as the header lists it: `{dtype, length, slot, offset}`. */
export interface SlotFrameDesc extends FrameDesc {
  slot: number;
  offset: number;
}

export class FrameSlots {
  readonly fds: number[] = [];
  private readonly free: number[] = [];
  private closed = false;

  /** Opens SLOT_COUNT unlinked files; throws when /dev/shm refuses (the caller falls back to the pipe). */
  constructor(count = SLOT_COUNT) {
    try {
      for (let k = 0; k < count; k++) {
        const file = path.join(SHM_DIR, `losscape-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${k}`);
        const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
        fs.unlinkSync(file);
        this.fds.push(fd);
        this.free.push(k);
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** A free slot's index, or undefined when every slot is taken (the request goes by pipe). */
  acquire(): number | undefined {
    return this.closed ? undefined : this.free.pop();
  }

  release(slot: number): void {
    if (this.closed) return;
    try {
      if (fs.fstatSync(this.fds[slot]).size > KEEP_BYTES) fs.ftruncateSync(this.fds[slot], 0);
    } catch {
      /* a slot that cannot be truncated only keeps its memory */
    }
    this.free.push(slot);
  }

  /**
   * Writes the frames of `slot`'s request that are big enough into the slot; their descriptors
   * say where. Returns undefined when the slot refuses the write (/dev/shm full): the caller
   * sends every frame by pipe instead.
   */
  writeFrames(slot: number, frames: readonly Frame[]): (FrameDesc | SlotFrameDesc)[] | undefined {
    const descs: (FrameDesc | SlotFrameDesc)[] = [];
    let offset = 0;
    try {
      for (const f of frames) {
        const dtype = f instanceof Float64Array ? 'f64' : 'f32';
        if (f.byteLength < SLOT_MIN_BYTES) {
          descs.push({ dtype, length: f.length });
          continue;
        }
        const bytes = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
        for (let done = 0; done < bytes.length; ) done += fs.writeSync(this.fds[slot], bytes, done, bytes.length - done, offset + done);
        descs.push({ dtype, length: f.length, slot, offset });
        offset += f.byteLength;
      }
      return descs;
    } catch {
      return undefined;
    }
  }

  /**
   * A reply's frame read out of its slot into a fresh array the caller owns, or into the start
   * of the buffer `into(size)` gives for its size in bytes, when that gives one.
   */
  readFrame(desc: SlotFrameDesc, into?: (size: number) => Uint8Array | undefined): Frame {
    if (!Number.isInteger(desc.slot) || desc.slot < 0 || desc.slot >= this.fds.length) throw new Error(`the torch worker named frame slot ${String(desc.slot)}, which does not exist`);
    const size = frameBytes(desc);
    const given = into?.(size);
    if (given && (given.byteLength < size || given.byteOffset % 8 !== 0)) throw new RangeError(`readFrame: a ${given.byteLength}-byte buffer cannot hold a ${size}-byte frame`);
    const bytes = given ? given.subarray(0, size) : uninitialisedBytes(size);
    for (let done = 0; done < bytes.length; ) {
      const k = fs.readSync(this.fds[desc.slot], bytes, done, bytes.length - done, desc.offset + done);
      if (k === 0) throw new Error(`the torch worker's frame slot ${desc.slot} ends before the frame it listed (${bytes.length} bytes at ${desc.offset})`);
      done += k;
    }
    return frameView(bytes, desc);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fd of this.fds) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already closed */
      }
    }
  }
}

/** A frame's size in bytes. */
export function frameBytes(desc: Pick<FrameDesc, 'dtype' | 'length'>): number {
  return desc.length * (desc.dtype === 'f64' ? 8 : 4);
}

/** A frame's bytes (frameBytes(desc) of them, aligned) as the frame's typed array. */
export function frameView(bytes: Uint8Array, desc: Pick<FrameDesc, 'dtype' | 'length'>): Frame {
  return desc.dtype === 'f64' ? new Float64Array(bytes.buffer, bytes.byteOffset, desc.length) : new Float32Array(bytes.buffer, bytes.byteOffset, desc.length);
}

/**
 * A frame's memory, not zero-filled: every byte is written before it is used. A zeroed
 * `new ArrayBuffer(4 MB)` cost 1.5–4.6 ms here against 0.6–1.6 ms for an uninitialised buffer
 * and its read — more than the copy itself. Its own ArrayBuffer (not Node's pool), offset 0.
 */
export function uninitialisedBytes(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, n);
}

/** The worker's view of the slots: the fds they get in the child (3, 4, …), for `--slot-fds`. */
export function childSlotFds(count: number): number[] {
  return Array.from({ length: count }, (_, k) => 3 + k);
}
