import type { LandscapePayload } from './results/landscape';

/**
 * `--resume FILE`: what a partial landscape result tells about its grid, and which options a
 * resumed run may change. Pure (no fs): the CLI, the engine and the extension share it.
 */

/**
 * Options that say where and how fast the grid is computed, not what it is: a resumed run may
 * give them anew (another interpreter, device, thread count or set of ranks; another output).
 */
export const RESUME_FREE_OPTIONS: ReadonlySet<string> = new Set([
  'out',
  'resume',
  'threads',
  'python',
  'device',
  'backend',
  'workers',
  'rendezvous',
  'nnodes',
  'nodeRank',
  'distTimeout',
  'lossFrom',
]);

/** Options naming files: they are compared as resolved paths by the caller, and the model's and data's files by hash. */
export const RESUME_PATH_OPTIONS: ReadonlySet<string> = new Set(['model', 'data', 'weights', 'to', 'lossModule', 'dataModule', 'checkpoints']);

/** Points of the grid, flat (row-major for 2D). */
export function gridSize(p: LandscapePayload): { rows: number; columns: number; total: number } {
  const columns = p.dims === 2 ? p.x.length : p.t.length;
  const rows = p.dims === 2 ? p.y.length : 1;
  return { rows, columns, total: rows * columns };
}

/** Which points of the grid are computed (flat index → true): a number, or listed in `nonFinite`. */
export function computedPoints(p: LandscapePayload): boolean[] {
  const { rows, columns } = gridSize(p);
  const done: boolean[] = new Array<boolean>(rows * columns).fill(false);
  if (p.dims === 2) {
    for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) done[r * columns + c] = typeof p.loss[r]?.[c] === 'number';
  } else {
    for (let c = 0; c < columns; c++) done[c] = typeof p.loss[c] === 'number';
  }
  for (const i of p.nonFinite ?? []) if (i < done.length) done[i] = true;
  return done;
}

/**
 * How many rows from the first are computed in full (2D): what a chart may draw as finished,
 * its null cells being non-finite losses. Not `rowsDone`, which counts finished rows wherever
 * they are (two threads, several ranks and resumed runs finish rows out of order).
 */
export function finishedRowsFromStart(p: LandscapePayload): number {
  if (p.dims !== 2) return 0;
  // Every row finished (a complete grid; also one written before `nonFinite` existed).
  if (p.rowsDone >= p.y.length) return p.y.length;
  const done = computedPoints(p);
  const columns = p.x.length;
  let r = 0;
  while (r < p.y.length && done.slice(r * columns, (r + 1) * columns).every(Boolean)) r++;
  return r;
}

/** JSON-equal: what a result file would record for either value. */
function sameValue(a: unknown, b: unknown): boolean {
  const canon = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([p], [q]) => p.localeCompare(q))) : x)) ?? 'undefined';
  return canon(a) === canon(b);
}

export interface ResumeDisagreement {
  key: string;
  given: unknown;
  recorded: unknown;
}

/**
 * The first of `keys` on which `given` and the `recorded` options of the partial result differ
 * (free options and, unless the caller normalised them, path options skipped), or null.
 */
export function resumeDisagreement(recorded: Record<string, unknown>, given: Record<string, unknown>, keys: Iterable<string> = Object.keys(given), comparePaths = false): ResumeDisagreement | null {
  for (const key of keys) {
    if (RESUME_FREE_OPTIONS.has(key) || (!comparePaths && RESUME_PATH_OPTIONS.has(key))) continue;
    if (!(key in given) || given[key] === undefined) continue;
    if (!sameValue(given[key], recorded[key])) return { key, given: given[key], recorded: recorded[key] };
  }
  return null;
}

/** A value as the user would type it, for messages. */
export function showOption(v: unknown): string {
  if (v === undefined) return '(not set)';
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object')) return v.join(',');
  return JSON.stringify(v);
}
