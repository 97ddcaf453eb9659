import type { RunConfiguration, RunOverrides } from '../config/runConfig';

/**
 * What the analysis commands accept as their argument (from tests, CodeLens or other
 * extensions): a configuration name, an inline configuration, or an object with options.
 * Anything else (a Uri from a menu, nothing from the palette) means "ask".
 */
export interface AnalysisCommandOptions {
  configuration?: string | RunConfiguration;
  /** Bypass the cached result. */
  recompute?: boolean;
  /** Between checkpoints: the second model (relative to the workspace folder). */
  to?: string;
  /** Loss chosen by a CodeLens. */
  overrides?: RunOverrides;
  /** A CodeLens's "Loss landscape": list every landscape configuration (each runs at its own dims). */
  anyLandscape?: boolean;
  /** Compare Losses: the losses, `ce,gce:q=0.7,…` (else asked for). */
  losses?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readCommandArgument(arg: unknown): AnalysisCommandOptions {
  if (typeof arg === 'string') return { configuration: arg };
  if (!isObject(arg)) return {};
  if ('analysis' in arg && ('model' in arg || 'checkpoints' in arg)) return { configuration: arg as unknown as RunConfiguration };
  const out: AnalysisCommandOptions = {};
  if (typeof arg.configuration === 'string' || isObject(arg.configuration)) out.configuration = arg.configuration as string | RunConfiguration;
  if (typeof arg.recompute === 'boolean') out.recompute = arg.recompute;
  if (typeof arg.to === 'string') out.to = arg.to;
  if (isObject(arg.overrides)) out.overrides = arg.overrides as RunOverrides;
  if (typeof arg.losses === 'string') out.losses = arg.losses;
  return out;
}
