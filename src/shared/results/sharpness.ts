import { z } from 'zod';

const num = z.number();

export const SamEntrySchema = z.object({
  rho: num,
  /** L(θ + ρ·g/‖g‖) − L(θ). */
  firstOrder: num,
  /** Largest L(θ + ε) − L(θ) seen along projected gradient ascent from the first-order point (≥ firstOrder; a lower bound on the max). */
  ascent: num,
  steps: z.number().int().nonnegative(),
});

export const AsamEntrySchema = SamEntrySchema.extend({ eta: num });

export const KeskarSchema = z.object({
  epsilon: num,
  /** Dimension of the random subspace; null for the full space. */
  subspace: z.number().int().positive().nullable(),
  steps: z.number().int().nonnegative(),
  /** max L(θ + z) found − L(θ). */
  increase: num,
  /** Keskar's φ = 100·increase/(1 + L(θ)). */
  value: num,
});

export const AverageCaseSchema = z.object({
  sigma: num,
  /** σ·√d, the typical norm of the perturbation. */
  radius: num,
  /** Mean of L(θ + σu) − L(θ) over the draws. */
  mean: num,
  stderr: num,
  samples: z.number().int().nonnegative(),
  values: z.array(num),
});

export const SharpnessPayloadSchema = z.object({
  dim: z.number().int().positive(),
  loss: num,
  accuracy: num.nullable(),
  gradientNorm: num,
  sam: z.array(SamEntrySchema),
  asam: z.array(AsamEntrySchema).nullable(),
  keskar: KeskarSchema.nullable(),
  averageCase: z.array(AverageCaseSchema),
  /** Phases finished, in order. */
  phases: z.array(z.string()),
});
export type SharpnessPayload = z.infer<typeof SharpnessPayloadSchema>;
