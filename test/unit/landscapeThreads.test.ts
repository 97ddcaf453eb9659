// The 2D landscape on two cores: a worker thread with its own engine takes free rows. Its points
// must be bit-identical to the single-thread grid; a failing helper must cost time, not points.
import assert from 'node:assert/strict';
import path from 'node:path';
import { checkpoint, quietContext, type AnalysisContext } from '../../src/engine/analysisContext';
import type { StopSignal } from '../../src/engine/linalg/operator';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { selectBackend } from '../../src/engine/backend';
import { pointOnPlane } from '../../src/engine/directions';
import { prepareInputs } from '../../src/engine/inputs';
import { evaluateGrid } from '../../src/engine/landscapeGrid';
import { gridWorkersStarted, startGridWorker, stopKeptGridWorker } from '../../src/engine/tfjs/gridWorkerClient';
import type { Evaluation, Objective } from '../../src/engine/objective';
import type { PlaneHelper } from '../../src/engine/planeHelper';
import { Stopwatch } from '../../src/engine/provenance';
import { setEngineInfo } from '../../src/engine/runtime';
import { CancelledError } from '../../src/shared/errors';
import type { Landscape2D } from '../../src/shared/results/landscape';
import { makeTinyWorkspace, type TinyWorkspace } from './helpers/tinyModel';

/** An objective whose loss is a closed form of θ (θ₀ + θ₁·10), counting its evaluations. */
function fakeObjective(): Objective & { calls: number } {
  const o = {
    calls: 0,
    async evaluate(theta?: Float32Array | Float64Array): Promise<Evaluation> {
      o.calls++;
      return { loss: theta![0] + 10 * theta![1], accuracy: null };
    },
    // As the TF.js objective: a point at a time, checking the stop signal before each.
    async evaluateAlong(centre: Float32Array, dirs: Float32Array[], coords: number[][], _acc: boolean, stop: StopSignal, onPoint: (j: number, e: Evaluation) => void): Promise<void> {
      for (let j = 0; j < coords.length; j++) {
        await checkpoint(stop);
        onPoint(j, await o.evaluate(pointOnPlane(centre, dirs, coords[j])));
      }
    },
  };
  return o as unknown as Objective & { calls: number };
}

function payload(n: number): Landscape2D {
  const xs = Array.from({ length: n }, (_, i) => i);
  return { dims: 2, x: xs, y: xs, loss: xs.map(() => xs.map(() => null)), accuracy: null, rowsDone: 0, centerLoss: 0, centerAccuracy: null, directions: {} as Landscape2D['directions'] };
}

/** A helper computing the same closed form on "another core"; it fails on its `failOn`-th row. */
function fakeHelper(failOn = Infinity): PlaneHelper & { rows: number } {
  const h = {
    rows: 0,
    ready: Promise.resolve(true),
    setPlane() {},
    async evaluate(coords: number[][]): Promise<Evaluation[]> {
      await new Promise((r) => setTimeout(r, 1));
      if (++h.rows >= failOn) throw new Error('worker crashed');
      return coords.map(([x, y]) => ({ loss: x + 10 * y, accuracy: null }));
    },
    async close() {},
  };
  return h;
}

async function grid(helper: PlaneHelper | null, ctx: AnalysisContext = quietContext()) {
  const p = payload(6);
  const obj = fakeObjective();
  const centre = new Float32Array(2);
  const dirs = [Float32Array.of(1, 0), Float32Array.of(0, 1)];
  const snapshot = (complete: boolean) => ({ complete, result: p }) as never;
  await evaluateGrid({ objective: obj, centre, dirs, payload: p, withAccuracy: false, out: path.join(require('node:os').tmpdir(), `grid-${process.pid}.json`), snapshot, watch: new Stopwatch(), ctx, helper });
  return { p, obj };
}

describe('landscape grid on two threads', function () {
  this.timeout(120000);

  it('shares the rows with a helper: every point right, each computed once, evaluators = 2', async () => {
    const helper = fakeHelper();
    const { p, obj } = await grid(helper);
    p.loss.forEach((row, r) => row.forEach((l, c) => assert.equal(l, c + 10 * r)));
    assert.equal(p.rowsDone, 6);
    assert.equal(p.evaluators, 2);
    assert.ok(helper.rows > 0 && obj.calls < 36, `helper rows ${helper.rows}, here ${obj.calls}`);
    assert.equal(obj.calls + 6 * helper.rows, 36);
  });

  it('a helper answering by message gets its next row while this thread computes rows that never yield', async () => {
    // As wasm on this thread: a row is synchronous work whose reads settle as microtasks, so only
    // the grid itself can let the helper's answers (macrotasks) in between rows.
    const n = 24;
    const p = payload(n);
    let here = 0;
    const busy: Objective = {
      ...fakeObjective(),
      async evaluateAlong(centre, dirs, coords, _acc, _stop, onPoint) {
        const until = performance.now() + 10;
        while (performance.now() < until);
        here++;
        coords.forEach(([x, y], j) => onPoint(j, { loss: x + 10 * y, accuracy: null }));
      },
    } as Objective;
    const h = { ...fakeHelper(), rows: 0 };
    h.evaluate = async (coords) => {
      await new Promise((r) => setImmediate(r));
      h.rows++;
      return coords.map(([x, y]) => ({ loss: x + 10 * y, accuracy: null }));
    };
    const snapshot = (complete: boolean) => ({ complete, result: p }) as never;
    await evaluateGrid({ objective: busy, centre: new Float32Array(2), dirs: [Float32Array.of(1, 0), Float32Array.of(0, 1)], payload: p, withAccuracy: false, out: path.join(require('node:os').tmpdir(), `grid-busy-${process.pid}.json`), snapshot, watch: new Stopwatch(), ctx: quietContext(), helper: h });
    p.loss.forEach((row, r) => row.forEach((l, c) => assert.equal(l, c + 10 * r)));
    assert.equal(here + h.rows, n);
    // An instant helper takes at least every other row; without a turn of the event loop between
    // this thread's rows it got about one in three (only at checkpoint()'s 50 ms yields).
    assert.ok(h.rows >= n / 2, `helper ${h.rows} of ${n} rows, this thread ${here}`);
  });

  it('a helper that fails hands its row back: the grid is still complete and right', async () => {
    const { p } = await grid(fakeHelper(2));
    p.loss.forEach((row, r) => row.forEach((l, c) => assert.equal(l, c + 10 * r)));
    assert.equal(p.rowsDone, 6);
  });

  it('cancellation stops both (CancelledError, rows left unfinished)', async () => {
    let checks = 0;
    const ctx = quietContext({ get isCancellationRequested() { return ++checks > 8; } });
    await assert.rejects(grid(fakeHelper(), ctx), CancelledError);
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
        const there = await helper.evaluate(coords);
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

    it('a finished run keeps its worker for the next run: the same thread, another model, the same answers as a new one', async () => {
      const specOf = (model: string) => ({ model, data: ws.data, out: 'x', batchSize: 512, seed: 0 });
      const rowOn = async (model: string): Promise<{ there: Evaluation[]; here: Evaluation[] }> => {
        const prepared = await prepareInputs(specOf(model));
        const helper = startGridWorker(specOf(model))!;
        try {
          helper.attach?.(prepared);
          assert.equal(await helper.ready, true);
          const theta = prepared.objective.theta0;
          const dirs = [Float32Array.from(theta, (_, i) => Math.sin(i)), Float32Array.from(theta, (_, i) => Math.cos(3 * i))];
          helper.setPlane(theta, dirs, true);
          const coords = [[0, 0], [0.5, 0.25]];
          const here: Evaluation[] = [];
          await prepared.objective.evaluateAlong(theta, dirs, coords, true, { isCancellationRequested: false }, (j, e) => (here[j] = e));
          const there = await helper.evaluate(coords);
          // A kept worker's CPU is this run's: from its load, not from the thread's start.
          const cpu = helper.cpu?.();
          if (process.platform === 'linux') assert.ok(cpu?.startup && cpu.startup.run >= 0 && cpu.latest!.run >= cpu.startup.run);
          return { there, here };
        } finally {
          await helper.close();
          prepared.dispose();
        }
      };
      await stopKeptGridWorker();
      const started = gridWorkersStarted();
      const first = await rowOn(ws.model);
      const second = await rowOn(ws.model2);
      const third = await rowOn(ws.model);
      assert.equal(gridWorkersStarted(), started + 1, 'the kept worker was not reused');
      for (const r of [first, second, third]) assert.deepEqual(r.there, r.here);
      // The second run's model is the other workspace's, not the first run's left loaded.
      assert.notEqual(second.there[1].loss, first.there[1].loss);
      assert.deepEqual(third.there, first.there);
    });

    it('a worker that failed a row is not kept: the next run starts a new thread', async () => {
      const spec = { model: ws.model, data: ws.data, out: 'x', batchSize: 512, seed: 0 };
      const prepared = await prepareInputs(spec);
      const helper = startGridWorker(spec)!;
      try {
        helper.attach?.(prepared);
        assert.equal(await helper.ready, true);
        // No plane set: the worker refuses the row.
        await assert.rejects(helper.evaluate([[0, 0]]), /no plane set/);
      } finally {
        await helper.close();
        prepared.dispose();
      }
      const started = gridWorkersStarted();
      const next = startGridWorker(spec)!;
      await next.close();
      assert.equal(gridWorkersStarted(), started + 1);
      await stopKeptGridWorker();
    });
  });
});
