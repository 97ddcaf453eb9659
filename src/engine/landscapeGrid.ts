import { CancelledError } from '../shared/errors';
import type { ResultOf } from '../shared/result';
import type { Landscape1D, Landscape2D } from '../shared/results/landscape';
import { checkpoint, type AnalysisContext } from './analysisContext';
import type { Evaluation, Objective } from './objective';
import type { PlaneHelper } from './planeHelper';
import type { Stopwatch } from './provenance';
import { writeResult } from './resultWriter';
import { threadCpu } from './threadCpu';
import { computedPoints } from '../shared/resume';

type LandscapeResult = ResultOf<'landscape'>;

/**
 * The partial result file is rewritten at most once a second during the grid (as the engine
 * sends progress, src/engine/main.ts). A rewrite (JSON of the whole result, written to a
 * temporary and renamed) took 1.5–5 ms of the main thread: after each of the demo's 41 rows,
 * 0.1–0.2 s of a 1.6 s two-thread grid, for rows its worker thread computed too.
 */
const REWRITE_EVERY_MS = 1000;

/**
 * Evaluates a landscape payload's grid in place, shared by random-direction landscapes and
 * trajectory planes: point (x[c], y[r]) is centre + x·d₁ + y·d₂ (1D: centre + t·d₁). The result
 * file is rewritten after a 2D row or five 1D points when REWRITE_EVERY_MS have passed since the
 * last rewrite (the first row's at once), and always when the grid ends, is cancelled or fails,
 * so a cancelled or failed run leaves a valid incomplete file with every point computed and a
 * killed one a valid file at most that much older; progress carries the partial after every row.
 *
 * Points already computed (a resumed partial, see resumeGrid.ts) are never evaluated again: a
 * request carries only the missing points of its row (2D) or aligned five (1D), so the requests
 * of a resumed run are those of an uninterrupted one with the finished points left out — a
 * remote engine answers a request whole, so its points see the same batching either way.
 */
export async function evaluateGrid(args: {
  objective: Objective;
  centre: Float32Array;
  dirs: Float32Array[];
  payload: Landscape1D | Landscape2D;
  withAccuracy: boolean;
  out: string;
  snapshot: (complete: boolean, status?: string) => LandscapeResult;
  watch: Stopwatch;
  ctx: AnalysisContext;
  /** A second evaluator on another core: 2D rows are then shared, each taking the next free row. */
  helper?: PlaneHelper | null;
  /** How often the running result file may be rewritten (REWRITE_EVERY_MS; tests set it). */
  rewriteEveryMs?: number;
}): Promise<LandscapeResult> {
  const { objective, centre, dirs, payload, withAccuracy, out, snapshot, watch, ctx, helper, rewriteEveryMs = REWRITE_EVERY_MS } = args;
  const xs = payload.dims === 2 ? payload.x : payload.t;
  const rows = payload.dims === 2 ? payload.y.length : 1;
  const total = xs.length * rows;
  const computed = computedPoints(payload);
  let done = computed.filter(Boolean).length;
  /** Points evaluated by this run (the resume record counts them). */
  let evaluated = 0;
  const missingOf = (r: number): number[] => xs.map((_, c) => c).filter((c) => !computed[r * xs.length + c]);
  const todo = Array.from({ length: rows }, (_, r) => r).filter((r) => missingOf(r).length > 0);
  if (payload.dims === 2) payload.rowsDone = rows - todo.length;
  else payload.pointsDone = done;
  const started = performance.now();
  const cpuAtStart = threadCpu();
  const counts = { main: { rows: 0, points: 0 }, worker: { rows: 0, points: 0 } };
  /** Who did the rows and at what CPU cost (see Landscape2D.threads), filled in at every snapshot. */
  const recordThreads = (): void => {
    if (payload.dims !== 2) return;
    const now = threadCpu();
    const threads: NonNullable<Landscape2D['threads']> = [
      {
        thread: 'main',
        ...counts.main,
        cpuSeconds: now && cpuAtStart ? now.run - cpuAtStart.run : null,
        waitSeconds: now && cpuAtStart ? now.wait - cpuAtStart.wait : null,
      },
    ];
    const w = helper?.cpu?.();
    if (counts.worker.rows > 0 || (w && w.startup)) {
      const ok = w && w.startup && w.latest;
      threads.push({
        thread: 'worker',
        ...counts.worker,
        cpuSeconds: ok ? w.latest!.run - w.startup!.run : null,
        waitSeconds: ok ? w.latest!.wait - w.startup!.wait : null,
        startupCpuSeconds: w?.startup ? w.startup.run : null,
      });
    }
    payload.threads = threads;
  };
  // Once the run has stopped, a row the helper thread still finishes must not overwrite the
  // stopped result with a 'running' one.
  let stopped = false;
  let lastWrite = -Infinity;
  const publish = (message: string): void => {
    if (stopped) return;
    recordThreads();
    const partial = snapshot(false, 'running');
    const now = performance.now();
    if (now - lastWrite >= rewriteEveryMs) {
      writeResult(out, partial);
      lastWrite = now;
    }
    ctx.progress(done / total, message, partial);
  };
  const record = (r: number, c: number, e: Evaluation, coords: number[]): void => {
    const k = r * xs.length + c;
    if (computed[k]) throw new Error(`grid point ${coords.join(', ')} was evaluated twice`);
    computed[k] = true;
    if (!Number.isFinite(e.loss)) {
      ctx.log('warn', `non-finite loss ${e.loss} at ${coords.join(', ')}`);
      (payload.nonFinite ??= []).push(k);
    }
    const loss = Number.isFinite(e.loss) ? e.loss : null;
    if (payload.dims === 2) {
      payload.loss[r][c] = loss;
      if (payload.accuracy) payload.accuracy[r][c] = e.accuracy;
    } else {
      payload.loss[c] = loss;
      if (payload.accuracy) payload.accuracy[c] = e.accuracy;
    }
    done++;
    evaluated++;
    if (payload.dims === 1) payload.pointsDone = done;
    if (payload.resume) payload.resume.pointsEvaluated = evaluated;
  };
  const coordsOf = (r: number, cols: number[]): number[][] => cols.map((c) => (payload.dims === 2 ? [xs[c], payload.y[r]] : [xs[c]]));
  const rowDone = (by: 'main' | 'worker'): void => {
    if (payload.dims !== 2) return;
    payload.rowsDone++;
    counts[by].rows++;
    watch.lap('grid');
    const perSecond = evaluated / ((performance.now() - started) / 1000);
    publish(`row ${payload.rowsDone}/${rows} · ${perSecond.toFixed(1)} evaluations/s${payload.evaluators === 2 ? ' (2 threads)' : ''}`);
  };
  /**
   * The requests of row r: its units (a 2D row; 1D fives) with the computed points left out. A
   * unit missing only some points (a stop between two passes of an engine that evaluates a
   * request in passes) is asked for pass by pass, as objective.passSizes says it splits the
   * whole unit, so every point sees the pass it would in an uninterrupted run.
   */
  const requestsOf = (r: number): number[][] => {
    const missing = new Set(missingOf(r));
    const unit = payload.dims === 2 ? xs.length : 5;
    const out: number[][] = [];
    for (let c0 = 0; c0 < xs.length; c0 += unit) {
      const cols = xs.map((_, c) => c).slice(c0, c0 + unit);
      const left = cols.filter((c) => missing.has(c));
      if (left.length === 0) continue;
      if (left.length === cols.length || !objective.passSizes) {
        out.push(left);
        continue;
      }
      let p0 = 0;
      for (const size of objective.passSizes(cols.length)) {
        const pass = cols.slice(p0, p0 + size).filter((c) => missing.has(c));
        if (pass.length) out.push(pass);
        p0 += size;
      }
    }
    return out;
  };
  const evaluateRowHere = async (r: number): Promise<void> => {
    // A 2D row per request (a remote engine evaluates it without crossing per point); 1D in
    // fives (aligned, whatever was computed before), the result rewritten after each five.
    let points = 0;
    for (const cols of requestsOf(r)) {
      // Between requests, whatever the engine: a remote one (torch) answers a quick request
      // whole, so a stop raised meanwhile would otherwise be seen only by the next poll.
      await checkpoint(ctx.stop);
      const part = coordsOf(r, cols);
      await objective.evaluateAlong(centre, dirs, part, withAccuracy, ctx.stop, (j, e) => record(r, cols[j], e, part[j]));
      points += cols.length;
      if (payload.dims === 1) publish(`${done}/${total} points`);
    }
    counts.main.points += points;
    rowDone('main');
  };
  /**
   * The units two threads share: the rows' requests, a whole row split into the passes
   * objective.passSizes says evaluateAlong makes of it, so that every point is evaluated in the
   * pass it is in on one thread (bit-identical grids), and the grid's end is shared a pass at a
   * time (a demo MLP row is three passes of ~20 ms): with whole rows the thread that took the
   * last one finished up to a row after the other.
   */
  const unitsOf = (r: number): { r: number; cols: number[] }[] =>
    requestsOf(r).flatMap((cols) => {
      if (cols.length < xs.length || !objective.passSizes) return [{ r, cols }];
      const units: { r: number; cols: number[] }[] = [];
      let p0 = 0;
      for (const size of objective.passSizes(cols.length)) {
        units.push({ r, cols: cols.slice(p0, p0 + size) });
        p0 += size;
      }
      return units;
    });
  try {
    if (helper && payload.dims === 2 && todo.length > 1) {
      const units = todo.flatMap(unitsOf);
      const left = new Map<number, number>();
      for (const u of units) left.set(u.r, (left.get(u.r) ?? 0) + 1);
      const recordUnit = (by: 'main' | 'worker', i: number, evs: Evaluation[]): void => {
        const { r, cols } = units[i];
        const coords = coordsOf(r, cols);
        evs.forEach((e, j) => record(r, cols[j], e, coords[j]));
        counts[by].points += cols.length;
        const n = left.get(r)! - 1;
        left.set(r, n);
        if (n === 0) rowDone(by);
      };
      await shareUnits(
        units.map((u) => coordsOf(u.r, u.cols)),
        async (i) => {
          await checkpoint(ctx.stop);
          const { r, cols } = units[i];
          const part = coordsOf(r, cols);
          const evs: Evaluation[] = new Array(cols.length);
          await objective.evaluateAlong(centre, dirs, part, withAccuracy, ctx.stop, (j, e) => (evs[j] = e));
          recordUnit('main', i, evs);
        },
        helper,
        (i, evs) => {
          payload.evaluators = 2;
          recordUnit('worker', i, evs);
        },
        ctx,
      );
    } else {
      for (const r of todo) await evaluateRowHere(r);
    }
  } catch (err) {
    stopped = true;
    recordThreads();
    watch.lap('grid');
    const reason = err instanceof CancelledError ? `cancelled after ${done} of ${total} points` : `failed after ${done} of ${total} points: ${(err as Error).message}`;
    writeResult(out, snapshot(false, reason));
    throw err;
  }
  recordThreads();
  watch.lap('grid');
  const result = snapshot(true);
  writeResult(out, result);
  return result;
}

/**
 * Units (lists of plane coordinates) taken in order by whichever evaluator is free, this thread
 * and the helper, each claiming the next from one counter (PlaneHelper.take): neither waits for
 * the other to hand it work, and the worker, ready later, simply starts with the next unit. A
 * unit the helper took and did not report (it failed, crashed or never started) is evaluated
 * here, and the helper is dropped, so a crashed worker costs time, not points. This thread stops
 * the helper taking units when it stops (cancellation, a failure of its own) or finishes.
 */
async function shareUnits(
  units: number[][][],
  here: (i: number) => Promise<void>,
  helper: PlaneHelper,
  there: (i: number, evs: Evaluation[]) => void,
  ctx: AnalysisContext,
): Promise<void> {
  const n = units.length;
  const claims = new Int32Array(new SharedArrayBuffer(8));
  /** 1: taken here; 2: reported by the helper. */
  const owner = new Uint8Array(n);
  let over = false;
  let helperDone = false;
  let wake: () => void = () => undefined;
  const taking = helper
    .take(units, claims, (i, evs) => {
      // (A unit handed back and evaluated here meanwhile, or a report after this thread stopped.)
      if (over || owner[i] !== 0) return;
      owner[i] = 2;
      there(i, evs);
      wake();
    })
    .catch(async (err: Error) => {
      const started = await helper.ready;
      if (!over) ctx.log('warn', started ? `the grid worker thread failed (${err.message}); continuing on one thread` : 'the grid worker thread did not start; evaluating on one thread');
    })
    .finally(() => {
      helperDone = true;
      wake();
    });
  void taking;
  try {
    for (;;) {
      const i = Atomics.add(claims, 0, 1);
      if (i >= n) break;
      owner[i] = 1;
      await here(i);
    }
    // Every unit is taken: wait for the helper's, or evaluate them here if it stopped without them.
    for (;;) {
      const theirs: number[] = [];
      for (let i = 0; i < n; i++) if (owner[i] === 0) theirs.push(i);
      if (theirs.length === 0) break;
      if (helperDone) {
        for (const i of theirs) {
          owner[i] = 1;
          await here(i);
        }
        break;
      }
      // Woken by the helper's next report or its end; the stop is checked meanwhile.
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100).unref();
      });
      await checkpoint(ctx.stop);
    }
  } finally {
    over = true;
    Atomics.store(claims, 1, 1);
  }
}
