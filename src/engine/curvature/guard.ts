import path from 'node:path';
import { InputError } from '../../shared/errors';
import type { Inputs } from '../../shared/specs/common';
import type { PreparedInputs } from '../inputs';
import type { LinearOperator, StopSignal } from '../linalg/operator';
import { checkpoint } from '../analysisContext';
import { firstNonFinite } from '../loaders/finite';

/**
 * Checks shared by the curvature and sharpness analyses, run before any expensive work so a
 * bad input fails at once, with a message that says where the NaN comes from.
 */

/** Throws an InputError if the loss or gradient at θ is NaN/Inf, naming the likely cause. */
export function assertFiniteStart(spec: Pick<Inputs, 'model' | 'data'>, p: PreparedInputs, loss: number, grad: Float64Array): void {
  const lossOk = Number.isFinite(loss);
  const gradAt = firstNonFinite(grad);
  if (lossOk && gradAt < 0) return;
  const what = !lossOk ? `the mean loss at the model's parameters is ${loss}` : `the gradient at the model's parameters has a non-finite entry (parameter ${gradAt})`;
  const xAt = firstNonFinite(p.objective.sampleCount ? p.dataset.train.x : []);
  if (xAt >= 0) throw new InputError(path.basename(spec.data), `${what}: x holds a non-finite value (element ${xAt})`);
  const yAt = firstNonFinite(p.dataset.train.y);
  if (yAt >= 0) throw new InputError(path.basename(spec.data), `${what}: y holds a non-finite value (element ${yAt})`);
  const wAt = firstNonFinite(p.objective.theta0);
  if (wAt >= 0) throw new InputError(path.basename(spec.model), `${what}: the weights hold a non-finite value (parameter ${wAt})`);
  throw new InputError(path.basename(spec.model), `${what} on ${path.basename(spec.data)} (overflow in the model or log(0) in the loss?); curvature is undefined there`);
}

/**
 * Wraps an operator so that every product (or block of products) first lets cancellation in
 * and then reports progress, once per product. Keeps the operator's matmat.
 */
export function monitored(op: LinearOperator, stop: StopSignal, onProduct: () => void): LinearOperator {
  const wrapped: LinearOperator = {
    dim: op.dim,
    async matvec(v: Float64Array): Promise<Float64Array> {
      await checkpoint(stop);
      const y = await op.matvec(v);
      onProduct();
      return y;
    },
  };
  if (op.matmat) {
    const matmat = op.matmat.bind(op);
    wrapped.matmat = async (vs: readonly Float64Array[]): Promise<Float64Array[]> => {
      await checkpoint(stop);
      const ys = await matmat(vs);
      for (let i = 0; i < ys.length; i++) onProduct();
      return ys;
    };
  }
  return wrapped;
}

/** Megabytes of `vectors` float64 vectors of length `dim`. */
export function vectorMegabytes(vectors: number, dim: number): number {
  return (vectors * dim * 8) / 2 ** 20;
}
