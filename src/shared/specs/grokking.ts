import { z } from 'zod';
import { InputsSchema } from './common';
import { HessianProductSchema } from './hessian';

/** One or more checkpoint patterns: a folder, a glob, or model.json paths (ordered by step). */
export const CheckpointsSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const GrokkingSpecSchema = InputsSchema.omit({ model: true }).extend({
  kind: z.literal('grokking'),
  checkpoints: CheckpointsSchema,
  /** Probe samples for the empirical NTK (a seeded subset of the samples used); 0 turns the NTK off. */
  probe: z.number().int().nonnegative().default(128),
  /** Seeded subset of the test split for the test loss; omitted → all of it. */
  testSamples: z.number().int().positive().optional(),
  /** k: the trajectory KL compares checkpoint t with checkpoint t − k (in checkpoints, not steps). */
  lag: z.number().int().positive().default(1),
  /** τ of the SAF trajectory KL. */
  temperature: z.number().positive().default(5),
  /** Event thresholds; omitted → 0.1 × the first checkpoint's train loss (both). */
  trainLossBelow: z.number().optional(),
  testLossBelow: z.number().optional(),
  /** Accuracy events (classification), e.g. 0.99 and 0.95; omitted → no accuracy events. */
  trainAccuracyAbove: z.number().optional(),
  testAccuracyAbove: z.number().optional(),
  /** λ_max of the curvature along the trajectory: 'ggn', 'hessian', or omitted (off). */
  sharpness: z.enum(['ggn', 'hessian']).optional(),
  /** Hessian products for `sharpness: 'hessian'`: exact (double backprop) or finite differences. */
  hv: HessianProductSchema.default('exact'),
  /** Samples for λ_max (a seeded subset of the samples used). */
  sharpnessSamples: z.number().int().positive().default(256),
  /** The training learning rate η, to draw 2/η beside λ_max. */
  learningRate: z.number().positive().optional(),
  /**
   * An α sweep: one checkpoint series per value, found by putting each α into the `{alpha}`
   * placeholder of `checkpoints` (e.g. 'runs/alpha-{alpha}'); each is analysed and summarised
   * into the main run's `sweep` (events at the sweep's thresholds, grokking delays).
   */
  sweepAlpha: z.array(z.number().positive()).min(2).optional(),
  /** The α whose full result carries the sweep; default 1 when swept, else the first value. */
  mainAlpha: z.number().positive().optional(),
});
export type GrokkingSpec = z.infer<typeof GrokkingSpecSchema>;
export type GrokkingSpecInput = z.input<typeof GrokkingSpecSchema>;
