/**
 * Non-finite input is refused where it enters (docs/numerics.md, "Non-finite values"): a NaN or
 * ±Inf weight, feature or label makes every loss the analyses report meaningless (NaN, or a
 * clipped constant such as cross-entropy's −log 1e-7 = 16.118), yet rarely raises an error.
 */
import { InputError } from '../../shared/errors';

export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

export const valueName = (v: number): string => (Number.isNaN(v) ? 'NaN' : v > 0 ? 'Inf' : '-Inf');

/** Refuses an array of per-sample rows (features or labels) holding NaN/Inf; names sample and element. */
export function assertFiniteRows(values: ArrayLike<number>, shape: readonly number[], source: string, what: string): void {
  const at = firstNonFinite(values);
  if (at < 0) return;
  const row = shape.slice(1).reduce((a, b) => a * b, 1) || 1;
  throw new InputError(source, `${what} holds ${valueName(values[at])} at flat index ${at} (sample ${Math.floor(at / row)}); remove or impute non-finite values`);
}
