import type { Provenance } from '../shared/provenance';
import type { Inputs } from '../shared/specs/common';
import type { Dataset } from './loaders/dataset';
import type { Objective } from './objective';
import { Stopwatch } from './provenance';
import { engineOf } from './engineChoice';
import type { StopSignal } from './linalg/operator';
import { prepareTfjsInputs } from './tfjs/inputs';
import { prepareTorchInputs } from './torch/inputs';

export { seededSubset } from './sampleSubset';

/**
 * An analysis's inputs (model, data, loss, subset) made into an Objective by the engine that
 * runs the model; analyses see only this.
 */
export interface PreparedInputs {
  objective: Objective;
  /** The model file, for provenance. */
  model: { path: string; sha256: string };
  dataset: Dataset;
  lossInfo: Provenance['loss'];
  /** Indices of the samples used (into the training split). */
  indices: Int32Array | null;
  /** θ of a second model (file) of the same architecture, in this objective's order (`--to`). */
  paramsOf(file: string): Promise<Float32Array>;
  dispose(): void;
}

/** The objective of `spec` on its engine (see engineChoice.ts); `stop` cancels a remote engine's requests. */
export async function prepareInputs(spec: Inputs, stop?: StopSignal): Promise<PreparedInputs> {
  return engineOf(spec) === 'torch' ? prepareTorchInputs(spec, stop) : prepareTfjsInputs(spec);
}

/** Loads an analysis's inputs, runs `compute` on them, and always frees the model and data. */
export async function withPreparedInputs<R>(spec: Inputs, compute: (p: PreparedInputs, watch: Stopwatch) => Promise<R>, stop?: StopSignal): Promise<R> {
  const watch = new Stopwatch();
  const prepared = await prepareInputs(spec, stop);
  try {
    watch.lap('load');
    return await compute(prepared, watch);
  } finally {
    prepared.dispose();
  }
}
