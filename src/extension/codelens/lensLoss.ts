/**
 * Which loss a CodeLens click runs. A library loss the engine has runs under that name; an
 * exported JS/TS loss function runs from its module (the engine bundles it), in trusted
 * workspaces only; a custom Python loss, or a library loss the engine lacks, gets a message
 * saying what is supported. Pure (unit-tested without VS Code).
 */
import { UNTRUSTED_MODULE_REASON, type RunOverrides } from '../config/runConfig';
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
    return {
      message:
        `${site.symbol} is a custom Python loss. Losscape computes in its own TensorFlow.js engine and cannot run Python code. ` +
        `Use a built-in loss (${SUPPORTED}) in .vscode/losscape.json, or write the loss as an exported JS/TS function (yTrue, yPred) → per-sample losses and point "lossModule" at it.`,
    };
  }
  if (site.origin !== 'function') {
    return { message: `Losscape cannot tell where ${site.symbol} is defined; use the lens above its definition, or set "lossModule" and "lossExport" in .vscode/losscape.json.` };
  }
  if (!trusted) return { message: UNTRUSTED_MODULE_REASON, trust: true };
  if (!site.exported) return { message: `Export ${site.symbol} from its module so that Losscape's engine can import it (the engine bundles the module with esbuild).` };
  return { overrides: { lossModule: { path: args.filePath, export: site.symbol } } };
}

