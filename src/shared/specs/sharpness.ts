import { z } from 'zod';
import { InputsSchema } from './common';

const positive = z.number().positive();

/** `losscape sharpness`: worst-case (SAM, ASAM, Keskar) and average-case sharpness of a trained model. */
export const SharpnessSpecSchema = InputsSchema.extend({
  kind: z.literal('sharpness'),
  /** SAM radii ρ (Euclidean ball). */
  rho: z.array(positive).min(1).default([0.01, 0.05, 0.1]),
  /** Projected gradient-ascent steps after the first-order point (SAM, ASAM, Keskar). */
  ascentSteps: z.number().int().min(0).default(10),
  asam: z.boolean().default(true),
  /** ASAM radii ρ for ‖T⁻¹ε‖ ≤ ρ. */
  asamRho: z.array(positive).min(1).default([0.5, 1, 2]),
  /** ASAM's η in T = diag(|θ|) + η. */
  eta: z.number().nonnegative().default(0.01),
  keskar: z.boolean().default(true),
  /** Keskar's ε: the box |zᵢ| ≤ ε(|θᵢ| + 1). */
  epsilon: positive.default(1e-3),
  /** Keskar in a random p-dimensional subspace (orthonormal columns) instead of the full space. */
  subspace: z.number().int().positive().optional(),
  /** Average-case sharpness: Gaussian draws per σ. 0 skips it. */
  averageSamples: z.number().int().min(0).default(20),
  /** σ of the Gaussian perturbations; default ρ/√d for each SAM ρ (so E‖σu‖ ≈ ρ). */
  sigma: z.array(positive).min(1).optional(),
});
export type SharpnessSpec = z.infer<typeof SharpnessSpecSchema>;
export type SharpnessSpecInput = z.input<typeof SharpnessSpecSchema>;
