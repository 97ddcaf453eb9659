import type { Provenance } from '../shared/provenance';
import type { Inputs } from '../shared/specs/common';
import type { Dataset } from './loaders/dataset';
import type { Objective } from './objective';
import { Stopwatch } from './provenance';
import { prepareTfjsInputs } from './tfjs/inputs';

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

export async function prepareInputs(spec: Inputs): Promise<PreparedInputs> {
  return prepareTfjsInputs(spec);
}

/** Loads an analysis's inputs, runs `compute` on them, and always frees the model and data. */
export async function withPreparedInputs<R>(spec: Inputs, compute: (p: PreparedInputs, watch: Stopwatch) => Promise<R>): Promise<R> {
  const watch = new Stopwatch();
  const prepared = await prepareInputs(spec);
  try {
    watch.lap('load');
    return await compute(prepared, watch);
  } finally {
    prepared.dispose();
  }
}
