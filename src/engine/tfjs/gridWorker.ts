/**
 * The landscape-grid worker thread: its own TF.js (wasm or cpu backend, single-threaded like the
 * main engine's) and model, built from the same inputs as the analysis, on the samples the main
 * thread prepared (sent once, so the data file is not read twice). The engine and the model are
 * loaded from the start, while the main thread loads the data and makes the directions, so the
 * worker is ready when the grid starts (waiting for the samples first left it ~10 of 41 rows
 * behind the main thread on the demo MLP). Each row is evaluated through the same
 * `evaluateAlong` as the main thread (same passes of points), so that every
 * point it evaluates is bit-identical to the main thread's. A finished run's worker may be kept
 * for the next ('release', then 'load'): its engine and compiled code stay warm. See
 * tfjs/gridWorkerClient.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromGridWorker, GridWorkerData, ToGridWorker, WorkerCpu } from '../../shared/gridWorker';
import type { Inputs } from '../../shared/specs/common';
import { selectBackend } from '../backend';
import { setEngineInfo } from '../runtime';
import { threadCpu } from '../threadCpu';
import { loadTfjsModelAndLoss } from './inputs';
import type { TfjsObjective } from './objective';

const port = parentPort!;
const post = (m: FromGridWorker): void => port.postMessage(m);
/** Rows are never stopped here: the main thread stops handing them out. */
const never = { isCancellationRequested: false };

async function main(): Promise<void> {
  const { inputs, backend } = workerData as GridWorkerData;
  const engine = selectBackend(backend).then(setEngineInfo);
  type Loaded = Awaited<ReturnType<typeof loadTfjsModelAndLoss>>;
  // The model loads at once (on a 'load' too, not after the requests queued before it); requests
  // are handled one at a time, in order (a run's first is the main thread's prepared samples),
  // each after the model has loaded.
  const load = (spec: Inputs): Promise<Loaded> => {
    const p = engine.then(() => loadTfjsModelAndLoss(spec));
    // (A failure is reported when the samples arrive, as the answer to them.)
    p.catch(() => undefined);
    return p;
  };
  let model = load(inputs);
  let since: WorkerCpu = { run: 0, wait: 0 };
  let chain: Promise<void> = Promise.resolve();
  let loaded: Loaded | null = null;
  let objective: TfjsObjective | null = null;
  let plane: Extract<ToGridWorker, { type: 'plane' }> | null = null;
  port.on('message', (m: ToGridWorker) => {
    if (m.type === 'load') {
      since = threadCpu();
      model = load(m.inputs);
      return;
    }
    chain = chain.then(async () => {
      if (m.type === 'samples') {
        const { batchSize, ...data } = m.samples;
        try {
          loaded = await model;
          objective = loaded.objectiveOn(data, batchSize);
        } catch (err) {
          post({ type: 'error', id: null, message: (err as Error).message });
          return;
        }
        post({ type: 'ready', cpu: threadCpu(), since });
      } else if (m.type === 'plane') plane = m;
      else if (m.type === 'release') {
        loaded?.dispose();
        loaded = objective = plane = null;
        post({ type: 'released' });
      } else if (m.type === 'row') {
        try {
          if (!plane || !objective) throw new Error('no plane set');
          const loss: number[] = new Array(m.coords.length);
          const accuracy: (number | null)[] = new Array(m.coords.length);
          await objective.evaluateAlong(plane.centre, plane.dirs, m.coords, plane.withAccuracy, never, (j, e) => {
            loss[j] = e.loss;
            accuracy[j] = e.accuracy;
          });
          post({ type: 'row', id: m.id, loss, accuracy, cpu: threadCpu() });
        } catch (err) {
          post({ type: 'error', id: m.id, message: (err as Error).message });
        }
      }
    });
  });
  await chain;
}

main().catch((err) => post({ type: 'error', id: null, message: (err as Error).message }));
