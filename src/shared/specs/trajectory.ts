import { z } from 'zod';
import { InputsSchema } from './common';
import { CheckpointsSchema } from './grokking';

/**
 * `losscape trajectory`: landscapes of a checkpoint series, written as kind `landscape`
 * results (so the landscape panel draws them) carrying a `trajectory` block.
 * - `pca`: the 2D landscape on the plane of the first two principal components of θ_t − θ_final,
 *   centred at θ_final, with the training path projected onto it.
 * - `line`: the 1D line θ_from + t(θ_to − θ_from) between two checkpoints.
 * - `plane`: the 2D plane through three checkpoints (origin at the first).
 * Checkpoints are named by step (`from`, `to`, `through`); defaults: first and last, and
 * first, middle and last.
 */
export const TrajectorySpecSchema = InputsSchema.omit({ model: true }).extend({
  /** torch: the model (`net.py:NAME`) the checkpoints' weight files belong to; TF.js checkpoints carry their model. */
  model: z.string().min(1).optional(),
  kind: z.literal('trajectory'),
  checkpoints: CheckpointsSchema,
  mode: z.enum(['pca', 'line', 'plane']).default('pca'),
  from: z.number().int().nonnegative().optional(),
  to: z.number().int().nonnegative().optional(),
  through: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().int().nonnegative()]).optional(),
  /** Grid points per axis; default 21 (2D) or 51 (line). */
  points: z.number().int().min(2).max(1001).optional(),
  /** 2D: the grid spans the projected path plus this fraction of its extent on every side. */
  margin: z.number().nonnegative().default(0.25),
  /** Line: the range of t; default [-0.5, 1.5]. */
  range: z.tuple([z.number(), z.number()]).optional(),
  accuracy: z.boolean().default(true),
  /** A partial trajectory result to complete (as `landscape`'s `resume`). */
  resume: z.string().min(1).optional(),
});
export type TrajectorySpec = z.infer<typeof TrajectorySpecSchema>;
export type TrajectorySpecInput = z.input<typeof TrajectorySpecSchema>;
