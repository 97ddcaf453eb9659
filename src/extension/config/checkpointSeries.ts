/**
 * Checkpoint series for the pickers of grokking and trajectory configurations: folders whose
 * subfolders each hold a model.json named by its training step (`run/step-000100/model.json`),
 * as the engine reads a folder given as `checkpoints`. Pure (paths in, series out).
 */
import path from 'node:path';

export interface CheckpointSeries {
  /** The folder holding the checkpoint folders, relative to the workspace folder ('.' for itself), forward slashes. */
  folder: string;
  /** Checkpoint folder names, ordered by step. */
  checkpoints: string[];
  steps: number[];
}

/** The last integer in a checkpoint folder's name, as the engine reads a step from it; null if none. */
export function stepOfName(name: string): number | null {
  const m = name.match(/\d+/g);
  if (!m) return null;
  const n = Number(m[m.length - 1]);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * The series among `modelJsons` (paths of model.json files relative to the workspace folder,
 * forward slashes): folders with at least `min` checkpoint folders, every one named with a
 * distinct step. Largest series first, then by path.
 */
export function findCheckpointSeries(modelJsons: readonly string[], min = 2): CheckpointSeries[] {
  const byFolder = new Map<string, string[]>();
  for (const rel of modelJsons) {
    if (path.posix.basename(rel) !== 'model.json') continue;
    const checkpoint = path.posix.dirname(rel);
    if (checkpoint === '.') continue;
    const folder = path.posix.dirname(checkpoint);
    const list = byFolder.get(folder) ?? [];
    list.push(path.posix.basename(checkpoint));
    byFolder.set(folder, list);
  }
  const out: CheckpointSeries[] = [];
  for (const [folder, names] of byFolder) {
    if (names.length < min) continue;
    const steps = names.map(stepOfName);
    if (steps.some((s) => s === null) || new Set(steps).size !== steps.length) continue;
    const order = names.map((n, i) => ({ n, s: steps[i] as number })).sort((a, b) => a.s - b.s);
    out.push({ folder, checkpoints: order.map((o) => o.n), steps: order.map((o) => o.s) });
  }
  return out.sort((a, b) => b.checkpoints.length - a.checkpoints.length || a.folder.localeCompare(b.folder));
}

/** "4 checkpoints, steps 0 … 30 (step-000000 … step-000030)" */
export function describeSeries(s: CheckpointSeries): string {
  const first = s.checkpoints[0];
  const last = s.checkpoints[s.checkpoints.length - 1];
  return `${s.checkpoints.length} checkpoints, steps ${s.steps[0]} … ${s.steps[s.steps.length - 1]} (${first} … ${last})`;
}
