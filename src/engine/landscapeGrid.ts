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
 * The least time between two rewrites of the running result file. A rewrite (the whole result
 * as JSON, through a temporary and a rename) costs the main thread 1–2 ms: after each of the
 * demo's 41 rows, ~70 ms of a ~0.8 s two-thread grid, for the worker thread's rows too. Rows
 * slower than this (any model worth waiting for) are still written one by one.
 */
export const REWRITE_EVERY_MS = 250;

/**
 * Evaluates a landscape payload's grid in place, shared by random-direction landscapes and
 * trajectory planes: point (x[c], y[r]) is centre + x·d₁ + y·d₂ (1D: centre + t·d₁). The result
 * file is rewritten after a 2D row or five 1D points once REWRITE_EVERY_MS have passed since the
 * last rewrite (the first row's at once), and always when the grid ends, is cancelled or fails:
 * a cancelled or failed run leaves a valid incomplete file holding every point computed, a killed
 * one a valid file at most REWRITE_EVERY_MS of computing older. Progress carries the partial
 * result after every row (the engine sends it on at most once a second, engine/main.ts).
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
}): Promise<LandscapeResult> {
  const { objective, centre, dirs, payload, withAccuracy, out, snapshot, watch, ctx, helper } = args;
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
    if (now - lastWrite >= REWRITE_EVERY_MS) {
      lastWrite = now;
      writeResult(out, partial);
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
  const rowDone = (by: 'main' | 'worker', points: number): void => {
    if (payload.dims !== 2) return;
    payload.rowsDone++;
    counts[by].rows++;
    counts[by].points += points;
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
    rowDone('main', points);
  };
  try {
    if (helper && payload.dims === 2 && todo.length > 1) {
      await shareRows(todo, evaluateRowHere, helper, async (r) => {
        // All of the row's passes before any is recorded: a helper that fails hands the whole row back.
        const results: { cols: number[]; coords: number[][]; evs: Evaluation[] }[] = [];
        for (const cols of requestsOf(r)) {
          const coords = coordsOf(r, cols);
          results.push({ cols, coords, evs: await helper.evaluate(coords) });
        }
        let points = 0;
        for (const { cols, coords, evs } of results) {
          evs.forEach((e, j) => record(r, cols[j], e, coords[j]));
          points += cols.length;
        }
        rowDone('worker', points);
      }, ctx, payload);
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

/** A turn of the event loop (setImmediate: after the I/O and messages that are waiting). */
const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Rows from one queue, taken in order by whichever evaluator is free: this thread and the
 * helper. A row the helper fails on goes back to the queue and the helper is dropped, so a
 * crashed worker costs time, not points. Cancellation is checked by this thread's evaluations
 * and before the helper takes a row.
 */
async function shareRows(
  rows: number[],
  here: (r: number) => Promise<void>,
  helper: PlaneHelper,
  there: (r: number) => Promise<void>,
  ctx: AnalysisContext,
  payload: Landscape2D,
): Promise<void> {
  const queue = [...rows];
  /** The helper's rows in progress (each settles true when done, false when handed back). */
  const inFlight = new Set<Promise<boolean>>();
  let helperAlive = true;
  // Lane k of the helper takes a row only while more than 2k are left, so the last rows go to
  // whichever thread is free rather than queueing behind the helper's row in progress (with
  // "more than k" this thread waited up to ~1.5 rows for the helper at the end).
  const lane = async (k: number): Promise<void> => {
    for (;;) {
      // A macrotask turn before taking a row, so that a cancellation that arrived meanwhile (an
      // IPC message) is seen: the helper's answers, one after the other, would otherwise keep
      // this thread in the event loop's poll phase, each handing out the next row.
      await nextTurn();
      if (!(helperAlive && queue.length > 2 * k && !ctx.stop.isCancellationRequested)) break;
      const r = queue.shift()!;
      payload.evaluators = 2;
      const p = there(r).then(
        () => true,
        (err: Error) => {
          queue.unshift(r);
          if (helperAlive) ctx.log('warn', `the grid worker thread failed (${err.message}); continuing on one thread`);
          helperAlive = false;
          return false;
        },
      );
      inFlight.add(p);
      await p;
      inFlight.delete(p);
    }
  };
  const helperLoop = async (): Promise<void> => {
    if (!(await helper.ready)) {
      helperAlive = false;
      // (A worker stopped because the grid finished before it was ready is no news.)
      if (queue.length) ctx.log('warn', 'the grid worker thread did not start; evaluating on one thread');
      return;
    }
    // Two rows in flight: the helper's next row is already in its queue when it finishes one.
    // With one, it idled until this thread, busy with its own row (a synchronous wasm pass),
    // got round to handing it another: on the demo MLP the worker ran about half the time.
    await Promise.all([lane(0), lane(1)]);
  };
  const loop = helperLoop();
  for (;;) {
    if (queue.length) {
      // Two turns of the event loop first: the helper's finished rows arrive as messages, which
      // a chain of resolved awaits (wasm reads settle as microtasks) never lets in, and a lane
      // hands the helper its next row only once it has seen the last one come back. The first
      // turn lets the messages in; the lanes' own turn (below) then comes before this thread's
      // second, so the helper has its next row before this thread starts a synchronous one.
      await nextTurn();
      await nextTurn();
      const r = queue.shift();
      if (r !== undefined) await here(r);
      continue;
    }
    // Nothing left to take: wait for the helper's rows in flight (one may be handed back), but
    // not for a helper still starting up.
    if (inFlight.size === 0) break;
    await Promise.race(inFlight);
  }
  // Let the helper loop see the empty queue before the caller closes the worker.
  if (inFlight.size === 0) void loop;
}
