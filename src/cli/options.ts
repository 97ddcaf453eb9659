import { InvalidArgumentError, Option, type Command } from 'commander';
import { LossParamError, parseEpisode, parseLossParam, type EpisodeSpec } from '../shared/lossParams';

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

/** `--episode N,K,Q[,E]`. */
export function episodeArg(v: string): EpisodeSpec {
  try {
    return parseEpisode(v);
  } catch (err) {
    if (err instanceof LossParamError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

export function jsonObjectArg(name: string) {
  return (v: string): Record<string, unknown> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch (e) {
      throw new InvalidArgumentError(`${name} must be a JSON object, e.g. '{"width": 64}': ${(e as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError(`${name} must be a JSON object, e.g. '{"width": 64}', got '${v}'`);
    return parsed as Record<string, unknown>;
  };
}

/**
 * The options every analysis command shares: model, data, loss, subset, output, and the engine
 * (TF.js in process, or PyTorch in a Python worker). Series commands (`model: 'series'`) take
 * --model only for PyTorch checkpoints (TF.js checkpoints carry their model).
 */
export function addInputOptions(cmd: Command, opts: { model?: boolean | 'series'; resume?: boolean } = {}): Command {
  const modelHelp = 'model: TF.js Layers model.json (weights beside it), Keras .keras or Keras .h5; PyTorch: net.py:NAME (class or factory returning an nn.Module) or a TorchScript .pt';
  if (opts.model === 'series') cmd.option('--model <file.py:NAME>', 'torch: the PyTorch model (class or factory in a .py file) the --checkpoints weight files belong to');
  else if (opts.model !== false && !opts.resume) cmd.requiredOption('--model <file>', modelHelp);
  // With --resume the partial result names the inputs: --model, --data and --out become optional.
  else if (opts.model !== false) cmd.option('--model <file>', `${modelHelp} (required unless --resume)`);
  if (opts.resume) cmd.option('--resume <file>', 'continue a partial result (cancelled or killed): its grid, directions, inputs and finished points are read from it; flags given again must agree; writes --out, or the file itself');
  cmd.hook('preAction', (c) => {
    const o = c.opts() as { data?: string; dataModule?: string; model?: string; out?: string; resume?: string };
    if (o.resume) return;
    if (opts.resume && opts.model !== 'series' && opts.model !== false && !o.model) c.error("error: required option '--model <file>' not specified", { exitCode: 2 });
    if (!o.data && !o.dataModule) c.error("error: required option '--data <file>' not specified (or --data-module data.py:NAME with the torch engine)", { exitCode: 2 });
    if (opts.resume && !o.out) c.error("error: required option '--out <file>' not specified", { exitCode: 2 });
  });
  cmd
    .option('--data <file>', 'data: .npz (x, y, optional x_test, y_test), .npy (x with its _y sibling) or .csv')
    .addOption(new Option('--engine <name>', 'engine: tfjs (in process) or torch (a Python worker); default: torch for .py/.pt/.pth models, else tfjs').choices(['tfjs', 'torch']))
    .option('--model-args <json>', "torch: keyword arguments for the model's class or factory, e.g. '{\"width\": 64}'", jsonObjectArg('--model-args'))
    .option('--weights <file>', 'torch: weights: a state_dict, a checkpoint dict holding one (state_dict, model, model_state_dict, net), or .safetensors')
    .addOption(new Option('--dtype <dtype>', 'torch: the model dtype').choices(['float32', 'float64']))
    .option('--device <device>', 'torch: auto | cpu | cuda | cuda:N | mps (default auto: CUDA when available)')
    .option('--python <path>', 'torch: the Python interpreter with torch installed (default: $LOSSCAPE_PYTHON, else python3)')
    .option('--train-mode', 'torch: evaluate the model in train() mode (dropout, batch statistics) instead of eval()')
    .option('--data-module <file.py:NAME>', 'torch: a function (or value) in a .py file returning (x, y) tensors or a map-style Dataset; replaces --data')
    .option('--loss <name>', "loss name (Keras/TF.js/PyTorch names); default: the model's training config")
    .option('--loss-param <key=value>', 'a parameter of a parameterised loss, repeatable (comp_sum tau, gce q, zloss a and b, multi_similarity alpha, beta, lambda, epsilon, proto_triplet margin, icnn k, cs_divergence sigma)', lossParamArg)
    .option('--episode <N,K,Q[,E]>', 'episode losses (proto_triplet, icnn): E seeded N-way K-shot episodes with Q queries per class (E default 1)', episodeArg)
    .option('--loss-module <file>', 'JS/TS module exporting a loss function (yTrue, yPred) => per-sample losses, or for torch loss.py:NAME (a function (outputs, targets) or an nn.Module class); overrides --loss')
    .option('--loss-export <name>', 'which export of --loss-module to use (default: default, the only function, or one named *loss*)')
    .option('--label-column <name>', 'CSV label column', 'label')
    .addOption(new Option('--from-logits', 'treat model outputs as logits (default: decided from the last activation)'))
    .addOption(new Option('--from-probabilities', 'treat model outputs as probabilities').conflicts('fromLogits'))
    .option('--samples <k>', 'seeded subset of k training samples (default: all)', intArg('--samples'))
    .option('--batch-size <n>', 'evaluation batch size; for a batch-level loss (multi_similarity, cs_divergence) the size of its fixed seeded batches', intArg('--batch-size'), 512)
    .option('--seed <s>', 'random seed', intArg('--seed', 0), 0)
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto'));
  const outHelp = 'result file to write (*.losscape.json); the binary sidecar goes beside it';
  return opts.resume ? cmd.option('--out <file>', `${outHelp} (with --resume: default the resumed file)`) : cmd.requiredOption('--out <file>', outHelp);
}

/**
 * torch.distributed for the torch engine (docs/distributed.md): `--workers N` ranks on this
 * machine; for clusters torchrun's `--nnodes M --node-rank R` with `--rendezvous HOST:PORT`.
 */
export function addParallelOptions(cmd: Command): Command {
  return cmd
    .option('--workers <n>', 'torch: ranks of torch.distributed on this machine (Gloo on CPU, NCCL with one GPU per rank); default 1', intArg('--workers'))
    .option('--nnodes <m>', 'torch, clusters: machines taking part (with --rendezvous)', intArg('--nnodes'))
    .option('--node-rank <r>', "torch, clusters: this machine's index; 0 computes and writes the result, the others follow it", intArg('--node-rank', 0))
    .option('--rendezvous <host:port>', 'torch, clusters: where rank 0 (node 0) listens for the other ranks', rendezvousArg)
    .option('--dist-timeout <s>', 'torch, several ranks: seconds after which a dead, stopped or stuck rank ends the run (default 60)', positiveArg('--dist-timeout'));
}

export function rendezvousArg(v: string): string {
  if (!/^\S+:\d{1,5}$/.test(v) || Number(v.slice(v.lastIndexOf(':') + 1)) > 65535) throw new InvalidArgumentError(`--rendezvous must be HOST:PORT, got '${v}'`);
  return v;
}

export function positiveArg(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`${name} must be a positive number of seconds, got '${v}'`);
    return n;
  };
}

export interface InputFlags {
  model?: string;
  data?: string;
  engine?: 'tfjs' | 'torch';
  modelArgs?: Record<string, unknown>;
  weights?: string;
  dtype?: 'float32' | 'float64';
  device?: string;
  python?: string;
  trainMode?: boolean;
  dataModule?: string;
  loss?: string;
  lossParam?: Record<string, number>;
  episode?: EpisodeSpec;
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
  workers?: number;
  nnodes?: number;
  nodeRank?: number;
  rendezvous?: string;
  distTimeout?: number;
  /** Commands with `resume: true` only. */
  resume?: string;
}

export function inputsFromFlags(f: InputFlags) {
  return {
    model: f.model ?? '',
    // With --data-module the module's file is the data's name (provenance, messages).
    data: f.data ?? f.dataModule?.replace(/:[A-Za-z_]\w*$/, '') ?? '',
    engine: f.engine,
    modelArgs: f.modelArgs,
    weights: f.weights,
    dtype: f.dtype,
    device: f.device,
    python: f.python,
    trainMode: f.trainMode,
    dataModule: f.dataModule,
    loss: f.loss,
    lossParams: f.lossParam,
    episode: f.episode,
    lossModule: f.lossModule,
    lossExport: f.lossExport,
    labelColumn: f.labelColumn,
    fromLogits: f.fromLogits ? true : f.fromProbabilities ? false : undefined,
    samples: f.samples,
    batchSize: f.batchSize,
    seed: f.seed,
    out: f.out,
    workers: f.workers,
    nnodes: f.nnodes,
    nodeRank: f.nodeRank,
    rendezvous: f.rendezvous,
    distTimeout: f.distTimeout,
  };
}

/** `--hv`: how Hessian-vector products are computed, wherever they are used. */
export function hvOption(): Option {
  return new Option('--hv <product>', 'Hessian-vector products: exact (double backprop) or finite-difference (central differences of gradients, for cross-checks)')
    .choices(['exact', 'finite-difference'])
    .default('exact');
}
