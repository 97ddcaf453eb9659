/**
 * Tables of runs for scaling-law fits: CSV (header row) or JSON (an array of objects, or an
 * object holding one under `runs` or `rows`). Each row gives a model size N, a data size D
 * (tokens or samples), a loss, and optionally a run name, a step and a compute figure.
 * Every problem is one line naming the file, the row and the column.
 */
import { parse } from 'csv-parse/sync';
import { InputError } from '../../shared/errors';
import { readInputFile } from '../loaders/inputFile';
import type { ScalingRow } from '../../shared/results/scaling';

export interface TableColumns {
  params: string;
  tokens: string;
  loss: string;
  run?: string;
  step?: string;
  compute?: string;
}

export interface RunsTable {
  rows: ScalingRow[];
  /** Whether any row came with a step (intermediate checkpoints). */
  hasSteps: boolean;
  computeFromColumn: boolean;
}

type Cell = string | number | null | undefined | boolean;

function guessDelimiter(text: string): string {
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const count = (c: string): number => firstLine.split(c).length - 1;
  let best = ',';
  for (const c of [';', '\t']) if (count(c) > count(best)) best = c;
  return best;
}

function records(text: string, source: string): Record<string, Cell>[] {
  if (/\.json$/i.test(source) || /^\s*[[{]/.test(text)) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new InputError(source, `is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
    }
    const list = Array.isArray(json) ? json : json && typeof json === 'object' ? ((json as Record<string, unknown>).runs ?? (json as Record<string, unknown>).rows) : undefined;
    if (!Array.isArray(list)) throw new InputError(source, 'must hold an array of rows (or an object with a "runs" or "rows" array)');
    list.forEach((r, i) => {
      if (!r || typeof r !== 'object' || Array.isArray(r)) throw new InputError(source, `row ${i + 1} is not an object`);
    });
    return list as Record<string, Cell>[];
  }
  try {
    return parse(text, { bom: true, columns: true, delimiter: guessDelimiter(text), skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (e) {
    throw new InputError(source, `is not valid CSV: ${(e as Error).message.split('\n')[0]}`);
  }
}

function number(source: string, row: number, column: string, v: Cell, mustBePositive: boolean): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new InputError(source, `row ${row}: ${column} is '${String(v ?? '')}', not a finite number`);
  if (mustBePositive && !(n > 0)) throw new InputError(source, `row ${row}: ${column} must be positive, got ${n}`);
  return n;
}

/** Reads one table; rows are numbered from 1 as a spreadsheet shows them below the header. */
export function readRunsTable(file: string, columns: TableColumns): RunsTable {
  const text = readInputFile(file, 'runs table').toString('utf8');
  const recs = records(text, file);
  if (recs.length === 0) throw new InputError(file, 'has no rows');
  const present = new Set(recs.flatMap((r) => Object.keys(r)));
  const flags: Record<keyof TableColumns, string> = { params: '--params-column', tokens: '--tokens-column', loss: '--loss-column', run: '--run-column', step: '--step-column', compute: '--compute-column' };
  for (const key of Object.keys(flags) as (keyof TableColumns)[]) {
    const name = columns[key];
    if (name !== undefined && !present.has(name)) {
      throw new InputError(file, `has no column '${name}' (columns: ${[...present].join(', ')}); name it with ${flags[key]}`);
    }
  }
  const rows: ScalingRow[] = recs.map((r, i) => {
    const at = i + 1;
    const N = number(file, at, columns.params, r[columns.params], true);
    const D = number(file, at, columns.tokens, r[columns.tokens], true);
    const loss = number(file, at, columns.loss, r[columns.loss], true);
    const C = columns.compute ? number(file, at, columns.compute, r[columns.compute], true) : 6 * N * D;
    const step = columns.step ? number(file, at, columns.step, r[columns.step], false) : null;
    const runCell = columns.run ? r[columns.run] : undefined;
    const run = runCell === undefined || runCell === null || runCell === '' ? null : String(runCell);
    return { run, N, D, C, loss, step };
  });
  return { rows, hasSteps: columns.step !== undefined, computeFromColumn: columns.compute !== undefined };
}
