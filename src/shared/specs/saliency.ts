import { z } from 'zod';
import { InputsSchema } from './common';

/** `losscape prune-saliency`: M-FAC Optimal-Brain-Surgeon saliency of every weight. */
export const SaliencySpecSchema = InputsSchema.extend({
  kind: z.literal('saliency'),
  /** m: gradients in the empirical Fisher F̂ = λI + (1/m)Σ gᵢgᵢᵀ. */
  gradients: z.number().int().positive().default(64),
  /** Samples per gradient: 1 = per-sample gradients, b > 1 = disjoint mini-batches of b. */
  gradientBatch: z.number().int().positive().default(1),
  /**
   * Coordinates per diagonal block of F̂, cut from the flat parameter vector as M-FAC's pruner
   * does (its default 128); 'full' inverts the whole d×d F̂ (≈ magnitude pruning when d ≫ m).
   */
  blockSize: z.union([z.literal('full'), z.number().int().positive()]).default(128),
  /** Dampening λ (M-FAC's default for pruning). */
  lambda: z.number().positive().default(1e-5),
  /** How many most and least salient parameters to list. */
  top: z.number().int().min(0).default(20),
  /** Global sparsities at which to report each layer's share of pruned weights. */
  sparsities: z.array(z.number().gt(0).lt(1)).default([0.5, 0.9]),
});
export type SaliencySpec = z.infer<typeof SaliencySpecSchema>;
export type SaliencySpecInput = z.input<typeof SaliencySpecSchema>;
