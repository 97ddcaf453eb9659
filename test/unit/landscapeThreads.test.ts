// The 2D landscape on two cores: a worker thread with its own engine takes free rows. Its points
// must be bit-identical to the single-thread grid; a failing helper must cost time, not points.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkpoint, quietContext, type AnalysisContext } from '../../src/engine/analysisContext';
import type { StopSignal } from '../../src/engine/linalg/operator';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { selectBackend } from '../../src/engine/backend';
import { pointOnPlane } from '../../src/engine/directions';
import { prepareInputs } from '../../src/engine/inputs';
import { evaluateGrid } from '../../src/engine/landscapeGrid';
import { startGridWorker } from '../../src/engine/tfjs/gridWorkerClient';
import type { Evaluation, Objective } from '../../src/engine/objective';
import type { PlaneHelper } from '../../src/engine/planeHelper';
import { Stopwatch } from '../../src/engine/provenance';
import { setEngineInfo } from '../../src/engine/runtime';
import { CancelledError } from '../../src/shared/errors';
import type { Landscape2D } from '../../src/shared/results/landscape';
import { fakePlaneHelper } from './helpers/fakePlaneHelper';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/**
 * An objective whose loss is a closed form of θ (θ₀ + θ₁·10), counting its evaluations and
 * recording its requests; `pass`: it says it evaluates a request in passes of that many points.
 */
function fakeObjective(pass?: number): Objective & { calls: number; requests: number[][][] } {
  const o = {
    calls: 0,
    requests: [] as number[][][],
    async evaluate(theta?: Float32Array | Float64Array): Promise<Evaluation> {
      o.calls++;
      return { loss: theta![0] + 10 * theta![1], accuracy: null };
    },
    // As the TF.js objective: a point at a time, checking the stop signal before each.
    async evaluateAlong(centre: Float32Array, dirs: Float32Array[], coords: number[][], _acc: boolean, stop: StopSignal, onPoint: (j: number, e: Evaluation) => void): Promise<void> {
      o.requests.push(coords);
      for (let j = 0; j < coords.length; j++) {
        await checkpoint(stop);
        onPoint(j, await o.evaluate(pointOnPlane(centre, dirs, coords[j])));
      }
    },
    ...(pass ? { passSizes: (count: number) => Array.from({ length: Math.ceil(count / pass) }, (_, k) => Math.min(pass, count - k * pass)) } : {}),
  };
  return o as unknown as Objective & { calls: number; requests: number[][][] };
}

function payload(n: number): Landscape2D {
  const xs = Array.from({ length: n }, (_, i) => i);
  return { dims: 2, x: xs, y: xs, loss: xs.map(() => xs.map(() => null)), accuracy: null, rowsDone: 0, centerLoss: 0, centerAccuracy: null, directions: {} as Landscape2D['directions'] };
}

/** A helper computing the same closed form on "another core" (helpers/fakePlaneHelper.ts). */
const fakeHelper = (opts: Parameters<typeof fakePlaneHelper>[1] = {}) => fakePlaneHelper(([x, y]) => x + 10 * y, opts);

const gridOut = path.join(os.tmpdir(), `grid-${process.pid}.json`);

async function grid(helper: PlaneHelper | null, ctx: AnalysisContext = quietContext(), rewriteEveryMs?: number, obj = fakeObjective()) {
  const p = payload(6);
  const centre = new Float32Array(2);
  const dirs = [Float32Array.of(1, 0), Float32Array.of(0, 1)];
  const snapshot = (complete: boolean) => ({ complete, result: p }) as never;
  await evaluateGrid({ objective: obj, centre, dirs, payload: p, withAccuracy: false, out: gridOut, snapshot, watch: new Stopwatch(), ctx, helper, rewriteEveryMs });
  return { p, obj };
}

/** The result files `f` writes (renamed into place) while it runs, as rowsDone at each. */
async function writesDuring(f: () => Promise<unknown>): Promise<number[]> {
  const real = fs.renameSync;
  const rows: number[] = [];
  fs.renameSync = (from: fs.PathLike, to: fs.PathLike) => {
    real(from, to);
    if (to === gridOut) rows.push(JSON.parse(fs.readFileSync(gridOut, 'utf8')).result.rowsDone);
  };
  try {
    await f();
  } finally {
    fs.renameSync = real;
  }
  return rows;
}

describe('landscape grid on two threads', function () {
  this.timeout(120000);

  const right = (p: Landscape2D) => p.loss.forEach((row, r) => row.forEach((l, c) => assert.equal(l, c + 10 * r)));
  const logs = (): { ctx: AnalysisContext; warnings: string[] } => {
    const warnings: string[] = [];
    return { warnings, ctx: { ...quietContext(), log: (level, message) => void (level === 'warn' && warnings.push(message)) } };
  };

  it('shares the units with a helper: every point right, each computed once, evaluators = 2', async () => {
    const helper = fakeHelper();
    const { p, obj } = await grid(helper);
    right(p);
    assert.equal(p.rowsDone, 6);
    assert.equal(p.evaluators, 2);
    // (The helper takes its first unit as soon as it is asked to.)
    assert.ok(helper.points > 0 && obj.calls < 36, `helper points ${helper.points}, here ${obj.calls}`);
    assert.equal(obj.calls + helper.points, 36);
    const threads = p.threads!;
    assert.deepEqual(threads.map((t) => t.points), [obj.calls, helper.points]);
    assert.equal(threads[0].rows + threads[1].rows, 6);
  });

  it('a row is shared in the passes the objective evaluates it in: each request one whole pass, the grid the same', async () => {
    const obj = fakeObjective(4);
    const helper = fakeHelper();
    const { p } = await grid(helper, quietContext(), undefined, obj);
    right(p);
    assert.equal(p.rowsDone, 6);
    // Rows of 6 in passes of 4 + 2: twelve units, each exactly one pass of one row, here or there.
    const seen = [...obj.requests, ...helper.asked].map((u) => `${u[0][1]}:${u[0][0]}-${u[u.length - 1][0]}`).sort();
    assert.deepEqual(seen, Array.from({ length: 6 }, (_, r) => [`${r}:0-3`, `${r}:4-5`]).flat().sort());
    assert.ok(helper.asked.length > 0);
  });

  it('a helper that fails mid-grid keeps the points it reported and hands back the unit it held: the grid complete and right, each point once', async () => {
    for (const failOn of [1, 3]) {
      const helper = fakeHelper({ failOn });
      const { ctx, warnings } = logs();
      const { p, obj } = await grid(helper, ctx);
      right(p);
      assert.equal(p.rowsDone, 6);
      assert.equal(obj.calls + helper.points, 36);
      // failOn 1: it took the first unit and failed with it, so this thread evaluated everything.
      if (failOn === 1) assert.equal(helper.points, 0);
      if (helper.units >= failOn) assert.match(warnings.join('\n'), /the grid worker thread failed \(worker crashed\); continuing on one thread/);
    }
  });

  it('a helper that never starts: every point here, one warning', async () => {
    const helper = fakeHelper({ ready: false });
    const { ctx, warnings } = logs();
    const { p, obj } = await grid(helper, ctx);
    right(p);
    assert.equal(obj.calls, 36);
    assert.equal(p.evaluators, undefined);
    assert.deepEqual(warnings, ['the grid worker thread did not start; evaluating on one thread']);
  });

  it('rewrites the running result file at most every rewriteEveryMs: after the first row, then when the interval has passed, and at the end; progress after every row', async () => {
    const progress = (): { ctx: AnalysisContext; rows: number[] } => {
      const rows: number[] = [];
      return { rows, ctx: { ...quietContext(), progress: (_f, _m, partial) => rows.push((partial!.result as Landscape2D).rowsDone) } };
    };
    const seldom = progress();
    assert.deepEqual(await writesDuring(() => grid(fakeHelper(), seldom.ctx, Infinity)), [1, 6]);
    assert.deepEqual(seldom.rows, [1, 2, 3, 4, 5, 6]);
    const always = progress();
    assert.deepEqual(await writesDuring(() => grid(fakeHelper(), always.ctx, 0)), [1, 2, 3, 4, 5, 6, 6]);
    assert.deepEqual(always.rows, [1, 2, 3, 4, 5, 6]);
  });

  it('cancellation stops both (CancelledError, rows left unfinished; the helper takes no more units)', async () => {
    let checks = 0;
    const ctx = quietContext({ get isCancellationRequested() { return ++checks > 8; } });
    const helper = fakeHelper();
    await assert.rejects(grid(helper, ctx), CancelledError);
    const taken = helper.taken;
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(helper.taken, taken);
    assert.ok(taken < 6, `the helper took ${taken} units`);
  });

  describe('with the real worker thread (tiny model, cpu backend)', () => {
    let ws: TinyWorkspace;
    before(async () => {
      setEngineInfo(await selectBackend('cpu'));
      ws = await makeTinyWorkspace();
    });

    it('threads: 2 gives the same grid as threads: 1, bit for bit', async () => {
      const run = (threads: number) => runLandscape({ kind: 'landscape', model: ws.model, data: ws.data, points: 7, threads, out: path.join(ws.dir, `t${threads}.losscape.json`) }, quietContext());
      const one = await run(1);
      const two = await run(2);
      assert.ok(one.result.dims === 2 && two.result.dims === 2);
      assert.equal(one.result.evaluators, undefined);
      // (Whether the worker took rows here depends on how fast it starts; the next test makes sure it computes right.)
      assert.deepEqual(two.result.loss, one.result.loss);
      assert.deepEqual(two.result.accuracy, one.result.accuracy);
      // Who evaluated what: the rows and points add up to the grid in both runs.
      for (const r of [one.result, two.result]) {
        assert.ok(r.dims === 2 && r.threads);
        assert.equal(r.threads.reduce((a, t) => a + t.rows, 0), 7);
        assert.equal(r.threads.reduce((a, t) => a + t.points, 0), 49);
        if (process.platform === 'linux') assert.ok(r.threads[0].cpuSeconds !== null && r.threads[0].cpuSeconds > 0);
      }
      assert.equal(one.result.threads!.length, 1);
    });

    it('the worker thread evaluates a row exactly as this thread does', async () => {
      const spec = { model: ws.model, data: ws.data, out: 'x', batchSize: 512, seed: 0 };
      const prepared = await prepareInputs(spec);
      const helper = startGridWorker(spec);
      try {
        assert.ok(helper, 'no worker script found');
        // The worker takes this thread's prepared samples rather than reading the data again.
        helper.attach?.(prepared);
        assert.equal(await helper.ready, true);
        const theta = prepared.objective.theta0;
        const dirs = [Float32Array.from(theta, (_, i) => Math.sin(i)), Float32Array.from(theta, (_, i) => Math.cos(3 * i))];
        helper.setPlane(theta, dirs, true);
        const coords = [[0, 0], [0.3, -0.2], [-1, 1]];
        // One unit, taken from a counter this thread does not take from.
        const claims = new Int32Array(new SharedArrayBuffer(8));
        let there: Evaluation[] = [];
        await helper.take([coords], claims, (i, evs) => {
          assert.equal(i, 0);
          there = evs;
        });
        assert.equal(Atomics.load(claims, 0), 2, 'the worker took unit 0, then found none left');
        const here: Evaluation[] = [];
        await prepared.objective.evaluateAlong(theta, dirs, coords, true, { isCancellationRequested: false }, (j, e) => (here[j] = e));
        for (let i = 0; i < coords.length; i++) {
          assert.equal(there[i].loss, here[i].loss);
          assert.equal(there[i].accuracy, here[i].accuracy);
          // The row's points passed through the model together agree with one at a time to float32 rounding.
          const single = await prepared.objective.evaluate(pointOnPlane(theta, dirs, coords[i]), true);
          assert.ok(Math.abs(single.loss - here[i].loss) <= 2e-6 * Math.abs(single.loss));
        }
        // The worker reports its thread's CPU time (Linux), startup first.
        const cpu = helper.cpu?.();
        if (process.platform === 'linux') assert.ok(cpu?.startup && cpu.latest && cpu.latest.run >= cpu.startup.run && cpu.startup.run > 0);
      } finally {
        await helper?.close();
        prepared.dispose();
      }
    });
  });
});
