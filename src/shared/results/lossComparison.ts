import { z } from 'zod';
import { ProvenanceSchema } from '../provenance';
import { DirectionsInfoSchema } from './landscape';

const nullableNumbers = z.array(z.number().nullable());

/** Values divided by the loss at θ (losses differ in scale): what the panel's "relative" view shows. */
export const RelativeValuesSchema = z.object({
  gradNorm: z.number(),
  eigenvalues: z.array(z.number()),
  trace: z.object({ estimate: z.number(), stderr: z.number() }),
  sam: z.object({ firstOrder: z.number(), ascent: z.number() }),
  landscape1d: nullableNumbers,
  landscape2d: z.array(nullableNumbers),
});

export const LossComparisonEntrySchema = z.object({
  /** The engine's loss name. */
  name: z.string(),
  /** As the user wrote it (`gce:q=0.7`). */
  given: z.string(),
  /** Every parameter, defaults included. */
  params: z.record(z.string(), z.number()),
  /** The loss as resolved: formula, how the outputs were read, warnings, fixed batches. */
  lossInfo: ProvenanceSchema.shape.loss,
  /** L(θ). */
  loss: z.number(),
  accuracy: z.number().nullable(),
  gradNorm: z.number(),
  /** Top Hessian eigenvalues, descending, with residuals ‖Hv − λv‖. */
  eigenvalues: z.array(z.number()),
  residuals: z.array(z.number()),
  converged: z.boolean(),
  trace: z.object({ estimate: z.number(), stderr: z.number(), probes: z.number().int() }),
  sam: z.object({ rho: z.number(), firstOrder: z.number(), ascent: z.number(), steps: z.number().int() }),
  /** f(t) = L(θ + tδ) on the comparison's `t`. */
  landscape1d: nullableNumbers,
  /** f(α, β) = L(θ + αδ + βη), one row per `y`. */
  landscape2d: z.array(nullableNumbers),
  relative: RelativeValuesSchema,
  /** The Hessian operator's description (product used). */
  operator: z.string(),
  seconds: z.number(),
});
export type LossComparisonEntry = z.infer<typeof LossComparisonEntrySchema>;

export const LossComparisonPayloadSchema = z.object({
  /** One entry per loss, in the order given; a partial result holds the losses done. */
  losses: z.array(LossComparisonEntrySchema),
  lossesRequested: z.array(z.string()),
  t: z.array(z.number()),
  x: z.array(z.number()),
  y: z.array(z.number()),
  /** The same directions for every loss. */
  directions: DirectionsInfoSchema,
  dim: z.number().int(),
});
export type LossComparisonPayload = z.infer<typeof LossComparisonPayloadSchema>;
