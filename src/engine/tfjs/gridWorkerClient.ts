/**
 * Starts the landscape-grid worker thread (tfjs/gridWorker.ts) and speaks to it. Used only when
 * it can help: a single-threaded backend (wasm, cpu; native TensorFlow already uses every core)
 * on a machine with a second core, and not turned off (`threads: 1`, LOSSCAPE_THREADS=1).
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

export function startGridWorker(inputs: Inputs): PlaneHelper | null {
  const script = workerScript();
  if (!script) return null;
  const data: GridWorkerData = { inputs, backend: engineInfo().backend };
  const worker = new Worker(script.file, { workerData: data, execArgv: script.execArgv, stdout: false, stderr: false });
  worker.unref();
  const pending = new Map<number, { resolve: (e: Evaluation[]) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let failed: Error | null = null;
  let resolveReady!: (ok: boolean) => void;
  const ready = new Promise<boolean>((r) => (resolveReady = r));
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const fail = (err: Error): void => {
    failed = err;
    resolveReady(false);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  let isReady = false;
  let startupCpu: ThreadCpu | null = null;
  let latestCpu: ThreadCpu | null = null;
  worker.on('message', (m: FromGridWorker) => {
    if (m.type === 'ready') {
      startupCpu = latestCpu = m.cpu;
      isReady = true;
      resolveReady(true);
    } else if (m.type === 'row') {
      latestCpu = m.cpu;
      const p = pending.get(m.id);
      pending.delete(m.id);
      p?.resolve(m.loss.map((loss, i) => ({ loss, accuracy: m.accuracy[i] })));
    } else if (m.type === 'error') {
      if (m.id === null) fail(new Error(`grid worker: ${m.message}`));
      else {
        const p = pending.get(m.id);
        pending.delete(m.id);
        p?.reject(new Error(`grid worker: ${m.message}`));
      }
    } else if (m.type === 'closed') resolveClosed();
  });
  worker.on('error', (err) => fail(err));
  worker.on('exit', (code) => {
    resolveClosed();
    if (!failed) fail(new Error(`grid worker exited (code ${code})`));
  });
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
      // for its inputs must not wait for the worker to load them too).
      if (!failed && isReady) {
        send({ type: 'close' });
        // A worker that does not answer within 2 s is stopped.
        await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
      }
      await worker.terminate();
    },
  };
}
