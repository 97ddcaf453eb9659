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
export const InputsSchema = z.object({
  /** A TF.js Layers model.json, Keras .keras or Keras .h5 (absolute, or relative to the working directory). */
  model: z.string().min(1),
  /** .npz, .npy (with its labels sibling) or .csv. */
  data: z.string().min(1),
  /** Loss name; omitted → the loss in the model's training config. */
  loss: z.string().optional(),
  /** Parameters of a parameterised loss (`--loss-param KEY=VALUE`), checked by the engine; defaults fill the rest. */
  lossParams: z.record(z.string(), z.number()).optional(),
  /**
   * A JS/TS module exporting a loss function (yTrue, yPred) → per-sample losses; runs user code,
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
