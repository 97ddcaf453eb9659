import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { evaluateGrid } from '../../src/engine/landscapeGrid';
import type { Evaluation, Objective } from '../../src/engine/objective';
import type { PlaneHelper } from '../../src/engine/planeHelper';
import { Stopwatch } from '../../src/engine/provenance';
import { CancelledError } from '../../src/shared/errors';
import type { ResultOf } from '../../src/shared/result';
import type { Landscape1D, Landscape2D } from '../../src/shared/results/landscape';
import { computedPoints, finishedRowsFromStart } from '../../src/shared/resume';

/**
 * The grid loop's resume contract, engine-free: a partial payload (finished rows in any order, a
 * half-finished row, a point whose loss was NaN) is completed by evaluating exactly the points it
 * lacks — counted per point by the objective, not inferred from the result — and the completed
 * payload equals an uninterrupted run's.
 */
type LandscapeResult = ResultOf<'landscape'>;

/** A loss with a NaN at (0.5, 0) (1D: t = 0.5), so that a non-finite point is part of the grid. */
function lossAt(c: number[]): number {
  if (c[0] === 0.5 && (c[1] ?? 0) === 0) return NaN;
  return c[0] * c[0] + 3 * (c[1] ?? 0) ** 2 + Math.sin(c[0] * (c[1] ?? 1));
}

/** An objective that evaluates lossAt point by point (checking the stop between points, as TF.js does) and records every request. */
function countingObjective(stopAfter = Infinity): { objective: Objective; requests: number[][][]; stop: { isCancellationRequested: boolean } } {
  const requests: number[][][] = [];
  const stop = { isCancellationRequested: false };
  let evaluated = 0;
  const objective = {
    async evaluateAlong(_c: Float32Array, _d: readonly Float32Array[], coords: readonly number[][], _acc: boolean, s: { isCancellationRequested: boolean }, onPoint: (j: number, e: Evaluation) => void) {
      requests.push(coords.map((c) => [...c]));
      for (let j = 0; j < coords.length; j++) {
        if (s.isCancellationRequested) throw new CancelledError();
        onPoint(j, { loss: lossAt(coords[j]), accuracy: 0.5 });
        if (++evaluated >= stopAfter) stop.isCancellationRequested = true;
      }
    },
  } as unknown as Objective;
  return { objective, requests, stop };
}

const xs = [-1, -0.5, 0, 0.5, 1];
const ys = [-1, -0.5, 0, 0.5];

function empty2D(): Landscape2D {
  return {
    dims: 2,
    x: xs,
    y: ys,
    loss: ys.map(() => xs.map(() => null)),
    accuracy: ys.map(() => xs.map(() => null)),
    rowsDone: 0,
    centerLoss: 0,
    centerAccuracy: null,
    directions: { kind: 'random', norm: 'none', bias: 'zero', seed: 0, cosine: null, norms: [1, 1], center: { file: 'x.bin', offset: 0, length: 1, dtype: 'float32' }, vectors: [] },
  };
}

function empty1D(n: number): Landscape1D {
  const t = Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
  t[Math.round(0.75 * (n - 1))] = 0.5;
  return { ...empty2D(), dims: 1, t, loss: t.map(() => null), accuracy: t.map(() => null), pointsDone: 0 } as unknown as Landscape1D;
}

describe('landscape grid: resuming a partial never evaluates a finished point', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'losscape-resume-grid-'));
  let serial = 0;
  async function run(payload: Landscape1D | Landscape2D, objective: Objective, stop: { isCancellationRequested: boolean }, helper?: PlaneHelper): Promise<boolean> {
    const out = path.join(dir, `g${++serial}.losscape.json`);
    const snapshot = (complete: boolean, status?: string): LandscapeResult =>
      ({ schema: 'losscape/1', kind: 'landscape', complete, status, backend: 'test', provenance: {} as never, options: {}, result: payload }) as LandscapeResult;
    try {
      await evaluateGrid({ objective, centre: new Float32Array(1), dirs: [], payload, withAccuracy: true, out, snapshot, watch: new Stopwatch(), ctx: quietContext(stop), helper });
      return true;
    } catch (e) {
      if (e instanceof CancelledError) return false;
      throw e;
    }
  }
  const flat = (p: Landscape1D | Landscape2D) => (p.dims === 2 ? p.loss.flat() : p.loss);

  it('2D: cancelled part way through a row, then resumed: the missing points only, the same grid', async () => {
    const ref = empty2D();
    const full = countingObjective();
    assert.equal(await run(ref, full.objective, full.stop), true);
    assert.deepEqual(ref.nonFinite, [3 + 2 * 5], 'the NaN point is listed as computed');

    const partial = empty2D();
    const first = countingObjective(8);
    assert.equal(await run(partial, first.objective, first.stop), false);
    const kept = computedPoints(partial).filter(Boolean).length;
    assert.equal(kept, 8, 'the partial holds the points evaluated before the stop, a half row included');
    assert.equal(partial.rowsDone, 1);

    partial.resume = { from: 'p', pointsKept: kept, pointsEvaluated: 0 };
    const second = countingObjective();
    assert.equal(await run(partial, second.objective, second.stop), true);
    const asked = second.requests.flat().map((c) => c.join(','));
    assert.equal(asked.length, xs.length * ys.length - kept, 'points evaluated on resume');
    assert.equal(new Set(asked).size, asked.length, 'a point evaluated twice');
    assert.ok(!asked.includes(`${xs[2]},${ys[1]}`), 'a point of the half-finished row was evaluated again');
    assert.deepEqual(second.requests[0].map((c) => c[0]), xs.slice(3), 'the half-finished row asks only for its missing columns');
    assert.equal(partial.resume.pointsEvaluated, asked.length);
    assert.deepEqual(flat(partial), flat(ref));
    assert.deepEqual(partial.accuracy, ref.accuracy);
    assert.deepEqual(partial.nonFinite, ref.nonFinite);
    assert.equal(partial.rowsDone, ys.length);
  });

  it('2D: a NaN point computed before the stop is not evaluated again', async () => {
    const partial = empty2D();
    const first = countingObjective(14);
    await run(partial, first.objective, first.stop);
    assert.deepEqual(partial.nonFinite, [13]);
    const second = countingObjective();
    await run(partial, second.objective, second.stop);
    assert.ok(!second.requests.flat().some((c) => c[0] === 0.5 && c[1] === 0));
    assert.equal(second.requests.flat().length, 20 - 14);
  });

  it('2D with a helper evaluator: rows out of order in the partial, each missing point evaluated once', async () => {
    const partial = empty2D();
    // Rows 0 and 2 finished (as two evaluators leave them), row 3 half.
    for (const r of [0, 2]) xs.forEach((x, c) => ((partial.loss[r][c] = lossAt([x, ys[r]])), (partial.accuracy![r][c] = 0.5)));
    partial.loss[3][0] = lossAt([xs[0], ys[3]]);
    partial.accuracy![3][0] = 0.5;
    // Row 2 holds the NaN point: stored as null, listed as computed.
    partial.loss[2][3] = null;
    partial.nonFinite = [2 * xs.length + 3];
    const here = countingObjective();
    const helperAsked: number[][] = [];
    const helper: PlaneHelper = {
      ready: Promise.resolve(true),
      setPlane: () => undefined,
      evaluate: async (coords) => {
        helperAsked.push(...coords);
        await new Promise((r) => setTimeout(r, 5));
        return coords.map((c) => ({ loss: lossAt(c), accuracy: 0.5 }));
      },
      close: async () => undefined,
    };
    assert.equal(await run(partial, here.objective, here.stop, helper), true);
    const asked = [...here.requests.flat(), ...helperAsked].map((c) => c.join(',')).sort();
    const want = [1, 3].flatMap((r) => xs.filter((_, c) => r === 1 || c > 0).map((x) => `${x},${ys[r]}`)).sort();
    assert.deepEqual(asked, want);
    const ref = empty2D();
    const full = countingObjective();
    await run(ref, full.objective, full.stop);
    assert.deepEqual(flat(partial), flat(ref));
  });

  it('1D: requests stay aligned to the uninterrupted run’s fives; only missing points are asked for', async () => {
    const ref = empty1D(13);
    const full = countingObjective();
    await run(ref, full.objective, full.stop);
    assert.deepEqual(full.requests.map((r) => r.length), [5, 5, 3]);

    const partial = empty1D(13);
    const first = countingObjective(7);
    assert.equal(await run(partial, first.objective, first.stop), false);
    assert.equal(partial.pointsDone, 7);
    const second = countingObjective();
    assert.equal(await run(partial, second.objective, second.stop), true);
    assert.deepEqual(second.requests.map((r) => r.map((c) => c[0])), [ref.t.slice(7, 10), ref.t.slice(10)]);
    assert.deepEqual(partial.loss, ref.loss);
    assert.deepEqual(partial.nonFinite, ref.nonFinite);
    assert.equal(partial.pointsDone, 13);
  });
  it('an engine evaluating several points per pass: a row stopped between passes is resumed pass by pass, as the uninterrupted run split it', async () => {
    // As TF.js does (tfjs/objective.ts): passes of equal size ≤ K; here a point's value depends
    // on its pass's size (as float32 rounding inside a wider kernel may), so only the same passes give the same grid.
    const K = 4;
    const passSizes = (n: number): number[] => {
      const size = Math.ceil(n / Math.ceil(n / K));
      return Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size));
    };
    const passes: number[][] = [];
    const batched = (stopAfterPasses = Infinity) => {
      const stop = { isCancellationRequested: false };
      let n = 0;
      const objective = {
        passSizes,
        async evaluateAlong(_c: Float32Array, _d: readonly Float32Array[], coords: readonly number[][], _a: boolean, s: { isCancellationRequested: boolean }, onPoint: (j: number, e: Evaluation) => void) {
          let j0 = 0;
          for (const size of passSizes(coords.length)) {
            if (s.isCancellationRequested) throw new CancelledError();
            passes.push(coords.slice(j0, j0 + size).map((c) => c[0]));
            for (let j = j0; j < j0 + size; j++) onPoint(j, { loss: Math.abs(lossAt(coords[j])) + size * 1e-9, accuracy: null });
            j0 += size;
            if (++n >= stopAfterPasses) stop.isCancellationRequested = true;
          }
        },
      } as unknown as Objective;
      return { objective, stop };
    };
    const wide = (): Landscape2D => {
      const x = Array.from({ length: 10 }, (_, i) => i / 10);
      return { ...empty2D(), x, y: [0.25, 0.75], loss: [x.map(() => null), x.map(() => null)], accuracy: null };
    };
    const ref = wide();
    const a = batched();
    await run(ref, a.objective, a.stop);
    const partial = wide();
    const b = batched(4);
    assert.equal(await run(partial, b.objective, b.stop), false);
    assert.equal(computedPoints(partial).filter(Boolean).length, 14, 'row 0 and the first pass of row 1');
    passes.length = 0;
    const c = batched();
    await run(partial, c.objective, c.stop);
    assert.deepEqual(passes, [[0.4, 0.5, 0.6, 0.7], [0.8, 0.9]], 'the remaining passes of row 1, as the uninterrupted run made them');
    assert.deepEqual(partial.loss, ref.loss);
  });
});

describe('finished rows from the start (what the charts draw as done)', () => {
  it('counts leading rows computed in full, a NaN point listed in nonFinite included; rows done out of order do not count', () => {
    const p = {
      dims: 2 as const,
      x: [0, 1],
      y: [0, 1, 2, 3],
      loss: [[1, 2], [null, 3], [null, null], [4, 5]],
      accuracy: null,
      rowsDone: 3,
      nonFinite: [2],
      centerLoss: 1,
      centerAccuracy: null,
      directions: { kind: 'random' as const, norm: 'none' as const, bias: 'zero' as const, seed: 0, cosine: null, norms: [], center: { file: 'x', offset: 0, length: 0, dtype: 'float32' as const }, vectors: [] },
    };
    // Rows 0, 1 (its null is a NaN point) and 3 are done; row 2 is not: two rows from the start.
    assert.equal(finishedRowsFromStart(p), 2);
    assert.equal(finishedRowsFromStart({ ...p, rowsDone: 4, nonFinite: undefined }), 4, 'a complete grid: all rows');
  });
});
