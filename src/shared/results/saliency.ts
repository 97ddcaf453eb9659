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
});

export const SaliencyPayloadSchema = z.object({
  dim: z.number().int().positive(),
  loss: num,
  /** m gradients of `gradientBatch` samples each. */
  gradients: z.number().int().positive(),
  gradientBatch: z.number().int().positive(),
  lambda: num,
  layers: z.array(LayerSaliencySchema),
  mostSalient: z.array(SalientParameterSchema),
  leastSalient: z.array(SalientParameterSchema),
  /** Global saliency thresholds: pruning every weight below one reaches its sparsity. */
  thresholds: z.array(z.object({ sparsity: num, saliency: num })),
  /** Per parameter, float32 in the sidecar: OBS saliency and diag(F̂⁻¹). */
  saliency: SidecarArraySchema.nullable(),
  inverseDiagonal: SidecarArraySchema.nullable(),
});
export type SaliencyPayload = z.infer<typeof SaliencyPayloadSchema>;
