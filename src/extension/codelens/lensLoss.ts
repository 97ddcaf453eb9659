/**
 * Which loss a CodeLens click runs. A library loss the engine has runs under its engine name,
 * with the library's stated input convention recorded (never forced: PyTorch CrossEntropyLoss
 * "takes logits", and on a softmax-final model that means the pre-softmax values, which is
 * what the engine's last-activation rule computes); an exported JS/TS loss function runs from
 * its module (the engine bundles it), and a custom Python loss (function or nn.Module class) as
 * loss.py:NAME on the torch engine, both in trusted workspaces only; a library loss the engine
 * lacks gets a message saying what is supported. Pure (unit-tested without VS Code).
 */
import { UNTRUSTED_MODULE_REASON, UNTRUSTED_TORCH_REASON, type RunOverrides } from '../config/runConfig';
import { SUPPORTED_LOSSES } from '../../shared/lossNames';
import type { LossFrom } from '../../shared/specs/common';
import type { LossSite } from './lossDetector';

export interface LensTarget {
  site: LossSite;
  languageId: string;
  /** The file holding the loss. */
  filePath: string;
}

export type LensLoss = { overrides: RunOverrides & { lossFrom: LossFrom } } | { message: string; trust?: boolean };

function lossFrom(args: LensTarget): LossFrom {
  const { site } = args;
  return {
    source: 'lens',
    file: args.filePath,
    line: site.line + 1,
    symbol: site.symbol,
    ...(site.library ? { library: site.library } : {}),
    ...(site.loss !== 'custom' && site.fromLogits !== undefined ? { semantics: site.fromLogits ? 'logits' : 'probabilities' } : {}),
  };
}

/** The loss to run for a lens, or the message explaining why it cannot run. */
export function lensLoss(args: LensTarget, trusted: boolean): LensLoss {
  const { site } = args;
  if (site.loss !== 'custom') return { overrides: { loss: site.loss, lossFrom: lossFrom(args) } };
  if (site.library) {
    return { message: `${site.library} is not one of the losses Losscape's engine computes. Supported: ${SUPPORTED_LOSSES}.` };
  }
  if (args.languageId === 'python') {
    // Run by the torch engine as loss.py:NAME on the configuration's PyTorch model.
    if (!trusted) return { message: UNTRUSTED_TORCH_REASON, trust: true };
    return { overrides: { lossModule: { path: args.filePath, export: site.symbol }, lossFrom: lossFrom(args) } };
  }
  if (site.origin !== 'function') {
    return { message: `Losscape cannot tell where ${site.symbol} is defined; use the lens above its definition, or set "lossModule" and "lossExport" in .vscode/losscape.json.` };
  }
  if (!trusted) return { message: UNTRUSTED_MODULE_REASON, trust: true };
  if (!site.exported) return { message: `Export ${site.symbol} from its module so that Losscape's engine can import it (the engine bundles the module with esbuild).` };
  return { overrides: { lossModule: { path: args.filePath, export: site.symbol }, lossFrom: lossFrom(args) } };
}

/**
 * Whether a lens can run at all (the lens provider shows one "cannot run" lens instead of three):
 * a custom Python function or nn.Module class runs on the torch engine (loss.py:NAME on a
 * configuration's PyTorch model), a custom JS/TS function on TF.js; a library loss the engine
 * lacks never.
 */
export function lensRunnable(site: LossSite, _languageId: string): boolean {
  if (site.loss !== 'custom') return true;
  if (site.library) return false;
  return site.origin === 'function' || site.origin === 'class';
}
