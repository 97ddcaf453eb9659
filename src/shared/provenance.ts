import { z } from 'zod';

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
    /** Where the loss came from: the command line, or the model's training config. */
    origin: z.enum(['option', 'trainingConfig', 'module']),
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
  seed: z.number().int(),
  timings: z.object({
    startedAt: z.string(),
    finishedAt: z.string().optional(),
    seconds: z.number().nonnegative(),
    /** Named phases (load, directions, grid, ...) in seconds. */
    phases: z.record(z.string(), z.number()),
  }),
  losscapeVersion: z.string(),
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
