import { z } from 'zod';
import { SidecarArraySchema } from '../provenance';

const num = z.number();

export const SalientParameterSchema = z.object({
  /** Index into the flat parameter vector. */
  index: z.number().int().nonnegative(),
  variable: z.string(),
  /** Position inside the variable's tensor. */
  position: z.array(z.number().int().nonnegative()),
  weight: num,
  saliency: num,
});

export const LayerSaliencySchema = z.object({
  layer: z.string(),
  size: z.number().int().positive(),
  sum: num,
  mean: num,
  median: num,
  min: num,
  max: num,
  /** Share of the layer's weights below the global saliency threshold at each sparsity. */
  pruned: z.array(z.object({ sparsity: num, fraction: num })),
  /** Spearman ρ between the layer's saliencies and its weights' magnitudes |θ| (1: the same ranking). */
  spearmanVsMagnitude: num.nullable().optional(),
});

export const SaliencyPayloadSchema = z.object({
  dim: z.number().int().positive(),
  loss: num,
  /** m gradients of `gradientBatch` samples each. */
  gradients: z.number().int().positive(),
  gradientBatch: z.number().int().positive(),
  lambda: num,
  /** Coordinates per diagonal block of F̂ (= dim for the full form) and the number of blocks. */
  blockSize: z.number().int().positive().optional(),
  blocks: z.number().int().positive().optional(),
  /** Spearman ρ between the saliency ranking and the magnitude ranking |θ| over all parameters. */
  spearmanVsMagnitude: num.nullable().optional(),
  layers: z.array(LayerSaliencySchema),
  mostSalient: z.array(SalientParameterSchema),
  leastSalient: z.array(SalientParameterSchema),
  /** Global saliency thresholds: pruning every weight below one reaches its sparsity. */
  thresholds: z.array(z.object({
    sparsity: num,
    saliency: num,
    /** Share of the weights pruned at this sparsity that magnitude pruning would prune too. */
    magnitudeOverlap: num.optional(),
  })),
  /** Per parameter, float32 in the sidecar: OBS saliency and diag(F̂⁻¹). */
  saliency: SidecarArraySchema.nullable(),
  inverseDiagonal: SidecarArraySchema.nullable(),
});
export type SaliencyPayload = z.infer<typeof SaliencyPayloadSchema>;
