/**
 * Which loss a CodeLens click runs. A library loss the engine has runs under its engine name,
 * with the library's stated input convention recorded (never forced: PyTorch CrossEntropyLoss
 * "takes logits", and on a softmax-final model that means the pre-softmax values, which is
 * what the engine's last-activation rule computes); an exported JS/TS loss function runs from
 * its module (the engine bundles it), in trusted workspaces only; a custom Python loss, or a
 * library loss the engine lacks, gets a message saying what is supported. Pure (unit-tested
 * without VS Code).
 */
import { UNTRUSTED_MODULE_REASON, type RunOverrides } from '../config/runConfig';
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

/** Why a custom Python loss cannot run (one message, shared by the lens title and its warning). */
export function pythonLossReason(symbol: string): string {
  return (
    `${symbol} is a custom Python loss. Losscape computes in its own TensorFlow.js engine and cannot run Python code. ` +
    `Use a built-in loss in .vscode/losscape.json (${SUPPORTED_LOSSES}), or write the loss as an exported JS/TS function (yTrue, yPred) → per-sample losses and point "lossModule" at it.`
  );
}

/** The loss to run for a lens, or the message explaining why it cannot run. */
export function lensLoss(args: LensTarget, trusted: boolean): LensLoss {
  const { site } = args;
  if (site.loss !== 'custom') return { overrides: { loss: site.loss, lossFrom: lossFrom(args) } };
  if (site.library) {
    return { message: `${site.library} is not one of the losses Losscape's engine computes. Supported: ${SUPPORTED_LOSSES}.` };
  }
  if (args.languageId === 'python') return { message: pythonLossReason(site.symbol) };
  if (site.origin !== 'function') {
    return { message: `Losscape cannot tell where ${site.symbol} is defined; use the lens above its definition, or set "lossModule" and "lossExport" in .vscode/losscape.json.` };
  }
  if (!trusted) return { message: UNTRUSTED_MODULE_REASON, trust: true };
  if (!site.exported) return { message: `Export ${site.symbol} from its module so that Losscape's engine can import it (the engine bundles the module with esbuild).` };
  return { overrides: { lossModule: { path: args.filePath, export: site.symbol }, lossFrom: lossFrom(args) } };
}

/** Whether a lens can run at all (the lens provider shows one "cannot run" lens instead of three). */
export function lensRunnable(site: LossSite, languageId: string): boolean {
  if (site.loss !== 'custom') return true;
  if (site.library || languageId === 'python') return false;
  return site.origin === 'function';
}
