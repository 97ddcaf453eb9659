import { z } from 'zod';
import { LossFromSchema } from './specs/common';

/**
 * How the result was computed in parallel (docs/distributed.md): `ranks` processes of
 * torch.distributed, each with `threadsPerRank` threads; `mode` "data" (every product summed over
 * the ranks' shards of the samples), "points" (grid points dealt to ranks, each evaluating all
 * samples; other products as "data"), or "single" (one process).
 */
export const ParallelSchema = z.object({
  ranks: z.number().int().positive(),
  mode: z.enum(['single', 'data', 'points']),
  threadsPerRank: z.number().int().positive(),
});
export type ParallelInfo = z.infer<typeof ParallelSchema>;

/** Where a result came from: enough to tell whether it is stale and to recompute it. */
export const ProvenanceSchema = z.object({
  model: z.object({
    path: z.string(),
    sha256: z.string(),
    parameterCount: z.number().int().nonnegative(),
  }),
  data: z.object({
    path: z.string(),
    sha256: z.string(),
    sampleCount: z.number().int().nonnegative(),
    /** Samples actually used (a seeded subset when `--samples` was given). */
    samplesUsed: z.number().int().nonnegative(),
  }),
  loss: z.object({
    name: z.string(),
    fromLogits: z.boolean().optional(),
    /** Where the loss came from: the command line, the model's training config, a module, or a CodeLens. */
    origin: z.enum(['option', 'trainingConfig', 'module', 'lens']),
    /** Set when a CodeLens chose the loss (origin 'lens'): which one, and the configuration's loss it replaced. */
    lens: LossFromSchema.omit({ source: true }).optional(),
    /** Every parameter of a parameterised loss, defaults included. */
    params: z.record(z.string(), z.number()).optional(),
    /** The loss's formula with its parameter values. */
    definition: z.string().optional(),
    /**
     * What the loss read: the pre-activation values of a final softmax/sigmoid, the outputs as
     * logits, the outputs as (clipped) probabilities, or the outputs as they are.
     */
    reading: z.enum(['pre-activation', 'logits', 'probabilities', 'outputs']).optional(),
    /** Where what the loss was told and the model disagree (e.g. CrossEntropyLoss on a softmax model). */
    warnings: z.array(z.string()).optional(),
    /** Batch-level losses: the fixed seeded batches every evaluation sees. */
    batches: z.object({ size: z.number().int().positive(), count: z.number().int().nonnegative(), seed: z.number().int() }).optional(),
    /** Episode losses: the seeded N-way K-shot episodes (Q queries per class) every evaluation sees. */
    episodes: z
      .object({ way: z.number().int().positive(), shot: z.number().int().positive(), query: z.number().int().positive(), count: z.number().int().positive(), seed: z.number().int() })
      .optional(),
  }),
  /** What computed it; torch runs also record the device, dtype, threads and train/eval mode. */
  backend: z.object({
    name: z.string(),
    version: z.string(),
    device: z.string().optional(),
    dtype: z.enum(['float32', 'float64']).optional(),
    threads: z.number().int().optional(),
    trainMode: z.boolean().optional(),
  }),
  /** Written in every result since distributed runs exist; absent in older files. */
  parallel: ParallelSchema.optional(),
  seed: z.number().int(),
  timings: z.object({
    startedAt: z.string(),
    finishedAt: z.string().optional(),
    seconds: z.number().nonnegative(),
    /** Named phases (load, directions, grid, ...) in seconds. */
    phases: z.record(z.string(), z.number()),
  }),
  losscapeVersion: z.string(),
  /** The directory the run started in: relative file options are relative to it (absent in older files). */
  cwd: z.string().optional(),
});
export type Provenance = z.infer<typeof ProvenanceSchema>;

/**
 * A large array kept in the binary sidecar (`<name>.losscape.bin`), little-endian,
 * so that the JSON stays readable and the data exact.
 */
export const SidecarArraySchema = z.object({
  file: z.string(),
  offset: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
  dtype: z.literal('float32'),
});
export type SidecarArray = z.infer<typeof SidecarArraySchema>;
