/**
 * Which loss a CodeLens click runs. A library loss the engine has runs under that name; an
 * exported JS/TS loss function runs from its module (the engine bundles it); a custom Python
 * loss (a function or an nn.Module class) runs in the torch engine on the configuration's
 * PyTorch model; both in trusted workspaces only. A library loss the engine lacks gets a message
 * saying what is supported. Pure (unit-tested without VS Code).
 */
import { UNTRUSTED_MODULE_REASON, UNTRUSTED_TORCH_REASON, type RunOverrides } from '../config/runConfig';
import { ENGINE_LOSSES } from '../../shared/lossNames';
import type { LossSite } from './lossDetector';

export interface LensTarget {
  site: LossSite;
  languageId: string;
  /** The file holding the loss. */
  filePath: string;
}

const SUPPORTED = ENGINE_LOSSES.map((l) => l.name).join(', ');

/** The loss to run for a lens, or the message explaining why it cannot run. */
export function lensLoss(args: LensTarget, trusted: boolean): { overrides: RunOverrides } | { message: string; trust?: boolean } {
  const { site } = args;
  if (site.loss !== 'custom') return { overrides: { loss: site.loss, ...(site.fromLogits !== undefined ? { fromLogits: site.fromLogits } : {}) } };
  if (site.library) {
    return { message: `${site.library} is not one of the losses Losscape's engine computes. Supported: ${SUPPORTED} (and their Keras, TF.js and PyTorch spellings).` };
  }
  if (args.languageId === 'python') {
    // Run by the torch engine as loss.py:NAME on the configuration's PyTorch model.
    if (!trusted) return { message: UNTRUSTED_TORCH_REASON, trust: true };
    return { overrides: { lossModule: { path: args.filePath, export: site.symbol } } };
  }
  if (site.origin !== 'function') {
    return { message: `Losscape cannot tell where ${site.symbol} is defined; use the lens above its definition, or set "lossModule" and "lossExport" in .vscode/losscape.json.` };
  }
  if (!trusted) return { message: UNTRUSTED_MODULE_REASON, trust: true };
  if (!site.exported) return { message: `Export ${site.symbol} from its module so that Losscape's engine can import it (the engine bundles the module with esbuild).` };
  return { overrides: { lossModule: { path: args.filePath, export: site.symbol } } };
}

