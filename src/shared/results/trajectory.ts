import { z } from 'zod';

/**
 * What a trajectory landscape (a kind `landscape` result made by `losscape trajectory`) adds:
 * the checkpoints it was made from and how well the plane represents them. Coordinates of the
 * checkpoints on the plane are the landscape's `path` (2D) or its endpoints (line).
 */
export const TrajectoryInfoSchema = z.object({
  mode: z.enum(['pca', 'line', 'plane']),
  /** Every checkpoint of the series, ascending. */
  steps: z.array(z.number()),
  checkpoints: z.array(z.string()),
  /** PCA: explained-variance ratio of the two components (of the centred θ_t − θ_final); else null. */
  explainedVariance: z.tuple([z.number(), z.number()]).nullable(),
  /** Per checkpoint: ‖residual‖ of θ_t off the plane (2D) or off the line (1D), in parameter units. */
  offPlane: z.array(z.number()),
  /** Per checkpoint: ‖θ_t − centre‖, to read offPlane against. */
  distance: z.array(z.number()),
  /** The checkpoints (by step) that define the plane or line: θ_final; from, to; or the three. */
  anchors: z.array(z.number()),
});
export type TrajectoryInfo = z.infer<typeof TrajectoryInfoSchema>;
