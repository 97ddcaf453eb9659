import type { Provenance } from '../shared/provenance';
import type { LossFrom } from '../shared/specs/common';

/**
 * The loss's provenance when a CodeLens chose it (spec.lossFrom): origin 'lens' and which lens,
 * with the configuration's loss it replaced. Recorded only; how the loss is computed is the
 * engine's, whichever engine it is.
 */
export function withLossFrom(info: Provenance['loss'], from: LossFrom | undefined): Provenance['loss'] {
  if (!from) return info;
  const { source: _source, ...lens } = from;
  return { ...info, origin: 'lens', lens };
}
