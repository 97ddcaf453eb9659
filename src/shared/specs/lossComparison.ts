import { z } from 'zod';
import { BiasPolicySchema, DirectionNormSchema } from '../results/landscape';
import { InputsSchema } from './common';

/** One loss of a comparison: a name (engine name or alias) and its parameters. */
export const LossChoiceSchema = z.object({ name: z.string().min(1), params: z.record(z.string(), z.number()).default({}) });

/**
 * `losscape compare-losses`: one model, data and seed under several losses; per loss the loss
 * and accuracy at θ, ‖∇L‖, top-k Hessian eigenvalues, the Hutchinson trace, SAM sharpness and 1D
 * and 2D landscapes along the same directions.
 */
export const LossComparisonSpecSchema = InputsSchema.omit({ loss: true, lossParams: true, lossModule: true, lossExport: true }).extend({
  kind: z.literal('loss-comparison'),
  losses: z.array(LossChoiceSchema).min(1).max(12),
  /** Top Hessian eigenvalues per loss (Lanczos). */
  top: z.number().int().min(1).max(20).default(3),
  /** Cap on Lanczos operator products per loss (default: the Lanczos default, until convergence). */
  maxIter: z.number().int().positive().optional(),
  /** Hutchinson probes per loss. */
  probes: z.number().int().min(2).max(1000).default(30),
  /** SAM radius ρ. */
  rho: z.number().positive().default(0.05),
  /** Projected ascent steps after SAM's first-order point. */
  ascentSteps: z.number().int().min(0).max(50).default(3),
  /** Points of the 1D landscape and per axis of the 2D one. */
  points1d: z.number().int().min(3).max(201).default(21),
  points2d: z.number().int().min(3).max(61).default(15),
  range: z.tuple([z.number(), z.number()]).default([-1, 1]),
  norm: DirectionNormSchema.default('filter'),
  bias: BiasPolicySchema.default('zero'),
});
export type LossComparisonSpec = z.infer<typeof LossComparisonSpecSchema>;
export type LossComparisonSpecInput = z.input<typeof LossComparisonSpecSchema>;
