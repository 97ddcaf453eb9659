import { InputError } from '../shared/errors';
import type { EngineName, Inputs } from '../shared/specs/common';

const TORCH_MODEL = /\.(py|pt|pth)$|\.py:[A-Za-z_][A-Za-z0-9_]*$/i;

type EngineInputs = Partial<Pick<Inputs, 'engine' | 'model' | 'modelArgs' | 'weights' | 'dtype' | 'device' | 'trainMode' | 'dataModule' | 'workers' | 'nnodes' | 'nodeRank' | 'rendezvous' | 'distTimeout'>>;

/** Options only the torch engine reads, by flag. */
const TORCH_ONLY: [keyof EngineInputs, string][] = [
  ['modelArgs', '--model-args'],
  ['weights', '--weights'],
  ['dtype', '--dtype'],
  ['device', '--device'],
  ['trainMode', '--train-mode'],
  ['dataModule', '--data-module'],
  ['nnodes', '--nnodes'],
  ['nodeRank', '--node-rank'],
  ['rendezvous', '--rendezvous'],
  ['distTimeout', '--dist-timeout'],
];

/**
 * The engine of an analysis: `engine` when given, else torch for .py/.pt/.pth models (for a
 * series, the module its weight-file checkpoints belong to), else tfjs. Torch-only options on the
 * TF.js engine are refused rather than ignored.
 */
export function engineOf(spec: EngineInputs): EngineName {
  const engine = spec.engine ?? (spec.model && TORCH_MODEL.test(spec.model) ? 'torch' : 'tfjs');
  if (engine === 'tfjs') {
    for (const [key, flag] of TORCH_ONLY) {
      if (spec[key] !== undefined && spec[key] !== false) throw new InputError(flag, 'is a torch-engine option; use --engine torch with a PyTorch model (net.py:NAME or a TorchScript .pt)');
    }
    // --workers 1 is what the TF.js engine does anyway; more ranks are torch.distributed.
    if (spec.workers !== undefined && spec.workers > 1) throw new InputError('--workers', 'is a torch-engine option (torch.distributed ranks); use --engine torch with a PyTorch model (net.py:NAME or a TorchScript .pt)');
  }
  return engine;
}
