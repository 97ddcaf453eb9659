import path from 'node:path';
import { InputError } from '../shared/errors';
import type { Provenance } from '../shared/provenance';
import type { Inputs } from '../shared/specs/common';
import type { Dataset } from './loaders/dataset';
import type { Objective } from './objective';
import { withLossFrom } from './lossFrom';
import type { PlaneHelper } from './planeHelper';
import { Stopwatch } from './provenance';
import { engineOf } from './engineChoice';
import type { StopSignal } from './linalg/operator';
import { prepareTfjsInputs, startTfjsPlaneHelper } from './tfjs/inputs';
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
  /**
   * Starts a second evaluator of this objective on another core (see planeHelper.ts), or
   * returns null where the engine has none or it would not help. `threads`: the user's choice.
   */
  startPlaneHelper?(threads: number | undefined): PlaneHelper | null;
  dispose(): void;
}

/** The objective of `spec` on its engine (see engineChoice.ts); `stop` cancels a remote engine's requests. */
export async function prepareInputs(spec: Inputs, stop?: StopSignal): Promise<PreparedInputs> {
  const prepared = engineOf(spec) === 'torch' ? await prepareTorchInputs(spec, stop) : await prepareTfjsInputs(spec);
  prepared.lossInfo = withLossFrom(prepared.lossInfo, spec.lossFrom);
  try {
    await assertFiniteLossAtTheta(prepared.objective, spec);
  } catch (err) {
    prepared.dispose();
    throw err;
  }
  return prepared;
}

/**
 * Weights, x and y are finite by now (the loaders refuse NaN/Inf), so a non-finite loss at θ
 * comes from the loss or the model's arithmetic: no analysis is defined there (a landscape's
 * centre, a Hessian's expansion point), so it is refused, naming the loss module or the model.
 * Away from θ a non-finite loss is a landscape point like any other (recorded, drawn as a gap).
 */
async function assertFiniteLossAtTheta(objective: Objective, spec: Inputs): Promise<void> {
  const loss = await objective.loss();
  if (Number.isFinite(loss)) return;
  if (spec.lossModule) throw new InputError(spec.lossModule, `the loss function returns ${loss} at the model's weights on ${path.basename(spec.data)} (weights and data are finite)`);
  throw new InputError(spec.model, `the mean loss at the model's weights is ${loss} on ${path.basename(spec.data)} although weights and data are finite (overflow in the model, or labels the loss cannot take?)`);
}

/**
 * A second evaluator of `spec`'s objective on another core (see planeHelper.ts), started before
 * this thread loads the inputs so that both load them at once; null where the engine has none
 * or it would not help. `threads`: the user's choice. The caller closes it.
 */
export function startPlaneHelper(spec: Inputs, threads: number | undefined): PlaneHelper | null {
  return engineOf(spec) === 'tfjs' ? startTfjsPlaneHelper(spec, threads) : null;
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
