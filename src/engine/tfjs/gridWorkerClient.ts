/**
 * Starts the landscape-grid worker thread (tfjs/gridWorker.ts) and speaks to it. Used only when
 * it can help: a single-threaded backend (wasm, cpu; native TensorFlow already uses every core)
 * on a machine with a second core, and not turned off (`threads: 1`, LOSSCAPE_THREADS=1).
 *
 * A worker that ended its run cleanly is kept for the next run in this process (the extension's
 * engine runs many) and stopped after KEEP_MS unused: a new thread starts its own TF.js, compiles
 * the bundle and warms its JIT again (~0.1 s of CPU, and a first row ~1.5× slower on the demo
 * MLP), on the cores the grid is about to use.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FromGridWorker, GridWorkerData, ToGridWorker } from '../../shared/gridWorker';
import type { Inputs } from '../../shared/specs/common';
import type { Evaluation } from '../objective';
import type { PlaneHelper } from '../planeHelper';
import { engineInfo } from '../runtime';
import type { ThreadCpu } from '../threadCpu';
import type { PreparedTfjsInputs } from './inputs';

/**
 * The worker script: beside the bundle (dist/gridWorker.js), or the TypeScript source under tsx;
 * LOSSCAPE_GRID_WORKER names a bundled one explicitly (the benchmark measures the bundle's
 * start-up while running from source).
 */
function workerScript(): { file: string; execArgv: string[] } | null {
  const given = process.env.LOSSCAPE_GRID_WORKER;
  if (given && path.isAbsolute(given) && given.endsWith('.js') && existsSync(given)) return { file: given, execArgv: [] };
  const bundled = path.join(__dirname, 'gridWorker.js');
  if (path.extname(__filename) === '.js' && existsSync(bundled)) return { file: bundled, execArgv: [] };
  const source = path.join(__dirname, 'gridWorker.ts');
  if (existsSync(source)) return { file: source, execArgv: ['--require', 'tsx/cjs'] };
  return null;
}

export function helperWanted(threads: number | undefined): boolean {
  const env = process.env.LOSSCAPE_THREADS;
  const want = threads ?? (env ? Number(env) : undefined);
  if (want !== undefined && want < 2) return false;
  const backend = engineInfo().backend;
  if (backend !== 'wasm' && backend !== 'cpu') return false;
  return want !== undefined ? want >= 2 : os.availableParallelism() >= 2;
}

/** How long a finished run's worker is kept for the next run. */
export const KEEP_MS = 60_000;

let kept: { worker: Worker; backend: string; script: string; timer: NodeJS.Timeout; drop: () => void } | null = null;
let threadsStarted = 0;

/** Worker threads started by this process so far (the tests see a kept one reused). */
export function gridWorkersStarted(): number {
  return threadsStarted;
}

/** Stops the kept worker, if any (a backend change, and tests). */
export async function stopKeptGridWorker(): Promise<void> {
  const k = take();
  if (k) await k.terminate();
}

/** The kept worker, no longer kept. */
function take(): Worker | null {
  const k = kept;
  kept = null;
  if (!k) return null;
  clearTimeout(k.timer);
  k.worker.off('error', k.drop).off('exit', k.drop);
  return k.worker;
}

function keep(worker: Worker, backend: string, script: string): void {
  void stopKeptGridWorker();
  const timer = setTimeout(() => void stopKeptGridWorker(), KEEP_MS);
  timer.unref();
  // A kept thread that fails or exits (nothing is asked of it) is simply forgotten.
  const drop = (): void => {
    if (kept?.worker === worker) void stopKeptGridWorker();
  };
  worker.on('error', drop).on('exit', drop);
  kept = { worker, backend, script, timer, drop };
}

export function startGridWorker(inputs: Inputs): PlaneHelper | null {
  const script = workerScript();
  if (!script) return null;
  const backend = engineInfo().backend;
  let worker: Worker;
  if (kept && kept.backend === backend && kept.script === script.file) {
    worker = take()!;
    worker.postMessage({ type: 'load', inputs } satisfies ToGridWorker);
  } else {
    void stopKeptGridWorker();
    const data: GridWorkerData = { inputs, backend };
    worker = new Worker(script.file, { workerData: data, execArgv: script.execArgv, stdout: false, stderr: false });
    threadsStarted++;
    worker.unref();
  }
  const pending = new Map<number, { resolve: (e: Evaluation[]) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let failed: Error | null = null;
  let resolveReady!: (ok: boolean) => void;
  const ready = new Promise<boolean>((r) => (resolveReady = r));
  let resolveReleased!: (released: boolean) => void;
  const released = new Promise<boolean>((r) => (resolveReleased = r));
  const fail = (err: Error): void => {
    failed = err;
    resolveReady(false);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  let isReady = false;
  let startupCpu: ThreadCpu | null = null;
  let latestCpu: ThreadCpu | null = null;
  // A kept worker's CPU counts from this run's load: what it spent on earlier runs is theirs.
  let since: ThreadCpu = { run: 0, wait: 0 };
  const sinceLoad = (c: ThreadCpu | null): ThreadCpu | null => (c ? { run: c.run - since.run, wait: c.wait - since.wait } : null);
  const onMessage = (m: FromGridWorker): void => {
    if (m.type === 'ready') {
      since = m.since ?? since;
      startupCpu = latestCpu = sinceLoad(m.cpu);
      isReady = true;
      resolveReady(true);
    } else if (m.type === 'row') {
      latestCpu = sinceLoad(m.cpu);
      const p = pending.get(m.id);
      pending.delete(m.id);
      p?.resolve(m.loss.map((loss, i) => ({ loss, accuracy: m.accuracy[i] })));
    } else if (m.type === 'error') {
      if (m.id === null) fail(new Error(`grid worker: ${m.message}`));
      else {
        // (A worker that failed a row answers this run, but is not kept for another.)
        rowFailed = true;
        const p = pending.get(m.id);
        pending.delete(m.id);
        p?.reject(new Error(`grid worker: ${m.message}`));
      }
    } else if (m.type === 'released') resolveReleased(true);
  };
  const onError = (err: Error): void => fail(err);
  const onExit = (code: number): void => {
    resolveReleased(false);
    if (!failed) fail(new Error(`grid worker exited (code ${code})`));
  };
  let rowFailed = false;
  worker.on('message', onMessage);
  worker.on('error', onError);
  worker.on('exit', onExit);
  const send = (m: ToGridWorker): void => worker.postMessage(m);
  return {
    ready,
    attach(prepared) {
      const p = prepared as Partial<PreparedTfjsInputs>;
      if (!p.objectiveData || p.batchSize === undefined) {
        fail(new Error('grid worker: these inputs were not prepared by the TF.js engine'));
        return;
      }
      const d = p.objectiveData;
      // Copies of exactly the samples (a view would carry its whole buffer, e.g. the full data file).
      send({ type: 'samples', samples: { x: d.x.slice(), sampleShape: d.sampleShape, y: d.y.slice(), ySampleShape: d.ySampleShape, n: d.n, batchSize: p.batchSize } });
    },
    setPlane(centre, dirs, withAccuracy) {
      send({ type: 'plane', centre, dirs, withAccuracy });
    },
    evaluate(coords) {
      if (failed) return Promise.reject(failed);
      const id = nextId++;
      return new Promise<Evaluation[]>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        send({ type: 'row', id, coords });
      });
    },
    cpu: () => ({ startup: startupCpu, latest: latestCpu }),
    async close() {
      // A worker still starting has nothing to finish: it is stopped at once (a run refused
      // for its inputs must not wait for the worker to load them too). One that ran cleanly
      // frees its model and is kept; one that does not answer within 2 s is stopped.
      let clean = false;
      if (!failed && isReady) {
        send({ type: 'release' });
        clean = (await Promise.race([released, new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref())])) && !failed && !rowFailed;
      }
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (clean) keep(worker, backend, script.file);
      else await worker.terminate();
    },
  };
}
