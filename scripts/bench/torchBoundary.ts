/**
 * The process boundary's share of a torch-engine product, from the engine's side (what an
 * analysis waits for): one Hessian-vector product of a ReLU MLP at P = 25k, 1M and 11M
 * parameters, requested by this Node process from a warm worker exactly as the torch objective
 * does (src/engine/torch/worker.ts). share = (round trip − the worker's own time) / round trip;
 * the worker's time runs from its decoded request to its reply's arrays, so the share holds the
 * copies in and out of both processes, the pipe or slot transfer, the wake-ups, and the
 * allocation of the reply's array in Node.
 *
 * Both transports in the same run (frame slots in /dev/shm, the default on Linux; and the pipe), each at 64 samples (the smallest compute, so the largest
 * share) and at the curvature rows' 1000 samples (LOSSCAPE_BENCH_CURVATURE_SAMPLES), in one
 * batch. Reply f32 (a float32 model's vectors). Median of LOSSCAPE_BENCH_BOUNDARY_REPEATS (5)
 * after one warm-up product.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '../../src/engine/linalg/rng';
import { TorchWorker } from '../../src/engine/torch/worker';
import type { Row } from './types';

const WIDTHS: Record<string, number[]> = { '25k': [784, 32, 10], '1M': [784, 1152, 96, 10], '11M': [784, 4096, 2048, 10] };
const MLP_PY = `from torch import nn


def mlp(widths):
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])
`;

export interface BoundaryRow extends Row {
  parameters: number;
  samples: number;
  transport: 'slots' | 'pipe';
  share: number;
  workerSeconds: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function oneCase(python: string, file: string, tag: string, samples: number, transport: 'slots' | 'pipe', repeats: number): Promise<BoundaryRow> {
  const w = new TorchWorker(python, [], transport);
  try {
    await w.request('hello');
    // A stand-in for data: only the compute's size matters here.
    const rng = new Rng(1);
    const x = Float32Array.from({ length: samples * 784 }, () => rng.uniform());
    const y = Float32Array.from({ length: samples }, () => rng.int(10));
    const load = await w.request('load', {
      model: { kind: 'module', file, name: 'mlp', args: { widths: WIDTHS[tag] } },
      data: { kind: 'frames', xShape: [samples, 784], yShape: [samples] },
      loss: { kind: 'builtin', name: 'categorical_crossentropy', fromLogits: true },
      dtype: 'float32', device: 'auto', batchSize: samples,
    }, [x, y]);
    const P = load.result.dim as number;
    const v = new Float32Array(P);
    rng.fillNormal(v);
    const walls: number[] = [];
    const inside: number[] = [];
    for (let i = 0; i <= repeats; i++) {
      const t0 = performance.now();
      // As the torch objective's products ask: the reply in reused memory, given back at once.
      const r = await w.request('matmat', { operator: 'hessian', resultDtype: 'f32' }, [v], undefined, { scratchReply: true });
      const wall = (performance.now() - t0) / 1000;
      r.release?.();
      if (i === 0) continue; // the first product warms allocators up
      walls.push(wall);
      inside.push(r.elapsed ?? Number.NaN);
    }
    const share = median(walls.map((t, i) => (t - inside[i]) / t));
    const wall = median(walls);
    return {
      name: `boundary share of one Hessian-vector product, P = ${tag} (${P.toLocaleString('en-US')}), ${samples} samples, ${transport === 'slots' ? 'frame slots' : 'pipe'}`,
      seconds: wall,
      parameters: P,
      samples,
      transport,
      share,
      workerSeconds: median(inside),
      note: `${(100 * share).toFixed(1)} % of the round trip outside the worker's compute (worker ${(median(inside) * 1000).toFixed(1)} ms; ${(P * 8 / 2 ** 20).toFixed(1)} MiB in and out)`,
    };
  } finally {
    w.close();
  }
}

export async function benchTorchBoundary(python: string, curvatureSamples: number): Promise<BoundaryRow[]> {
  const repeats = Math.max(1, Number(process.env.LOSSCAPE_BENCH_BOUNDARY_REPEATS ?? 5));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-bench-boundary-'));
  const file = path.join(dir, 'bench_widths.py');
  writeFileSync(file, MLP_PY);
  const rows: BoundaryRow[] = [];
  try {
    for (const tag of Object.keys(WIDTHS)) {
      for (const samples of [64, curvatureSamples]) {
        // Interleaved, so a slow spell of the machine hits both transports alike.
        for (const transport of process.platform === 'linux' ? (['slots', 'pipe'] as const) : (['pipe'] as const)) {
          rows.push(await oneCase(python, file, tag, samples, transport, tag === '11M' ? Math.min(repeats, 3) : repeats));
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
