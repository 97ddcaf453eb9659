import { z } from 'zod';

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
  labelColumn: z.string().optional(),
  /** Seeded subset of the training data; omitted → all of it. */
  samples: z.number().int().positive().optional(),
  batchSize: z.number().int().positive().default(512),
  seed: z.number().int().default(0),
  /** Where to write the result; the sidecar goes beside it. */
  out: z.string().min(1),
});
export type Inputs = z.infer<typeof InputsSchema>;
