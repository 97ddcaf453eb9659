import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quietContext } from '../../src/engine/analysisContext';
import { runLandscape } from '../../src/engine/analyses/landscape';
import { selectBackend } from '../../src/engine/backend';
import { setEngineInfo } from '../../src/engine/runtime';
import { threadCpu } from '../../src/engine/threadCpu';
import type { Landscape2D } from '../../src/shared/results/landscape';
import type { Row } from './types';

export const DEMO_MODEL = 'examples/mnist/generated/model/model.json';
export const DEMO_DATA = 'examples/mnist/generated/data.npz';

const POINTS = 41 * 41;

type Threads = NonNullable<Landscape2D['threads']>;

function cpuOf(threads: Threads | undefined, which: 'main' | 'worker'): Threads[number] | undefined {
  return threads?.find((t) => t.thread === which);
}

/**
 * Parallel efficiency of the two-thread grid from CPU time (Landscape2D.threads), which a
 * loaded machine distorts far less than wall-clock ratios: CPU per point on one thread against
 * the two threads' CPU per point together (1.0: the second thread adds no work per point),
 * the worker's start-up CPU, how long the main thread waited for the worker (grid time not
 * running and not runnable), and the speed-up an idle machine would give by that account.
 *
 * The idle-machine estimate is for the whole run, as the timed rows are: the 1-thread run's
 * main-thread CPU (load, directions, centre, grid) against a replay of the 2-thread run on two
 * free cores from its measured CPU costs — the main thread's work outside the grid, then rows
 * at its CPU per row; the worker, started with the run, ready after its start-up CPU and taking
 * rows (at its CPU per row) from when the grid starts; each free thread takes the next row, and
 * the run ends when both are done. On a loaded machine the row split itself is distorted (a
 * thread that waits for a CPU takes fewer rows), which the replay undoes; the older estimate,
 * grid CPU only with the worker's start-up counted in full, is printed beside it.
 */
function efficiency(one: Run, two: Run): { note: string; ratio: number } | null {
  const m1 = cpuOf(one.threads, 'main');
  const m2 = cpuOf(two.threads, 'main');
  const w2 = cpuOf(two.threads, 'worker');
  if (!m1?.cpuSeconds || m2?.cpuSeconds == null) return null;
  const per1 = m1.cpuSeconds / POINTS;
  const workerCpu = w2?.cpuSeconds ?? 0;
  const per2 = (m2.cpuSeconds + workerCpu) / POINTS;
  const startup = w2?.startupCpuSeconds ?? 0;
  const waited = Math.max(0, two.grid - m2.cpuSeconds - (m2.waitSeconds ?? 0));
  const gridOnly = m1.cpuSeconds / Math.max(m2.cpuSeconds, workerCpu + startup);
  const ms = (s: number) => (s * 1000).toFixed(2);
  let whole = '';
  if (one.mainCpu !== null && two.mainCpu !== null && m2.rows > 0) {
    const outside = Math.max(0, two.mainCpu - m2.cpuSeconds);
    const replay = replayTwoThreads(ROWS, outside, m2.cpuSeconds / m2.rows, w2 && w2.rows > 0 ? startup : Infinity, w2 && w2.rows > 0 ? workerCpu / w2.rows : Infinity);
    whole =
      `; idle-machine estimate ${(one.mainCpu / replay.seconds).toFixed(2)}× for the whole run (1-thread run's main-thread CPU ${one.mainCpu.toFixed(2)} s ÷ ${replay.seconds.toFixed(2)} s replayed on two free cores: ` +
      `${outside.toFixed(2)} s main-thread work outside the grid, rows ${replay.mainRows}/${ROWS - replay.mainRows} main/worker)`;
  }
  return {
    ratio: per1 / per2,
    note:
      `CPU per point ${ms(per1)} ms on 1 thread, ${ms(per2)} ms on 2 (main ${m2.cpuSeconds.toFixed(2)} s for ${m2.rows} rows, worker ${workerCpu.toFixed(2)} s for ${w2?.rows ?? 0} rows ` +
      `+ ${startup.toFixed(2)} s start-up); main waited ${waited.toFixed(2)} s for the worker${whole}; grid-only estimate ${gridOnly.toFixed(2)}× (1-thread grid CPU ÷ busier thread's grid CPU, start-up counted in full)`,
  };
}

const ROWS = 41;

/**
 * Two threads sharing `rows` rows, each free one taking the next (landscapeGrid.ts shareRows),
 * on two free cores: the main thread starts the grid after `outside` seconds and takes a row
 * every `mainRow` seconds; the worker is ready after `workerStart` seconds and, from the
 * grid's start, takes a row every `workerRow` seconds. Returns when both are done.
 */
export function replayTwoThreads(rows: number, outside: number, mainRow: number, workerStart: number, workerRow: number): { seconds: number; mainRows: number } {
  let main = outside;
  let worker = Math.max(workerStart, outside);
  let mainRows = 0;
  for (let r = 0; r < rows; r++) {
    // Whoever is free first takes the row (the main thread on a tie: it asks first).
    if (main <= worker || !Number.isFinite(workerRow)) {
      main += mainRow;
      mainRows++;
    } else worker += workerRow;
  }
  return { seconds: Math.max(main, mainRows === rows ? main : worker), mainRows };
}

type Run = { grid: number; threads?: Threads; mainCpu: number | null };

/**
 * Seconds per 41×41 landscape of the demo model, loss evaluations per second, the same
 * landscape with the grid worker thread (wall-clock ratio and, from CPU time, the parallel
 * efficiency), and on the cpu backend beside wasm.
 */
export async function benchLandscape(samples: number): Promise<Row[]> {
  if (!existsSync(DEMO_MODEL)) throw new Error(`${DEMO_MODEL} is missing: run npx tsx examples/mnist/prepare.ts (npm run demo does)`);
  // The product's worker is the bundle (dist/gridWorker.js); from the TypeScript source under
  // tsx it starts ~2× slower. The bundle is used when it is newer than every source file.
  const bundle = path.resolve('dist', 'gridWorker.js');
  const worker = existsSync(bundle) && statSync(bundle).mtimeMs >= newestSource('src') ? 'bundle' : 'source';
  const previous = process.env.LOSSCAPE_GRID_WORKER;
  if (worker === 'bundle') process.env.LOSSCAPE_GRID_WORKER = bundle;
  try {
    return await landscapeRows(samples, worker === 'bundle' ? 'worker: dist/gridWorker.js' : 'worker: TS source under tsx (no fresh build: start-up inflated)');
  } finally {
    if (previous === undefined) delete process.env.LOSSCAPE_GRID_WORKER;
    else process.env.LOSSCAPE_GRID_WORKER = previous;
  }
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

async function landscapeRows(samples: number, workerNote: string): Promise<Row[]> {
  const rows: Row[] = [];
  const warmed = new Set<string>();
  // wasm on one thread (the baseline), wasm with the grid worker thread, then cpu on one thread.
  // The wasm rows are interleaved pairs (1 thread, 2 threads), REPEATS of them, each row the
  // median run: on this kind of VM one run of the same code varies by ±10 %, as much as the
  // difference being measured. The cpu backend (~35 s a run) runs once.
  const repeats = Math.max(1, Number(process.env.LOSSCAPE_BENCH_LANDSCAPE_REPEATS ?? 3));
  const schedule: (readonly ['wasm' | 'cpu', 1 | 2])[] = [...Array.from({ length: repeats }, () => [['wasm', 1], ['wasm', 2]] as const).flat(), ['cpu', 1]];
  const timed: Record<string, { seconds: number; run: Run; evaluators: number; params: number }[]> = {};
  let current: string | null = null;
  for (const [backend, threads] of schedule) {
    if (current !== backend) {
      setEngineInfo(await selectBackend(backend));
      current = backend;
    }
    if (!warmed.has(backend)) {
      // A 5×5 landscape first, so that the first timed row does not carry the process's first
      // run (JIT, first kernel calls: ~0.2–0.3 s CPU of the demo's 1-thread run) and the later
      // rows not; on wasm one with the grid worker too, which the engine keeps for the next run
      // (gridWorkerClient.ts), as the extension's engine process does between analyses.
      warmed.add(backend);
      for (const t of backend === 'wasm' ? [1, 2] : [1]) {
        await runLandscape({ kind: 'landscape', model: DEMO_MODEL, data: DEMO_DATA, samples, points: 5, threads: t, out: path.join(os.tmpdir(), `losscape-bench-warm-${backend}.losscape.json`) }, quietContext());
      }
    }
    const out = path.join(os.tmpdir(), `losscape-bench-${backend}-${threads}.losscape.json`);
    const cpu0 = threadCpu();
    const t0 = performance.now();
    const r = await runLandscape({ kind: 'landscape', model: DEMO_MODEL, data: DEMO_DATA, samples, points: 41, threads, out }, quietContext());
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = threadCpu();
    const grid = r.provenance.timings.phases.grid ?? seconds;
    (timed[`${backend}-${threads}`] ??= []).push({
      seconds,
      run: { grid, threads: r.result.dims === 2 ? r.result.threads : undefined, mainCpu: cpu0 && cpu1 ? cpu1.run - cpu0.run : null },
      evaluators: r.result.dims === 2 ? (r.result.evaluators ?? 1) : 1,
      params: r.provenance.model.parameterCount,
    });
  }
  const median = <T>(xs: T[], by: (x: T) => number): T => [...xs].sort((a, b) => by(a) - by(b))[Math.floor(xs.length / 2)];
  const keys = ['wasm-1', 'wasm-2', 'cpu-1'];
  const medians = Object.fromEntries(keys.map((key) => [key, median(timed[key], (t) => t.seconds)]));
  const range = (key: string): string => {
    const s = timed[key].map((t) => t.seconds);
    return s.length > 1 ? `median of ${s.length} runs, ${Math.min(...s).toFixed(2)}–${Math.max(...s).toFixed(2)} s` : '1 run';
  };
  const speedups = timed['wasm-1'].map((t, i) => t.seconds / timed['wasm-2'][i].seconds);
  const speedup = median(speedups, (x) => x);
  for (const key of keys) {
    const [backend, threads] = key.split('-');
    const m = medians[key];
    rows.push({
      name: `landscape 41×41, ${samples} samples [${backend}, ${threads === '1' ? '1 thread' : `${threads} threads`}]`,
      seconds: m.seconds,
      ...(threads === '2' ? { ratio: 1 / speedup } : {}),
      note:
        `${(POINTS / m.run.grid).toFixed(1)} loss evaluations/s (${m.params} parameters); ${range(key)}` +
        (threads === '2'
          ? `; × the 1-thread wasm run of the same pair (median of ${speedups.length} pairs); ${m.evaluators} evaluators took rows, speed-up ${speedup.toFixed(2)}× on ${os.availableParallelism()} cores (pairs: ${speedups.map((x) => x.toFixed(2)).join(', ')})`
          : ''),
    });
  }
  const eff = efficiency(medians['wasm-1'].run, medians['wasm-2'].run);
  rows.push({
    name: 'landscape 41×41 [wasm]: 2-thread parallel efficiency (CPU time)',
    seconds: medians['wasm-2'].run.grid,
    ...(eff ? { ratio: eff.ratio } : {}),
    note: eff ? `1-thread CPU per point ÷ 2-thread CPU per point; ${eff.note}; ${workerNote}` : 'per-thread CPU time is unavailable on this system (Linux /proc/thread-self/schedstat)',
  });
  rows.push({ name: 'landscape 41×41: cpu time ÷ wasm time', seconds: medians['cpu-1'].seconds, ratio: medians['cpu-1'].seconds / medians['wasm-1'].seconds, note: 'baseline: the 1-thread wasm row above' });
  return rows;
}
