import { CancelledError } from '../shared/errors';
import type { ResultOf } from '../shared/result';
import type { Landscape1D, Landscape2D } from '../shared/results/landscape';
import type { AnalysisContext } from './analysisContext';
import type { Evaluation, Objective } from './objective';
import type { Stopwatch } from './provenance';
import { writeResult } from './resultWriter';

type LandscapeResult = ResultOf<'landscape'>;

/**
 * Evaluates a landscape payload's grid in place, shared by random-direction landscapes and
 * trajectory planes: point (x[c], y[r]) is centre + x·d₁ + y·d₂ (1D: centre + t·d₁). The result
 * file is rewritten after every 2D row and every five 1D points, so a cancelled, failed or killed
 * run leaves a valid incomplete file; progress carries the same partial result.
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
}): Promise<LandscapeResult> {
  const { objective, centre, dirs, payload, withAccuracy, out, snapshot, watch, ctx } = args;
  const xs = payload.dims === 2 ? payload.x : payload.t;
  const rows = payload.dims === 2 ? payload.y.length : 1;
  const total = xs.length * rows;
  let done = 0;
  const started = performance.now();
  const publish = (message: string): void => {
    const partial = snapshot(false, 'running');
    writeResult(out, partial);
    ctx.progress(done / total, message, partial);
  };
  const record = (r: number, c: number, coords: number[], e: Evaluation): void => {
    if (!Number.isFinite(e.loss)) ctx.log('warn', `non-finite loss ${e.loss} at ${coords.join(', ')}`);
    const loss = Number.isFinite(e.loss) ? e.loss : null;
    if (payload.dims === 2) {
      payload.loss[r][c] = loss;
      if (payload.accuracy) payload.accuracy[r][c] = e.accuracy;
    } else {
      payload.loss[c] = loss;
      if (payload.accuracy) payload.accuracy[c] = e.accuracy;
      payload.pointsDone = c + 1;
    }
    done++;
  };
  try {
    if (payload.dims === 2) {
      // One row per request: a remote engine evaluates it without crossing per point.
      for (let r = 0; r < rows; r++) {
        const coords = xs.map((x) => [x, payload.y[r]]);
        await objective.evaluateAlong(centre, dirs, coords, withAccuracy, ctx.stop, (c, e) => record(r, c, coords[c], e));
        payload.rowsDone = r + 1;
        watch.lap('grid');
        const perSecond = done / ((performance.now() - started) / 1000);
        publish(`row ${r + 1}/${rows} · ${perSecond.toFixed(1)} evaluations/s`);
      }
    } else {
      // Five points per request, the result rewritten after each five.
      for (let c0 = 0; c0 < xs.length; c0 += 5) {
        const coords = xs.slice(c0, c0 + 5).map((x) => [x]);
        await objective.evaluateAlong(centre, dirs, coords, withAccuracy, ctx.stop, (j, e) => record(0, c0 + j, coords[j], e));
        publish(`${done}/${total} points`);
      }
    }
  } catch (err) {
    watch.lap('grid');
    const reason = err instanceof CancelledError ? `cancelled after ${done} of ${total} points` : `failed after ${done} of ${total} points: ${(err as Error).message}`;
    writeResult(out, snapshot(false, reason));
    throw err;
  }
  watch.lap('grid');
  const result = snapshot(true);
  writeResult(out, result);
  return result;
}
