/**
 * Messages between the engine and its landscape-grid worker thread (src/engine/tfjs/gridWorker.ts):
 * the worker starts its engine and loads the model while the main thread loads the inputs,
 * receives the prepared samples and the plane once, then takes the grid's units (passes of
 * points) from a counter it shares with the main thread until none are left.
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
  | { type: 'samples'; samples: GridWorkerSamples }
  | { type: 'plane'; centre: Float32Array; dirs: Float32Array[]; withAccuracy: boolean }
  /** The grid's units (see PlaneHelper.take), taken by the counter on `claims` until none are left. */
  | { type: 'take'; units: number[][][]; claims: SharedArrayBuffer }
  | { type: 'close' };

/** The worker thread's own CPU seconds so far (src/engine/threadCpu.ts); null where unknown. */
export type WorkerCpu = { run: number; wait: number } | null;

export type FromGridWorker =
  | { type: 'ready'; cpu: WorkerCpu }
  /** Unit `i` of the grid's units, evaluated. */
  | { type: 'unit'; i: number; loss: number[]; accuracy: (number | null)[]; cpu: WorkerCpu }
  /** No more units are taken (none left, or the caller said stop). */
  | { type: 'taken' }
  /** `unit`: the index of the unit that failed (no more are taken); null: the worker cannot work at all. */
  | { type: 'error'; unit: number | null; message: string }
  | { type: 'closed' };
