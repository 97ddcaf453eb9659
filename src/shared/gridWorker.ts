/**
 * Messages between the engine and its landscape-grid worker thread (src/engine/tfjs/gridWorker.ts):
 * the worker starts its engine and loads the model while the main thread loads the inputs,
 * receives the prepared samples and the plane once, then evaluates one row per request. After a
 * run it is kept for the next one ('release', then 'load' with the next run's inputs).
 */
import type { BackendName } from './protocol';
import type { Inputs } from './specs/common';

export interface GridWorkerData {
  /** The analysis's inputs, so the worker builds the same objective (same subset, loss and batches). */
  inputs: Inputs;
  backend: BackendName;
}

/**
 * The objective's samples exactly as the main thread prepared them (subset, order, shapes), so
 * the worker does not read, check and subset the data file again; it loads only the model.
 */
export interface GridWorkerSamples {
  x: Float32Array;
  sampleShape: number[];
  y: Float32Array;
  ySampleShape: number[];
  n: number;
  batchSize: number;
}

export type ToGridWorker =
  /** A kept worker's next run: it loads these inputs' model as it did workerData's. */
  | { type: 'load'; inputs: Inputs }
  | { type: 'samples'; samples: GridWorkerSamples }
  | { type: 'plane'; centre: Float32Array; dirs: Float32Array[]; withAccuracy: boolean }
  | { type: 'row'; id: number; coords: number[][] }
  /** The run is over: the worker frees its model and waits for a 'load' (or is terminated). */
  | { type: 'release' };

/** The worker thread's own CPU seconds so far (src/engine/threadCpu.ts); null where unknown. */
export type WorkerCpu = { run: number; wait: number } | null;

export type FromGridWorker =
  /** `since`: the thread's CPU when it began this run's load (zero for a new thread). */
  | { type: 'ready'; cpu: WorkerCpu; since: WorkerCpu }
  | { type: 'row'; id: number; loss: number[]; accuracy: (number | null)[]; cpu: WorkerCpu }
  | { type: 'error'; id: number | null; message: string }
  | { type: 'released' };
