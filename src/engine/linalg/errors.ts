/**
 * Failure modes shared by the linear-algebra layer: a product that came back NaN/Inf, a caller
 * that asked to stop, and an operator that broke its contract. Every algorithm goes through
 * `checkedMatvec`, so these checks live in one place.
 */
import { CancelledError } from '../../shared/errors';
import type { LinearOperator, StopSignal } from './operator';

/**
 * A quantity in a curvature algorithm became NaN or infinite (most often because the model's
 * loss or its Hessian-vector product overflowed). `quantity` names it, `iteration` is the
 * 1-based step of the algorithm at which it was seen.
 */
export class NumericalError extends Error {
  readonly quantity: string;
  readonly iteration: number;
  constructor(quantity: string, iteration: number, detail = 'NaN or infinite') {
    super(`${quantity} became ${detail} at iteration ${iteration}`);
    this.name = 'NumericalError';
    this.quantity = quantity;
    this.iteration = iteration;
  }
}

/** Throws CancelledError when the caller has asked to stop. */
export function throwIfCancelled(stop: StopSignal | undefined): void {
  if (stop?.isCancellationRequested) throw new CancelledError();
}

/** Throws NumericalError if `x` is NaN or ±Infinity. */
export function checkFiniteScalar(x: number, quantity: string, iteration: number): void {
  if (!Number.isFinite(x)) throw new NumericalError(quantity, iteration, Number.isNaN(x) ? 'NaN' : 'infinite');
}

/** Throws NumericalError naming the first entry of `v` that is NaN or ±Infinity. */
export function checkFiniteVector(v: ArrayLike<number>, quantity: string, iteration: number): void {
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) {
      throw new NumericalError(quantity, iteration, `${Number.isNaN(x) ? 'NaN' : 'infinite'} (entry ${i})`);
    }
  }
}

/**
 * One guarded product y = A·v: checks `stop` first, then the length and finiteness of the
 * answer. The result is a fresh float64 copy, so operators may reuse their output buffers and
 * callers may modify the result in place.
 */
export async function checkedMatvec(
  op: LinearOperator,
  v: Float64Array,
  quantity: string,
  iteration: number,
  stop: StopSignal | undefined,
): Promise<Float64Array> {
  throwIfCancelled(stop);
  const out = await op.matvec(v);
  if (out.length !== op.dim) {
    throw new Error(`operator returned a vector of length ${out.length} for ${quantity}, expected ${op.dim}`);
  }
  const y = new Float64Array(out);
  checkFiniteVector(y, quantity, iteration);
  return y;
}

/**
 * k guarded products A·vᵢ: one `matmat` where the operator has it (else matvec by columns),
 * with the checks of `checkedMatvec` on every column. `firstIteration` numbers the first.
 */
export async function checkedMatmat(
  op: LinearOperator,
  vs: readonly Float64Array[],
  quantity: string,
  firstIteration: number,
  stop: StopSignal | undefined,
): Promise<Float64Array[]> {
  if (!op.matmat || vs.length < 2) {
    const out: Float64Array[] = [];
    for (let i = 0; i < vs.length; i++) out.push(await checkedMatvec(op, vs[i], quantity, firstIteration + i, stop));
    return out;
  }
  throwIfCancelled(stop);
  const outs = await op.matmat(vs);
  if (outs.length !== vs.length) throw new Error(`operator returned ${outs.length} products for ${quantity}, expected ${vs.length}`);
  return outs.map((out, i) => {
    if (out.length !== op.dim) throw new Error(`operator returned a vector of length ${out.length} for ${quantity}, expected ${op.dim}`);
    const y = new Float64Array(out);
    checkFiniteVector(y, quantity, firstIteration + i);
    return y;
  });
}
