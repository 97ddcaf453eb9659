/**
 * Plain-PyTorch baselines (scripts/bench/pytorch_baselines.py) in the same run as the engines'
 * rows: PyHessian-style top-5 (power iteration with deflation) and Hutchinson (100 probes),
 * loss-landscape-style 41×41 filter-normalised plane, on the demo MLP and CNN, and the process
 * boundary's share of a Hessian-vector product at P = 25k, 1M, 11M. Needs a Python with torch
 * (LOSSCAPE_PYTHON, else .tools/torch-venv from scripts/setup-torch.sh); without one the
 * section is one row saying so.
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
  share?: number;
}

export function pytorchPython(): string | null {
  for (const py of [process.env.LOSSCAPE_PYTHON, '.tools/torch-venv/bin/python', 'python3']) {
    if (py && spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}

export async function benchPytorchBaselines(): Promise<Row[]> {
  const py = pytorchPython();
  if (!py) return [{ name: 'PyTorch baselines: skipped (no Python with torch; run scripts/setup-torch.sh)', seconds: 0 }];
  const digits = 'examples/pytorch/generated/digits.npz';
  if (!existsSync(digits)) {
    const t = spawnSync(py, ['examples/pytorch/train.py'], { stdio: 'inherit' });
    if (t.status !== 0) throw new Error('examples/pytorch/train.py failed');
  }
  const out = path.resolve('bench-results/pytorch-baselines.json');
  const r = spawnSync(py, ['scripts/bench/pytorch_baselines.py', '--out', out], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`scripts/bench/pytorch_baselines.py failed (exit ${r.status})`);
  const report = JSON.parse(readFileSync(out, 'utf8')) as { torch: string; threads: number; peakRssBytes: number; rows: PytorchBaselineRow[] };
  const rows: Row[] = report.rows.map((x) => ({ name: `${x.name} [torch ${report.torch}, ${report.threads} threads]`, seconds: x.seconds, note: x.note }));
  rows.push({ name: 'PyTorch baselines: peak memory of the baselines process', seconds: 0, note: `${(report.peakRssBytes / 2 ** 20).toFixed(0)} MiB` });
  return rows;
}
