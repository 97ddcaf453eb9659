import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runHessian } from '../../src/engine/analyses/hessian';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { selectBackend } from '../../src/engine/backend';
import { prepareInputs } from '../../src/engine/inputs';
import { setEngineInfo } from '../../src/engine/runtime';
import { closeTorchWorkers } from '../../src/engine/torch/worker';
import { parseResult, type LosscapeResult } from '../../src/shared/result';
import { REPO, torchPython } from './helpers/torchTwins';
import { cmdline, descendants } from './helpers/processWatch';

/**
 * The torch engine on torch.distributed (docs/distributed.md), Gloo on this machine, float64:
 * one rank, two ranks (--workers 2) and two "nodes" (--nnodes 2, node 1 started by the CLI with
 * --node-rank 1 on 127.0.0.1) give the same loss, gradient, top-5 eigenvalues, Hutchinson trace
 * (same probes) and 21×21 landscape to 1e-10 relative, on a CNN; and a rank killed mid-landscape
 * ends the CLI run with one line naming it, within the timeout, keeping every finished row.
 */
const TOL = 1e-10;
const bin = path.join(REPO, 'bin', 'losscape.js');

const WORKSPACE_PY = `
import sys, time, numpy as np, torch
from torch import nn
sys.path.insert(0, sys.argv[1])
from nets import CNN
torch.manual_seed(5)
torch.save(CNN().state_dict(), sys.argv[1] + "/cnn.pt")
rng = np.random.default_rng(2)
np.savez(sys.argv[1] + "/data.npz", x=rng.normal(size=(37, 1, 6, 6)).astype(np.float32), y=rng.integers(0, 3, size=37).astype(np.int64))
`;

const NETS_PY = `import time
import torch
from torch import nn


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 3)
        self.conv2 = nn.Conv2d(2, 3, 3)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(3, 3)

    def forward(self, x):
        h = torch.tanh(self.conv1(x))
        h = torch.tanh(self.conv2(h))
        return self.fc(self.pool(h).flatten(1))


class SlowCNN(CNN):
    """The same CNN, 20 ms slower per batch: a landscape long enough to kill a rank in."""

    def forward(self, x):
        time.sleep(0.02)
        return super().forward(x)
`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function relative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
}

interface Measured {
  loss: number;
  grad: Float64Array;
  top: number[];
  trace: number;
  plane: number[];
  parallel: unknown[];
}

describe('torch engine on torch.distributed (Gloo): 1 rank, 2 ranks, 2 nodes', function () {
  this.timeout(600_000);
  let dir: string;
  let python: string;
  const spec = (extra: Record<string, unknown> = {}) => ({
    model: `${dir}/nets.py:CNN`,
    weights: `${dir}/cnn.pt`,
    data: `${dir}/data.npz`,
    loss: 'CrossEntropyLoss',
    dtype: 'float64' as const,
    batchSize: 8,
    seed: 0,
    python,
    ...extra,
  });

  // Tiny models run fastest on one thread per process (and the test machine is shared): the
  // single worker, each rank and each "node" use one.
  let threads: string | undefined;
  before(async () => {
    threads = process.env.LOSSCAPE_TORCH_THREADS;
    process.env.LOSSCAPE_TORCH_THREADS = '1';
    python = torchPython();
    setEngineInfo(await selectBackend('cpu'));
    dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-dist-'));
    writeFileSync(path.join(dir, 'nets.py'), NETS_PY);
    execFileSync(python, ['-c', WORKSPACE_PY, dir]);
  });
  afterEach(() => closeTorchWorkers());
  after(() => {
    if (threads === undefined) delete process.env.LOSSCAPE_TORCH_THREADS;
    else process.env.LOSSCAPE_TORCH_THREADS = threads;
  });

  async function measure(extra: Record<string, unknown>): Promise<Measured> {
    const p = await prepareInputs({ ...spec(extra), out: 'x' });
    let loss: number;
    let grad: Float64Array;
    try {
      loss = (await p.objective.evaluate()).loss;
      grad = (await p.objective.grad()).grad;
    } finally {
      p.dispose();
    }
    const h = await runHessian({ kind: 'hessian', ...spec(extra), top: 5, trace: true, probes: 12, out: path.join(dir, `h${Math.random()}.losscape.json`) }, quietContext());
    const l = await runLandscape({ kind: 'landscape', ...spec(extra), points: 21, out: path.join(dir, `l${Math.random()}.losscape.json`) }, quietContext());
    assert.ok(h.kind === 'hessian' && l.kind === 'landscape' && l.result.dims === 2 && l.complete);
    return {
      loss,
      grad,
      top: h.result.eigenvalues.slice(0, 5),
      trace: h.result.trace!.estimate,
      plane: l.result.loss.flat().map((v) => v as number),
      parallel: [h.provenance.parallel, l.provenance.parallel],
    };
  }

  function assertSame(m: Measured, ref: Measured, what: string): void {
    assert.ok(Math.abs(m.loss - ref.loss) <= TOL * Math.abs(ref.loss), `${what}: loss ${m.loss} vs ${ref.loss}`);
    assert.ok(relative(m.grad, ref.grad) <= TOL, `${what}: gradient, relative ${relative(m.grad, ref.grad)}`);
    assert.equal(m.top.length, 5);
    m.top.forEach((v, i) => assert.ok(Math.abs(v - ref.top[i]) <= TOL * Math.abs(ref.top[i]), `${what}: eigenvalue ${i}: ${v} vs ${ref.top[i]}`));
    assert.ok(Math.abs(m.trace - ref.trace) <= TOL * Math.abs(ref.trace), `${what}: trace ${m.trace} vs ${ref.trace}`);
    assert.equal(m.plane.length, 441);
    m.plane.forEach((v, i) => assert.ok(Math.abs(v - ref.plane[i]) <= TOL * Math.abs(ref.plane[i]), `${what}: landscape point ${i}: ${v} vs ${ref.plane[i]}`));
  }

  it('loss, gradient, top-5 eigenvalues, trace and a 21×21 landscape agree to 1e-10 (CNN, float64)', async () => {
    const one = await measure({});
    closeTorchWorkers();
    assert.deepEqual(one.parallel.map((p) => (p as { ranks: number; mode: string }).mode), ['single', 'single']);

    const two = await measure({ workers: 2 });
    closeTorchWorkers();
    assert.deepEqual(two.parallel.map((p) => { const q = p as { ranks: number; mode: string }; return [q.ranks, q.mode]; }), [[2, 'data'], [2, 'points']]);
    assertSame(two, one, '2 ranks');

    // Two "nodes" on 127.0.0.1: node 1 is the CLI with --node-rank 1 (it only follows rank 0).
    const port = await freePort();
    const cluster = { nnodes: 2, rendezvous: `127.0.0.1:${port}`, distTimeout: 60 };
    const node1 = spawn(process.execPath, [bin, 'hessian', '--model', `${dir}/nets.py:CNN`, '--data', `${dir}/data.npz`, '--python', python, '--nnodes', '2', '--node-rank', '1', '--rendezvous', cluster.rendezvous, '--out', path.join(dir, 'unused.json')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let node1Err = '';
    node1.stderr!.on('data', (b: Buffer) => (node1Err += b.toString()));
    const node1Done = new Promise<number | null>((r) => node1.on('close', (code) => r(code)));
    try {
      const nodes = await measure({ ...cluster, nodeRank: 0 });
      assertSame(nodes, one, '2 nodes');
      closeTorchWorkers();
      assert.equal(await node1Done, 0, `node 1 ends with node 0: ${node1Err}`);
      assert.match(node1Err, /node 1 of 2: 1 rank\(s\) following rank 0 at 127\.0\.0\.1:\d+/);
      assert.ok(!existsSync(path.join(dir, 'unused.json')), 'a following node writes no result');
    } finally {
      node1.kill('SIGKILL');
    }
  });

  it('a rank killed mid-landscape: exit 1 within the timeout, one line naming the rank, the partial keeps its rows', async () => {
    const out = path.join(dir, 'killed.losscape.json');
    const args = ['landscape', '--model', `${dir}/nets.py:SlowCNN`, '--weights', `${dir}/cnn.pt`, '--data', `${dir}/data.npz`, '--loss', 'CrossEntropyLoss', '--dtype', 'float64', '--batch-size', '8', '--points', '21', '--python', python, '--workers', '2', '--dist-timeout', '20', '--out', out];
    const child: ChildProcess = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const rowsDone = (): number => {
      try {
        const r = JSON.parse(readFileSync(out, 'utf8')) as LosscapeResult;
        return r.kind === 'landscape' && r.result.dims === 2 ? r.result.rowsDone : 0;
      } catch {
        return 0;
      }
    };
    const t0 = Date.now();
    while (rowsDone() < 2) {
      assert.ok(Date.now() - t0 < 240_000, `no rows after 240 s: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const rank1 = descendants(child.pid!).find((pid) => /losscape_torch.*--local-rank\u00001/.test(cmdline(pid)));
    assert.ok(rank1, 'rank 1 is a descendant of the CLI');
    process.kill(rank1, 'SIGKILL');
    const killedAt = Date.now();
    const code = await done;
    const waited = (Date.now() - killedAt) / 1000;
    assert.equal(code, 1, stderr);
    assert.ok(waited < 20, `the run ended ${waited} s after the kill (timeout 20 s)`);
    const last = stderr.trim().split('\n').at(-1)!;
    assert.match(last, new RegExp(`^losscape landscape: .*rank 1 of 2 \\(pid ${rank1}\\) was killed by SIGKILL`));
    const saved = parseResult(JSON.parse(readFileSync(out, 'utf8')), out);
    assert.ok(saved.kind === 'landscape' && saved.result.dims === 2);
    assert.equal(saved.complete, false);
    assert.match(saved.status ?? '', /failed after \d+ of 441 points: .*rank 1 of 2/);
    const rows = saved.result.rowsDone;
    assert.ok(rows >= 2 && rows < 21, `rows done ${rows}`);
    for (let r = 0; r < rows; r++) assert.ok(saved.result.loss[r].every((v) => typeof v === 'number' && Number.isFinite(v)), `row ${r} is complete`);
    assert.deepEqual(saved.provenance.parallel, { ranks: 2, mode: 'points', threadsPerRank: saved.provenance.parallel!.threadsPerRank });
  });
});
