/**
 * Plain-PyTorch baselines (scripts/bench/pytorch_baselines.py): PyHessian-style top-5 (power
 * iteration with deflation) and Hutchinson (100 probes), loss-landscape-style 41×41
 * filter-normalised plane, on the demo MLP and CNN. Each is timed inside its own Python process
 * after the model and data are loaded (what a user's script spends on the algorithm). Needs a
 * Python with torch (LOSSCAPE_PYTHON, else .tools/torch-venv from scripts/setup-torch.sh).
 * torchEngine.ts runs these beside the torch engine and reports the ratios.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Row } from './types';

export interface PytorchBaselineRow extends Row {
  model?: string;
  parameters?: number;
  samples?: number;
  products?: number;
  eigenvalues?: number[];
  trace?: number;
}

export interface PytorchBaselineReport {
  /** The demo digits' first `samples` / `planeSamples` samples as .npz files: the samples the baselines use. */
  dataFiles: { curvature: string; plane: string };
  torch: string;
  threads: number;
  peakRssBytes: number;
  rows: PytorchBaselineRow[];
}

export function pytorchPython(): string | null {
  for (const py of [process.env.LOSSCAPE_PYTHON, '.tools/torch-venv/bin/python', 'python3']) {
    if (py && spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}

/** The PyTorch demo's models and digits (examples/pytorch/train.py writes them once). */
export function ensurePytorchDemo(py: string): void {
  if (existsSync('examples/pytorch/generated/cnn.pt') && existsSync('examples/pytorch/generated/mlp.pt')) return;
  const t = spawnSync(py, ['examples/pytorch/train.py'], { stdio: 'inherit' });
  if (t.status !== 0) throw new Error('examples/pytorch/train.py failed');
}

export interface BaselineOptions {
  samples: number;
  planeSamples: number;
  points: number;
  batchSize: number;
  only?: ('curvature' | 'plane')[];
  /** Words picking demo models by tag (MLP, CNN); absent: both. */
  models?: string[];
}

/** Runs scripts/bench/pytorch_baselines.py once (its own process) and reads its report. */
export function runPytorchBaselines(py: string, o: BaselineOptions, out = path.resolve('bench-results/pytorch-baselines.json')): PytorchBaselineReport {
  const args = ['scripts/bench/pytorch_baselines.py', '--out', out, '--samples', String(o.samples), '--plane-samples', String(o.planeSamples), '--points', String(o.points), '--batch-size', String(o.batchSize)];
  for (const w of o.only ?? []) args.push('--only', w);
  if (o.models?.length) args.push('--models', o.models.join(','));
  const r = spawnSync(py, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`scripts/bench/pytorch_baselines.py failed (exit ${r.status})`);
  return JSON.parse(readFileSync(out, 'utf8')) as PytorchBaselineReport;
}
