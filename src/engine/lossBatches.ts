import { InputError } from '../shared/errors';
import type { Provenance } from '../shared/provenance';
import { Rng } from './linalg/rng';

/**
 * The fixed batches of a batch-level loss (multi-similarity), the same for every engine and
 * every evaluation — landscape points and curvature products alike: consecutive groups of
 * `batchSize` samples after a seeded shuffle, the last partial batch included. Returns the
 * order (indices into the samples used) and what the result records, or null for a loss that
 * is a mean of per-sample losses. A batch of one sample has no pairs: refused.
 */
export function batchLevelOrder(
  loss: { name: string; batchLevel?: boolean },
  n: number,
  spec: { batchSize: number; seed: number },
): { order: Int32Array; batches: NonNullable<Provenance['loss']['batches']> } | null {
  if (!loss.batchLevel) return null;
  if (spec.batchSize < 2) throw new InputError('--batch-size', `${loss.name} is a batch-level loss: it needs batches of at least 2 samples, got ${spec.batchSize}`);
  return {
    order: new Rng(spec.seed ^ 0xba7c4).permutation(n),
    batches: { size: spec.batchSize, count: Math.ceil(n / spec.batchSize), seed: spec.seed },
  };
}
