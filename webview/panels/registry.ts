/**
 * Result kind → panel. Adding a kind: write `panels/<kind>Panel.ts` exporting a
 * `PanelFactory<'<kind>'>` and add one line here; the mapped type makes a kind added to
 * `ResultSchema` without a panel a compile error.
 */
import type { LosscapeResult, ResultKind } from '../../src/shared/result';
import { createGrokkingPanel } from './grokkingPanel';
import { createHessianPanel } from './hessianPanel';
import { createLandscapePanel } from './landscapePanel';
import { createLossComparisonPanel } from './lossComparisonPanel';
import type { Panel, PanelContext, PanelFactory } from './panel';
import { createSaliencyPanel } from './saliencyPanel';
import { createScalingPanel } from './scalingPanel';
import { createSharpnessPanel } from './sharpnessPanel';

const factories: { [K in ResultKind]: PanelFactory<K> } = {
  landscape: createLandscapePanel,
  grokking: createGrokkingPanel,
  hessian: createHessianPanel,
  sharpness: createSharpnessPanel,
  saliency: createSaliencyPanel,
  'loss-comparison': createLossComparisonPanel,
  scaling: createScalingPanel,
};

export function isKnownKind(kind: unknown): kind is ResultKind {
  return typeof kind === 'string' && Object.prototype.hasOwnProperty.call(factories, kind);
}

/** A panel for results of `kind`, drawing into `root`. */
export function createPanel(kind: ResultKind, root: HTMLElement, ctx: PanelContext): Panel<LosscapeResult> {
  return factories[kind](root, ctx);
}
