/**
 * Helpers for a 2D landscape grid: loss[row per y][column per x], with null cells where a
 * partial result has not computed them yet. Shared by the contour and surface charts.
 */

export type Cells = ReadonlyArray<ReadonlyArray<number | null>>;

/** Half-open range of rows [start, end). */
export interface RowRange {
  start: number;
  end: number;
}

function rowComplete(row: ReadonlyArray<number | null>): boolean {
  for (const v of row) if (v === null || !Number.isFinite(v)) return false;
  return true;
}

/**
 * The longest run of fully computed rows (first one on ties), or null when there is none.
 * Engines fill rows in order, so this is "the rows done so far"; a row with any missing or
 * non-finite cell ends the run, because a contour through a hole would be invented.
 */
export function completeRows(cells: Cells): RowRange | null {
  let best: RowRange | null = null;
  let start = -1;
  for (let r = 0; r <= cells.length; r++) {
    const ok = r < cells.length && rowComplete(cells[r]);
    if (ok && start < 0) start = r;
    if (!ok && start >= 0) {
      if (best === null || r - start > best.end - best.start) best = { start, end: r };
      start = -1;
    }
  }
  return best;
}

/**
 * The rows a chart draws: the first `rowsDone` when the engine says how many are finished (a
 * null inside them is a non-finite loss, drawn as a gap), else the longest run of complete rows.
 */
export function rowsToDraw(cells: Cells, rowsDone: number | undefined): RowRange | null {
  if (rowsDone === undefined) return completeRows(cells);
  return rowsDone > 0 ? { start: 0, end: Math.min(rowsDone, cells.length) } : null;
}

/** Smallest and largest finite value, or null when there is none. */
export function finiteExtent(cells: Cells): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of cells) {
    for (const v of row) {
      if (v === null || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * The coordinate at a fractional index, piecewise linear between grid coordinates and clamped
 * to the grid, so that non-uniform axes work and nothing is drawn outside the computed range.
 */
export function coordAt(coords: ReadonlyArray<number>, index: number, lo = 0, hi = coords.length - 1): number {
  const i = Math.max(lo, Math.min(hi, index));
  const i0 = Math.floor(i);
  if (i0 >= hi) return coords[hi];
  const f = i - i0;
  return coords[i0] + f * (coords[i0 + 1] - coords[i0]);
}

/** Index of the grid coordinate nearest to v (coords ascending or descending). */
export function nearestIndex(coords: ReadonlyArray<number>, v: number): number {
  let best = 0;
  let dist = Infinity;
  for (let i = 0; i < coords.length; i++) {
    const d = Math.abs(coords[i] - v);
    if (d < dist) {
      dist = d;
      best = i;
    }
  }
  return best;
}

/** Every `stride`-th index in [0, n) plus the last one, so a downsampled grid keeps its edges. */
export function strided(n: number, maxCount: number): number[] {
  const stride = Math.max(1, Math.ceil((n - 1) / Math.max(1, maxCount - 1)));
  const out: number[] = [];
  for (let i = 0; i < n - 1; i += stride) out.push(i);
  if (n > 0) out.push(n - 1);
  return out;
}
