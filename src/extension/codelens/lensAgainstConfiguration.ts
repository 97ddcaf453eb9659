/**
 * What a CodeLens's loss does to the configuration it runs with. A lens never silently replaces
 * a configuration's explicit "loss" and never changes what the numbers mean:
 * - the configuration names the same engine loss (sparse_categorical_crossentropy and PyTorch
 *   CrossEntropyLoss are both categorical cross-entropy): the configuration's loss runs, as
 *   configured, and the result is the configuration's;
 * - the configuration names another loss (or a loss module): the lens's loss runs on the
 *   configuration's model and data, the result records the configuration's loss it replaced
 *   (provenance.loss.lens.configured) and the caller warns;
 * - the configuration names none (the model's training config decides): the lens's loss runs,
 *   recorded as coming from the lens.
 * Pure (unit-tested without VS Code).
 */
import { builtinLoss } from '../../shared/lossNames';
import type { RunConfiguration, RunOverrides } from '../config/runConfig';

export interface LensOnConfiguration {
  overrides: RunOverrides;
  /** Set when the lens's loss replaces the configuration's explicit one: say so. */
  warning?: string;
}

function lensLossLabel(o: RunOverrides): string {
  const lens = o.lossFrom;
  const name = o.loss ?? `${o.lossModule?.export ?? 'default'} of ${o.lossModule?.path.split(/[\\/]/).pop() ?? 'its module'}`;
  return lens?.library && lens.library !== o.loss ? `${lens.library} (${name})` : (lens?.symbol && !o.loss ? lens.symbol : name);
}

export function lensAgainstConfiguration(config: RunConfiguration, overrides: RunOverrides): LensOnConfiguration {
  if (!overrides.lossFrom || (overrides.loss === undefined && overrides.lossModule === undefined)) return { overrides };
  // "loss" is a name, or { "name", "params" } for a parameterised loss.
  const configuredName = typeof config.loss === 'object' ? config.loss.name : config.loss;
  const configured = config.lossModule ? `${config.lossModule}${config.lossExport ? `#${config.lossExport}` : ''}` : configuredName;
  if (configured === undefined) return { overrides };
  const { loss: _loss, fromLogits: _fromLogits, lossModule: _lossModule, lossFrom: _lossFrom, ...rest } = overrides;
  if (!config.lossModule && overrides.loss !== undefined && builtinLoss(configuredName ?? '')?.name === overrides.loss) return { overrides: rest };
  return {
    overrides: { ...overrides, lossFrom: { ...overrides.lossFrom, configured } },
    warning:
      `the CodeLens runs ${lensLossLabel(overrides)} on configuration "${config.name}", whose "loss" is ${JSON.stringify(configured)}: ` +
      `the result is of the lens's loss (recorded in it), not of the configuration's.`,
  };
}
