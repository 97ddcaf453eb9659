import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chosenTransport, FrameSlots, SLOT_COUNT, SLOT_MIN_BYTES } from '../../src/engine/torch/frameSlots';
import { encodeMessage, MessageReader } from '../../src/engine/torch/framing';
import { TorchWorker } from '../../src/engine/torch/worker';
import { torchPython } from './helpers/torchTwins';

/**
 * Frame slots (src/engine/torch/frameSlots.ts, docs/torch-worker-protocol.md "Frame slots"): big
 * vectors cross in shared-memory files beside the pipe. The whole torch-engine suite runs over
 * them on Linux; these tests pin down the slots themselves and that they change no bit.
 */
function ours(): string[] {
  return fs.readdirSync('/dev/shm').filter((n) => n.startsWith(`losscape-${process.pid}-`));
}

/** Greets `w` and loads a 6-3000-3 tanh MLP (over 64 KiB of parameters) on 24 samples; its θ's length. */
async function loadWide(w: TorchWorker, dir: string): Promise<number> {
  fs.writeFileSync(path.join(dir, 'wide.py'), 'import torch\nfrom torch import nn\n\n\ndef wide():\n    torch.manual_seed(0)\n    return nn.Sequential(nn.Linear(6, 3000), nn.Tanh(), nn.Linear(3000, 3))\n');
  const n = 24;
  const x = Float64Array.from({ length: n * 6 }, (_, i) => Math.cos(i));
  const y = Float32Array.from({ length: n }, (_, i) => i % 3);
  await w.request('hello');
  const load = await w.request('load', { model: { kind: 'module', file: path.join(dir, 'wide.py'), name: 'wide' }, data: { kind: 'frames', xShape: [n, 6], yShape: [n] }, loss: { kind: 'builtin', name: 'categorical_crossentropy' }, dtype: 'float32', device: 'cpu', batchSize: 8 }, [x, y]);
  return load.result.dim as number;
}

describe('torch frame slots', function () {
  // Linux behaviour (the slots need /dev/shm and extra stdio fds), where CI and the test set-up
  // run; elsewhere chosenTransport() gives the pipe.
  this.timeout(120_000);

  it('write and read back f32 and f64 frames; small frames stay in the stream', () => {
    const slots = new FrameSlots(2);
    try {
      const big = Float32Array.from({ length: SLOT_MIN_BYTES / 4 }, (_, i) => Math.sin(i));
      const small = new Float64Array([1, 2, 3]);
      const big64 = Float64Array.from({ length: SLOT_MIN_BYTES / 8 + 5 }, (_, i) => i / 7);
      const descs = slots.writeFrames(1, [big, small, big64])!;
      assert.deepEqual(descs, [
        { dtype: 'f32', length: big.length, slot: 1, offset: 0 },
        { dtype: 'f64', length: 3 },
        { dtype: 'f64', length: big64.length, slot: 1, offset: big.byteLength },
      ]);
      const back0 = slots.readFrame(descs[0] as never);
      const back2 = slots.readFrame(descs[2] as never);
      assert.ok(back0 instanceof Float32Array && back2 instanceof Float64Array);
      assert.deepEqual(back0, big);
      assert.deepEqual(back2, big64);
      // The message lists all three frames but carries only the small one.
      const bufs = encodeMessage({ id: 1, method: 'x', params: {}, slot: 1 }, [big, small, big64], descs);
      assert.equal(bufs.length, 3);
      assert.equal(bufs[2].byteLength, small.byteLength);
    } finally {
      slots.close();
    }
  });

  it('the files are unlinked at once: nothing of ours is left in /dev/shm', () => {
    const slots = new FrameSlots();
    try {
      assert.equal(slots.fds.length, SLOT_COUNT);
      assert.deepEqual(ours(), []);
    } finally {
      slots.close();
    }
  });

  it('a slot is lent to one request at a time, and a large one is truncated when given back', () => {
    const slots = new FrameSlots(2);
    try {
      const a = slots.acquire();
      const b = slots.acquire();
      assert.notEqual(a, undefined);
      assert.notEqual(b, undefined);
      assert.notEqual(a, b);
      assert.equal(slots.acquire(), undefined, 'a third request goes by pipe');
      slots.writeFrames(a!, [new Float32Array((65 * 2 ** 20) / 4)]);
      assert.ok(fs.fstatSync(slots.fds[a!]).size > 64 * 2 ** 20);
      slots.release(a!);
      assert.equal(fs.fstatSync(slots.fds[a!]).size, 0);
      assert.equal(slots.acquire(), a);
    } finally {
      slots.close();
    }
  });

  it('the reader takes a slot frame from the slot, and refuses one when it has no slots', () => {
    const slots = new FrameSlots(1);
    try {
      const v = Float32Array.from({ length: SLOT_MIN_BYTES }, (_, i) => i);
      const descs = slots.writeFrames(0, [v])!;
      const msg = Buffer.concat(encodeMessage({ id: 4, result: {} }, [v], descs));
      const [m] = new MessageReader((d) => slots.readFrame(d)).push(msg);
      assert.deepEqual(m.frames[0], v);
      assert.throws(() => new MessageReader().push(msg), /slot/);
    } finally {
      slots.close();
    }
  });

  it('LOSSCAPE_TORCH_TRANSPORT=pipe turns them off', () => {
    const before = process.env.LOSSCAPE_TORCH_TRANSPORT;
    try {
      process.env.LOSSCAPE_TORCH_TRANSPORT = 'pipe';
      assert.equal(chosenTransport(), 'pipe');
      delete process.env.LOSSCAPE_TORCH_TRANSPORT;
      assert.equal(chosenTransport(), 'slots');
    } finally {
      if (before === undefined) delete process.env.LOSSCAPE_TORCH_TRANSPORT;
      else process.env.LOSSCAPE_TORCH_TRANSPORT = before;
    }
  });

  it('a worker answers the same bits through slots as through the pipe, with more requests in flight than slots', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'losscape-slots-'));
    const answers: Float32Array[][] = [];
    try {
      for (const transport of ['pipe', 'slots'] as const) {
        const w = new TorchWorker(torchPython(), [], transport);
        try {
          const dim = await loadWide(w, dir);
          assert.ok(dim * 4 >= SLOT_MIN_BYTES);
          // Six products at once: four get a slot, two go by pipe; all must come back right.
          const vs = Array.from({ length: 6 }, (_, k) => Float32Array.from({ length: dim }, (_, i) => Math.sin(i * (k + 1))));
          const replies = await Promise.all(vs.map((v) => w.request('matmat', { operator: 'hessian', resultDtype: 'f32' }, [v])));
          const g = await w.request('grad', { resultDtype: 'f32' });
          answers.push([...replies.map((r) => r.frames[0] as Float32Array), g.frames[0] as Float32Array]);
          const lent = (w as unknown as { slots: FrameSlots | null }).slots;
          if (transport === 'slots') {
            // Every slot carried a product (each holds at least one vector now).
            assert.ok(lent);
            for (const fd of lent.fds) assert.ok(fs.fstatSync(fd).size >= dim * 4);
          } else assert.equal(lent, null);
        } finally {
          w.close();
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const [pipe, slots] = answers;
    assert.equal(pipe.length, slots.length);
    for (let i = 0; i < pipe.length; i++) assert.deepEqual(slots[i], pipe[i], `reply ${i}`);
    assert.deepEqual(ours(), []);
  });

  it('scratch replies: the same bits as fresh ones, in memory reused only once given back, never shared between replies in flight', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'losscape-slots-'));
    const w = new TorchWorker(torchPython(), [], 'slots');
    try {
      const dim = await loadWide(w, dir);
      const vs = Array.from({ length: 3 }, (_, k) => Float32Array.from({ length: dim }, (_, i) => Math.sin(i * (k + 1))));
      const ask = (v: Float32Array, scratchReply: boolean) => w.request('matmat', { operator: 'hessian', resultDtype: 'f32' }, [v], undefined, { scratchReply });
      const fresh = await Promise.all(vs.map((v) => ask(v, false)));
      assert.ok(fresh.every((r) => r.release === undefined));
      // Three in flight at once: three distinct buffers, each reply right.
      const first = await Promise.all(vs.map((v) => ask(v, true)));
      const buffers = first.map((r) => r.frames[0].buffer);
      assert.equal(new Set(buffers).size, 3);
      first.forEach((r, k) => assert.deepEqual(r.frames[0], fresh[k].frames[0]));
      // Not given back: the next reply gets memory of its own.
      const kept = await ask(vs[0], true);
      assert.ok(!buffers.includes(kept.frames[0].buffer));
      // Given back: the next replies reuse it, and still answer right.
      for (const r of first) r.release!();
      const again = await ask(vs[1], true);
      assert.ok(buffers.includes(again.frames[0].buffer));
      assert.deepEqual(again.frames[0], fresh[1].frames[0]);
      assert.deepEqual(kept.frames[0], fresh[0].frames[0]);
    } finally {
      w.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
