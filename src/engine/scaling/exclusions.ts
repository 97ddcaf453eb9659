/**
 * Which rows a fit uses, following Choshen, Zhang & Andreas 2024 ("A Hitchhiker's Guide to
 * Scaling Law Estimation"): drop the earliest part of each run (`skipFraction` of its largest
 * D), hold out the largest model (or a named run) to judge the law by its prediction, and
 * optionally drop the K highest-loss rows as outliers (Besiroglu et al. 2024 drop 5).
 * Order: skip-fraction, then hold-out, then exclude-worst among the rows left to fit.
 */
import { InputError } from '../../shared/errors';
import type { ScalingRow } from '../../shared/results/scaling';

export type Reason = 'skip-fraction' | 'exclude-worst' | 'holdout';

export interface Selection {
  fit: ScalingRow[];
  heldOut: ScalingRow[];
  excluded: (ScalingRow & { reason: Reason })[];
  holdout: { mode: 'largest' | 'run'; run: string | null } | null;
}

/** A run's key: its name, else its model size (one run per size). */
const runKey = (r: ScalingRow): string => r.run ?? `N=${r.N}`;

export function selectRows(rows: ScalingRow[], opts: { skipFraction: number; excludeWorst: number; holdout?: string; source: string }): Selection {
  const excluded: Selection['excluded'] = [];
  let kept = rows;
  if (opts.skipFraction > 0) {
    const maxD = new Map<string, number>();
    for (const r of rows) maxD.set(runKey(r), Math.max(maxD.get(runKey(r)) ?? 0, r.D));
    kept = [];
    for (const r of rows) {
      if (r.D < opts.skipFraction * maxD.get(runKey(r))!) excluded.push({ ...r, reason: 'skip-fraction' });
      else kept.push(r);
    }
  }
  let heldOut: ScalingRow[] = [];
  let holdout: Selection['holdout'] = null;
  if (opts.holdout) {
    if (opts.holdout === 'largest') {
      const largest = Math.max(...kept.map((r) => r.N));
      heldOut = kept.filter((r) => r.N === largest);
      holdout = { mode: 'largest', run: null };
    } else {
      const name = opts.holdout.slice('run='.length);
      heldOut = kept.filter((r) => r.run === name);
      if (heldOut.length === 0) {
        const names = [...new Set(kept.map((r) => r.run).filter((v) => v !== null))];
        throw new InputError(opts.source, `no run named '${name}' to hold out (runs: ${names.slice(0, 8).join(', ') || 'none: give --run-column'})`);
      }
      holdout = { mode: 'run', run: name };
    }
    const out = new Set(heldOut);
    kept = kept.filter((r) => !out.has(r));
    for (const r of heldOut) excluded.push({ ...r, reason: 'holdout' });
  }
  if (opts.excludeWorst > 0) {
    const worst = new Set([...kept].sort((a, b) => b.loss - a.loss).slice(0, opts.excludeWorst));
    for (const r of kept) if (worst.has(r)) excluded.push({ ...r, reason: 'exclude-worst' });
    kept = kept.filter((r) => !worst.has(r));
  }
  return { fit: kept, heldOut, excluded, holdout };
}

/** The held-out row whose loss is predicted: the one trained longest (largest D, then C). */
export function finalRow(rows: ScalingRow[]): ScalingRow {
  return rows.reduce((a, b) => (b.D > a.D || (b.D === a.D && b.C > a.C) ? b : a));
}
