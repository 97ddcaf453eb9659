import { z } from 'zod';
import { BiasPolicySchema, DirectionNormSchema } from '../results/landscape';
import { InputsSchema } from './common';
import { HessianProductSchema } from './hessian';

export const LandscapeSpecSchema = InputsSchema.extend({
  kind: z.literal('landscape'),
  dims: z.union([z.literal(1), z.literal(2)]).default(2),
  /** Grid points per axis; default 41 for 2D and 51 for 1D (filled in by the engine). */
  points: z.number().int().min(2).max(1001).optional(),
  /** Coordinate range; default [-1, 1], or [-0.5, 1.5] for the line to a second model. */
  range: z.tuple([z.number(), z.number()]).optional(),
  norm: DirectionNormSchema.default('filter'),
  bias: BiasPolicySchema.default('zero'),
  /** A second model: the landscape is the line θ₁ + t(θ₂ − θ₁). */
  to: z.string().optional(),
  /** Also report accuracy at each point (classification models). */
  accuracy: z.boolean().default(true),
  /** random: Gaussian (normalised per `norm`); hessian: the top Hessian eigenvectors (unit, not normalised). */
  directions: z.enum(['random', 'hessian']).default('random'),
  /**
   * Cores evaluating a 2D grid: 2 adds a worker thread with its own engine taking every other
   * free row (single-threaded backends: wasm, cpu); default 2 when the machine has a second core.
   */
  threads: z.number().int().min(1).max(2).optional(),
  /** Hessian products for `directions: 'hessian'`: exact (double backprop) or finite differences. */
  hv: HessianProductSchema.default('exact'),
  /**
   * A partial landscape result (`*.losscape.json`) to complete: its grid, directions (from its
   * sidecar) and finished points are kept, only the missing points are evaluated. The other
   * options must agree with the ones it records (see src/shared/resume.ts).
   */
  resume: z.string().min(1).optional(),
});
export type LandscapeSpec = z.infer<typeof LandscapeSpecSchema>;
export type LandscapeSpecInput = z.input<typeof LandscapeSpecSchema>;
