/**
 * Scaling-law fit: Chinchilla's approach 3 on a 250-row table (10 model sizes × 25 token
 * counts, Hoffmann's ranges, Besiroglu et al.'s parameters, 1 % noise in log L) — the full
 * fit from the papers' 4,500 starts, then a 200-replicate bootstrap — in Losscape, and the same
 * computation in scipy (L-BFGS-B on the same objective, same starts, same replicate protocol:
 * scripts/scaling/fit_scipy.py) when python3 has scipy. Ratio: scipy time / Losscape time.
 * The scipy comparison runs on the 108-start sub-grid (scipy from 4,500 starts takes over an
 * hour here); LOSSCAPE_BENCH_SCALING_GRID=coarse skips the 4,500-start row, LOSSCAPE_BENCH_SCIPY=0
 * the scipy one.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Rng } from '../../src/engine/linalg/rng';
import { allRows, bestDistinctOptima, fitFromStarts, resample } from '../../src/engine/scaling/fit';
import { scalingLaw } from '../../src/engine/scaling/laws';
import type { Row } from './types';

function table() {
  const p = { E: 1.8172, A: 482.01, B: 2085.43, alpha: 0.3478, beta: 0.3658 };
  const noise = new Rng(7);
  const x1: number[] = [];
  const x2: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 10; i++) {
    for (let j = 0; j < 25; j++) {
      const N = 7e7 * (1.6e10 / 7e7) ** (i / 9);
      const D = 5e9 * 100 ** (j / 24);
      x1.push(Math.log(N));
      x2.push(Math.log(D));
      y.push(Math.log(p.E + p.A / N ** p.alpha + p.B / D ** p.beta) + 0.01 * noise.normal());
    }
  }
  return { x1, x2, y };
}

const B = 200;
const K = 6;

/** The full fit from `grid`, then B replicates from its K best distinct optima: seconds of each. */
function losscapeFit(grid: number[][]): { fit: number; bootstrap: number; objective: number } {
  const law = scalingLaw('chinchilla');
  const { x1, x2, y } = table();
  const rows = { x1: Float64Array.from(x1), x2: Float64Array.from(x2), logLoss: Float64Array.from(y) };
  const n = y.length;
  const t0 = performance.now();
  const full = fitFromStarts(law, rows, allRows(n), 1e-3, grid);
  const t1 = performance.now();
  const starts = bestDistinctOptima(full, K).map((s) => Array.from(s));
  const rng = new Rng(0);
  for (let b = 0; b < B; b++) fitFromStarts(law, rows, resample(n, rng), 1e-3, starts);
  const t2 = performance.now();
  return { fit: (t1 - t0) / 1000, bootstrap: (t2 - t1) / 1000, objective: full.best.f };
}

export async function benchScaling(): Promise<Row[]> {
  const law = scalingLaw('chinchilla');
  const out: Row[] = [];
  if (process.env.LOSSCAPE_BENCH_SCALING_GRID !== 'coarse') {
    const paper = losscapeFit(law.grid(false));
    out.push({ name: 'scaling: 250 rows, fit from 4,500 starts + 200-replicate bootstrap', seconds: paper.fit + paper.bootstrap, note: `fit ${paper.fit.toFixed(1)} s + bootstrap ${paper.bootstrap.toFixed(1)} s (×${K} starts); objective ${paper.objective.toExponential(4)}` });
  }
  // The comparison with scipy uses the 108-start sub-grid: scipy from all 4,500 starts takes over an hour here.
  const grid = law.grid(true);
  const ours = losscapeFit(grid);
  const total = ours.fit + ours.bootstrap;
  out.push({ name: 'scaling: 250 rows, fit from 108 starts + 200-replicate bootstrap', seconds: total, note: `baseline; fit ${ours.fit.toFixed(1)} s + bootstrap ${ours.bootstrap.toFixed(1)} s` });
  const hasScipy = process.env.LOSSCAPE_BENCH_SCIPY !== '0' && spawnSync('python3', ['-c', 'import scipy'], { encoding: 'utf8' }).status === 0;
  if (!hasScipy) return out;
  const { x1, x2, y } = table();
  const job = { rows: y.map((_, i) => [x1[i], x2[i], y[i]]), starts: grid, delta: 1e-3, bootstrap: B, startsPerReplicate: K, seed: 0 };
  const py = spawnSync('python3', [path.join(__dirname, '..', 'scaling', 'fit_scipy.py')], { input: JSON.stringify(job), encoding: 'utf8', maxBuffer: 1 << 28 });
  if (py.status !== 0) throw new Error(`scipy bench failed: ${py.stderr}`);
  const r = JSON.parse(py.stdout) as { objective: number; seconds: { fit: number; bootstrap: number } };
  const theirs = r.seconds.fit + r.seconds.bootstrap;
  out.push({ name: 'the same in scipy (L-BFGS-B, numpy objective)', seconds: theirs, ratio: theirs / total, note: `fit ${r.seconds.fit.toFixed(1)} s + bootstrap ${r.seconds.bootstrap.toFixed(1)} s; objective ${r.objective.toExponential(4)} (Losscape ${ours.objective.toExponential(4)})` });
  return out;
}
