import { InvalidArgumentError, Option, type Command } from 'commander';
import { LossParamError, parseLossParam } from '../shared/lossParams';

/** Parsers for CLI option values; each rejects bad input with a message naming the option. */
export function intArg(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}, got '${v}'`);
    return n;
  };
}

export function floatArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got '${v}'`);
    return n;
  };
}

export function floatListArg(name: string) {
  return (v: string): number[] => {
    const parts = v.split(',').map((s) => s.trim());
    const nums = parts.map(Number);
    if (parts.length === 0 || nums.some((n, i) => parts[i] === '' || !Number.isFinite(n))) {
      throw new InvalidArgumentError(`${name} must be comma-separated numbers, got '${v}'`);
    }
    return nums;
  };
}

export function rangeArg(v: string): [number, number] {
  const nums = floatListArg('--range')(v);
  if (nums.length !== 2 || !(nums[0] < nums[1])) throw new InvalidArgumentError(`--range must be two increasing numbers 'a,b', got '${v}'`);
  return [nums[0], nums[1]];
}

/** `--loss-param KEY=VALUE`, repeatable: collected into one record (a later key wins). */
export function lossParamArg(v: string, previous: Record<string, number> | undefined): Record<string, number> {
  try {
    const [k, value] = parseLossParam(v);
    return { ...(previous ?? {}), [k]: value };
  } catch (err) {
    if (err instanceof LossParamError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

/** The options every analysis command shares: model, data, loss, subset, output. */
export function addInputOptions(cmd: Command, opts: { model?: boolean } = {}): Command {
  if (opts.model !== false) cmd.requiredOption('--model <file>', 'model: TF.js Layers model.json (weights beside it), Keras .keras or Keras .h5');
  return cmd
    .requiredOption('--data <file>', 'data: .npz (x, y, optional x_test, y_test), .npy (x with its _y sibling) or .csv')
    .option('--loss <name>', "loss name (Keras/TF.js/PyTorch names); default: the model's training config")
    .option('--loss-param <key=value>', 'a parameter of a parameterised loss, repeatable (comp_sum tau, gce q, zloss a and b, multi_similarity alpha, beta, lambda, epsilon)', lossParamArg)
    .option('--loss-module <file>', 'JS/TS module exporting a loss function (yTrue, yPred) => per-sample losses; overrides --loss')
    .option('--loss-export <name>', 'which export of --loss-module to use (default: default, the only function, or one named *loss*)')
    .option('--label-column <name>', 'CSV label column', 'label')
    .addOption(new Option('--from-logits', 'treat model outputs as logits (default: decided from the last activation)'))
    .addOption(new Option('--from-probabilities', 'treat model outputs as probabilities').conflicts('fromLogits'))
    .option('--samples <k>', 'seeded subset of k training samples (default: all)', intArg('--samples'))
    .option('--batch-size <n>', 'evaluation batch size; for a batch-level loss (multi_similarity) the size of its fixed seeded batches', intArg('--batch-size'), 512)
    .option('--seed <s>', 'random seed', intArg('--seed', 0), 0)
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto'))
    .requiredOption('--out <file>', 'result file to write (*.losscape.json); the binary sidecar goes beside it');
}

export interface InputFlags {
  model?: string;
  data: string;
  loss?: string;
  lossParam?: Record<string, number>;
  lossModule?: string;
  lossExport?: string;
  labelColumn: string;
  fromLogits?: boolean;
  fromProbabilities?: boolean;
  samples?: number;
  batchSize: number;
  seed: number;
  backend: string;
  out: string;
}

export function inputsFromFlags(f: InputFlags) {
  return {
    model: f.model ?? '',
    data: f.data,
    loss: f.loss,
    lossParams: f.lossParam,
    lossModule: f.lossModule,
    lossExport: f.lossExport,
    labelColumn: f.labelColumn,
    fromLogits: f.fromLogits ? true : f.fromProbabilities ? false : undefined,
    samples: f.samples,
    batchSize: f.batchSize,
    seed: f.seed,
    out: f.out,
  };
}

/** `--hv`: how Hessian-vector products are computed, wherever they are used. */
export function hvOption(): Option {
  return new Option('--hv <product>', 'Hessian-vector products: exact (double backprop) or finite-difference (central differences of gradients, for cross-checks)')
    .choices(['exact', 'finite-difference'])
    .default('exact');
}
