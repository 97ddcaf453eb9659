import { z } from 'zod';

/**
 * Where a loss given by the extension came from when it is not the configuration's: a CodeLens
 * above a loss in the user's code. Recorded in the result (provenance.loss.lens) so that the
 * panel can say so; it never changes how the loss is computed.
 */
export const LossFromSchema = z.object({
  source: z.literal('lens'),
  /** The file holding the loss (absolute). */
  file: z.string(),
  /** 1-based line of the lens. */
  line: z.number().int().positive(),
  /** The symbol as written (`nn.CrossEntropyLoss`, `focal_loss`). */
  symbol: z.string(),
  /** The library's name for the loss (`CrossEntropyLoss`), when it is a library loss. */
  library: z.string().optional(),
  /**
   * What the library says its input is (PyTorch CrossEntropyLoss: logits). Stated, not forced:
   * on a softmax/sigmoid-final model "logits" means the pre-softmax values.
   */
  semantics: z.enum(['logits', 'probabilities']).optional(),
  /** The configuration's own "loss" (or "lossModule") that the lens's loss replaced. */
  configured: z.string().optional(),
});
export type LossFrom = z.infer<typeof LossFromSchema>;

/** What every analysis reads: a model, data, a loss, and how much of the data to use. */
export const EngineSchema = z.enum(['tfjs', 'torch']);
export type EngineName = z.infer<typeof EngineSchema>;

export const InputsSchema = z.object({
  /**
   * A TF.js Layers model.json, Keras .keras or Keras .h5; or, for the torch engine, `net.py:NAME`
   * (a class or factory returning an nn.Module) or a TorchScript `.pt` (absolute, or relative to
   * the working directory).
   */
  model: z.string().min(1),
  /** Which engine runs the model; omitted → torch for .py/.pt/.pth models, tfjs otherwise. */
  engine: EngineSchema.optional(),
  /** torch: keyword arguments for the model's class or factory. */
  modelArgs: z.record(z.string(), z.unknown()).optional(),
  /** torch: a state_dict, a checkpoint dict holding one, or .safetensors. */
  weights: z.string().optional(),
  /** torch: the model's dtype. */
  dtype: z.enum(['float32', 'float64']).optional(),
  /** torch: auto | cpu | cuda | cuda:N | mps. */
  device: z.string().optional(),
  /** torch: the Python interpreter (else LOSSCAPE_PYTHON, else python3). */
  python: z.string().optional(),
  /** torch: evaluate in train() mode (dropout, batch statistics) instead of eval(). */
  trainMode: z.boolean().optional(),
  /**
   * torch: ranks of torch.distributed on this machine (docs/distributed.md); omitted or 1 → one
   * worker process, as without it.
   */
  workers: z.number().int().positive().optional(),
  /** torch, clusters: machines (torchrun's --nnodes); > 1 needs `rendezvous`. */
  nnodes: z.number().int().positive().optional(),
  /** torch, clusters: this machine's index (0 computes and writes the result; others follow it). */
  nodeRank: z.number().int().nonnegative().optional(),
  /** torch, clusters: HOST:PORT where rank 0 hosts the rendezvous store. */
  rendezvous: z.string().regex(/^\S+:\d{1,5}$/, 'HOST:PORT').optional(),
  /** torch, several ranks: seconds after which a dead, stopped or stuck rank ends the run (default 60). */
  distTimeout: z.number().positive().optional(),
  /** torch: `data.py:NAME` returning (x, y) tensors or a map-style Dataset; `data` then names the file. */
  dataModule: z.string().optional(),
  /** .npz, .npy (with its labels sibling) or .csv. */
  data: z.string().min(1),
  /** Loss name; omitted → the loss in the model's training config. */
  loss: z.string().optional(),
  /** Parameters of a parameterised loss (`--loss-param KEY=VALUE`), checked by the engine; defaults fill the rest. */
  lossParams: z.record(z.string(), z.number()).optional(),
  /** Episode losses (proto_triplet, icnn): N-way K-shot episodes with Q queries per class, `count` of them (`--episode N,K,Q[,E]`). */
  episode: z.object({ way: z.number().int().min(2), shot: z.number().int().positive(), query: z.number().int().positive(), count: z.number().int().positive() }).optional(),
  /**
   * A JS/TS module exporting a loss function (yTrue, yPred) → per-sample losses, or for the torch
   * engine `loss.py:NAME` (a function (outputs, targets) or an nn.Module class); runs user code,
   * so the extension sends it only from trusted workspaces. Overrides `loss`.
   */
  lossModule: z.string().optional(),
  /** The export to use; default: `default`, the only function, or the one named like *loss*. */
  lossExport: z.string().optional(),
  /** Force logits/probabilities interpretation; omitted → from the model's last activation. */
  fromLogits: z.boolean().optional(),
  /** The loss was chosen by a CodeLens, not by the configuration (recorded, not computed with). */
  lossFrom: LossFromSchema.optional(),
  labelColumn: z.string().optional(),
  /** Seeded subset of the training data; omitted → all of it. */
  samples: z.number().int().positive().optional(),
  batchSize: z.number().int().positive().default(512),
  seed: z.number().int().default(0),
  /** Where to write the result; the sidecar goes beside it. */
  out: z.string().min(1),
});
export type Inputs = z.infer<typeof InputsSchema>;
