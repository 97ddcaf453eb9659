import type { Inputs } from '../shared/specs/common';
import { Rng } from './linalg/rng';

/**
 * The seeded subset of `--samples` of n training samples (sorted indices), the same for every
 * analysis and engine with the same seed and size; null when all samples are used.
 */
export function seededSubset(n: number, spec: Pick<Inputs, 'samples' | 'seed'>): Int32Array | null {
  if (spec.samples === undefined || spec.samples >= n) return null;
  return new Rng(spec.seed ^ 0x5eed).permutation(n).slice(0, spec.samples).sort();
}
