import type { AnalysisSpecInput } from '../../shared/protocol';
import type { LosscapeResult } from '../../shared/result';
import type { AnalysisContext } from '../analysisContext';
import { runLandscape } from './landscape';
import { runGrokking } from './grokking';
import { runTrajectory } from './trajectory';
import { runHessian } from './hessian';
import { runSharpness } from './sharpness';
import { runSaliency } from './saliency';
import { runLossComparison } from './lossComparison';
import { runScaling } from '../scaling/runScaling';

/** One entry per analysis kind; the RPC loop and direct callers dispatch through it. */
type Runner = (spec: AnalysisSpecInput, ctx: AnalysisContext) => Promise<LosscapeResult>;

const RUNNERS: { [K in AnalysisSpecInput['kind']]: (spec: Extract<AnalysisSpecInput, { kind: K }>, ctx: AnalysisContext) => Promise<LosscapeResult> } = {
  landscape: runLandscape,
  grokking: runGrokking,
  trajectory: runTrajectory,
  hessian: runHessian,
  sharpness: runSharpness,
  saliency: runSaliency,
  'loss-comparison': runLossComparison,
  scaling: runScaling,
};

export const runAnalysis: Runner = (spec, ctx) => {
  const run = RUNNERS[spec.kind] as Runner | undefined;
  if (!run) throw new Error(`unknown analysis kind '${String((spec as { kind: unknown }).kind)}'`);
  return run(spec, ctx);
};
