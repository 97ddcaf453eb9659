/**
 * torch.distributed on this machine (docs/distributed.md): the demo CNN's 41×41 plane (points
 * dealt to ranks) and a 100-probe Hutchinson trace (data-parallel products), 2 ranks (1 thread
 * each) against the faster single-rank set-up (1 or 2 threads), and a projection to 64 ranks from
 * the measured costs with T(P) = rows·(w(P)·t_point + t_gather) + t_startup, w(P) the points of
 * a row the slowest rank evaluates (distributed.py Comm.point_deal):
 * t_point = the 1-thread single rank's grid time / points (what one rank does per point),
 * t_gather = (the 2-rank grid time − rows·w(2)·t_point) / rows (a row's request, agreement and
 * gather, measured on 2 ranks), t_startup = the 2-rank load time (starting the ranks and
 * loading the model; a lower bound for 64 ranks). Also printed: the ideal 2-rank time
 * T(1 rank, 1 thread)/2 and the ratio it would give (what 2 cores allow), and the parallel
 * efficiency of 2 ranks against 1 rank × 1 thread.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runHessian } from '../../src/engine/analyses/hessian';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { closeTorchWorkers } from '../../src/engine/torch/worker';
import { pytorchPython } from './pytorchBaselines';
import type { Row } from './types';

const DIGITS = 'examples/pytorch/generated/digits.npz';
const WEIGHTS = 'examples/pytorch/generated/cnn.pt';

interface Setup {
  label: string;
  threads: number;
  workers?: number;
}

const SETUPS: Setup[] = [
  { label: '1 rank, 1 thread', threads: 1 },
  { label: '1 rank, 2 threads', threads: 2 },
  { label: '2 ranks, 1 thread each', threads: 1, workers: 2 },
];

export async function benchDistributed(samples = Number(process.env.LOSSCAPE_BENCH_SAMPLES ?? 256), points = Number(process.env.LOSSCAPE_BENCH_DIST_POINTS ?? 41), probes = Number(process.env.LOSSCAPE_BENCH_DIST_PROBES ?? 100)): Promise<Row[]> {
  const python = pytorchPython();
  if (!python) return [{ name: 'torch.distributed: skipped (no Python with torch; run scripts/setup-torch.sh)', seconds: 0 }];
  if (!existsSync(DIGITS) || !existsSync(WEIGHTS)) return [{ name: `torch.distributed: skipped (${DIGITS} missing: run ${python} examples/pytorch/train.py)`, seconds: 0 }];
  const base = { model: 'examples/pytorch/net.py:SmallCNN', weights: WEIGHTS, data: DIGITS, loss: 'CrossEntropyLoss', samples, python, seed: 0 };
  const plane: Record<string, { grid: number; load: number; params: number; engineCpu: number }> = {};
  const trace: Record<string, number> = {};
  const saved = process.env.LOSSCAPE_TORCH_THREADS;
  try {
    for (const s of SETUPS) {
      // A single worker's threads come from the environment; ranks get cores / ranks.
      process.env.LOSSCAPE_TORCH_THREADS = String(s.threads);
      const extra = s.workers ? { workers: s.workers } : {};
      const out = path.join(os.tmpdir(), `losscape-bench-dist-${s.workers ?? 1}-${s.threads}`);
      // The engine's own CPU (this process: requests, partial-result writes) shares the 2 cores
      // with the ranks.
      const cpu0 = process.cpuUsage();
      const l = await runLandscape({ kind: 'landscape', ...base, ...extra, points, out: `${out}-plane.losscape.json` }, quietContext());
      const cpu = process.cpuUsage(cpu0);
      plane[s.label] = { grid: l.provenance.timings.phases.grid ?? l.provenance.timings.seconds, load: l.provenance.timings.phases.load ?? 0, params: l.provenance.model.parameterCount, engineCpu: (cpu.user + cpu.system) / 1e6 };
      const h = await runHessian({ kind: 'hessian', ...base, ...extra, top: 0, trace: true, probes, out: `${out}-trace.losscape.json` }, quietContext());
      trace[s.label] = h.provenance.timings.seconds - (h.provenance.timings.phases.load ?? 0);
      closeTorchWorkers();
    }
  } finally {
    if (saved === undefined) delete process.env.LOSSCAPE_TORCH_THREADS;
    else process.env.LOSSCAPE_TORCH_THREADS = saved;
  }
  const [one, two, ranks] = SETUPS.map((s) => s.label);
  const bestPlane = plane[one].grid <= plane[two].grid ? one : two;
  const bestTrace = trace[one] <= trace[two] ? one : two;
  const rows: Row[] = [];
  const n = points * points;
  // What 2 cores allow: 2 ranks × 1 thread at best halve the 1-thread time, so against the faster
  // single rank the best ratio is T(best)/(T(1×1)/2) = 2/s, s the 2-thread scaling of one rank.
  const bound = (t11: number, t12: number, tBest: number, t2: number): string =>
    `ideal 2-rank time T(1 rank, 1 thread)/2 = ${(t11 / 2).toFixed(2)} s would give ${(tBest / (t11 / 2)).toFixed(2)}× (the bound on 2 cores; one rank scales ${(t11 / t12).toFixed(2)}× on 2 threads); parallel efficiency vs 1 rank × 1 thread ${((100 * t11) / (2 * t2)).toFixed(0)} %`;
  for (const s of SETUPS) {
    const p = plane[s.label];
    rows.push({
      name: `torch.distributed plane ${points}×${points}, demo CNN, ${samples} samples [${s.label}]`,
      seconds: p.grid,
      ...(s.workers ? { ratio: p.grid / plane[bestPlane].grid } : {}),
      note: `${(n / p.grid).toFixed(1)} points/s, ${p.params} parameters, engine CPU ${((1e3 * p.engineCpu) / points).toFixed(0)} ms per row${s.workers ? `; speed-up ${(plane[bestPlane].grid / p.grid).toFixed(2)}× over the faster single rank (${bestPlane}), target ≥ 1.7×; ${bound(plane[one].grid, plane[two].grid, plane[bestPlane].grid, p.grid)}` : ''}`,
    });
  }
  for (const s of SETUPS) {
    rows.push({
      name: `torch.distributed trace, ${probes} Hutchinson probes, demo CNN [${s.label}]`,
      seconds: trace[s.label],
      ...(s.workers ? { ratio: trace[s.label] / trace[bestTrace] } : {}),
      note: s.workers ? `speed-up ${(trace[bestTrace] / trace[s.label]).toFixed(2)}× over the faster single rank (${bestTrace}); ${bound(trace[one], trace[two], trace[bestTrace], trace[s.label])}` : 'analysis time (load excluded)',
    });
  }
  // The model, from the measured costs (docs/distributed.md, "Cost model"): a row's k points on P
  // ranks cost the slowest rank w(P) = ⌊k/P⌋ + 1/⌊P/(k mod P)⌋ points (the left-over points
  // shared by groups of ranks over the samples; distributed.py Comm.point_deal).
  const work = (P: number): number => {
    const q = Math.floor(points / P);
    const m = points % P;
    return q + (m ? 1 / Math.floor(P / m) : 0);
  };
  const tPoint = plane[one].grid / n;
  const gather = (plane[ranks].grid - points * work(2) * tPoint) / points;
  const tGather = Math.max(0, gather);
  const tStartup = plane[ranks].load;
  const grid = (P: number): number => points * work(P) * tPoint + points * tGather;
  const project = (P: number): number => grid(P) + tStartup;
  const serial = n * tPoint + plane[one].load;
  rows.push({
    name: `torch.distributed plane ${points}×${points}: projected for 64 ranks`,
    seconds: project(64),
    ratio: project(64) / serial,
    note: `T(P) = rows·(w(P)·t_point + t_gather) + t_startup, w(P) = ⌊k/P⌋ + 1/⌊P/(k mod P)⌋ points per row of k (w(2) = ${work(2)}, w(64) = ${work(64).toFixed(2)}; ideal ${(points / 64).toFixed(2)}), t_point ${(tPoint * 1e3).toFixed(2)} ms (1 rank, 1 thread), t_gather ${(tGather * 1e3).toFixed(2)} ms per row${gather < 0 ? ' (2 ranks beat the balanced 1-rank share: within noise, taken as 0)' : ''} (measured on 2 ranks; rank 0 handles P − 1 status messages per agreement point, so it grows with P), t_startup ${tStartup.toFixed(1)} s (2 ranks; a lower bound for 64); speed-up ${(serial / project(64)).toFixed(1)}× over 1 rank with its own start-up (${plane[one].load.toFixed(1)} s); grid alone ${((n * tPoint) / grid(64)).toFixed(1)}×`,
  });
  return rows;
}
